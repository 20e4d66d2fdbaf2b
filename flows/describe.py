"""The describe flow: descriptions and instructions for every clip whose labels have no texts yet, then the
search index of the published texts; and the search index as a flow of its own.

Embedding a text for search (a MiniLM forward pass on a CPU) costs one to two orders of magnitude more than
writing and checking it (a template and a few dozen regular expressions), so a caller that runs several
steps can leave the index out of describe (`search_index=False`) and build it once, last, with
`search_index_flow`, which has its own `runs` row: each step's row then shows what that step costs.
"""
from __future__ import annotations

import time

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..models.registry import DEFAULT_BACKEND, load_backend
from ..settings import cache_dir
from ..tasks.descriptions import describe_batch, pending, store_texts
from ..tasks.search_index import index_texts
from ..warehouse import Lakehouse
from .annotate import NothingIngestedError
from .batches import batched, recorded_run, run_batches
from .exclusive import one_writer
from .runners import THREAD_IN_FLIGHT

DEFAULT_CLIPS_PER_TASK = 256          # an LLM's batch: seconds of generation a task
# The embedded generator writes a batch of 256 clips in about a twentieth of a second, about what the Prefect
# task and the Lance write around it cost: larger batches make describe a quarter faster (bench/describe.py).
EMBEDDED_CLIPS_PER_TASK = 1024


@flow(name="describe", task_runner=ThreadPoolTaskRunner(max_workers=THREAD_IN_FLIGHT))
@one_writer
def describe_flow(lake_uri: str | None = None, corpus: str | None = None, options: dict | None = None,
                  clips_per_task: int | None = None, runner: dict | None = None,
                  show_progress: bool = True, search_index: bool = True) -> dict:
    """Returns {"run": runs row, "clips", "up_to_date", "texts", "published", "fallbacks", "failed_batches",
    "search_index"}. `options`: the generator's, e.g. {"backend": "vllm", "model": ID, "tensor_parallel": 2,
    "retries": 2}. `clips_per_task`: default 1,024 for the embedded generator, 256 for an LLM. `runner`: the
    [runner] config (flows/runners.py). `search_index`: embed the new published texts for search afterwards,
    inside this run (its share in "search_index": wall_s); False leaves them to `search_index_flow`, and
    "search_index" is None."""
    logger = get_run_logger()
    lake = Lakehouse(lake_uri)
    if not lake.exists("clips"):
        raise NothingIngestedError(f"nothing is ingested at {lake.uri}: run `speechcraft ingest CORPUS ROOT` first")
    options = {"backend": DEFAULT_BACKEND, **(options or {})}
    clips_per_task = clips_per_task or (EMBEDDED_CLIPS_PER_TASK if options["backend"] == "embedded"
                                        else DEFAULT_CLIPS_PER_TASK)
    generator = load_backend("describe", options)
    getattr(generator, "load", lambda: None)()          # an LLM that cannot load fails before any work
    stats = {"clips": 0, "up_to_date": 0, "texts": 0, "published": 0, "fallbacks": 0, "failed_batches": 0}
    audio_s = 0.0

    def collect(batch, cached: bool) -> str:
        nonlocal audio_s
        store_texts(lake, batch, work.stored)
        published = [r for r in batch.rows if r["published"]]
        stats["texts"] += len(batch.rows)
        stats["published"] += len(published)
        stats["fallbacks"] += sum(r["generator"] == "embedded" and options["backend"] != "embedded"
                                  for r in published)
        audio_s += sum(durations.get(c, 0.0) for c in {r["clip_id"] for r in batch.rows})
        return f"{stats['published']} published · {stats['fallbacks']} fallbacks"

    with recorded_run(lake, "describe", corpus, {"options": options, "clips_per_task": clips_per_task}) as record:
        work = pending(lake, lake_uri, options, corpus)
        todo, stats["up_to_date"] = work.todo, work.up_to_date
        stats["clips"] = len(todo)
        durations = {t.clip_id: t.duration_s for t in todo}
        task = describe_batch.with_options(result_storage=cache_dir())
        tally = run_batches("describe", batched(todo, clips_per_task),
                            lambda batch, number: task.submit(batch, options, record.run_id, batch_number=number),
                            collect, runner=runner, total=len(todo), show_progress=show_progress)
        lake.compact("descriptions")
        stats["failed_batches"] = record.failed_batches = tally.failed_batches
        record.counts = {"n_scanned": stats["clips"] + stats["up_to_date"], "n_new": stats["clips"], "n_updated": 0,
                         "n_unchanged": stats["up_to_date"], "n_rejected": 0, "audio_hours": audio_s / 3600}
        stats["search_index"] = None
        if search_index and (stats["texts"] or not lake.exists("text_vectors")):   # nothing new: index current
            stats["search_index"] = _index_for_search(lake.uri, logger)
    stats["run"] = record.row
    logger.info("describe: %s", {k: v for k, v in stats.items() if k != "run"})
    return stats


@flow(name="search-index")
@one_writer
def search_index_flow(lake_uri: str | None = None, model: str | None = None) -> dict:
    """Embed every published text whose wording is not in the search index yet (what describe runs with
    `search_index=False` left): {"run": runs row, "model", "embedded", "indexed", "wall_s"}; without the
    optional embedder, {"run"} alone, the row `partial` with the reason."""
    lake = Lakehouse(lake_uri)
    with recorded_run(lake, "search-index", None, {"model": model}) as record:
        result = _index_for_search(lake.uri, get_run_logger(), model)
        if result is None:
            record.error = "nothing indexed: the embedder is not installed (the dashboard extra)"
        embedded, indexed = (result["embedded"], result["indexed"]) if result else (0, 0)
        record.counts = {"n_scanned": indexed, "n_new": embedded, "n_updated": 0,
                         "n_unchanged": indexed - embedded, "n_rejected": 0}
    return {**(result or {}), "run": record.row}


def _index_for_search(lake_uri: str, logger, model: str | None = None) -> dict | None:
    """Embed the published texts for the dashboard's search; without the optional embedder, say how to add it."""
    started = time.perf_counter()
    try:
        result = index_texts(lake_uri, model)
    except ImportError as exc:
        logger.warning("descriptions are not indexed for search: %s", exc)
        return None
    return {**result, "wall_s": time.perf_counter() - started}
