"""The emphasize flow: regenerate clips of the named corpora with their keyword stressed (tasks/stressing.py),
in batches, each batch a cached Prefect task. Parents that cannot be regenerated (no keyword, no speech, too
short, a keyword not placeable in speech) are skipped: `rejects` says why, the result counts them by reason."""
from __future__ import annotations

from collections import Counter

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..settings import cache_dir
from ..tasks import stressing
from ..tasks.lineage import is_stressed
from ..warehouse import Lakehouse
from .annotate import NothingIngestedError
from .batches import ClipBatches, recorded_run
from .exclusive import one_writer
from .runners import THREAD_IN_FLIGHT

DEFAULT_CLIPS_PER_TASK = 128


@flow(name="emphasize", task_runner=ThreadPoolTaskRunner(max_workers=THREAD_IN_FLIGHT))
@one_writer
def emphasize_flow(lake_uri: str | None = None, corpora: list[str] | None = None, limit: int | None = None,
                   options: dict | None = None, clips_per_task: int = DEFAULT_CLIPS_PER_TASK,
                   runner: dict | None = None, show_progress: bool = True) -> dict:
    """Stress up to `limit` clips per corpus (all when None). `options`: the synthesizer's, e.g.
    {"backend": "world", "pitch_scale": 1.3, "energy_db": 6, "duration_scale": 1.3}. Returns the stage's
    counts, `skipped` (reason -> parents not regenerated, now or by an earlier run for the inputs they still
    have) and the runs row. `runner`: the [runner] config (flows/runners.py)."""
    logger = get_run_logger()
    lake = Lakehouse(lake_uri)
    if not lake.exists("clips"):
        raise NothingIngestedError(f"nothing is ingested at {lake.uri}: run `speechcraft ingest CORPUS ROOT` first")
    options = {"backend": "world", **(options or {})}
    known = set(lake.read("clips", ["corpus"])["corpus"].to_pylist())
    corpora = corpora or sorted(c for c in known if not is_stressed(c))
    missing = sorted(set(corpora) - known)
    if missing:
        raise ValueError(f"corpus {missing[0]!r} is not in the lakehouse; ingested: {', '.join(sorted(known))}")
    getattr(stressing.synthesizer(options), "load", lambda: None)()   # bad settings or a model that cannot load
                                                                      # fail before any work
    audio_root = str(lake.audio_root())
    skipped = Counter()

    def store(result: stressing.StressResult) -> None:
        stressing.store_stressed(lake, result, record.run_id)
        skipped.update(f.reason for f in result.failures if f.reason in stressing.SKIPS)

    with recorded_run(lake, "emphasize", ",".join(corpora), {"corpora": corpora, "limit": limit,
                                                               "options": options}) as record:
        task = stressing.stress_batch.with_options(result_storage=cache_dir())

        def submit(batch: list[stressing.StressJob], number: int):
            # a cached batch whose audio files are gone (the lake was rebuilt) is made again
            batch_task = task if stressing.outputs_exist(audio_root, batch) else task.with_options(refresh_cache=True)
            return batch_task.submit(batch, options, audio_root, record.run_id, batch_number=number)

        stats, planned_failures = None, 0
        while True:
            plan = stressing.plan(lake, corpora, limit, options)
            if stats is None:
                skipped.update(plan.skipped)          # turned down by earlier runs: reported, not redone
            store(stressing.StressResult(failures=plan.failures))
            turned_down = sum(skipped.values())
            done = ClipBatches(clips_per_task, show_progress, runner).run("emphasize", plan, submit, store)
            planned_failures += len(plan.failures)
            # parents turned down while planning were decided by this run too: computed, and rejected
            done["computed"] += len(plan.failures)
            done["rejected"] += len(plan.failures)
            stats = done if stats is None else {k: v if k == "up_to_date" else v + done[k] for k, v in stats.items()}
            # A parent found unusable only once decoded (silent, its keyword not placeable in speech) leaves its
            # place under the limit to the next one in the order: plan again until the limit is met.
            if limit is None or not plan.jobs or sum(skipped.values()) == turned_down:
                break
        for table in ("clips", "stressed_clips"):
            lake.compact(table)
        stats["skipped"] = dict(skipped)
        record.counts = {"n_scanned": stats["todo"] + stats["up_to_date"] + planned_failures,
                         "n_new": stats["computed"] + stats["cached"] - stats["rejected"],
                         "n_updated": 0, "n_unchanged": stats["up_to_date"], "n_rejected": stats["rejected"],
                         "audio_hours": stats["audio_s"] / 3600}
        record.failed_batches = stats["failed_batches"]
    stats["run"] = record.row
    if skipped:
        logger.info("emphasize: parents not regenerated, by reason: %s (see `rejects`, stage 'emphasize')",
                    ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items())))
    logger.info("emphasize: %s", {k: v for k, v in stats.items() if k != "run"})
    return stats
