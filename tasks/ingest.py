"""The ingest task: one batch of reader output in, rows of `clips` and `rejects` out.

Per batch: clips whose metadata and file are unchanged since the last ingest are skipped (their
fingerprint matches); every other clip's audio is opened once — decoded to prove it plays, measured,
hashed — then the batch is upserted by clip_id. Long files shared by many spans (GigaSpeech) are
decoded once per batch.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from prefect import task

from ..warehouse import Lakehouse
from ..warehouse.lake import sql_literal_list
from ..warehouse.schema import declare_clip_columns
from .audio import AudioError, DecodedAudio, decode_audio, peak_dbfs
from .corpora import extra_columns
from .corpora.base import WARNING_REASONS, ClipSource, Reject, RejectReason, ScanItem
from .rejects import reject_row

STAGE = "ingest"
SPAN_TOLERANCE_S = 0.05   # segment ends within this of the file's end are rounding, not errors
AUDIO_REASONS = [str(r) for r in (RejectReason.MISSING_AUDIO, RejectReason.EMPTY_AUDIO,
                                  RejectReason.TRUNCATED_AUDIO, RejectReason.UNDECODABLE_AUDIO,
                                  RejectReason.SPAN_OUT_OF_RANGE)]


@dataclass
class BatchStats:
    scanned: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0          # rows of WARNING_REASONS: inputs taken with a remark, not lost
    audio_seconds: float = 0.0

    def add(self, other: "BatchStats") -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


def fingerprint(source: ClipSource) -> str | None:
    """Hash of everything the reader says about a clip plus its file's size and mtime.
    None when the file cannot be stat'ed (the probe then rejects it with the reason)."""
    try:
        stat = source.audio_path.stat()
    except OSError:
        return None
    described = {**asdict(source), "audio_path": str(source.audio_path),
                 "file": [stat.st_size, stat.st_mtime_ns]}
    if not source.warnings:
        # A clip read without a remark hashes as it did before clips carried warnings (no needless re-ingest);
        # one whose warning comes or goes (a line re-saved in UTF-8) is read again, so its rows follow.
        del described["warnings"]
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


def clip_schema():
    """`clips` with the own columns of every registered reader (a plug-in reader's too), declared to storage."""
    return declare_clip_columns(extra_columns())


def clip_row(source: ClipSource, audio: DecodedAudio, fingerprint_: str) -> dict:
    samples = audio.span(source.start_s, source.end_s)
    if source.start_s is None:
        duration = audio.duration_s
    else:
        duration = source.end_s - source.start_s
    columns = extra_columns()
    extras = {k: v for k, v in source.extras.items() if k not in columns and v is not None}
    return {
        "clip_id": source.clip_id, "corpus": source.corpus, "subset": source.subset,
        "split": source.split, "native_id": source.native_id, "language": source.language,
        "speaker_id": source.speaker_id, "audio_path": str(source.audio_path),
        "audio_format": audio.format, "start_s": source.start_s, "end_s": source.end_s,
        "sample_rate": audio.sample_rate, "channels": audio.channels, "duration_s": duration,
        "peak_dbfs": peak_dbfs(samples), "transcript": source.transcript,
        "transcript_raw": source.transcript_raw, "audio_sha256": audio.sha256,
        "meta_gender": source.meta_gender, "meta_age_group": source.meta_age_group,
        "meta_accent": source.meta_accent, "meta_topic": source.meta_topic,
        **{column: source.extras.get(column) for column in columns},
        "extras": json.dumps(extras, ensure_ascii=False, sort_keys=True) if extras else None,
        "source_fingerprint": fingerprint_,
        "reader": source.reader or None, "speaking_style": source.speaking_style or None,
    }


def span_problem(source: ClipSource, audio: DecodedAudio) -> str | None:
    if source.end_s is not None and source.end_s > audio.duration_s + SPAN_TOLERANCE_S:
        return (f"segment {source.start_s:.2f}-{source.end_s:.2f} s ends past the audio "
                f"({audio.duration_s:.2f} s)")
    return None


