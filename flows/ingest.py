"""The ingestion flow: a corpus reader's stream, cut into batches, each batch an ingest task.

Orchestration only: which reader, which batches, how many in flight, the run's bookkeeping and progress.
"""
from __future__ import annotations

import os

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..tasks.corpora import CorpusLayoutError, get_reader
from ..tasks.ingest import BatchStats, ingest_batch
from ..warehouse import Lakehouse
from ..warehouse.runs import ingested_roots
from .batches import batched, recorded_run, run_batches
from .exclusive import one_writer

DEFAULT_BATCH_SIZE = 256
WORKERS = max(2, os.cpu_count() or 2)


@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))
@one_writer
def ingest_flow(corpus: str, root: str, subsets: list[str] | None = None, lake_uri: str | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE, options: dict | None = None, runner: dict | None = None,
                show_progress: bool = True) -> dict:
    """Ingest one corpus into the lakehouse; returns the finished `runs` row, with `n_warnings` (rows of
    `rejects` that note an input taken anyway, e.g. `recovered_encoding`) and `layout` (one line per subset:
    which metadata file, and under which folder its paths were found). `runner`: the [runner] config
    (flows/runners.py); call the flow through `on_runner` to run its batches on Ray."""
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
    totals = BatchStats()

    def collect(stats: BatchStats, cached: bool) -> str:
        totals.add(stats)
        record.counts = _counts(totals)
        return (f"{totals.scanned} clips · {totals.new} new · {totals.unchanged} unchanged · "
                f"{totals.rejected} rejected · {totals.warnings} warnings · {totals.audio_seconds / 3600:.2f} h")

    with recorded_run(lake, "ingest", reader.name, params) as record:
        record.counts = _counts(totals)
        reader.check_layout()
        tally = run_batches("ingest", batched(reader.clips(), batch_size),
                            lambda batch, number: ingest_batch.submit(lake.uri, record.run_id, batch, str(reader.root),
                                                                      batch_number=number),
                            collect, runner=runner, thread_ahead=2 * WORKERS, title=f"ingest {reader.name}",
                            show_progress=show_progress)
        record.failed_batches = tally.failed_batches
        lake.compact("clips")
    logger.info("ingest %s: %d scanned, %d new, %d updated, %d unchanged, %d rejected, %d warnings, "
                "%.3f h of audio", reader.name, totals.scanned, totals.new, totals.updated, totals.unchanged,
                totals.rejected, totals.warnings, totals.audio_seconds / 3600)
    # Where each subset's metadata paths were found (corpora whose layout varies): for the caller to show.
    layout = reader.layout_report()
    for line in layout:
        logger.info("layout %s", line)
    # Not columns of `runs`: returned with its row for the command line's summary.
    return {**record.row, "n_warnings": totals.warnings, "layout": layout}


def _counts(totals: BatchStats) -> dict:
    return {"n_scanned": totals.scanned, "n_new": totals.new, "n_updated": totals.updated,
            "n_unchanged": totals.unchanged, "n_rejected": totals.rejected,
            "audio_hours": totals.audio_seconds / 3600}
