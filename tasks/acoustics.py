"""The acoustic stage: which clips have work, the Prefect task that measures a batch, and its write.

A clip has work when it has no `acoustics` row for the stage's current version, configuration and inputs
(audio hash, span, transcript): the anti-join of docs/architecture.md. A batch's task is cached by Prefect on exactly
those keys, so a batch measured once is never measured again, even into a lakehouse rebuilt from scratch.
Within a batch each audio file is decoded once and files are spread over worker processes (Praat holds
the GIL while it analyses, so threads would not add cores).
"""
from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from threading import Lock

from prefect import task

from ..warehouse import Lakehouse
from .acoustic_analysis import AcousticConfig, analyse_files
from .clip_batches import BatchResult, ClipFailure, ClipJob, PendingWork, batch_cache_key, pending_jobs, \
    stage_columns, store_batch

STAGE = "acoustics"
ACOUSTICS_VERSION = "1"       # bump when the measuring code changes: every clip is measured again


def pending_clips(lake: Lakehouse, config: AcousticConfig, corpus: str | None = None) -> PendingWork:
    return pending_jobs(lake, STAGE, ACOUSTICS_VERSION, config.config_hash(), corpus)


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
    columns = stage_columns(config.annotator, ACOUSTICS_VERSION, config.config_hash(), run_id)
    for job, outcome in outcomes:
        if isinstance(outcome, ClipFailure):
            result.failures.append(outcome)
        else:
            result.rows.append({"clip_id": job.clip_id, **outcome, **columns, "input_hash": job.input_hash()})
            result.audio_s += job.duration_s or 0.0
    return result


@task(name="acoustics-batch", task_run_name="acoustics-batch-{batch_number}", persist_result=True,
      cache_key_fn=lambda _, p: batch_cache_key(STAGE, ACOUSTICS_VERSION, p["config"].config_hash(), p["jobs"]))
def acoustics_batch(jobs: list[ClipJob], config: AcousticConfig, run_id: str, workers: int = 1,
                    batch_number: int = 0) -> BatchResult:
    return measure_batch(jobs, config, run_id, workers)


def store_acoustics(lake: Lakehouse, result: BatchResult, run_id: str) -> None:
    store_batch(lake, STAGE, STAGE, result, run_id)


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