def probe(sources: list[tuple[ClipSource, str]], relpaths: dict[str, str]) -> tuple[list[dict], list[Reject]]:
    """Decode each distinct file once; build clip rows or rejects."""
    rows, rejects = [], []
    by_file: dict[str, list[tuple[ClipSource, str]]] = defaultdict(list)
    for source, fp in sources:
        by_file[str(source.audio_path)].append((source, fp))
    for path, group in by_file.items():
        first = group[0][0]
        relpath = relpaths.get(first.clip_id, path)
        try:
            audio = decode_audio(first.audio_path)
        except AudioError as err:
            rejects += [Reject(s.corpus, relpath, err.reason, err.detail, s.native_id) for s, _ in group]
            continue
        for source, fp in group:
            problem = span_problem(source, audio)
            if problem:
                rejects.append(Reject(source.corpus, relpath, RejectReason.SPAN_OUT_OF_RANGE, problem,
                                      source.native_id))
            else:
                rows.append(clip_row(source, audio, fp))
    return rows, rejects


def ingest_items(lake_uri: str, run_id: str, items: list[ScanItem], corpus_root: str) -> BatchStats:
    """The work of one batch (plain function; the Prefect task below wraps it)."""
    lake = Lakehouse(lake_uri)
    clip_schema()          # this process (a worker's too) writes the columns every registered reader declares
    sources = [i for i in items if isinstance(i, ClipSource)]
    rejects = [i for i in items if isinstance(i, Reject) and i.reason not in WARNING_REASONS]
    warnings = [i for i in items if isinstance(i, Reject) and i.reason in WARNING_REASONS] + \
        [warning for source in sources for warning in source.warnings]
    stats = BatchStats(scanned=len(sources), warnings=len(warnings))

    fingerprints = {s.clip_id: fingerprint(s) for s in sources}
    stored = lake.lookup("clips", list(fingerprints), ["clip_id", "source_fingerprint"]).to_pylist()
    stored_fp = {r["clip_id"]: r["source_fingerprint"] for r in stored}
    todo = []
    for source in sources:
        fp = fingerprints[source.clip_id]
        if fp is not None and stored_fp.get(source.clip_id) == fp:
            stats.unchanged += 1
        else:
            todo.append((source, fp or ""))
    relpaths = {s.clip_id: _relative(s, corpus_root) for s, _ in todo}
    rows, audio_rejects = probe(todo, relpaths)
    rejects += audio_rejects

    merged = lake.upsert("clips", rows)
    stats.new, stats.updated = merged.inserted, merged.updated
    stats.audio_seconds = sum(r["duration_s"] for r in rows)
    stats.rejected = len(rejects)
    now = datetime.now(timezone.utc)
    warning_rows = [reject_row(STAGE, w, run_id, now) for w in warnings]
    lake.insert_missing("rejects", [reject_row(STAGE, r, run_id, now) for r in rejects] + warning_rows)
    if rows:
        # A clip whose audio an earlier run rejected and that lands now was fixed: that reject is history. So is
        # a warning its reading no longer gives (a clip travels with its warnings, so they are all in this batch).
        landed = sql_literal_list(r["clip_id"] for r in rows)
        stale = f"reason IN {sql_literal_list(WARNING_REASONS)}"
        if warning_rows:
            stale += f" AND reject_id NOT IN {sql_literal_list(r['reject_id'] for r in warning_rows)}"
        lake.delete_where("rejects", f"stage = '{STAGE}' AND clip_id IN {landed} AND ("
                                     f"(run_id != '{run_id}' AND reason IN {sql_literal_list(AUDIO_REASONS)}) "
                                     f"OR ({stale}))")
    return stats


def _relative(source: ClipSource, root: str) -> str:
    return os.path.relpath(source.audio_path, root)


@task(name="ingest-batch", task_run_name="ingest-batch-{batch_number}")
def ingest_batch(lake_uri: str, run_id: str, items: list[ScanItem], corpus_root: str,
                 batch_number: int = 0) -> BatchStats:
    return ingest_items(lake_uri, run_id, items, corpus_root)

