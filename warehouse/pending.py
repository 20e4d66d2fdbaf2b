"""Which clips a per-clip stage still has to do: the anti-join of docs/architecture.md, run by DuckDB over the
Lance datasets in place, so that only the pending clips ever reach Python. A stage with nothing to do costs
one scan of `clips` and one of its own table, at any size (bench/pending.py).

A stage row is current when it was computed with the stage's version and configuration and from the clip's
present inputs: the `input_hash` (the clip's audio hash, span, transcript and language, hashed in Python by
the tasks layer). That hash cannot be recomputed in SQL byte for byte (it hashes Python's JSON of the
inputs), so the lakehouse keeps a cache, `clip_inputs`: DuckDB's 64-bit hash of the same inputs -> their
input_hash. A clip whose inputs are not in the cache yet (new, changed, or a lakehouse written before the
cache existed) comes back with `input_hash` null; the caller hashes it, records it (`record_input_hashes`)
and asks `done_among` which of those its stage already holds. Nothing stored is rehashed differently, so
no stage row is redone because of the cache. The cache is keyed by the inputs alone (not the clip), so a
clip with no corpus transcript, seen with and without its ASR text by different stages, keeps both entries.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from .lake import Lakehouse
from .schema import TABLES
from .sql import register_datasets

CLIP_INPUTS = "clip_inputs"            # schema.CLIP_INPUTS: DuckDB's hash of a clip's inputs -> its input_hash

# DuckDB's hash of a clip's inputs, in the order ClipJob.input_hash hashes them. If a DuckDB upgrade changes
# hash(), every clip misses the cache once and is hashed again in Python: slower once, never wrong.
INPUTS_DIGEST = "hash(audio_sha256, start_s, end_s, transcript, language)"


@dataclass
class PendingClips:
    rows: pa.Table        # the pending clips' requested columns, `inputs_digest` and `input_hash` (null: unknown)
    up_to_date: int       # clips taken by the stage that already have a current row


def pending_clips(lake: Lakehouse, table: str, version: str, config_hash: str, columns: Sequence[str],
                  corpus: str | None = None, where: str | None = None, asr_transcripts: bool = True,
                  done_key: str = "clip_id") -> PendingClips:
    """The clips (of `corpus`, matching `where`, a condition on `clips`' columns) without a `table` row whose
    `done_key` names them and whose version, configuration and input hash are current. With
    `asr_transcripts`, a clip with a null or empty transcript is taken with the ASR stage's text, if any."""
    con = _connect(lake, table, done_key)
    params = {"version": version, "config": config_hash}
    clip_filter = " AND ".join(f"({c})" for c in ("corpus = $corpus" if corpus else None, where) if c) or "TRUE"
    if corpus:
        params["corpus"] = corpus
    transcript, with_asr = "c.transcript", ""
    if asr_transcripts:
        transcript = "CASE WHEN c.transcript IS NULL OR c.transcript = '' THEN t.text ELSE c.transcript END"
        with_asr = "LEFT JOIN transcripts t ON t.clip_id = c.clip_id"
    others = ", ".join(f"c.{_ident(name)}" for name in columns if name not in ("clip_id", "transcript"))
    # The anti-join carries only ids and hashes, so its hash tables stay small at millions of clips; the
    # pending clips' other columns are read afterwards, when there are few of them (none, most runs).
    effective = f"""
        SELECT c.clip_id, {transcript} AS transcript{', ' + others if others else ''}
        FROM (SELECT * FROM clips WHERE {clip_filter}) c {with_asr}"""
    sql = f"""
        WITH known AS (
            SELECT e.clip_id, e.inputs_digest, ci.input_hash
            FROM (SELECT clip_id, {INPUTS_DIGEST} AS inputs_digest FROM ({effective})) e
            LEFT JOIN {CLIP_INPUTS} ci USING (inputs_digest)),
        done AS (
            SELECT {_ident(done_key)} AS done_id, input_hash AS done_hash FROM {_ident(table)}
            WHERE annotator_version = $version AND config_hash = $config)
        SELECT k.* FROM known k ANTI JOIN done d ON d.done_id = k.clip_id AND d.done_hash = k.input_hash"""
    by_corpus = {k: v for k, v in params.items() if k == "corpus"}
    try:
        pending = con.sql(sql, params=params).to_arrow_table()
        total = con.sql(f"SELECT count(*) FROM clips WHERE {clip_filter}", params=by_corpus).fetchall()[0][0]
        con.register("pending", pending)
        rows = con.sql(f"SELECT e.*, p.inputs_digest, p.input_hash FROM pending p JOIN ({effective}) e USING (clip_id)",
                       params=by_corpus).to_arrow_table()
    finally:
        con.close()
    return PendingClips(rows.select([*columns, "inputs_digest", "input_hash"]), total - pending.num_rows)


def record_input_hashes(lake: Lakehouse, digests: pa.Array, input_hashes: Sequence[str]) -> None:
    """Cache the input hashes computed for clips `pending_clips` returned without one. Clips with the same
    inputs (the copies of one file in two corpora) share one entry: the cache joins on its key, once."""
    unique = dict(zip(pa.array(digests, pa.uint64()).to_pylist(), input_hashes))
    lake.insert_missing(CLIP_INPUTS, pa.table({"inputs_digest": pa.array(list(unique), pa.uint64()),
                                               "input_hash": pa.array(list(unique.values()), pa.string())}))


def done_among(lake: Lakehouse, table: str, version: str, config_hash: str, clip_ids: Sequence[str],
               input_hashes: Sequence[str], done_key: str = "clip_id") -> set[str]:
    """Which of these clips, with these input hashes, already have a current `table` row."""
    if not clip_ids:
        return set()
    con = _connect(lake, table, done_key)
    try:
        con.register("candidates", pa.table({"clip_id": pa.array(clip_ids, pa.string()),
                                             "input_hash": pa.array(input_hashes, pa.string())}))
        found = con.sql(
            f"""SELECT c.clip_id FROM candidates c SEMI JOIN {_ident(table)} s
                ON s.{_ident(done_key)} = c.clip_id AND s.input_hash = c.input_hash
                AND s.annotator_version = $version AND s.config_hash = $config""",
            params={"version": version, "config": config_hash}).fetchall()
    finally:
        con.close()
    return {clip_id for (clip_id,) in found}


def _connect(lake: Lakehouse, table: str, done_key: str) -> duckdb.DuckDBPyConnection:
    """A connection holding clips, transcripts, the input-hash cache and the stage's table; a table not
    written yet reads as empty. Insertion order is not kept: the caller sorts, and big scans need less memory."""
    con = duckdb.connect(":memory:", config={"preserve_insertion_order": False})
    stage_columns = pa.schema([(done_key, pa.string()), ("annotator_version", pa.string()),
                               ("config_hash", pa.string()), ("input_hash", pa.string())])
    empty = {name: TABLES[name][0] for name in ("clips", "transcripts", CLIP_INPUTS)}
    empty[table] = TABLES[table][0] if table in TABLES else stage_columns
    stored = register_datasets(con, lake.uri, list(empty))
    for name, schema in empty.items():
        if name not in stored:
            con.register(name, schema.empty_table())
    return con


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
