"""The pipeline flow (`speechcraft run`): every source in the project config through every stage, then the
quality gate, then the exports.

Orchestration only. Each step is a stage flow that skips what it already did (ingest: files whose
fingerprint is unchanged; every later stage: clips that already have a row for its current version), so a
run after new files land processes only them, and a run with nothing new does next to nothing: the check
and the exports are skipped too when no step changed anything since the last ones. A step that fails is
recorded and the run goes on with the others (its batches are retried by the next run); each step's
throughput goes to `run_stages`.
"""
from __future__ import annotations

import contextvars
import importlib.util
import threading

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone

from prefect import flow, get_run_logger
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from ..models.text_embedder import INSTALL_HINT
from ..settings import annotate_defaults
from ..stages import STEPS
from ..tasks.corpora import get_reader
from ..tasks.search_index import preload_embedder
from ..warehouse import Lakehouse
from ..warehouse.fingerprints import forget_complete_run, record_complete_run
from ..warehouse.runs import finish_run, start_run
from .annotate import annotate_flow, annotation_stages, start_acoustic_workers
from .describe import describe_flow, search_index_flow
from .emphasize import emphasize_flow
from .exclusive import one_writer
from .export import EXPORT_FORMATS, export_flow, export_is_current
from .ingest import ingest_flow
from .runners import on_runner, runner_kind, shared_cluster



class PipelineConfigError(ValueError):
    pass


def source_corpus(source: dict) -> str:
    """The corpus name a source's clips are stored under (a folder source: its `name`, else the folder's)."""
    return get_reader(source["corpus"], source["path"], source.get("subsets"), **reader_options(source)).name


def reader_options(source: dict) -> dict:
    return {k: source[k] for k in ("name", "language") if source.get(k)}


def pipeline_arguments(config: dict) -> dict:
    """pipeline_flow's arguments from the project config (settings.load_project_config)."""
    pipeline = config.get("pipeline", {})
    return {"sources": config.get("sources", []), "steps": pipeline.get("steps"),
            "annotate": annotate_defaults(config), "describe": dict(config.get("stages", {}).get("describe", {})),
            "exports": pipeline.get("exports"), "export_dir": pipeline.get("export_dir"),
            "export_audio": pipeline.get("export_audio", "embed"), "runner": config.get("runner"),
            "export_filters": {k: pipeline[k] for k in ("min_snr", "min_quality", "audio_source") if k in pipeline}}


