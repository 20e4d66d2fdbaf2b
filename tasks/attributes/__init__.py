"""Attribute stages: a per-clip measurement declared once and carried everywhere from that declaration.

An `AttributeStage` says what the stage is called, its version, the columns it writes, the function that
measures one clip, its quality expectations and which of its columns the parler-tts export carries. From
that alone:
- `speechcraft annotate --stage NAME` (and `speechcraft run`) runs it after the stages it depends on, over the
  clips without a row for its version and inputs, in cached batches like every per-clip stage;
- it is stored in its own table `attr_<name>` (clip_id, its columns, the provenance every stage row has);
- `clip_annotations` carries its columns, after the documented ones (warehouse/views.py);
- `speechcraft check` runs a suite over its table (the key checks and its own expectations);
- the parler-tts export carries its `exported` columns.

A new attribute is one module that builds an `AttributeStage`, plus one line in `BUILTIN` below; a plug-in
outside this package calls `register()` itself.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
from prefect import task

from ...warehouse.schema import attribute_schema, attribute_table, forget_table, register_table
from ...vocabulary import parler_label
from ..checks import Check
from ..clip_batches import (BatchResult, ClipFailure, ClipJob, PendingWork, batch_cache_key, config_digest,
                            decode_clips, pending_jobs, stage_columns, store_batch)

# Modules that each build and register one attribute stage: one line per attribute.
BUILTIN: tuple[str, ...] = (
    f"{__name__}.noise",
    f"{__name__}.reverberation",
    f"{__name__}.monotony",
    f"{__name__}.quality",
    f"{__name__}.enhancement",
    f"{__name__}.voice",
)
MEASURE_FAILED = "measure_failed"      # the reject reason of a clip an attribute stage's measure raised on
EXPORTABLE_TYPES = (pa.string(), pa.float64(), pa.int64())      # what the parler-tts dataset features can type


@dataclass(frozen=True)
class AttributeStage:
    name: str                                   # `--stage NAME`, run_stages rows, the table attr_<name>
    version: str                                # bump when `measure` changes what it writes: clips are redone
    columns: dict[str, pa.DataType]             # what it writes per clip (names unique across clip_annotations)
    measure: Callable[..., dict]                # one clip's (mono samples, rate, job) -> its columns; with
                                                # reads_contours, (contours, job): models/signal.py's Contours
    checks: tuple[Check, ...] = ()              # expectations over its columns (tasks/checks.py)
    exported: tuple[str, ...] = ()              # columns the exports carry
    export_names: dict[str, str] = field(default_factory=dict)   # column -> its name in the parler-tts export
                                                # (Parler-TTS's own, where it has one); default: the column's
    after: tuple[str, ...] = ("acoustics",)     # stages that run before it in `annotate`
    config: dict = field(default_factory=dict)  # what else its output depends on (part of the config hash)
    default: bool = True                        # False: runs only where named (`--stage`, [annotate] stages)
    ready: Callable[[], None] | None = None     # raises, with what to install, when the stage cannot run here:
                                                # `annotate` calls it before any work
    reads_contours: bool = False                # True: measure the acoustic stage's frame contours (F0, energy,
                                                # speech segments), not the audio: no decode, no second Praat
    writes_files: bool = False                  # True: `measure` also takes `out`, a folder of the lakehouse's
                                                # own audio (<lake>/audio/<stage>) it may write files into

    @property
    def table(self) -> str:
        return attribute_table(self.name)

    @property
    def config_hash(self) -> str:
        return config_digest({"columns": {k: str(v) for k, v in self.columns.items()}, **self.config})


REGISTRY: dict[str, AttributeStage] = {}


def register(stage: AttributeStage) -> AttributeStage:
    """Declare a stage (again: a no-op for the same declaration). Its table joins the lakehouse's schema."""
    unknown = [c for c in (*stage.exported, *stage.export_names) if c not in stage.columns]
    if unknown:
        raise ValueError(f"attribute stage {stage.name!r} exports {unknown}, which it does not write")
    untyped = [c for c in stage.exported if stage.columns[c] not in EXPORTABLE_TYPES]
    if untyped:
        raise ValueError(f"attribute stage {stage.name!r} exports {untyped}: only string, float64 and int64 "
                         f"columns can be dataset features")
    register_table(stage.table, attribute_schema(stage.columns), "clip_id")
    REGISTRY[stage.name] = stage
    return stage


def unregister(name: str) -> None:
    """Forget a stage (a test's toy stage) and its table's declaration; its stored data, if any, stays."""
    stage = REGISTRY.pop(name, None)
    if stage is not None:
        forget_table(stage.table)


