"""Table schemas of the lakehouse. One Arrow schema per table, with the column that keys its upserts.

`clips` is the storage of record for what was ingested; later stages add one table each, keyed by clip_id.
"""
from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

# Corpus-specific labels that get their own column (queryable in SQL); any other extra goes into `extras`
# as JSON. AISHELL-3: pinyin, prosody_text, age_band; LibriTTS-R: original_text, book, snr;
# GigaSpeech: source (podcast/youtube/audiobook), category, title.
EXTRA_COLUMNS: dict[str, pa.DataType] = {
    "pinyin": pa.string(),
    "prosody_text": pa.string(),
    "age_band": pa.string(),
    "original_text": pa.string(),
    "book": pa.string(),
    "snr": pa.float64(),
    "source": pa.string(),
    "category": pa.string(),
    "title": pa.string(),
}

CLIPS = pa.schema([
    ("clip_id", pa.string()),            # "<corpus>/<native_id>": stable across re-ingests
    ("corpus", pa.string()),
    ("subset", pa.string()),
    ("split", pa.string()),
    ("native_id", pa.string()),
    ("language", pa.string()),           # zh / en
    ("speaker_id", pa.string()),
    ("audio_path", pa.string()),         # absolute; audio is referenced, never copied
    ("audio_format", pa.string()),       # WAV, FLAC, MP3, OGG
    ("start_s", pa.float64()),           # span inside the file (GigaSpeech); null = the whole file
    ("end_s", pa.float64()),
    ("sample_rate", pa.int32()),
    ("channels", pa.int32()),
    ("duration_s", pa.float64()),
    ("peak_dbfs", pa.float64()),         # -inf for digital silence: kept here, flagged by quality checks
    ("transcript", pa.string()),         # clean text
    ("transcript_raw", pa.string()),     # the corpus's own text field, verbatim
    ("audio_sha256", pa.string()),       # of the audio file's bytes (shared by the spans of one file)
    ("meta_gender", pa.string()),        # the corpus's own labels, normalised to labels.md values
    ("meta_age_group", pa.string()),
    ("meta_accent", pa.string()),
    ("meta_topic", pa.string()),
    *EXTRA_COLUMNS.items(),
    ("extras", pa.string()),             # JSON object of the remaining corpus-specific fields
    ("source_fingerprint", pa.string()), # metadata + file size/mtime: unchanged => a re-run skips the clip
])

REJECTS = pa.schema([
    ("reject_id", pa.string()),          # hash of (corpus, source, stage, reason, clip_id): re-runs don't repeat it
    ("corpus", pa.string()),
    ("source", pa.string()),             # audio path relative to the corpus root, or "<metadata file>:<line>"
    ("stage", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("clip_id", pa.string()),            # when the input names one
    ("run_id", pa.string()),             # the run that first saw it
    ("rejected_at", TIMESTAMP),
])

RUNS = pa.schema([
    ("run_id", pa.string()),
    ("flow", pa.string()),               # ingest, annotate, ...
    ("corpus", pa.string()),
    ("params", pa.string()),             # JSON of the run's arguments
    ("status", pa.string()),             # running / completed / failed / interrupted
    ("started_at", TIMESTAMP),
    ("finished_at", TIMESTAMP),
    ("wall_s", pa.float64()),
    ("n_scanned", pa.int64()),           # clips the reader offered
    ("n_new", pa.int64()),
    ("n_updated", pa.int64()),
    ("n_unchanged", pa.int64()),         # skipped: already stored with the same fingerprint
    ("n_rejected", pa.int64()),
    ("audio_hours", pa.float64()),       # audio processed by this run
    ("audio_hours_per_hour", pa.float64()),
    ("error", pa.string()),
    ("host", pa.string()),
    ("pid", pa.int64()),
])

TABLES: dict[str, tuple[pa.Schema, str]] = {
    "clips": (CLIPS, "clip_id"),
    "rejects": (REJECTS, "reject_id"),
    "runs": (RUNS, "run_id"),
}