@flow(name="pipeline")
@one_writer
def pipeline_flow(lake_uri: str | None = None, sources: list[dict] | None = None, steps: list[str] | None = None,
                  annotate: dict | None = None, describe: dict | None = None, exports: list[str] | None = None,
                  export_dir: str | None = None, export_audio: str = "embed", runner: dict | None = None,
                  export_filters: dict | None = None,
                  show_progress: bool = True, fingerprint: dict | None = None) -> dict:
    """Run the pipeline. `sources`: [[sources]] tables of the config; `annotate`: annotate_flow's arguments;
    `describe`: the describe generator's options; `exports`: formats (default all) written to
    `<export_dir>/<format>` (default `<lake>/exports`). `fingerprint`: the run's inputs, taken by `speechcraft
    run` before it started (speechcraft/nothing_new.py), remembered if the run ends complete. Returns
    {"run": runs row, "steps": run_stages rows, "results": each step's own result, "check": the check's result
    or None}."""
    logger = get_run_logger()
    lake = Lakehouse(lake_uri)
    steps = _checked_steps(steps)
    exports = _checked_exports(exports) if "export" in steps else []
    runner_kind(runner)
    sources = sources or []
    names = [source_corpus(s) for s in sources]          # a bad source fails here, before any work
    steps_of = _step_names(names)
    if not sources and not lake.exists("clips"):
        raise PipelineConfigError(f"nothing to do: no [[sources]] in the project config and nothing ingested at "
                                  f"{lake.uri}; add a source (corpus, path) to speechcraft.toml")
    export_root = (export_dir or f"{lake.uri.rstrip('/')}/exports").rstrip("/")
    run = start_run(lake, "pipeline", ",".join(names) or None,
                    {"sources": sources, "steps": steps, "exports": exports, "export_dir": export_root,
                     "runner": runner or {"kind": "thread"}})
    record = StepRecorder(lake, run["run_id"])
    results: dict = {}
    quality = None
    try:
        # The step flows run in this flow's process, whose own heartbeat already tells Prefect's server if
        # it dies; their own heartbeat threads would add about a second to every step (joined on exit).
        # Every step's batches run on the [runner]: on Ray, one cluster for the whole run.
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), shared_cluster(runner):
            if "ingest" in steps:
                for source, step in zip(sources, steps_of):
                    results[f"ingest:{step}"] = record.flow(f"ingest:{step}", lambda s=source: on_runner(
                        ingest_flow, runner)(s["corpus"], s["path"], subsets=s.get("subsets"), lake_uri=lake.uri,
                                             options=reader_options(s), runner=runner, show_progress=show_progress))
            if "annotate" in steps and record.changed:    # their start-up beside emphasize, not in the stage
                start_acoustic_workers(lake.uri, runner=runner, **(annotate or {}))
            if "emphasize" in steps:
                for source, name, step in zip(sources, names, steps_of):
                    if source.get("stress") is not None:
                        _emphasize(record, lake, source["stress"], name, f"emphasize:{step}", runner, show_progress,
                                   results)
            if "annotate" in steps:
                results["annotate"] = record.annotate(lambda: on_runner(annotate_flow, runner)(
                    lake.uri, runner=runner, show_progress=show_progress, **(annotate or {})))
            if "describe" in steps:
                # the search index (dashboard search) is built last, after the exports: it changes no export
                # and is the slowest part of describing (a sentence embedding per text)
                results["describe"] = record.flow("describe", lambda: on_runner(describe_flow, runner)(
                    lake.uri, options=describe or None, runner=runner, show_progress=show_progress,
                    search_index=False))
                # the search index changes no export: it is built beside the check and the exports, not after
                if record.changed:      # new texts to embed: the libraries imported here, in the main thread
                    preload_embedder()  # (`run` did it already, while it waited for Prefect's server)
                index_built = _in_background(lambda: _search_index(record, lake, results))
            if "check" in steps:
                if record.changed or not _checked_before(lake):
                    from .check import check_flow    # great-expectations takes seconds to import: only when due

                    quality = record.flow("check", lambda: check_flow(lake.uri))
                    results["check"] = quality
                else:
                    record.skip("check", "nothing changed since the last check")
            if "export" in steps:
                _export(record, lake, exports, export_root, export_audio, quality, runner, show_progress, results,
                        export_filters)
            if "describe" in steps:
                index_built()
    except BaseException as exc:
        finish_run(lake, run, "failed", record.counts(), error=f"{type(exc).__name__}: {exc}")
        if fingerprint is not None:
            forget_complete_run(lake.uri)
        raise
    problems = record.problems()
    finished = finish_run(lake, run, "partial" if problems else "completed", record.counts(),
                          error="; ".join(problems) or None)
    if fingerprint is not None:     # last: the record holds the state every table of the run was left in
        if finished["status"] == "completed":
            record_complete_run(lake.uri, run["run_id"], finished["finished_at"], fingerprint, lake.count("clips"),
                                export_root)
        else:
            forget_complete_run(lake.uri)
    logger.info("pipeline: %s in %.1f s", finished["status"], finished["wall_s"])
    _summary_artifact(record.rows)
    return {"run": finished, "steps": record.rows, "results": results, "check": quality}


def _step_names(names: list[str]) -> list[str]:
    """One step name per source: its corpus, numbered when several sources fill one corpus (zhvoice parts)."""
    seen: Counter = Counter()
    steps = []
    for name in names:
        seen[name] += 1
        steps.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return steps


