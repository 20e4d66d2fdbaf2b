"""Read-only SQL over the lakehouse: DuckDB scanning the Lance datasets in place (no copy, no extension).

This is the engine behind `speechcraft sql`, the dashboard and users' notebooks. It imports only lance and
duckdb (not lancedb or prefect), so a small query answers well under two seconds from a cold start; a lake on
object storage (s3://...) also takes lancedb to list its tables, and every dataset is opened with the lake's
object-store settings (`storage.storage_options`), the same ones LanceDB writes with.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from .lake import Lakehouse, resolve_lake_uri, table_uri
from .storage import is_remote, storage_errors, storage_options
from .schema import ATTRIBUTE_PREFIX, TABLES, declared_columns
from .views import with_attributes

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class ReadOnlyError(ValueError):
    """A statement that would change something, refused before it runs."""


class QueryTimeoutError(ValueError):
    """A query stopped because it ran longer than its limit."""


def stored_tables(lake_uri: str) -> dict[str, str]:
    """Table name -> Lance dataset URI for every table stored at the lake."""
    if is_remote(lake_uri):
        lake = Lakehouse(lake_uri)
        return {name: table_uri(lake.uri, name) for name in lake.table_names()}
    root = Path(lake_uri)
    if not root.is_dir():
        return {}
    return {p.name[: -len(".lance")]: str(p) for p in sorted(root.iterdir())
            if p.name.endswith(".lance") and p.is_dir()}


def connect(lake_uri: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with every stored table and documented view, locked read-only:
    no file access from SQL, and the setting cannot be turned back on."""
    con = duckdb.connect(":memory:")
    tables = register_datasets(con, lake_uri)
    for name, (schema, _) in TABLES.items():
        if name not in tables:   # not written yet: an empty table with its schema, so views and queries answer
            con.register(name, schema.empty_table())
    # attribute tables, stored or declared by a stage this process imported, join clip_annotations
    attributes = {name: declared_columns([c[0] for c in con.execute(f"SELECT * FROM {name} LIMIT 0").description])
                  for name in sorted(set(tables) | set(TABLES)) if name.startswith(ATTRIBUTE_PREFIX)}
    for name, body in with_attributes(attributes).items():
        try:
            con.execute(f"CREATE VIEW {name} AS {body}")
        except duckdb.Error:
            pass  # a table written by an older schema: its own columns still answer queries
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def register_datasets(con: duckdb.DuckDBPyConnection, lake_uri: str | os.PathLike | None,
                      names: list[str] | None = None) -> set[str]:
    """Register the lake's stored tables (those of `names`, default all) under their names, each Lance dataset
    opened in place at its latest version; returns the names registered."""
    import lance

    uri = resolve_lake_uri(lake_uri)
    tables = stored_tables(uri)
    options = storage_options(uri)   # the lake's object-store settings, the same LanceDB writes with
    with storage_errors(uri):
        for name, dataset_uri in tables.items():
            if names is None or name in names:
                con.register(name, lance.dataset(dataset_uri, storage_options=options or None))
    return set(tables) if names is None else set(tables) & set(names)


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise ReadOnlyError(f"could not parse the query: {exc}") from None
    if not statements:
        raise ReadOnlyError("empty query")
    for statement in statements:
        if statement.type not in ALLOWED:
            raise ReadOnlyError(
                f"the lakehouse SQL is read-only: only SELECT (and EXPLAIN) run; refused a "
                f"{statement.type.name} statement")


def query(sql: str, lake_uri: str | os.PathLike | None = None, con: duckdb.DuckDBPyConnection | None = None,
          timeout_s: float | None = None, max_rows: int | None = None) -> pa.Table:
    """Run one read-only query; returns an Arrow table (its first `max_rows` rows when given). A query
    still running after `timeout_s` is interrupted and refused with QueryTimeoutError."""
    con = con or connect(lake_uri)
    check_read_only(con, sql)

    def run() -> pa.Table:
        relation = con.sql(sql)
        return (relation.limit(max_rows) if max_rows else relation).to_arrow_table()

    if timeout_s is None:
        return run()
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.start()
    try:
        return run()
    except duckdb.InterruptException:
        raise QueryTimeoutError(f"the query ran longer than {timeout_s:g} s and was stopped; narrow it with a "
                                f"WHERE or a LIMIT, or aggregate") from None
    finally:
        timer.cancel()
