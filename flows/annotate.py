"""The annotation flow: every stage that has work, then labels against the pinned bin edges, then the
validation of the speaker predictions.

Orchestration only: which clips each stage takes (its anti-join), the batches, how many are in flight, the
cache, the run's bookkeeping and progress. The work is in tasks/ (acoustics, model_stages, speakers, labels,
validation); the backends are in models/.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..models.registry import BACKENDS, MODEL_STAGES, default_backend, load_backend
from ..settings import cache_dir
from ..stages import ANNOTATION_STAGES
from ..tasks import attributes, duplicates, emphasis, model_stages, speakers, validation, voices
from ..tasks.acoustic_analysis import AcousticConfig
from ..tasks.acoustics import CONTOURS_TABLE, acoustics_batch, pending_clips, store_acoustics, stored_contours
from ..tasks.clip_batches import store_batch
from ..tasks.labels import MIN_POPULATION, relabel
from ..tasks.worker_pool import default_workers, start_workers
from ..warehouse import Lakehouse
from .batches import ClipBatches, StageStats, recorded_run
from .exclusive import one_writer
from .runners import THREAD_IN_FLIGHT, runner_kind

# In the order they run: ASR first (speaking rate counts its words, emphasis its word times), gender before
# labels (pitch is binned within gender).
STAGES = ANNOTATION_STAGES           # in the order they run (speechcraft/stages.py)


def annotation_stages() -> list[str]:
    """Every stage `annotate` can run, in the order it runs them: the built-in ones, then each attribute
    stage (tasks/attributes/) once every stage it depends on is placed."""
    order, waiting = list(STAGES), dict(attributes.REGISTRY)
    while waiting:
        ready = [name for name, stage in waiting.items() if set(stage.after) <= set(order)]
        if not ready:
            name, stage = next(iter(waiting.items()))
            raise ValueError(f"attribute stage {name!r} runs after {sorted(set(stage.after) - set(order))}, "
                             f"which no stage provides (or they depend on each other)")
        order += ready
        for name in ready:
            del waiting[name]
    return order
DEFAULT_CLIPS_PER_TASK = 256


class NothingIngestedError(ValueError):
    pass


@flow(name="annotate", task_runner=ThreadPoolTaskRunner(max_workers=THREAD_IN_FLIGHT))
@one_writer
def annotate_flow(lake_uri: str | None = None, stages: list[str] | None = None, corpus: str | None = None,
                  clips_per_task: int = DEFAULT_CLIPS_PER_TASK, workers: int | None = None,
                  acoustic_options: dict | None = None, backends: dict[str, dict] | None = None,
                  reference: str | None = None, min_population: int = MIN_POPULATION,
                  runner: dict | None = None, show_progress: bool = True) -> dict:
    """Annotate what has work. Returns {"run": runs row, "<stage>": StageStats dict for each stage run,
    "speaker_training": SpeakerStats dict, "labels": LabelStats dict, "validations": rows}.
    `acoustic_options`: see AcousticConfig.from_options (e.g. {"vad": "silero"}). `backends`: per stage
    (speaker, emotion, transcript) the backend options, e.g. {"speaker": {"backend": "model", "model": ID}};
    stages not named use their embedded backend. `reference`: a TSV of known labels to validate against.
    `runner`: the [runner] config (flows/runners.py); call the flow through `on_runner` to run on Ray."""
    logger = get_run_logger()
    lake = Lakehouse(lake_uri)
    if not lake.exists("clips"):
        raise NothingIngestedError(f"nothing is ingested at {lake.uri}: run `speechcraft ingest CORPUS ROOT` first")
    known = annotation_stages()
    unknown = sorted(set(stages or []) - set(known)) or sorted(set(backends or {}) - set(BACKENDS))
    if unknown:
        raise ValueError(f"unknown stage {unknown[0]!r}; stages: {', '.join(known)} "
                         f"(with backends: {', '.join(BACKENDS)})")
    # an attribute stage declared `default=False` (a costly one) runs only where it is named
    stages = [s for s in known if s in (stages or [s for s in known if attributes.runs_by_default(s)])]
    workers = workers or default_workers()
    config = AcousticConfig.from_options(acoustic_options)
    start_acoustic_workers(lake.uri, stages, corpus, workers, acoustic_options, runner)  # beside the loads below
    options = {stage: {"backend": default_backend(stage), **(backends or {}).get(stage, {})} for stage in MODEL_STAGES}
    for stage in stages:
        attributes.check_ready(stage)   # a package an attribute stage needs is missing: fail before any work
        # a model that cannot load fails here, before any work; one whose stage has none is not loaded
        if stage in MODEL_STAGES and model_stages.pending(lake, stage, options[stage], corpus).jobs:
            backend = load_backend(stage, options[stage])
            getattr(backend, "load", lambda: None)()
    if reference:
        validation.read_reference(Path(reference))
    runner_kind(runner)
    batches = ClipBatches(clips_per_task, show_progress, runner)
    params = {"stages": stages, "corpus": corpus, "clips_per_task": clips_per_task, "workers": workers,
              "acoustics": config.describe(), "backends": {s: options[s] for s in stages if s in options}}
    result: dict = {}
    with recorded_run(lake, "annotate", corpus, params) as record:
        run_id = record.run_id
        record.counts = _counts(result)
        for stage in stages:
            if stage == "acoustics":
                task = acoustics_batch.with_options(result_storage=cache_dir())
                result[stage] = batches.run(stage, pending_clips(lake, config, corpus),
                                            lambda batch, n: task.submit(batch, config, run_id, workers, batch_number=n),
                                            lambda r: store_acoustics(lake, r, run_id), cpus=workers)
            elif stage == "emphasis":
                result[stage] = _emphasis_stage(lake, corpus, batches, run_id, workers)
                result["emphasis_detector"] = asdict(emphasis.train_and_detect(lake, run_id))
            elif stage in attributes.REGISTRY:
                result[stage] = _attribute_stage(lake, stage, corpus, batches, run_id)
            else:
                result[stage] = _model_stage(lake, stage, options[stage], corpus, batches, run_id)
            record.counts = _counts(result)
        if "voice" in stages:        # clusters first: they are the speakers of clips whose corpus names none
            result["voice_clusters"] = asdict(voices.update(lake, run_id))
        result["duplicates"] = asdict(duplicates.update(lake))
        if "speaker" in stages:      # after the voice stage: the classifier reads the voice vectors too
            result["speaker_training"] = _speaker_labels(lake, options["speaker"], run_id)
        result["labels"] = asdict(relabel(lake, min_population))
        if "speaker" in stages or "emphasis" in stages or reference:
            rows = validation.against_metadata(lake) if "speaker" in stages or reference else []
            if reference:
                rows += validation.against_reference(lake, Path(reference))
            if "emphasis" in stages:
                rows += emphasis.against_held_out(lake)
            result["validations"] = validation.store(lake, rows, run_id)
        for table in ("acoustics", CONTOURS_TABLE, "speakers", "speaker_features", "emotions", "transcripts",
                      "labels", "emphasis_features", "emphasis", *(attributes.REGISTRY[s].table for s in stages
                                                         if s in attributes.REGISTRY)):
            lake.compact(table)
        record.failed_batches = sum(result[s]["failed_batches"] for s in stages)
    result["run"] = record.row
    logger.info("annotate: %s", {k: v for k, v in result.items() if k != "run"})
    return result


def start_acoustic_workers(lake_uri: str | None, stages: list[str] | None = None, corpus: str | None = None,
                           workers: int | None = None, acoustic_options: dict | None = None,
                           runner: dict | None = None, **_other_arguments) -> None:
    """Start the acoustic stage's worker processes now when it has work, so that their start-up (imports,
    compiled code: seconds of a core each) overlaps what runs before the stage. Takes annotate_flow's
    arguments: `speechcraft run` calls it before its emphasize step, whose work leaves a core idle. On Ray
    the workers are Ray's."""
    lake, config = Lakehouse(lake_uri), AcousticConfig.from_options(acoustic_options)
    if "acoustics" in (stages or ["acoustics"]) and runner_kind(runner) == "thread" and lake.exists("clips") \
            and pending_clips(lake, config, corpus).jobs:
        start_workers(workers or default_workers(), config.pitch.name)


