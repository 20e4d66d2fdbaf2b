"""The one batch runner every batch stage uses (ingest, each annotation stage, emphasize, describe, export),
and the one way a flow records itself in `runs`.

A stage says only what its batches are, how one is submitted and what to do with a result; the rest is the
same everywhere, so `[runner]` means the same thing for every stage:
- batches stay in flight a few ahead of the one being collected (bounded: a huge corpus never sits in
  memory), on the flow's task runner — threads here, or Ray with the stage's `[runner.resources.STAGE]`;
- results are collected in submission order, each one stored before the next is awaited;
- a batch that fails is counted and logged, and the run ends `partial` (its clips are retried by the next
  run), unless the stage cannot lose a batch (an export), when the error ends the run;
- progress shows as a terminal bar and a Prefect artifact.
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice

from prefect import get_run_logger

from ..tasks.clip_batches import BatchResult, PendingWork
from ..warehouse import Lakehouse
from ..warehouse.runs import finish_run, start_run
from .progress import Progress
from .runners import THREAD_IN_FLIGHT, batch_resources, in_flight


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass
class BatchTally:
    """What one stage's batches came to."""
    batches: int = 0
    failed_batches: int = 0
    items: int = 0               # items of the batches collected (failed ones left out)
    wall_s: float = 0.0


def run_batches(stage: str, batches: Iterable[list], submit: Callable, collect: Callable[[object, bool], str],
                *, runner: dict | None = None, total: int | None = None, thread_ahead: int = THREAD_IN_FLIGHT,
                cpus: float = 1, title: str | None = None, show_progress: bool = True,
                tolerate_failures: bool = True) -> BatchTally:
    """Submit every batch (`submit(batch, number)` returns a Prefect future), keep the runner's number of them
    in flight (`thread_ahead` on this machine's thread pool), and hand each result in order to
    `collect(result, cached)`, which stores it and returns the progress line to show. `total`: items
    expected, when known (a streamed corpus has none). `stage` names the batches in logs and picks their
    `[runner.resources.STAGE]`; `title` is the progress bar's (default: the stage)."""
    logger = get_run_logger()
    started = time.perf_counter()
    tally = BatchTally()
    ahead = in_flight(runner, thread_ahead)
    queue: deque = deque()
    with Progress(title or stage, total=total, enabled=show_progress) as progress:
        def take(future, size: int) -> None:
            try:
                result = future.result()
            except Exception as exc:
                if not tolerate_failures:
                    raise
                tally.failed_batches += 1          # one bad batch must not sink the run
                logger.error("%s batch failed: %s", stage, exc)
                return
            line = collect(result, future.state.name == "Cached")
            tally.items += size
            progress.update(line, tally.items if total is not None else None)

        for number, batch in enumerate(batches):
            with batch_resources(runner, stage, cpus):
                queue.append((submit(batch, number), len(batch)))
            tally.batches += 1
            while len(queue) >= ahead:
                take(*queue.popleft())
        while queue:
            take(*queue.popleft())
    tally.wall_s = time.perf_counter() - started
    return tally


@dataclass
class StageStats:
    """What a per-clip stage did in one run (the `annotate` result and `run_stages` rows read it)."""
    up_to_date: int = 0        # clips that already had a row for the stage's current version and inputs
    todo: int = 0
    computed: int = 0          # clips the stage worked on in this run
    cached: int = 0            # clips whose batch result came from Prefect's cache (no work done)
    rejected: int = 0
    failed_batches: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0


@dataclass
class ClipBatches:
    """How a flow runs its per-clip stages (annotation stages, emphasize): the pending clips in batches of
    `clips_per_task`, each result stored as it lands, counted as a StageStats."""
    clips_per_task: int
    show_progress: bool = True
    runner: dict | None = None

    def run(self, stage: str, work: PendingWork, submit: Callable, store: Callable[[BatchResult], None],
            cpus: float = 1) -> dict:
        stats = StageStats(up_to_date=work.up_to_date, todo=len(work.jobs))
        get_run_logger().info("%s: %d clips to annotate, %d up to date", stage, stats.todo, stats.up_to_date)

        def collect(result: BatchResult, cached: bool) -> str:
            store(result)
            clips = len(result.rows) + len(result.failures)
            if cached:
                stats.cached += clips
            else:
                stats.computed += clips
            stats.rejected += len(result.failures)
            stats.audio_s += result.audio_s
            return (f"{stats.computed} done · {stats.cached} cached · {stats.rejected} rejected · "
                    f"{stats.audio_s / 3600:.2f} h")

        tally = run_batches(stage, batched(work.jobs, self.clips_per_task), submit, collect, runner=self.runner,
                            total=stats.todo, cpus=cpus, show_progress=self.show_progress)
        stats.failed_batches, stats.wall_s = tally.failed_batches, tally.wall_s
        return asdict(stats)


@dataclass
class RunRecord:
    """A flow's `runs` row while it works: the flow sets `counts` (and `failed_batches`, an `error`, or a
    `status` of its own) as it goes; `row` is the finished row."""
    run: dict
    counts: dict = field(default_factory=dict)
    failed_batches: int = 0
    error: str | None = None
    status: str | None = None
    row: dict | None = None

    @property
    def run_id(self) -> str:
        return self.run["run_id"]


@contextmanager
def recorded_run(lake: Lakehouse, flow: str, corpus: str | None, params: dict) -> Iterator[RunRecord]:
    """Start the flow's `runs` row, and finish it however the block ends: `failed` with the error when it
    raises, `partial` when batches failed (re-running retries them), else `completed`."""
    record = RunRecord(start_run(lake, flow, corpus, params))
    try:
        yield record
    except BaseException as exc:
        finish_run(lake, record.run, "failed", record.counts, error=f"{type(exc).__name__}: {exc}")
        raise
    problems = [p for p in (f"{record.failed_batches} batch(es) failed; re-run to retry them"
                            if record.failed_batches else None, record.error) if p]
    status = record.status or ("partial" if problems else "completed")
    record.row = finish_run(lake, record.run, status, record.counts, error="; ".join(problems) or None)
