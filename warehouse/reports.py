"""The dashboard's questions, answered in DuckDB over the lakehouse: aggregates are computed in SQL, so
a page moves a few hundred rows to pandas whatever the lakehouse's size. Each function takes a connection
from `sql.connect` (read-only) and returns a pandas frame; the dashboard caches them per lake version."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from ..vocabulary import MEASURE_UNITS
from .lake import Lakehouse, resolve_lake_uri, sql_literal_list
from .schema import ATTRIBUTE_PREFIX, TABLES
from .views import LABEL_SUFFIX
from .storage import is_remote, storage_errors

# Stage tables and what counts as a clip done by them; labels carry bin-edge versions, not annotators.
STAGE_TABLES = {
    "transcripts": ("transcripts", "annotator", "annotator_version"),
    "acoustics": ("acoustics", "annotator", "annotator_version"),
    "labels": ("labels", "'bins'", "pitch_edges"),
    "speakers": ("speakers", "annotator", "annotator_version"),
    "emotions": ("emotions", "annotator", "annotator_version"),
    "emphasis": ("emphasis", "annotator", "annotator_version"),
    "stressed clips": ("stressed_clips", "annotator", "annotator_version"),
    "descriptions": ("(SELECT DISTINCT clip_id, generator, annotator_version FROM text_facts WHERE published)",
                     "generator", "annotator_version"),
    "search index": ("(SELECT * FROM text_vectors WHERE kind = 'description')", "model", "'-'"),  # clips findable
}
# The labels of SpeechCraft's figure 4 (age, gender, emotion) and the binned prosody labels.
LABEL_COLUMNS = {"gender": "gender", "age": "age_group", "emotion": "emotion", "pitch": "pitch_label",
                 "energy": "energy_label", "speed": "speed_label", "noise": "noise_label",
                 "reverberation": "reverberation_label", "monotony": "monotony_label"}
# The numbers behind the prosody labels: (acoustics column, unit, split by gender)
MEASURES = {"pitch": ("f0_mean_hz", MEASURE_UNITS["pitch"], True),
            "energy": ("energy_db", MEASURE_UNITS["energy"], False),
            "speed": ("speech_rate", "units/s", False)}
# Filters of the clip browser: clip_annotations columns a user can pick values of.
FILTER_COLUMNS = ["corpus", "language", "gender", "age_group", "emotion", "pitch_label", "energy_label",
                  "speed_label", "noise_label", "reverberation_label", "monotony_label", "emphasis_source"]


def lake_version(lake_uri: str | os.PathLike | None = None) -> str:
    """Changes whenever any table gets a new version (every Lance commit writes a manifest under
    `_versions`): the key the dashboard's caches are invalidated by."""
    uri = resolve_lake_uri(lake_uri)
    if is_remote(uri):   # no mtimes on an object store: each table's latest version, one listing for them all
        lake = Lakehouse(uri)
        stored = set(lake.table_names())
        with storage_errors(uri):
            return ",".join(f"{name}:{lake.db.open_table(name).version}" for name in TABLES if name in stored)
    stamps = []
    for manifest_dir in sorted(Path(uri).glob("*.lance/_versions")):
        stamps.append(f"{manifest_dir.parent.name}:{manifest_dir.stat().st_mtime_ns}")
    return ",".join(stamps)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def clip_facts(con: duckdb.DuckDBPyConnection) -> str:
    """A narrow per-clip table of the labels, materialised once per connection (the dashboard holds one
    connection per lake version, so it is never stale): label counts, filters and the browser read it
    instead of joining seven tables on every question (at 2.25M clips: about 3 s once, then milliseconds)."""
    con.execute(f"""CREATE TEMP TABLE IF NOT EXISTS clip_facts AS
                    SELECT c.clip_id, c.corpus, c.language, c.speaker_id, c.duration_s, c.transcript,
                           {', '.join('c.' + column for column in FILTER_COLUMNS[2:])}, c.emphasis,
                           {', '.join('a.' + column for column, _, _ in MEASURES.values())}
                    FROM clip_labels c LEFT JOIN acoustics a USING (clip_id)""")
    return "clip_facts"


def text_facts(con: duckdb.DuckDBPyConnection) -> str:
    """Every generated text's verdict and length without the text itself, materialised once per connection
    like `clip_facts`: the description charts then never re-read millions of texts."""
    con.execute("""CREATE TEMP TABLE IF NOT EXISTS text_facts AS
                   SELECT clip_id, kind, language, generator, annotator_version, attempt, published, passed,
                          omissions, distortions,
                          CASE WHEN language = 'zh' THEN length(text) ELSE len(string_split(text, ' ')) END AS length
                   FROM descriptions""")
    return "text_facts"


