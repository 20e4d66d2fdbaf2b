"""The annotation flow: every stage that has work, then labels against the pinned bin edges.

Orchestration only: which clips each stage takes (its anti-join), the batches, how many are in flight, the
cache, the run's bookkeeping and progress. The work is in tasks/ (acoustics, labels).
"""
from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..settings import cache_dir
from ..tasks.acoustic_analysis import AcousticConfig
from ..tasks.acoustics import acoustics_batch, default_workers, pending_clips, store_batch
from ..tasks.labels import MIN_POPULATION, relabel
from ..warehouse import Lakehouse
from ..warehouse.runs import finish_run, start_run
from .ingest import batched
from .progress import Progress

STAGES = ("acoustics",)        # in the order they run; labels follow every run
DEFAULT_BATCH_SIZE = 256
IN_FLIGHT = 2                  # batches submitted ahead: the worker pool always has the next one queued


class NothingIngestedError(ValueError):
    pass


@dataclass
class StageStats:
    up_to_date: int = 0        # clips that already had a row for the stage's current version and inputs
    todo: int = 0
    computed: int = 0          # clips the stage measured in this run
    cached: int = 0            # clips whose batch result came from Prefect's cache (no work done)
    rejected: int = 0
    failed_batches: int = 0
    audio_s: float = 0.0


@flow(name="annotate", task_runner=ThreadPoolTaskRunner(max_workers=IN_FLIGHT))
def annotate_flow(lake_uri: str | None = None, stages: list[str] | None = None, corpus: str | None = None,
                  batch_size: int = DEFAULT_BATCH_SIZE, workers: int | None = None,
                  acoustic_options: dict | None = None, min_population: int = MIN_POPULATION,
                  show_progress: bool = True) -> dict:
    """Annotate what has work; returns {"run": runs row, "<stage>": StageStats dict, "labels": LabelStats dict}.
    `acoustic_options`: see AcousticConfig.from_options (e.g. {"vad": "silero"})."""
    logger = get_run_logger()
    lake = Lakehouse(lake_uri)
    if not lake.exists("clips"):
        raise NothingIngestedError(f"nothing is ingested at {lake.uri}: run `speechcraft ingest CORPUS ROOT` first")
    stages = list(stages or STAGES)
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise ValueError(f"unknown stage {unknown[0]!r}; stages: {', '.join(STAGES)}")
    workers = workers or default_workers()
    config = AcousticConfig.from_options(acoustic_options)
    params = {"stages": stages, "corpus": corpus, "batch_size": batch_size, "workers": workers,
              "acoustics": config.describe()}
    run = start_run(lake, "annotate", corpus, params)
    acoustics = StageStats()
    try:
        if "acoustics" in stages:
            acoustics = _acoustics(lake, config, corpus, batch_size, workers, run["run_id"], show_progress)
        labels = relabel(lake, min_population)
        for table in ("acoustics", "labels"):
            lake.compact(table)
    except BaseException as exc:
        finish_run(lake, run, "failed", _counts(acoustics), error=f"{type(exc).__name__}: {exc}")
        raise
    error = (f"{acoustics.failed_batches} batch(es) failed; re-run to retry them"
             if acoustics.failed_batches else None)
    finished = finish_run(lake, run, "partial" if error else "completed", _counts(acoustics), error=error)
    logger.info("annotate: acoustics %s; labels %s", asdict(acoustics), asdict(labels))
    return {"run": finished, "acoustics": asdict(acoustics), "labels": asdict(labels)}


def _acoustics(lake: Lakehouse, config: AcousticConfig, corpus: str | None, batch_size: int, workers: int,
               run_id: str, show_progress: bool) -> StageStats:
    logger = get_run_logger()
    work = pending_clips(lake, config, corpus)
    stats = StageStats(up_to_date=work.up_to_date, todo=len(work.jobs))
    logger.info("acoustics: %d clips to measure, %d up to date", stats.todo, stats.up_to_date)
    task = acoustics_batch.with_options(result_storage=cache_dir())
    in_flight: deque = deque()
    with Progress("acoustics", total=stats.todo, enabled=show_progress) as progress:
        def collect(future) -> None:
            try:
                result = future.result()
            except Exception as exc:   # one bad batch must not sink the run
                stats.failed_batches += 1
                logger.error("acoustics batch failed: %s", exc)
                return
            store_batch(lake, result, run_id)
            n_clips = len(result.rows) + len(result.failures)
            if future.state.name == "Cached":
                stats.cached += n_clips
            else:
                stats.computed += n_clips
            stats.rejected += len(result.failures)
            stats.audio_s += result.audio_s
            progress.update(f"{stats.computed} measured · {stats.cached} cached · {stats.rejected} rejected · "
                            f"{stats.audio_s / 3600:.2f} h", stats.computed + stats.cached)

        for number, batch in enumerate(batched(work.jobs, batch_size)):
            in_flight.append(task.submit(batch, config, run_id, workers, batch_number=number))
            while len(in_flight) >= IN_FLIGHT:
                collect(in_flight.popleft())
        while in_flight:
            collect(in_flight.popleft())
    return stats


def _counts(stats: StageStats) -> dict:
    return {"n_scanned": stats.todo + stats.up_to_date, "n_new": stats.computed + stats.cached - stats.rejected,
            "n_updated": 0, "n_unchanged": stats.up_to_date, "n_rejected": stats.rejected,
            "audio_hours": stats.audio_s / 3600}
