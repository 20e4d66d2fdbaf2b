"""The ingestion flow: a corpus reader's stream, cut into batches, each batch an ingest task.

Orchestration only: which reader, which batches, how many in flight, the run's bookkeeping and progress.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..tasks.corpora import CorpusLayoutError, get_reader
from ..tasks.ingest import BatchStats, ingest_batch
from ..warehouse import Lakehouse
from ..warehouse.runs import finish_run, ingested_roots, start_run
from .exclusive import one_writer
from .progress import Progress

DEFAULT_BATCH_SIZE = 256
WORKERS = max(2, os.cpu_count() or 2)


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
@one_writer
def ingest_flow(corpus: str, root: str, subsets: list[str] | None = None, lake_uri: str | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE, options: dict | None = None,
                show_progress: bool = True) -> dict:
    """Ingest one corpus into the lakehouse; returns the finished `runs` row, with `n_warnings` (rows of
    `rejects` that note an input taken anyway, e.g. `recovered_encoding`) and `layout` (one line per subset:
    which metadata file, and under which folder its paths were found)."""
    logger = get_run_logger()
    lake = Lakehouse(lake_uri)
    reader = get_reader(corpus, root, subsets, **(options or {}))
    params = {"reader": corpus, "root": str(reader.root), "subsets": subsets, "batch_size": batch_size,
              **(options or {})}
    if corpus == "folder":
        # Folder corpora are named after their folder: a second folder of the same name would overwrite
        # the first one's clips (same clip ids), so it must be given its own name.
        others = ingested_roots(lake, corpus, reader.name) - {str(reader.root)}
        if others:
            raise CorpusLayoutError(
                f"the corpus name {reader.name!r} already holds clips from {sorted(others)[0]}; "
                f"ingest {reader.root} under another name with --name NAME")
    run = start_run(lake, "ingest", reader.name, params)
    totals = BatchStats()
    failed_batches = 0
    try:
        reader.check_layout()
        in_flight: deque = deque()
        with Progress(f"ingest {reader.name}", enabled=show_progress) as progress:
            def collect(future) -> None:
                nonlocal failed_batches
                try:
                    stats = future.result()
                except Exception as exc:  # one bad batch must not sink the run
                    failed_batches += 1
                    logger.error("batch failed: %s", exc)
                    return
                totals.add(stats)
                progress.update(f"{totals.scanned} clips · {totals.new} new · {totals.unchanged} unchanged · "
                                f"{totals.rejected} rejected · {totals.warnings} warnings · "
                                f"{totals.audio_seconds / 3600:.2f} h")

            for number, batch in enumerate(batched(reader.scan(), batch_size)):
                in_flight.append(ingest_batch.submit(lake.uri, run["run_id"], batch, str(reader.root),
                                                     batch_number=number))
                while len(in_flight) >= 2 * WORKERS:   # bounded: a huge corpus never sits in memory
                    collect(in_flight.popleft())
            while in_flight:
                collect(in_flight.popleft())
        lake.compact("clips")
    except BaseException as exc:
        finish_run(lake, run, "failed", _counts(totals), error=f"{type(exc).__name__}: {exc}")
        raise
    status = "completed" if not failed_batches else "partial"
    error = f"{failed_batches} batch(es) failed; re-run to retry them" if failed_batches else None
    finished = finish_run(lake, run, status, _counts(totals), error=error)
    logger.info("ingest %s: %d scanned, %d new, %d updated, %d unchanged, %d rejected, %d warnings, "
                "%.3f h of audio", reader.name, totals.scanned, totals.new, totals.updated, totals.unchanged,
                totals.rejected, totals.warnings, totals.audio_seconds / 3600)
    # Where each subset's metadata paths were found (corpora whose layout varies): for the caller to show.
    layout = reader.layout_report()
    for line in layout:
        logger.info("layout %s", line)
    # Not columns of `runs`: returned with its row for the command line's summary.
    return {**finished, "n_warnings": totals.warnings, "layout": layout}


def _counts(totals: BatchStats) -> dict:
    return {"n_scanned": totals.scanned, "n_new": totals.new, "n_updated": totals.updated,
            "n_unchanged": totals.unchanged, "n_rejected": totals.rejected,
            "audio_hours": totals.audio_seconds / 3600}