def totals(con) -> dict:
    row = _frame(con, """SELECT count(*) AS clips, coalesce(sum(duration_s), 0) / 3600 AS hours,
                                count(DISTINCT corpus || '/' || speaker_id) AS speakers,
                                count(DISTINCT corpus) AS corpora FROM clips""").iloc[0]
    return {k: (int(v) if k != "hours" else float(v)) for k, v in row.items()}


def corpora(con) -> pd.DataFrame:
    return _frame(con, "SELECT * FROM corpus_summary ORDER BY language, corpus")


def stage_coverage(con) -> pd.DataFrame:
    """Clips each stage has done, by annotator and version, against all clips."""
    text_facts(con)
    attributes = {table[len(ATTRIBUTE_PREFIX):]: (table, "annotator", "annotator_version")
                  for (table,) in con.execute(f"""SELECT table_name FROM information_schema.tables
                                                  WHERE starts_with(table_name, '{ATTRIBUTE_PREFIX}')""").fetchall()}
    parts = [f"SELECT '{stage}' AS stage, {annotator} AS annotator, {version} AS version, "
             f"count(*) AS clips FROM {table} GROUP BY ALL"   # one row per clip in each
             for stage, (table, annotator, version) in {**STAGE_TABLES, **attributes}.items()]
    return _frame(con, f"""SELECT stage, annotator, version, clips,
                                  clips / (SELECT greatest(count(*), 1) FROM clips) AS share
                           FROM ({' UNION ALL '.join(parts)}) ORDER BY stage, clips DESC""")


def recent_runs(con, limit: int = 20) -> pd.DataFrame:
    return _frame(con, """SELECT started_at, flow, corpus, status, round(wall_s, 1) AS wall_s, n_new, n_updated,
                                 n_unchanged, n_rejected, error
                          FROM runs ORDER BY started_at DESC LIMIT ?""", [limit])


def label_counts(con) -> pd.DataFrame:
    """Clips per (corpus, language, attribute, label): figure 4 of the paper, plus the prosody labels."""
    facts = clip_facts(con)
    columns = ", ".join(f"{column} AS {name}" for name, column in LABEL_COLUMNS.items())
    counts = [f"""
        WITH per_group AS (SELECT corpus, language, {columns}, count(*) AS clips FROM {facts} GROUP BY ALL)
        SELECT corpus, language, attribute, label, sum(clips)::BIGINT AS clips
        FROM (UNPIVOT per_group ON {', '.join(LABEL_COLUMNS)} INTO NAME attribute VALUE label)
        GROUP BY ALL"""]
    # attribute stages' own labels (*_parler: Parler-TTS's words), from their stored tables
    for table, column in attribute_label_columns(con):
        counts.append(f"""
        SELECT c.corpus, c.language, '{column}' AS attribute, a.{column} AS label, count(*)::BIGINT AS clips
        FROM {table} a JOIN clips c USING (clip_id) WHERE a.{column} IS NOT NULL GROUP BY ALL""")
    return _frame(con, " UNION ALL ".join(counts) + " ORDER BY attribute, language, corpus, label")


def attribute_label_columns(con) -> list[tuple[str, str]]:
    """(table, column) of every label column (views.LABEL_SUFFIX) of the attribute tables present."""
    return [(table, column) for table, column in con.execute(
        f"SELECT table_name, column_name FROM information_schema.columns WHERE starts_with(table_name, "
        f"'{ATTRIBUTE_PREFIX}') AND ends_with(column_name, '{LABEL_SUFFIX}') ORDER BY table_name, column_name"
    ).fetchall()]


def histogram(con, measure: str, bins: int = 40) -> pd.DataFrame:
    """Counts of one acoustic measure in equal-width bins between its 0.5th and 99.5th percentiles, per
    language (and gender for pitch, whose labels are binned within gender)."""
    column, _, by_gender = MEASURES[measure]
    gender = "coalesce(gender, 'unknown')" if by_gender else "'all'"    # pitch edges are cut within gender
    return _binned(con, f"""SELECT language, {gender} AS gender, {column} AS x
                            FROM {clip_facts(con)} WHERE {column} IS NOT NULL AND isfinite({column})""",
                   ("language", "gender"), bins)