def _checked_steps(steps: list[str] | None) -> list[str]:
    unknown = sorted(set(steps or []) - set(STEPS))
    if unknown:
        hint = " (annotation stages are set in [annotate] stages)" if unknown[0] in annotation_stages() else ""
        raise PipelineConfigError(f"unknown step {unknown[0]!r}; steps: {', '.join(STEPS)}{hint}")
    return [s for s in STEPS if s in (steps or STEPS)]


def _emphasize(record: "StepRecorder", lake: Lakehouse, stress: int | str, corpus: str, step: str,
               runner: dict | None, show_progress: bool, results: dict) -> None:
    if lake.remote:
        record.skip(step, "not regenerated: the lakehouse is on object storage and regenerated audio needs a "
                          "local disk")
        return
    limit = None if stress == "all" else int(stress)
    results[step] = record.flow(step, lambda: on_runner(emphasize_flow, runner)(
        lake.uri, corpora=[corpus], limit=limit, runner=runner, show_progress=show_progress))


def _checked_exports(exports: list[str] | None) -> list[str]:
    unknown = sorted(set(exports or []) - set(EXPORT_FORMATS))
    if unknown:
        raise PipelineConfigError(f"unknown export format {unknown[0]!r}; formats: {', '.join(EXPORT_FORMATS)}")
    return list(EXPORT_FORMATS if exports is None else exports)


def _checked_before(lake: Lakehouse) -> bool:
    return lake.count("quality_runs") > 0


def _export(record: "StepRecorder", lake: Lakehouse, exports: list[str], export_root: str, audio: str,
            quality: dict | None, runner: dict | None, show_progress: bool, results: dict,
            filters: dict | None) -> None:
    if quality is not None and quality["critical_failures"]:
        for fmt in exports:
            record.skip(f"export:{fmt}", "blocked: the quality check failed", status="blocked")
        return
    for fmt in exports:
        out = f"{export_root}/{fmt}"
        if not record.changed and export_is_current(out, lake.uri, fmt, audio, filters):
            record.skip(f"export:{fmt}", "up to date")
            continue
        results[f"export:{fmt}"] = record.flow(f"export:{fmt}", lambda f=fmt, o=out: on_runner(export_flow, runner)(
            f, o, lake_uri=lake.uri, audio=audio, runner=runner, show_progress=show_progress, filters=filters))


def _in_background(step: Callable[[], None]) -> Callable[[], None]:
    """Run a step in a thread, inside this flow's context (so its flow is this run's subflow); the returned
    function waits for it and raises what it raised."""
    context = contextvars.copy_context()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            context.run(step)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="pipeline-step", daemon=True)
    thread.start()

    def wait() -> None:
        thread.join()
        if failure:
            raise failure[0]
    return wait


def _search_index(record: "StepRecorder", lake: Lakehouse, results: dict) -> None:
    """The dashboard's search index over the published texts, last; skipped where its optional embedder (the
    dashboard extra) is not installed: the pipeline's outputs do not depend on it."""
    if importlib.util.find_spec("sentence_transformers") is None:
        record.skip("search-index", f"descriptions not indexed for search: {INSTALL_HINT}")
        return
    results["search-index"] = record.flow("search-index", lambda: search_index_flow(lake.uri),
                                          clips=lambda r: r.get("embedded", 0))


