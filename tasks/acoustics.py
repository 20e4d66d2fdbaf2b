"""The acoustic stage: which clips have work, the Prefect task that measures a batch, and its write.

A clip has work when it has no `acoustics` row for the stage's current version, configuration and inputs
(audio hash, span, transcript): the anti-join of design.md. A batch's task is cached by Prefect on exactly
those keys, so a batch measured once is never measured again, even into a lakehouse rebuilt from scratch.
Within a batch each audio file is decoded once and files are spread over worker processes (Praat holds
the GIL while it analyses, so threads would not add cores).
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from threading import Lock

from prefect import task

from ..warehouse import Lakehouse
from ..warehouse.lake import sql_literal_list
from .acoustic_analysis import AcousticConfig, ClipFailure, ClipJob, analyse_files
from .corpora.base import Reject
from .rejects import reject_row

STAGE = "acoustics"
ACOUSTICS_VERSION = "1"       # bump when the measuring code changes: every clip is measured again
CLIP_COLUMNS = ["clip_id", "audio_path", "start_s", "end_s", "transcript", "language", "audio_sha256", "duration_s"]


@dataclass
class PendingWork:
    jobs: list[ClipJob]
    up_to_date: int


@dataclass
class BatchResult:
    rows: list[dict] = field(default_factory=list)
    failures: list[ClipFailure] = field(default_factory=list)
    audio_s: float = 0.0


def pending_clips(lake: Lakehouse, config: AcousticConfig, corpus: str | None = None) -> PendingWork:
    """Clips without an acoustics row for this version, configuration and input; sorted by file so the
    spans of one long file fall into one batch and are decoded together."""
    where = f"corpus = {sql_literal_list([corpus])[1:-1]}" if corpus else None
    clips = lake.read("clips", CLIP_COLUMNS, where=where).to_pylist()
    done = {r["clip_id"]: (r["annotator_version"], r["config_hash"], r["input_hash"])
            for r in lake.read(STAGE, ["clip_id", "annotator_version", "config_hash", "input_hash"]).to_pylist()}
    config_hash = config.config_hash()
    jobs = []
    for row in clips:
        job = ClipJob(**row)
        if done.get(job.clip_id) != (ACOUSTICS_VERSION, config_hash, job.input_hash()):
            jobs.append(job)
    jobs.sort(key=lambda j: (j.audio_path, j.start_s or 0.0))
    return PendingWork(jobs, len(clips) - len(jobs))


def batch_cache_key(_context, parameters: dict) -> str:
    """The batch's clip ids and inputs, the stage version and its configuration; nothing run-specific."""
    config: AcousticConfig = parameters["config"]
    digest = hashlib.sha256(f"{STAGE}:{ACOUSTICS_VERSION}:{config.config_hash()}".encode())
    for job in sorted(parameters["jobs"], key=lambda j: j.clip_id):
        digest.update(f"\x1f{job.clip_id}\x1e{job.input_hash()}".encode())
    return f"{STAGE}-{digest.hexdigest()}"


def measure_batch(jobs: list[ClipJob], config: AcousticConfig, run_id: str, workers: int = 1) -> BatchResult:
    """Measure a batch: files decoded once each, spread over `workers` processes."""
    by_file: dict[str, list[ClipJob]] = defaultdict(list)
    for job in jobs:
        by_file[job.audio_path].append(job)
    groups = list(by_file.values())
    if workers <= 1 or len(groups) < 2:
        outcomes = analyse_files(groups, config)
    else:
        n_chunks = min(len(groups), workers * 4)   # small chunks even out long and short files
        chunks = [groups[i::n_chunks] for i in range(n_chunks)]
        outcomes = [o for part in _pool(workers).map(analyse_files, chunks, [config] * n_chunks) for o in part]

    result = BatchResult()
    now = datetime.now(timezone.utc)
    stage_columns = {"annotator": config.annotator, "annotator_version": ACOUSTICS_VERSION,
                     "config_hash": config.config_hash(), "run_id": run_id, "computed_at": now}
    for job, outcome in outcomes:
        if isinstance(outcome, ClipFailure):
            result.failures.append(outcome)
        else:
            result.rows.append({"clip_id": job.clip_id, **outcome, **stage_columns, "input_hash": job.input_hash()})
            result.audio_s += job.duration_s or 0.0
    return result


@task(name="acoustics-batch", task_run_name="acoustics-batch-{batch_number}", cache_key_fn=batch_cache_key,
      persist_result=True)
def acoustics_batch(jobs: list[ClipJob], config: AcousticConfig, run_id: str, workers: int = 1,
                    batch_number: int = 0) -> BatchResult:
    return measure_batch(jobs, config, run_id, workers)


def store_batch(lake: Lakehouse, result: BatchResult, run_id: str) -> None:
    """Upsert the batch's rows; its failures go to `rejects` under this stage. A clip measured now that an
    earlier run rejected was fixed: that reject is history."""
    lake.upsert(STAGE, result.rows)
    now = datetime.now(timezone.utc)
    rejects = [Reject(f.clip_id.split("/", 1)[0], f.audio_path, f.reason, f.detail, f.clip_id.split("/", 1)[1])
               for f in result.failures]
    lake.insert_missing("rejects", [reject_row(STAGE, r, run_id, now) for r in rejects])
    if result.rows:
        measured = sql_literal_list(r["clip_id"] for r in result.rows)
        lake.delete_where("rejects", f"stage = '{STAGE}' AND clip_id IN {measured}")


_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = Lock()


def _pool(workers: int) -> ProcessPoolExecutor:
    """One pool of worker processes per process, shared by the batches in flight. Spawned, not forked:
    the flow's threads (Prefect, LanceDB) must not be copied into the children mid-flight."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or _POOL_SIZE != workers:
            if _POOL is not None:
                _POOL.shutdown()
            _POOL = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            _POOL_SIZE = workers
        return _POOL


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
