"""What is made of the annotated lakehouse: the quality check that gates exports, the exports, and the
dashboard."""
from __future__ import annotations

import argparse
import sys

from .preflight import quiet_services
from .render import print_check, print_export


def cmd_check(args: argparse.Namespace) -> int:
    quiet_services()
    from ..flows.annotate import NothingIngestedError
    from ..flows.check import check_flow

    try:
        result = check_flow(args.lake, docs_dir=str(args.docs) if args.docs else None, suites=args.suite or None)
    except (NothingIngestedError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_check(result)
    return 1 if result["critical_failures"] else 0


def cmd_export(args: argparse.Namespace) -> int:
    quiet_services()
    from ..flows.annotate import NothingIngestedError
    from ..flows.export import ExportBlockedError, export_flow

    try:
        result = export_flow(args.format, str(args.out), lake_uri=args.lake, corpus=args.corpus, audio=args.audio,
                             rows_per_shard=args.rows_per_shard,
                             filters={"min_snr": args.min_snr, "min_quality": args.min_quality,
                                      "audio_source": args.audio_source})
    except ExportBlockedError as exc:          # the quality gate: fix the data / run `speechcraft check`
        print(f"error: export refused: {exc}", file=sys.stderr)
        return 1
    except (NothingIngestedError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_export(result)
    return 0 if result["run"]["status"] == "completed" else 1


def cmd_dashboard(args: argparse.Namespace) -> int:
    from ..dashboards import launch

    return launch(args.lake, address=args.address, port=args.port, open_browser=not args.no_browser)
