"""Exports that trainers read: the clips that pass the quality gate, as a Hugging Face / Parler-TTS parquet
dataset, lhotse manifests, or SpeechCraft's own JSON records.

One job per module:

- gate.py: the latest `speechcraft check` decides whether anything is published (`quality_gate`).
- selection.py: which clips, and why the others are left out (`EXCLUSIONS`, `clips_sql`, `select_clips`), and
  the rows streamed in Arrow batches (`publishable_batches`).
- target.py: where the files go, a local folder or `s3://bucket/prefix` (`resolve_target`), and the
  `export.json` found there.
- publishing.py: the staging folder, the atomic publish and the manifest (`Export`, `make_manifest`), and
  whether an export is still current (`export_is_current`).
- formats/: one module per format behind one interface (formats/base.py), registered in
  formats/__init__.py; `build_records` turns a batch of rows into the format's records (one Prefect task).

One snapshot: the gate, the counts and the rows come through one DuckDB connection (the flow's), whose Lance
datasets are pinned at the version current when it opened, so a write meanwhile cannot mix in. Rows stream in
Arrow batches (a few hundred clips with embedded audio, thousands otherwise); nothing holds the whole
lakehouse in memory. The flow that runs all this is flows/export.py.
"""
from __future__ import annotations

from .formats import (AUDIO_MODES, BATCH_ROWS, FORMATS, REGISTERED, ExportFormat, Records, build_records,
                      check_request, export_format)
from .formats.audio import ClipAudio, flac_bytes
from .formats.lhotse import lhotse_records, span_recording_id
from .formats.parler_tts import (AUDIO_TYPE, PARLER_FIELDS, ROWS_PER_GROUP, ROWS_PER_SHARD, dataset_card,
                                 hf_features, parler_records, parler_schema)
from .formats.speechcraft_json import speechcraft_labels, speechcraft_records
from .gate import WRITING_FLOWS, ExportBlockedError, quality_gate
from .publishing import STAGING_PREFIX, Export, export_is_current, make_manifest
from .selection import (AUDIO_SOURCES, EXCLUSIONS, HARD_FLAGS, HF_SPLITS, Filters, NothingToExportError, Selection,
                        clips_sql, publishable_batches, select_clips)
from .target import MANIFEST, ExportTargetError, Target, export_filesystem, read_manifest, resolve_target

__all__ = [
    "AUDIO_MODES", "AUDIO_SOURCES", "AUDIO_TYPE", "BATCH_ROWS", "EXCLUSIONS", "FORMATS", "HARD_FLAGS", "HF_SPLITS",
    "MANIFEST",
    "PARLER_FIELDS", "REGISTERED", "ROWS_PER_GROUP", "ROWS_PER_SHARD", "STAGING_PREFIX",
    "WRITING_FLOWS", "ClipAudio", "Export", "ExportBlockedError", "ExportFormat", "ExportTargetError",
    "Filters", "NothingToExportError", "Records", "Selection", "Target", "build_records", "check_request", "clips_sql",
    "dataset_card", "export_filesystem", "export_format", "export_is_current", "flac_bytes", "hf_features",
    "lhotse_records", "make_manifest", "parler_records", "parler_schema", "publishable_batches", "quality_gate",
    "read_manifest", "resolve_target", "select_clips", "span_recording_id", "speechcraft_labels",
    "speechcraft_records",
]
