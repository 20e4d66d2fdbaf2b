"""The worker processes that the CPU-bound stages share: the acoustic stage's analysis and the emphasis
stage's word features run their batches' clips here, spread over the cores.

Processes, not threads: the tracker and the aligner hold the GIL while they work. One pool per process,
spawned, not forked (the flow's threads, Prefect's and LanceDB's, must not be copied into a child mid-flight),
shared by the batches in flight, and started early where a flow knows work is coming (`start_workers`), so
that each worker's start-up (imports, the tracker's compiled code, the syllable lexicon: seconds of one core)
overlaps the steps before, not the stage.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from threading import Lock

import numpy as np

from ..models.pitch import DEFAULT_PITCH, PITCH_TRACKERS
from ..models.signal import ANALYSIS_RATE, analyse_signal
from ..models.speech_units import count_units

CHUNKS_PER_WORKER = 16    # the batch waits for its last chunk: small ones even out long and short clips (4 a
                          # worker cost about a tenth of the acoustic stage's throughput)

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = Lock()


def pool(workers: int, pitch: str = DEFAULT_PITCH) -> ProcessPoolExecutor:
    """The process's pool of `workers` processes (a new size replaces it). `pitch`: the tracker a new pool's
    workers load as they start."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or _POOL_SIZE != workers:
            if _POOL is not None:
                _POOL.shutdown()
            _POOL = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_worker, initargs=(pitch,))
            _POOL_SIZE = workers
        return _POOL


def start_workers(workers: int, pitch: str = DEFAULT_PITCH) -> None:
    """Start the worker processes now rather than at the first batch."""
    if workers > 1:
        executor = pool(workers, pitch)
        for _ in range(workers):     # each task still waiting starts one more process, up to `workers`
            executor.submit(os.getpid)


def spread(work: Callable[..., list], items: list, workers: int, *args, pitch: str = DEFAULT_PITCH) -> list:
    """`work(chunk, *args)` over small chunks of `items` in the worker processes, results in one list (in
    chunk order, not item order); in this process when there is one worker or one item."""
    if workers <= 1 or len(items) < 2:
        return work(items, *args)
    n_chunks = min(len(items), workers * CHUNKS_PER_WORKER)
    chunks = [items[i::n_chunks] for i in range(n_chunks)]
    return [out for part in pool(workers, pitch).map(work, chunks, *([a] * n_chunks for a in args)) for out in part]


def _start_worker(pitch: str) -> None:
    """In a worker: numpy's BLAS and FFT threads off (the pool is the parallelism; every worker's threads
    would only contend with the other workers for the same cores); then what a worker's first clip would
    load, loaded before any batch waits on it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:          # scikit-learn brings it; without it the workers just run as they are
        pass
    else:
        threadpool_limits(1)
    noise = np.random.default_rng(0).standard_normal(ANALYSIS_RATE // 2).astype(np.float32)
    try:
        analyse_signal(0.1 * noise, ANALYSIS_RATE, PITCH_TRACKERS[pitch]())
        count_units("warm", "en")
    except Exception:  # noqa: BLE001 - only a warm-up: an initializer that raises would break the whole pool,
        pass           # while the first clip meets the same error and its batch reports it


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