def attribute_histograms(con, bins: int = 30) -> pd.DataFrame:
    """Every numeric column of the attribute stages' tables (`attr_*`, tasks/attributes/), binned per language:
    a new attribute shows on the dashboard before anyone writes a chart for it. Columns: attribute
    (stage.column), language, bin_start, bin_end, clips."""
    columns = con.execute(f"""
        SELECT table_name, column_name FROM information_schema.columns
        WHERE starts_with(table_name, '{ATTRIBUTE_PREFIX}') AND data_type IN ('DOUBLE', 'FLOAT', 'BIGINT', 'INTEGER')
        ORDER BY table_name, ordinal_position""").fetchall()
    parts = [f"""SELECT '{table[len(ATTRIBUTE_PREFIX):]}.{column}' AS attribute, c.language, a.{column}::DOUBLE AS x
                 FROM {table} a JOIN clips c USING (clip_id) WHERE isfinite(a.{column}::DOUBLE)"""
             for table, column in columns]
    if not parts:
        return pd.DataFrame(columns=["attribute", "language", "bin_start", "bin_end", "clips"])
    return _binned(con, " UNION ALL ".join(parts), ("attribute", "language"), bins)


def _binned(con, values: str, keys: tuple[str, ...], bins: int) -> pd.DataFrame:
    """Counts of `values`' x in equal-width bins between its 0.5th and 99.5th percentiles, per group of `keys`."""
    group, of_values = ", ".join(keys), ", ".join(f"v.{key}" for key in keys)
    return _frame(con, f"""
        WITH values AS ({values}),
        bounds AS (
            SELECT {group}, quantile_cont(x, 0.005) AS lo, quantile_cont(x, 0.995) AS hi
            FROM values GROUP BY ALL),
        binned AS (
            SELECT {of_values}, b.lo, (b.hi - b.lo) / {bins} AS width,
                   least(greatest(floor((v.x - b.lo) / nullif((b.hi - b.lo) / {bins}, 0)), 0), {bins - 1}) AS bin
            FROM values v JOIN bounds b USING ({group}))
        SELECT {group}, coalesce(lo + bin * width, lo) AS bin_start,
               coalesce(lo + (bin + 1) * width, lo) AS bin_end, count(*) AS clips
        FROM binned GROUP BY ALL ORDER BY {group}, bin_start""")


def edges_in_force(con, measure: str) -> pd.DataFrame:
    """The bin edges labels are cut at now (the latest pin of each group)."""
    return _frame(con, """SELECT language, coalesce(gender, 'all') AS gender, low_edge, high_edge, version, unit
                          FROM bin_edges WHERE attribute = ? AND pinned_at IS NOT NULL
                          QUALIFY row_number() OVER (PARTITION BY language, gender ORDER BY pinned_at DESC) = 1
                          ORDER BY language, gender""", [measure])


def description_lengths(con) -> pd.DataFrame:
    """Published texts by length: characters for Chinese, words for English."""
    return _frame(con, f"""SELECT language, kind, length,
                                  CASE WHEN language = 'zh' THEN 'characters' ELSE 'words' END AS unit,
                                  count(*) AS texts
                           FROM {text_facts(con)} WHERE published AND length IS NOT NULL
                           GROUP BY ALL ORDER BY language, kind, length""")


def description_sample(con, language: str, n: int = 3000) -> list[str]:
    """A random sample of published descriptions (word clouds read a sample, never the whole table)."""
    rows = con.execute("""SELECT text FROM descriptions
                          WHERE published AND kind = 'description' AND language = ? AND text IS NOT NULL
                          USING SAMPLE reservoir(%d ROWS) REPEATABLE (7)""" % int(n), [language]).fetchall()
    return [r[0] for r in rows]


def validations(con) -> pd.DataFrame:
    return _frame(con, """SELECT attribute, reference, corpus, predictor, n_clips, n_speakers, accuracy,
                                 validated_at FROM latest_validations""")


def checker_rates(con) -> pd.DataFrame:
    """Per generator and language: how often the checker found an omission or a distortion, and passed."""
    return _frame(con, f"""SELECT generator, language, kind, count(*) AS texts,
                                  avg((omissions > 0)::int) AS omission_rate,
                                  avg((distortions > 0)::int) AS distortion_rate,
                                  avg(passed::int) AS pass_rate
                           FROM {text_facts(con)} WHERE attempt > 0     -- attempt 0: no text was possible
                           GROUP BY ALL ORDER BY generator, language, kind""")