def _model_stage(lake: Lakehouse, stage: str, options: dict, corpus: str | None, batches: ClipBatches,
                 run_id: str) -> dict:
    spec = model_stages.spec_for(stage, options)
    task = model_stages.predict_batch.with_options(result_storage=cache_dir())
    # a backend that reads contours gets the acoustic stage's stored ones; it analyses clips that have none
    contours = model_stages.reads_contours(stage, options)
    return batches.run(stage, model_stages.pending(lake, stage, options, corpus),
                       lambda batch, n: task.submit(stage, batch, options, run_id, batch_number=n,
                                                    contours=stored_contours(lake, batch) if contours else None),
                       lambda r: store_batch(lake, stage, spec.table, r, run_id))


def _emphasis_stage(lake: Lakehouse, corpus: str | None, batches: ClipBatches, run_id: str, workers: int) -> dict:
    task = emphasis.features_batch.with_options(result_storage=cache_dir())
    return batches.run("emphasis", emphasis.pending(lake, corpus),
                       lambda batch, n: task.submit(batch, emphasis.whisper_stamps(lake, batch), run_id, batch_number=n,
                                                    contours=stored_contours(lake, batch), workers=workers),
                       lambda r: store_batch(lake, emphasis.STAGE, "emphasis_features", r, run_id))


def _attribute_stage(lake: Lakehouse, stage: str, corpus: str | None, batches: ClipBatches, run_id: str) -> dict:
    task = attributes.attribute_batch.with_options(result_storage=cache_dir())
    return batches.run(stage, attributes.pending(lake, stage, corpus),
                       lambda batch, n: task.submit(stage, batch, run_id, lake.uri, batch_number=n),
                       lambda r: attributes.store(lake, stage, r, run_id))


def _speaker_labels(lake: Lakehouse, options: dict, run_id: str) -> dict:
    """Embedded: train the classifiers and write every clip's gender and age. Models: metadata wins."""
    if getattr(load_backend("speaker", options), "trains_in_lakehouse", False):
        annotator, config_hash = model_stages.stage_config("speaker", options)
        return asdict(speakers.train_and_predict(lake, run_id, annotator, config_hash))
    return {"changed": speakers.apply_metadata(lake)}


def _counts(result: dict) -> dict:
    """The run's counts: clips considered and rejected by the widest stage, work done by all of them."""
    stages = annotation_stages()
    stats = [v for k, v in result.items() if k in stages and v["todo"] + v["up_to_date"]] or [asdict(StageStats())]
    return {"n_scanned": max(s["todo"] + s["up_to_date"] for s in stats),
            "n_new": sum(s["computed"] + s["cached"] - s["rejected"] for s in stats), "n_updated": 0,
            "n_unchanged": min(s["up_to_date"] for s in stats), "n_rejected": max(s["rejected"] for s in stats),
            "audio_hours": max(s["audio_s"] for s in stats) / 3600}
