"""The lakehouse: LanceDB tables as storage of record. Only this package knows where and how data is stored.

Writes go through `Lakehouse` (LanceDB: upsert by key with merge_insert, so a re-run never duplicates);
reads for SQL go through `warehouse.sql` (DuckDB scanning the Lance datasets directly).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .schema import TABLES
from .storage import is_remote, storage_errors, storage_options

DEFAULT_LAKE = "./lakehouse"
LAKE_ENV = "SPEECHCRAFT_LAKE"
COMMIT_ATTEMPTS = 5     # a merge refused for a concurrent commit elsewhere, tried again on the new version


def resolve_lake_uri(uri: str | os.PathLike | None = None) -> str:
    """--lake, else $SPEECHCRAFT_LAKE, else ./lakehouse. Local folders (also file://) become absolute paths;
    object-store URIs (s3://bucket/prefix) stay as given, without a trailing slash."""
    uri = str(uri or os.environ.get(LAKE_ENV) or DEFAULT_LAKE)
    if uri.startswith("file://"):
        uri = uri[len("file://"):]
    if is_remote(uri):
        return uri.rstrip("/")
    return str(Path(uri).expanduser().resolve())


def is_commit_conflict(exc: Exception) -> bool:
    """Lance's refusal of a commit that raced another writer's (nothing of it was written)."""
    message = str(exc).lower()
    return "concurrent" in message and ("conflict" in message or "incompatible" in message)


def table_uri(lake_uri: str, name: str) -> str:
    return f"{lake_uri.rstrip('/')}/{name}.lance"


def sql_literal_list(values: Iterable[str]) -> str:
    """('a','b''s') for a Lance filter; quotes doubled so ids with apostrophes stay literal."""
    return "(" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


@dataclass
class MergeStats:
    inserted: int = 0
    updated: int = 0


class Lakehouse:
    """One lakehouse location. Tables are created on first use with the schema in `schema.TABLES`."""

    _write_locks: dict[tuple[str, str], threading.RLock] = {}
    _locks_guard = threading.Lock()

    def __init__(self, uri: str | os.PathLike | None = None):
        self.uri = resolve_lake_uri(uri)
        self._db = None
        self._known: set[str] = set()   # tables seen to exist (never dropped): no listing for them again
        self._migrated: dict[str, pa.Schema] = {}   # table -> the declaration its stored columns were checked against

    def __repr__(self) -> str:
        return f"Lakehouse({self.uri!r})"

    # -- tables ----------------------------------------------------------------------------------
    @property
    def remote(self) -> bool:
        """On an object store (s3://...) rather than local disk."""
        return is_remote(self.uri)

    @property
    def db(self):
        if self._db is None:
            import lancedb  # heavy (about 1 s): only the commands that write pay for it

            if not self.remote:
                Path(self.uri).mkdir(parents=True, exist_ok=True)
                self._db = lancedb.connect(self.uri)
            else:
                # Same options for every dataset of the lake (tables opened here pass them on to to_lance()).
                # Listing once proves the bucket, endpoint and credentials, so a wrong one fails here in
                # one sentence rather than midway through a flow.
                with storage_errors(self.uri):
                    db = lancedb.connect(self.uri, storage_options=storage_options(self.uri))
                    self._known.update(self._table_names(db))
                self._db = db
        return self._db

    def open(self) -> "Lakehouse":
        """Connect now: on an object store this proves the bucket, endpoint and credentials, raising
        `LakeStorageError` (one sentence) when they are wrong. Commands call it before a flow starts."""
        self.db  # noqa: B018 (connecting is the point)
        return self

    @staticmethod
    def _table_names(db) -> list[str]:
        names, token = [], None
        while True:
            page = db.list_tables(page_token=token)
            names += page.tables
            token = page.page_token
            if not token:
                return names

    def table(self, name: str):
        schema, _ = TABLES[name]
        with self._lock(name):  # two batches creating one new table at once would conflict
            try:
                table = self.db.create_table(name, schema=schema, exist_ok=True)
            except ValueError:      # stored with other columns: an older declaration, brought up to date below
                table = self.db.open_table(name)
            if self._migrated.get(name) != schema:
                # A table stored before a column was declared (a reader's new column, `reader` on clips)
                # gets it, null in the rows it holds, before the first write that carries it.
                stored = set(table.schema.names)
                missing = [field for field in schema if field.name not in stored]
                if missing:
                    table.add_columns(missing)
                self._migrated[name] = schema
            self._known.add(name)
            return table

    def table_names(self) -> list[str]:
        """Every table stored at the lake."""
        names = self._table_names(self.db)
        self._known.update(names)
        return names

    def exists(self, name: str) -> bool:
        if name in self._known:
            return True
        if name in self._table_names(self.db):
            self._known.add(name)
            return True
        return False

    def _lock(self, name: str) -> threading.RLock:
        # Lance commits are atomic, but concurrent merge_inserts on one table from the threads of a
        # flow would conflict and retry; one writer per table per process keeps them cheap.
        with self._locks_guard:
            return self._write_locks.setdefault((self.uri, name), threading.RLock())

    def _as_arrow(self, name: str, rows: Sequence[dict] | pa.Table) -> pa.Table:
        schema, _ = TABLES[name]
        if isinstance(rows, pa.Table):
            return rows.select(schema.names).cast(schema)
        return pa.Table.from_pylist(list(rows), schema=schema)

    def audio_root(self) -> Path:
        """Where audio the lakehouse itself makes (regenerated stressed clips) is written: <root>/<corpus>/..."""
        if self.remote:
            raise ValueError(f"audio can be written only into a lakehouse on local disk, not {self.uri}; "
                             "run `speechcraft emphasize` with a local --lake")
        path = Path(self.uri) / "audio"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- writes ----------------------------------------------------------------------------------
    def upsert(self, name: str, rows: Sequence[dict] | pa.Table) -> MergeStats:
        """Insert new keys, overwrite existing ones. Atomic per call."""
        data = self._as_arrow(name, rows)
        if data.num_rows == 0:
            return MergeStats()
        result = self._merge(name, data, update=True)
        return MergeStats(result.num_inserted_rows, result.num_updated_rows)

    def insert_missing(self, name: str, rows: Sequence[dict] | pa.Table) -> int:
        """Insert only keys not stored yet (first write wins). Returns how many were new."""
        data = self._as_arrow(name, rows)
        if data.num_rows == 0:
            return 0
        return self._merge(name, data, update=False).num_inserted_rows

    def _merge(self, name: str, data: pa.Table, update: bool):
        """One merge_insert by the table's key. The per-table lock orders this process's writers; another
        process (or machine) creating the same new table at the same moment can still make Lance refuse
        this commit as incompatible with its own. Nothing of this batch is written then, so it is tried
        again on the table as it now stands (opened afresh)."""
        _, key = TABLES[name]
        for attempt in range(COMMIT_ATTEMPTS):
            table = self.table(name)
            with self._lock(name):
                merge = table.merge_insert(key)
                if update:
                    merge = merge.when_matched_update_all()
                try:
                    return merge.when_not_matched_insert_all().execute(data)
                except Exception as exc:  # noqa: BLE001 - Lance raises its commit conflicts as plain errors
                    if attempt + 1 == COMMIT_ATTEMPTS or not is_commit_conflict(exc):
                        raise

    def delete_where(self, name: str, predicate: str) -> None:
        if not self.exists(name):
            return
        with self._lock(name):
            self.table(name).delete(predicate)

    def compact(self, name: str) -> None:
        """Merge the small fragments many batch writes leave, so scans stay fast. A table already in one
        fragment is left alone (a run that wrote nothing pays nothing)."""
        if self.exists(name):
            with self._lock(name):
                table = self.table(name)
                if len(table.to_lance().get_fragments()) > 1:
                    table.optimize()

    def build_vector_index(self, name: str, column: str) -> None:
        """An IVF-PQ index over a vector column (cosine), replacing an older one: rebuilt after large writes."""
        with self._lock(name):
            self.table(name).create_index(metric="cosine", vector_column_name=column, replace=True)

    # -- reads -----------------------------------------------------------------------------------
    def lookup(self, name: str, keys: Sequence[str], columns: Sequence[str]) -> pa.Table:
        """Stored rows for these keys (only the given columns)."""
        _, key = TABLES[name]
        if not keys or not self.exists(name):
            schema, _ = TABLES[name]
            return pa.Table.from_pylist([], schema=pa.schema([schema.field(c) for c in columns]))
        dataset = self.table(name).to_lance()
        return dataset.to_table(columns=list(columns), filter=f"{key} IN {sql_literal_list(keys)}")

    def read(self, name: str, columns: Sequence[str] | None = None, where: str | None = None) -> pa.Table:
        schema, _ = TABLES[name]
        if not self.exists(name):
            cols = columns or schema.names
            return pa.Table.from_pylist([], schema=pa.schema([schema.field(c) for c in cols]))
        return self.table(name).to_lance().to_table(columns=list(columns) if columns else None, filter=where)

    def nearest(self, name: str, column: str, vector, k: int, where: str | None = None) -> pa.Table:
        """The k rows whose `column` vector is closest (cosine) to `vector`, nearest first, with `_distance`."""
        if not self.exists(name):
            return pa.table({})
        search = self.table(name).search(list(vector), vector_column_name=column).distance_type("cosine")
        if where:
            search = search.where(where, prefilter=True)
        return search.limit(k).to_arrow()

    def count(self, name: str, where: str | None = None) -> int:
        return self.table(name).count_rows(where) if self.exists(name) else 0