def quality_history(con) -> pd.DataFrame:
    """One row per check run: its pass rate and critical failures."""
    return _frame(con, """SELECT run_id, min(checked_at) AS checked_at, count(*) AS expectations,
                                 avg(success::int) AS pass_rate,
                                 count(*) FILTER (WHERE NOT success AND severity = 'critical') AS critical_failed,
                                 count(*) FILTER (WHERE NOT success AND severity = 'warning') AS warnings_failed
                          FROM quality_runs GROUP BY run_id ORDER BY checked_at""")


def latest_quality(con) -> pd.DataFrame:
    return _frame(con, "SELECT * FROM latest_quality")


def filter_options(con) -> dict[str, list[str]]:
    """The values each browser filter can take, most frequent first."""
    facts = clip_facts(con)
    counts = f"SELECT {', '.join(f'{c}::VARCHAR AS {c}' for c in FILTER_COLUMNS)}, count(*) AS n FROM {facts} GROUP BY ALL"
    row = con.execute(f"""
        WITH counts AS ({counts}),
        values AS (SELECT attr, value, sum(n) AS n
                   FROM (UNPIVOT counts ON {', '.join(FILTER_COLUMNS)} INTO NAME attr VALUE value) GROUP BY ALL)
        SELECT {', '.join(f"list(value ORDER BY n DESC, value) FILTER (WHERE attr = '{c}')" for c in FILTER_COLUMNS)}
        FROM values""").fetchone()
    return {column: values or [] for column, values in zip(FILTER_COLUMNS, row)}


def _where(filters: dict[str, list[str]], text: str | None = None) -> tuple[str, list]:
    conditions, params = [], []
    for column, values in filters.items():
        if column not in FILTER_COLUMNS:
            raise ValueError(f"cannot filter on {column!r}; filters: {FILTER_COLUMNS}")
        if values:
            conditions.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += list(values)
    if text:
        conditions.append("transcript ILIKE ?")
        params.append(f"%{text}%")
    return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params


def browse(con, filters: dict[str, list[str]], text: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Clips with every chosen label (any of the values chosen per filter) and a transcript containing
    `text`: the columns a table can show."""
    where, params = _where(filters, text)
    return _frame(con, f"""SELECT clip_id, corpus, language, speaker_id, round(duration_s, 2) AS duration_s,
                                  gender, age_group, emotion, pitch_label, energy_label, speed_label, emphasis,
                                  transcript
                           FROM {clip_facts(con)} {where} ORDER BY clip_id LIMIT ?""", params + [limit])


def count_matching(con, filters: dict[str, list[str]], text: str | None = None) -> int:
    where, params = _where(filters, text)
    return int(con.execute(f"SELECT count(*) FROM {clip_facts(con)} {where}", params).fetchone()[0])


def clip_detail(con, clip_id: str) -> dict | None:
    # plain Python values (None, not NaN) for one row
    rows = con.sql("SELECT * FROM clip_annotations WHERE clip_id = ?", params=[clip_id]).to_arrow_table().to_pylist()
    return rows[0] if rows else None


def clips_by_id(con, clip_ids: list[str]) -> pd.DataFrame:
    if not clip_ids:
        return pd.DataFrame()
    return _frame(con, f"""SELECT clip_id, corpus, language, gender, age_group, emotion, pitch_label,
                                  energy_label, speed_label, transcript
                           FROM clip_annotations WHERE clip_id IN ({', '.join('?' for _ in clip_ids)})""",
                  list(clip_ids))


def catalog(con) -> pd.DataFrame:
    """Every table and view SQL can read, with its columns."""
    return _frame(con, """SELECT c.table_name AS name, CASE WHEN v.temporary THEN 'table' ELSE 'view' END AS kind,
                                 string_agg(c.column_name, ', ' ORDER BY c.ordinal_position) AS columns
                          FROM information_schema.columns c JOIN duckdb_views() v ON v.view_name = c.table_name
                          WHERE NOT v.internal GROUP BY ALL ORDER BY kind DESC, name""")


def search_texts(lake_uri: str, vector, k: int = 20, language: str | None = None,
                 kind: str = "description") -> pd.DataFrame:
    """The k published texts closest in meaning to `vector` (cosine), nearest first."""
    where = f"kind = {sql_literal_list([kind])[1:-1]}"
    if language:
        where += f" AND language = {sql_literal_list([language])[1:-1]}"
    table = Lakehouse(lake_uri).nearest("text_vectors", "vector", vector, k, where=where)
    if table.num_rows == 0:
        return pd.DataFrame(columns=["clip_id", "text", "language", "similarity"])
    frame = table.select(["clip_id", "text", "language", "_distance"]).to_pandas()
    frame["similarity"] = 1.0 - frame.pop("_distance")
    return frame