def no_signal(samples, rate: int, min_seconds: float) -> bool:
    """A clip with nothing to measure (shorter than `min_seconds`, or digital silence): its stage stores a row
    of nulls, which says it was looked at (the acoustic stage's flags say why), so that no run retries it."""
    return len(samples) < min_seconds * rate or not samples.any()


def one_number_and_its_parler_label(column: str, estimate: Callable, parler: str, min_seconds: float) -> Callable:
    """The measure of a stage that writes one number (`estimate(samples, rate)`) and Parler-TTS's label of it
    (`<parler>_parler`), nulls for a clip with no signal."""
    label = f"{parler}_parler"

    def measure(samples, rate, job) -> dict:
        if no_signal(samples, rate, min_seconds):
            return {column: None, label: None}
        value = estimate(samples, rate)
        return {column: value, label: parler_label(parler, value)}
    return measure


def runs_by_default(name: str) -> bool:
    """Whether `annotate` without a stage list runs the stage: every built-in stage does, an attribute stage
    unless it is declared `default=False`."""
    return name not in REGISTRY or REGISTRY[name].default


def pending(lake, name: str, corpus: str | None = None) -> PendingWork:
    stage = REGISTRY[name]
    return pending_jobs(lake, stage.table, stage.version, stage.config_hash, corpus)


def check_ready(name: str) -> None:
    """Raise (before any batch) when a stage cannot run in this environment: a package or model missing."""
    stage = REGISTRY.get(name)
    if stage is not None and stage.ready is not None:
        stage.ready()


def _inputs(stage: "AttributeStage", jobs: list[ClipJob], lake_uri: str):
    """(job, the measure's leading arguments or why there are none, seconds of audio) per clip: the decoded
    samples and rate, or (contours,) for a stage that reads the acoustic stage's contours (decoded and analysed
    only where none are stored)."""
    if stage.reads_contours:
        from ...warehouse import Lakehouse
        from ..acoustics import clip_contours

        found = clip_contours(jobs, Lakehouse(lake_uri))
        for job in jobs:
            contours = found[job.clip_id]
            yield job, contours if isinstance(contours, ClipFailure) else (contours,), job.duration_s or 0.0
        return
    for job, decoded in decode_clips(jobs):
        yield job, decoded, len(decoded[0]) / decoded[1] if isinstance(decoded, tuple) else 0.0


@task(name="attribute-batch", task_run_name="{name}-batch-{batch_number}", persist_result=True,
      cache_key_fn=lambda _, p: batch_cache_key(p["name"], REGISTRY[p["name"]].version,
                                                REGISTRY[p["name"]].config_hash, p["jobs"]))
def attribute_batch(name: str, jobs: list[ClipJob], run_id: str, lake_uri: str, batch_number: int = 0) -> BatchResult:
    """Measure a batch: every file decoded once (or the contours read), `measure` called per clip; a clip
    that cannot be decoded or measured is a failure with its reason, the rest of the batch lands."""
    stage = REGISTRY[name]
    from ...warehouse import Lakehouse

    extra = {"out": Lakehouse(lake_uri).audio_root() / name} if stage.writes_files else {}
    provenance = stage_columns(f"attribute:{name}", stage.version, stage.config_hash, run_id)
    result = BatchResult()
    for job, arguments, seconds in _inputs(stage, jobs, lake_uri):
        if not isinstance(arguments, tuple):
            result.failures.append(arguments)
            continue
        try:
            values = stage.measure(*arguments, job, **extra)
            missing = set(stage.columns) - set(values)
            if missing:
                raise ValueError(f"measured no {sorted(missing)}")
        except Exception as error:    # one clip the measure cannot take is a reject; the batch still lands
            result.failures.append(ClipFailure(job.clip_id, job.audio_path, MEASURE_FAILED,
                                               f"{name}: {type(error).__name__}: {error}"))
            continue
        result.rows.append({"clip_id": job.clip_id, **{c: values[c] for c in stage.columns},
                            "input_hash": job.input_hash(), **provenance})
        result.audio_s += seconds
    return result


def store(lake, name: str, result: BatchResult, run_id: str) -> None:
    store_batch(lake, name, REGISTRY[name].table, result, run_id)


def exported_columns() -> dict[str, pa.DataType]:
    """Column -> type of every registered stage's exported columns, in registration order."""
    return {c: s.columns[c] for s in REGISTRY.values() for c in s.exported}


def parler_names() -> dict[str, str]:
    """Exported column -> its name in the parler-tts export (Parler-TTS's, e.g. snr_db -> snr)."""
    return {c: s.export_names.get(c, c) for s in REGISTRY.values() for c in s.exported}


for _module in BUILTIN:
    importlib.import_module(_module)
