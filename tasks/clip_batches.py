"""What every per-clip stage shares: the clips it takes (the anti-join of docs/architecture.md), decoding a batch with
each file read once, the Prefect cache key of a batch, and the write of its rows and rejects.

Worker processes import this module: storage is imported only inside the functions that write.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .audio import AudioError, decode_audio
from .corpora.base import Reject, RejectReason

if TYPE_CHECKING:
    from ..warehouse import Lakehouse

CLIP_COLUMNS = ["clip_id", "corpus", "audio_path", "start_s", "end_s", "transcript", "language", "audio_sha256",
                "duration_s"]


@dataclass(frozen=True)
class ClipJob:
    clip_id: str
    audio_path: str
    start_s: float | None
    end_s: float | None
    transcript: str | None
    language: str
    audio_sha256: str
    duration_s: float | None = None   # as ingested; for progress figures, not an input of any stage
    corpus: str = ""

    def input_hash(self) -> str:
        """Everything a stage's result may depend on besides its configuration."""
        key = json.dumps([self.audio_sha256, self.start_s, self.end_s, self.transcript, self.language])
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ClipFailure:
    clip_id: str
    audio_path: str
    reason: str
    detail: str


@dataclass
class PendingWork:
    jobs: list[ClipJob]
    up_to_date: int


@dataclass
class BatchResult:
    rows: list[dict] = field(default_factory=list)
    failures: list[ClipFailure] = field(default_factory=list)
    audio_s: float = 0.0


def pending_jobs(lake: "Lakehouse", table: str, version: str, config_hash: str, corpus: str | None = None,
                 where: str | None = None, asr_transcripts: bool = True, done_key: str = "clip_id") -> PendingWork:
    """Clips (of `corpus`, matching `where`) without a `table` row for this version, configuration and
    input; sorted by file so that the spans of one long file fall into one batch and are decoded once.
    With `asr_transcripts`, a clip whose corpus has no transcript takes the ASR stage's, when there is one.
    `done_key`: the `table` column naming the clip a row was computed from (stressed_clips: parent_clip_id).

    The anti-join runs in the warehouse (DuckDB over the Lance tables); only pending clips come back. Those
    whose inputs the lakehouse has not seen hashed yet are hashed here, recorded, and checked once more."""
    from ..warehouse.pending import done_among, pending_clips, record_input_hashes

    found = pending_clips(lake, table, version, config_hash, CLIP_COLUMNS, corpus, where, asr_transcripts, done_key)
    jobs = [ClipJob(**row) for row in found.rows.select(CLIP_COLUMNS).to_pylist()]
    known = found.rows.column("input_hash").to_pylist()
    unknown = [i for i, input_hash in enumerate(known) if input_hash is None]
    up_to_date = found.up_to_date
    if unknown:
        hashes = [jobs[i].input_hash() for i in unknown]
        record_input_hashes(lake, found.rows.column("inputs_digest").take(unknown), hashes)
        done = done_among(lake, table, version, config_hash, [jobs[i].clip_id for i in unknown], hashes, done_key)
        if done:
            jobs = [job for job in jobs if job.clip_id not in done]
            up_to_date += len(done)
    jobs.sort(key=lambda j: (j.audio_path, j.start_s or 0.0, j.clip_id))
    return PendingWork(jobs, up_to_date)


def batch_cache_key(stage: str, version: str, config_hash: str, jobs: list[ClipJob]) -> str:
    """The batch's clip ids and inputs, the stage version and its configuration; nothing run-specific."""
    digest = hashlib.sha256(f"{stage}:{version}:{config_hash}".encode())
    for job in sorted(jobs, key=lambda j: j.clip_id):
        digest.update(f"\x1f{job.clip_id}\x1e{job.input_hash()}".encode())
    return f"{stage}-{digest.hexdigest()}"


def config_digest(description: dict) -> str:
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode()).hexdigest()[:16]


def decode_clips(jobs: list[ClipJob]) -> Iterator[tuple[ClipJob, tuple[np.ndarray, int] | ClipFailure]]:
    """Each clip's mono samples and rate, or why it has none. Every file is decoded once; a file that fails
    to decode, or whose bytes changed since ingest, fails all of its clips with the reason."""
    by_file: dict[str, list[ClipJob]] = defaultdict(list)
    for job in jobs:
        by_file[job.audio_path].append(job)
    for path, file_jobs in by_file.items():
        try:
            audio = decode_audio(Path(path))
        except AudioError as err:
            for job in file_jobs:
                yield job, ClipFailure(job.clip_id, path, str(err.reason), err.detail)
            continue
        for job in file_jobs:
            if audio.sha256 != job.audio_sha256:
                yield job, ClipFailure(job.clip_id, path, RejectReason.AUDIO_CHANGED,
                                       "the file's bytes changed since it was ingested: ingest the corpus "
                                       "again, then annotate")
                continue
            samples = audio.span(job.start_s, job.end_s)
            if job.end_s is not None and job.end_s > audio.duration_s + 0.05 or len(samples) == 0:
                yield job, ClipFailure(job.clip_id, path, RejectReason.SPAN_OUT_OF_RANGE,
                                       f"span {job.start_s}-{job.end_s} s outside {audio.duration_s:.2f} s")
                continue
            yield job, (samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0], audio.sample_rate)


def stage_columns(annotator: str, version: str, config_hash: str, run_id: str) -> dict:
    return {"annotator": annotator, "annotator_version": version, "config_hash": config_hash, "run_id": run_id,
            "computed_at": datetime.now(timezone.utc)}


def store_batch(lake: "Lakehouse", stage: str, table: str, result: BatchResult, run_id: str) -> None:
    """Upsert the batch's rows; its failures go to `rejects` under `stage`. A clip computed now that an
    earlier run rejected was fixed: that reject is history."""
    from ..warehouse.lake import sql_literal_list
    from .rejects import reject_row

    lake.upsert(table, result.rows)
    now = datetime.now(timezone.utc)
    rejects = [Reject(f.clip_id.split("/", 1)[0], f.audio_path, f.reason, f.detail, f.clip_id.split("/", 1)[1])
               for f in result.failures]
    lake.insert_missing("rejects", [reject_row(stage, r, run_id, now) for r in rejects])
    if result.rows:
        computed = sql_literal_list(r["clip_id"] for r in result.rows)
        lake.delete_where("rejects", f"stage = '{stage}' AND clip_id IN {computed}")
