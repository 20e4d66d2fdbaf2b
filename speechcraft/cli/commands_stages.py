"""The commands around the annotation stages: annotate, emphasize, describe, validate, the label bin edges
(bins), the backend each stage uses (models) and the describe stage's text checker (check-text)."""
from __future__ import annotations

import argparse
import json
import sys

from .preflight import quiet_services
from .render import print_annotation, print_descriptions, print_outcome, print_validations, write_result


def cmd_annotate(args: argparse.Namespace) -> int:
    quiet_services()
    from ..flows.annotate import annotate_flow, annotation_stages

    def run() -> dict:
        settings = _annotate_settings(args)
        known = annotation_stages()
        unknown = [s for s in settings.get("stages") or [] if s not in known]
        if unknown:      # said before any flow starts
            raise ValueError(f"unknown stage {unknown[0]!r}; stages: {', '.join(known)}")
        return annotate_flow(args.lake, corpus=args.corpus, **settings)

    return _run_stage_command(run, lambda result: print_annotation(result, args.lake))


def _run_stage_command(run, report) -> int:
    """A stage command's end: its one-line error (exit 2), or its report and an exit status that says
    whether every batch landed (0) or some failed (1, re-run to retry them)."""
    from ..flows.annotate import NothingIngestedError
    from ..models.hf_audio import ModelLoadError
    from ..settings import ConfigError

    try:
        result = run()
    except (NothingIngestedError, ConfigError, ModelLoadError, ImportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report(result)
    return 0 if result["run"]["status"] == "completed" else 1


def _annotate_settings(args: argparse.Namespace) -> dict:
    """annotate_flow's arguments: the project config's [annotate] and [stages.*], then the flags on top.
    --backend/--model/--device/--batch-size apply to the stages named with --stage."""
    from ..models.registry import MODEL_STAGES
    from ..settings import ConfigError, annotate_defaults, load_project_config

    defaults = annotate_defaults(load_project_config(args.config))
    backends = defaults["backends"]
    flags = {k: v for k, v in {"backend": args.backend, "model": args.model, "device": args.device,
                               "batch_size": args.batch_size,
                               "allow_download": args.allow_download or None}.items() if v is not None}
    if flags:
        targets = [s for s in (args.stage or []) if s in MODEL_STAGES]
        if not targets:
            raise ConfigError(f"--{next(iter(flags)).replace('_', '-')} needs the stage it is for: "
                              f"--stage {' / '.join(MODEL_STAGES)}")
        if "model" in flags and len(targets) > 1:
            raise ConfigError("--model names one model: give one --stage with it (or set each stage's model "
                              "in the project config)")
        for stage in targets:
            backends.setdefault(stage, {}).update(flags)
            if "model" in flags and "backend" not in flags:
                backends[stage]["backend"] = "model"
    return {"stages": args.stage or defaults["stages"], "backends": backends,
            "clips_per_task": args.clips_per_task or defaults["clips_per_task"],
            "workers": args.workers or defaults["workers"],
            "acoustic_options": {"vad": args.vad or defaults["acoustic_options"]["vad"],
                                 "pitch": args.pitch or defaults["acoustic_options"]["pitch"]},
            "reference": str(args.reference) if args.reference else defaults["reference"],
            "min_population": args.min_population}


def cmd_emphasize(args: argparse.Namespace) -> int:
    quiet_services()
    from ..flows.annotate import NothingIngestedError
    from ..flows.emphasize import emphasize_flow
    from ..models.hf_audio import ModelLoadError

    options = {k: v for k, v in {"backend": args.backend, "model": args.model, "device": args.device,
                                 "pitch_scale": args.pitch_scale, "energy_db": args.energy_db,
                                 "duration_scale": args.duration_scale, "ramp_s": args.ramp_s}.items() if v is not None}
    try:
        result = emphasize_flow(args.lake, corpora=args.corpus, limit=args.limit, options=options,
                                clips_per_task=args.clips_per_task)
    except (NothingIngestedError, ModelLoadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_outcome(result["run"], "emphasize",
                   f"{result['run']['n_new']} stressed clips made, {result['cached']} from cache, "
                   f"{result['up_to_date']} up to date, [bold]{result['rejected']} rejected[/bold]",
                   "stage = 'emphasize'")
    if result.get("skipped"):      # parents not regenerated, now or by an earlier run for the same inputs
        print("  parents not regenerated: " + ", ".join(f"{n} {reason}" for reason, n in sorted(result["skipped"].items())))
    print("next: `speechcraft annotate --stage emphasis` trains the detector on them and runs it on every clip")
    return 0 if result["run"]["status"] == "completed" else 1


def cmd_describe(args: argparse.Namespace) -> int:
    quiet_services()
    from ..flows.describe import describe_flow
    from ..settings import load_project_config

    def run() -> dict:
        options = dict(load_project_config(args.config).get("stages", {}).get("describe", {}))
        options.update({k: v for k, v in {"backend": args.backend, "model": args.model, "device": args.device,
                                          "batch_size": args.batch_size, "tensor_parallel": args.tensor_parallel,
                                          "retries": args.retries, "conditions": args.conditions,
                                          "allow_download": args.allow_download or None}.items() if v is not None})
        if args.model and not args.backend and options.get("backend", "embedded") == "embedded":
            options["backend"] = "transformers"
        return describe_flow(args.lake, corpus=args.corpus, options=options)

    return _run_stage_command(run, lambda result: print_descriptions(result, args.lake))


def cmd_validate(args: argparse.Namespace) -> int:
    quiet_services()
    from ..flows.validate import NothingToValidateError, validate_flow

    try:
        result = validate_flow(args.lake, stage=args.stage, reference=str(args.reference) if args.reference else None)
    except (NothingToValidateError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not result["rows"]:
        print("nothing to validate: no held-out stressed clip has an answer yet (more `emphasize --limit`?)"
              if args.stage == "emphasis" else
              "nothing to validate against: no clip with corpus metadata (or in --reference) has a prediction")
        return 0
    print_validations(result["run"]["run_id"], args.lake)
    return 0


def cmd_bins(args: argparse.Namespace) -> int:
    from ..tasks import labels
    from ..warehouse import Lakehouse
    from ..warehouse.bins import BinVersionError

    try:
        if args.action == "show":
            report = labels.edges_report(Lakehouse(args.lake), args.min_population)
            if report.is_empty():
                print("no clip is measured and no edges are frozen yet: run `speechcraft annotate`")
                return 0
            write_result(report.to_arrow(), args.format, sys.stdout)
            return 0
        quiet_services()
        from ..flows.bins import bins_flow

        result = bins_flow(args.action, args.name, lake_uri=args.lake,
                           config=str(args.config) if getattr(args, "config", None) else None,
                           min_population=args.min_population)
    except (BinVersionError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stats = result["stats"]
    verb = "froze {groups} groups as {name!r} and pinned them" if args.action == "freeze" else "pinned {groups} groups of {name!r}"
    print(f"{verb.format(groups=result['groups'], name=args.name)}; {stats.changed} of {stats.clips} clips relabelled")
    for language, attribute, gender, population in result["skipped"]:
        print(f"  skipped {language} {attribute}{' ' + gender if gender else ''}: {population} usable "
              f"clips, under --min-population {args.min_population}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from ..models.hf_audio import ModelLoadError
    from ..models.registry import BACKENDS, backend_class, default_backend
    from ..settings import ConfigError, load_project_config

    try:
        stages = load_project_config(args.config).get("stages", {})
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = []
    for stage in BACKENDS:
        options = {"backend": default_backend(stage), **stages.get(stage, {})}
        name = options.pop("backend")
        try:
            info = backend_class(stage, name)(**options).describe()    # weights are resolved, not loaded
            rows.append({"stage": stage, "backend": info.backend, "model": info.model, "weights": info.weights,
                         "version": info.version})
        except (ModelLoadError, ImportError, ValueError) as exc:
            rows.append({"stage": stage, "backend": name, "model": options.get("model", ""),
                         "weights": f"unavailable: {exc}", "version": ""})
    import pyarrow as pa

    from ..models.packaged import report

    if args.packaged:
        write_result(pa.Table.from_pylist(report()), args.format, sys.stdout)
        return 0
    write_result(pa.Table.from_pylist(rows), args.format, sys.stdout)
    if args.format == "table":      # csv and json print one document: the packaged list is --packaged's
        print("\nreal models shipped inside packages (docs/models.md; `--packaged` alone):")
        write_result(pa.Table.from_pylist(report()), args.format, sys.stdout)
    return 0


def cmd_check_text(args: argparse.Namespace) -> int:
    from ..models.text_checker import LabelError, check

    try:
        labels = dict(item.split("=", 1) for item in args.labels.split(",") if item.strip())
    except ValueError:
        print(f"error: --labels takes key=value pairs separated by commas, not {args.labels!r}", file=sys.stderr)
        return 2
    labels = {k.strip(): v.strip().replace(" ", "_") if k.strip() not in ("topic", "emphasis") else
              v.strip().replace("_", " ") for k, v in labels.items()}
    language = args.language or ("zh" if any("\u3400" <= ch <= "\u9fff" for ch in args.text) else "en")
    try:
        verdict = check(args.text, labels, language, args.transcript)
    except LabelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("passes" if verdict.passed else "fails: " + "; ".join(verdict.reasons()))
    print(f"  read: {json.dumps(verdict.found, ensure_ascii=False)}")
    return 0 if verdict.passed else 1