class StepRecorder:
    """Runs the steps, catching a failed one so the others go on, and writes one `run_stages` row each."""

    def __init__(self, lake: Lakehouse, run_id: str):
        self.lake, self.run_id = lake, run_id
        self.rows: list[dict] = []
        self.changed = False          # did any step write something new (so the check and exports are due)

    def flow(self, step: str, call, clips=None) -> dict | None:
        """Run one stage flow; `clips(result)`: how many clips it worked on (default: its run's new + updated)."""
        started = time.perf_counter()
        try:
            result = call()
        except Exception as exc:   # one failed step must not sink the others
            get_run_logger().error("%s failed: %s: %s", step, type(exc).__name__, exc)
            self._row(step, "failed", time.perf_counter() - started, error=f"{type(exc).__name__}: {exc}")
            return None
        run = result.get("run", result)
        work = clips(result) if clips else (run.get("n_new") or 0) + (run.get("n_updated") or 0)
        if not step.startswith(("check", "export")):
            self.changed |= work > 0
        self._row(step, run["status"], run["wall_s"], clips=work, up_to_date=run.get("n_unchanged"),
                  audio_hours=run.get("audio_hours"), error=run.get("error"))
        return result

    def annotate(self, call) -> dict | None:
        """The annotate flow as one step (the clips of its widest stage), then one row per stage it ran."""
        result = self.flow("annotate", call, clips=lambda r: max(
            (r[s]["computed"] + r[s]["cached"] for s in annotation_stages() if s in r), default=0))
        if result is None:
            return None
        for stage in annotation_stages():
            stats = result.get(stage)
            if stats is None:
                continue
            clips = stats["computed"] + stats["cached"]
            self.changed |= clips > 0
            self._row(stage, "partial" if stats["failed_batches"] else "completed", stats["wall_s"], clips=clips,
                      up_to_date=stats["up_to_date"], failed_batches=stats["failed_batches"],
                      audio_hours=stats["audio_s"] / 3600)
        self.changed |= (result.get("labels") or {}).get("changed", 0) > 0
        return result

    def skip(self, step: str, why: str, status: str = "skipped") -> None:
        get_run_logger().info("%s: %s", step, why)
        self._row(step, status, 0.0, error=why if status != "skipped" else None)

    def _row(self, step: str, status: str, wall_s: float, clips: int = 0, up_to_date: int | None = 0,
             failed_batches: int = 0, audio_hours: float | None = None, error: str | None = None) -> None:
        row = {"stage_run_id": f"{self.run_id}/{step}", "run_id": self.run_id, "step": step, "status": status,
               "clips": clips, "up_to_date": up_to_date or 0, "failed_batches": failed_batches,
               "audio_hours": audio_hours, "wall_s": wall_s,
               "audio_hours_per_hour": audio_hours / (wall_s / 3600) if audio_hours and wall_s > 0 else None,
               "finished_at": datetime.now(timezone.utc)}
        self.lake.upsert("run_stages", [row])
        self.rows.append({**row, "error": error})

    def problems(self) -> list[str]:
        return [f"{r['step']}: {r['error'] or r['status']}" for r in self.rows
                if r["status"] not in ("completed", "skipped")]

    def counts(self) -> dict:
        """The pipeline's runs row: clips new to the lakehouse, and the audio the widest step processed."""
        ingest = [r for r in self.rows if r["step"].startswith("ingest:")]
        return {"n_scanned": sum(r["clips"] + r["up_to_date"] for r in ingest),
                "n_new": sum(r["clips"] for r in ingest), "n_updated": 0,
                "n_unchanged": sum(r["up_to_date"] for r in ingest),
                "n_rejected": 0, "audio_hours": max((r["audio_hours"] or 0 for r in self.rows), default=0.0)}


def _summary_artifact(rows: list[dict]) -> None:
    """The steps with their throughput, as a table in Prefect's UI."""
    from prefect.artifacts import create_table_artifact

    create_table_artifact(key="pipeline-steps", description="speechcraft run: steps and throughput", table=[
        {"step": r["step"], "status": r["status"], "clips": r["clips"], "up to date": r["up_to_date"],
         "audio h": round(r["audio_hours"] or 0, 3), "wall s": round(r["wall_s"], 1),
         "audio h/h": round(r["audio_hours_per_hour"], 1) if r["audio_hours_per_hour"] else None}
        for r in rows])
