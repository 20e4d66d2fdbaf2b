"""Corpus and SQL commands: `speechcraft ingest` reads a corpus into the clips table, `speechcraft sql` queries
the lakehouse read-only."""
from __future__ import annotations

import argparse
import sys

from .preflight import quiet_services
from .render import print_run, write_result


def cmd_ingest(args: argparse.Namespace) -> int:
    quiet_services()
    from ..tasks.corpora.base import CorpusLayoutError
    from ..flows.ingest import ingest_flow

    options = {}
    if args.corpus == "folder":
        options = {k: v for k, v in {"name": args.name, "language": args.language}.items() if v}
    elif args.name or args.language:
        print("error: --name and --language apply to the 'folder' reader only", file=sys.stderr)
        return 2
    try:
        run = ingest_flow(args.corpus, str(args.root), subsets=args.subset or None, lake_uri=args.lake,
                          batch_size=args.batch_size, options=options)
    except (CorpusLayoutError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_run(run)
    return 0 if run["status"] == "completed" else 1


def cmd_sql(args: argparse.Namespace) -> int:
    from ..warehouse.sql import ReadOnlyError, query
    from ..warehouse.storage import LakeStorageError

    import duckdb
    import pyarrow as pa

    try:
        result = query(args.query, args.lake)
    except (ReadOnlyError, LakeStorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"error: {exc}\n(tables and views: SELECT table_name FROM duckdb_tables() UNION ALL "
              f"SELECT view_name FROM duckdb_views() WHERE NOT internal)", file=sys.stderr)
        return 2
    try:
        write_result(result, args.format, sys.stdout)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        print(f"error: the answer cannot be printed as {args.format}: {exc} (choose other columns or "
              f"another --format)", file=sys.stderr)
        return 2
    return 0
