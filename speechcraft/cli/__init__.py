"""The `speechcraft` command. Heavy libraries (prefect, lancedb) are imported inside the commands that
use them, so `--help` and `sql` start fast."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

CORPORA = ["aishell3", "libritts-r", "gigaspeech", "zhvoice", "folder"]


def _quiet_services(foreground: bool = True) -> None:
    # No network here and on many users' clusters: never phone home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if foreground:      # a served deployment keeps Prefect's tracebacks: its logs are all there is
        import logging

        for name in ("prefect.flow_runs", "prefect.task_runs"):
            logging.getLogger(name).addFilter(_one_line_user_errors)


def _one_line_user_errors(record) -> bool:
    """Prefect logs a flow's exception with its traceback before the command sees it. For the errors a
    command answers with one `error:` line (the project's own, and bad values or missing packages), that
    traceback reads as a crash: keep the log line, drop the traceback. Anything else keeps it."""
    error = record.exc_info[1] if record.exc_info else None
    if error is not None and (isinstance(error, (ValueError, ImportError))
                              or type(error).__module__.startswith("speechcraft.")):
        record.exc_info = record.exc_text = None
    return True


def _print_outcome(run: dict, title: str, counts: str, rejects_where: str) -> None:
    """One line for a finished run: status, time and counts; its error; where to read its rejects."""
    from rich.console import Console

    console = Console(soft_wrap=True)
    colour = {"completed": "green", "partial": "yellow"}.get(run["status"], "red")
    console.print(f"[bold]{title}[/bold]: [{colour}]{run['status']}[/{colour}] in {run['wall_s']:.1f} s — "
                  f"{counts}")
    if run.get("error"):
        console.print(f"  [yellow]{run['error']}[/yellow]")
    if run["n_rejected"]:
        console.print(f"  see why: speechcraft sql \"SELECT reason, source, detail FROM rejects "
                      f"WHERE {rejects_where}\"")


def _print_run(run: dict) -> None:
    _print_outcome(run, run["corpus"],
                   f"{run['n_scanned']} clips scanned, {run['n_new']} new, {run['n_updated']} updated, "
                   f"{run['n_unchanged']} unchanged, [bold]{run['n_rejected']} rejected[/bold] "
                   f"({run['audio_hours']:.3f} h of audio processed)", f"corpus = '{run['corpus']}'")
    for line in run.get("layout") or []:        # which on-disk layout each subset was read in
        print(f"  layout {line}")
    if run.get("n_warnings"):
        print(f"  {run['n_warnings']} warning(s), clips kept: speechcraft sql \"SELECT reason, source, detail "
              f"FROM rejects WHERE corpus = '{run['corpus']}' AND reason = 'recovered_encoding'\"")


def cmd_ingest(args: argparse.Namespace) -> int:
    _quiet_services()
    from ..tasks.corpora.base import CorpusLayoutError
    from ..flows.ingest import ingest_flow

    options = {}
    if args.corpus == "folder":
        options = {k: v for k, v in {"name": args.name, "language": args.language}.items() if v}
    elif args.name or args.language:
        print("error: --name and --language apply to the 'folder' reader only", file=sys.stderr)
        return 2
    try:
        run = ingest_flow(args.corpus, str(args.root), subsets=args.subset or None, lake_uri=args.lake,
                          batch_size=args.batch_size, options=options)
    except (CorpusLayoutError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_run(run)
    return 0 if run["status"] == "completed" else 1


def cmd_sql(args: argparse.Namespace) -> int:
    from ..warehouse.sql import ReadOnlyError, query
    from ..warehouse.storage import LakeStorageError

    import duckdb
    import pyarrow as pa

    try:
        result = query(args.query, args.lake)
    except (ReadOnlyError, LakeStorageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"error: {exc}\n(tables and views: SELECT table_name FROM duckdb_tables() UNION ALL "
              f"SELECT view_name FROM duckdb_views() WHERE NOT internal)", file=sys.stderr)
        return 2
    try:
        write_result(result, args.format, sys.stdout)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        print(f"error: the answer cannot be printed as {args.format}: {exc} (choose other columns or "
              f"another --format)", file=sys.stderr)
        return 2
    return 0


def write_result(result, fmt: str, out) -> None:
    """A query's answer as a rich table, CSV or JSON. Every column type the tables and views have prints:
    nested ones (lists, structs, vectors) as JSON text in CSV and the table, as JSON values in JSON."""
    if fmt == "csv":
        import pyarrow.csv as pacsv

        sink = __import__("io").BytesIO()
        pacsv.write_csv(_flat_columns(result), sink)
        out.write(sink.getvalue().decode())
    elif fmt == "json":
        rows = [{k: _json_value(v) for k, v in row.items()} for row in result.to_pylist()]
        out.write(json.dumps(rows, ensure_ascii=False, default=_json_default, indent=1, allow_nan=False) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False)
        for name in result.column_names:
            table.add_column(name, overflow="fold")
        for row in result.to_pylist():
            table.add_row(*(_cell(v) for v in row.values()))
        Console(file=out, width=max(120, Console().width)).print(table)
        out.write(f"({result.num_rows} row{'s' if result.num_rows != 1 else ''})\n")


def _flat_columns(result):
    """The table with each nested or binary column replaced by its values as JSON text: CSV has one
    string per cell, and pyarrow's CSV writer refuses these types outright."""
    import pyarrow as pa

    def nested(kind) -> bool:
        return (pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind)
                or pa.types.is_fixed_size_binary(kind) or pa.types.is_dictionary(kind))

    for i, column in enumerate(result.schema):
        if nested(column.type):
            text = [None if v is None else _json_text(v) for v in result.column(i).to_pylist()]
            result = result.set_column(i, column.name, pa.array(text, pa.string()))
    return result


def _json_text(value) -> str:
    if isinstance(value, (str, bytes)):
        return _json_default(value) if isinstance(value, bytes) else value   # plain text, not a JSON string
    return json.dumps(_json_value(value), ensure_ascii=False, default=_json_default, allow_nan=False)


def _json_default(value) -> str:
    # bytes (hashes, embedded audio) as hex; dates, times and decimals as their ISO / decimal text
    return value.hex() if isinstance(value, bytes) else str(value)


def _cell(value) -> str:
    # six significant digits are plenty on a terminal; csv and json keep full precision
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return _json_text(value)
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _json_value(value):
    # JSON has no -Infinity (a silent clip's peak_dbfs) or NaN: they print as null, inside lists too.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def cmd_demo(args: argparse.Namespace) -> int:
    _quiet_services()
    from ..flows.demo import demo_flow

    result = demo_flow(str(args.workdir), lake_uri=args.lake)
    lake = f" --lake {args.lake}" if args.lake else ""
    print(f"the demo is `speechcraft run --config {result['config']}{lake}`:")
    return print_pipeline(result, args.lake, examples=3)


def cmd_run(args: argparse.Namespace) -> int:
    _quiet_services()
    from ..flows.annotate import NothingIngestedError
    from ..flows.pipeline import pipeline_arguments, pipeline_flow
    from ..settings import ConfigError, load_project_config
    from ..tasks.corpora import CorpusLayoutError

    try:
        config = load_project_config(args.config)
        arguments = pipeline_arguments(config)
        if args.step:
            arguments["steps"] = args.step
        if args.export_dir:
            arguments["export_dir"] = args.export_dir
        if args.runner or args.ray_address:
            arguments["runner"] = {**(arguments["runner"] or {}), "kind": args.runner or "ray",
                                   **({"address": args.ray_address} if args.ray_address else {})}
        lake = args.lake or os.environ.get("SPEECHCRAFT_LAKE") or config.get("pipeline", {}).get("lake")
        if lake and not lake_reachable(lake):
            return 2
        result = pipeline_flow(lake, **arguments)
    except (NothingIngestedError, ConfigError, CorpusLayoutError, ImportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return print_pipeline(result, lake)


def print_pipeline(result: dict, lake: str | None, examples: int = 0) -> int:
    """Each step with its throughput, the check's verdict and where the exports went; the exit code."""
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True)
    table = Table("step", "status", "clips", "up to date", "audio h", "wall s", "audio h/h", box=None)
    colours = {"completed": "green", "skipped": "dim", "partial": "yellow"}
    for row in result["steps"]:
        colour = colours.get(row["status"], "red")
        table.add_row(row["step"], f"[{colour}]{row['status']}[/{colour}]", str(row["clips"]), str(row["up_to_date"]),
                      f"{row['audio_hours']:.3f}" if row["audio_hours"] else "",
                      f"{row['wall_s']:.1f}", f"{row['audio_hours_per_hour']:.0f}" if row["audio_hours_per_hour"] else "")
    console.print(table)
    for row in result["steps"]:
        if row["error"] and row["status"] != "skipped":
            console.print(f"  [yellow]{row['step']}: {row['error']}[/yellow]")
    if examples and result["results"].get("annotate"):
        print()
        print_annotation(result["results"]["annotate"], lake)
    if examples and result["results"].get("describe"):
        print()
        print_descriptions(result["results"]["describe"], lake, examples=examples)
    if result["check"]:
        print()
        print_check(result["check"])
    for step, export in result["results"].items():
        if step.startswith("export:") and export:
            console.print(f"[bold]{step}[/bold]: {export['clips']} clips in {export['out']}")
    run = result["run"]
    colour = colours.get(run["status"], "red")
    console.print(f"[bold]run[/bold]: [{colour}]{run['status']}[/{colour}] in {run['wall_s']:.1f} s "
                  f"({run['audio_hours']:.3f} h of audio, {run['n_new']} new clips)")
    console.print('  per step: speechcraft sql "SELECT * FROM run_stages WHERE run_id = \'' + run["run_id"] + "\'\"")
    lake_flag = f" --lake {lake}" if lake else ""
    console.print(f"  explore it in the dashboard (http://127.0.0.1:8501): speechcraft dashboard{lake_flag}")
    return 0 if run["status"] == "completed" else 1


def cmd_serve(args: argparse.Namespace) -> int:
    _quiet_services(foreground=False)
    from ..settings import ConfigError, load_project_config

    try:
        config = load_project_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..warehouse.lake import resolve_lake_uri

    lake = resolve_lake_uri(args.lake or os.environ.get("SPEECHCRAFT_LAKE") or config.get("pipeline", {}).get("lake"))
    server = None
    if not os.environ.get("PREFECT_API_URL") and not args.api_url:
        from ..flows.schedules import ScheduleError, start_local_server

        try:
            server = start_local_server("127.0.0.1", args.server_port, str(Path(lake).parent / "prefect-server.log")
                                        if "://" not in lake else "prefect-server.log")
        except ScheduleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        os.environ["PREFECT_API_URL"] = server.url
        print(f"started a local Prefect server (SQLite in {os.environ.get('PREFECT_HOME', '~/.prefect')}); "
              f"its UI: {server.url.removesuffix('/api')}")
    elif args.api_url:
        os.environ["PREFECT_API_URL"] = args.api_url
    from ..flows.schedules import ScheduleError, register_with_pool, scheduled_deployments, serve

    try:
        deployments = scheduled_deployments(config, lake)
        verb = f"registered with work pool {args.work_pool!r}" if args.work_pool else "serving"
        for deployment in deployments:
            when = ", ".join(str(s.schedule) for s in deployment.schedules)
            print(f"{verb} {deployment.name}: {when}")
        if args.work_pool:
            register_with_pool(deployments, args.work_pool)
            print(f"start workers where the runs should go: PREFECT_API_URL={os.environ['PREFECT_API_URL']} "
                  f"prefect worker start --pool {args.work_pool}")
            if server is None or server.process is None:
                return 0
            print("keeping the local server up for them; Ctrl-C stops it")
            server.process.wait()
            return 0
        print(f"lakehouse: {lake}; Ctrl-C stops")
        serve(deployments)
    except (ScheduleError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if server:
            server.stop()
    return 0


def print_check(result: dict) -> None:
    """The failed expectations (critical first), the totals, and where the Data Docs are."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(soft_wrap=True)
    results = result["results"]
    failed = sorted((r for r in results if not r["success"]), key=lambda r: (r["severity"] != "critical", r["suite"]))
    for r in failed:
        colour = "red" if r["severity"] == "critical" else "yellow"
        unexpected = "" if r["unexpected_count"] is None else f" {r['unexpected_count']} of {r['element_count']} rows:"
        observed = r["observed"] or r["exception"] or ""
        observed = observed if len(observed) <= 200 else observed[:197] + "..."
        console.print(f"  [{colour}]{r['severity']:<8}[/{colour}] {r['suite']}.{escape(r['expectation'])}"
                      f"{unexpected} {escape(observed)}")
    suites = len({r["suite"] for r in results})
    blocking = result["critical_failures"]
    verdict = "[red]FAILED: exports are blocked[/red]" if blocking else "[green]passed[/green]"
    console.print(f"[bold]check[/bold]: {verdict} — {len(results)} expectations in {suites} suites, "
                  f"{len(failed)} failed ({len(blocking)} critical) in {result['run']['wall_s']:.1f} s")
    if result["docs"]:
        console.print(f"  Data Docs: {result['docs']}")
    console.print('  all results: speechcraft sql "SELECT * FROM latest_quality"')


def cmd_check(args: argparse.Namespace) -> int:
    _quiet_services()
    from ..flows.annotate import NothingIngestedError
    from ..flows.check import check_flow

    try:
        result = check_flow(args.lake, docs_dir=str(args.docs) if args.docs else None, suites=args.suite or None)
    except (NothingIngestedError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_check(result)
    return 1 if result["critical_failures"] else 0


def cmd_export(args: argparse.Namespace) -> int:
    _quiet_services()
    from ..flows.annotate import NothingIngestedError
    from ..flows.export import ExportBlockedError, export_flow

    try:
        result = export_flow(args.format, str(args.out), lake_uri=args.lake, corpus=args.corpus, audio=args.audio,
                             rows_per_shard=args.rows_per_shard)
    except ExportBlockedError as exc:          # the quality gate: fix the data / run `speechcraft check`
        print(f"error: export refused: {exc}", file=sys.stderr)
        return 1
    except (NothingIngestedError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_export(result)
    return 0 if result["run"]["status"] == "completed" else 1


def print_export(result: dict) -> None:
    """One line for the export (clips, hours, where, the check it was gated on), the clips left out per reason."""
    from rich.console import Console

    console = Console(soft_wrap=True)
    run = result["run"]
    colour = {"completed": "green", "partial": "yellow"}.get(run["status"], "red")
    audio = f", audio {result['audio']}" if result["audio"] else ""
    console.print(f"[bold]export {result['format']}[/bold]: [{colour}]{run['status']}[/{colour}] in "
                  f"{run['wall_s']:.1f} s — {result['clips']} clips ({run['audio_hours']:.3f} h{audio}) to "
                  f"{result['out']}, gated on check {result['check_run_id']}")
    if run.get("error"):
        console.print(f"  [yellow]{run['error']}[/yellow]")
    for reason, clips in result["excluded"].items():
        console.print(f"  left out: {clips} {reason}")
    console.print(f"  manifest: {result['manifest']}")


def cmd_dashboard(args: argparse.Namespace) -> int:
    from ..dashboards import launch

    return launch(args.lake, address=args.address, port=args.port, open_browser=not args.no_browser)


def cmd_annotate(args: argparse.Namespace) -> int:
    _quiet_services()
    from ..flows.annotate import NothingIngestedError, annotate_flow
    from ..models.hf_audio import ModelLoadError
    from ..settings import ConfigError

    try:
        settings = _annotate_settings(args)
        result = annotate_flow(args.lake, corpus=args.corpus, **settings)
    except (NothingIngestedError, ConfigError, ModelLoadError, ImportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_annotation(result, args.lake)
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
            "acoustic_options": {"vad": args.vad or defaults["acoustic_options"]["vad"]},
            "reference": str(args.reference) if args.reference else defaults["reference"],
            "min_population": args.min_population}


def print_annotation(result: dict, lake: str | None) -> None:
    from rich.console import Console

    from ..warehouse.sql import query

    run, labels = result["run"], result["labels"]
    stages = [s for s in ("transcript", "acoustics", "speaker", "emotion", "emphasis") if s in result]
    _print_outcome(run, "annotate", "; ".join(
        f"{stage}: {st['computed']} done, {st['cached']} from cache, {st['up_to_date']} up to date, "
        f"[bold]{st['rejected']} rejected[/bold]" for stage in stages for st in [result[stage]]),
        f"stage IN ({', '.join(repr(s) for s in stages)})")
    console = Console(soft_wrap=True)
    training = result.get("speaker_training") or {}
    for attribute, version in (training.get("classifiers") or {}).items():
        console.print(f"speaker: {attribute} classifier " + (f"[bold]{version}[/bold]" if version else
                      f"not trained ({training['skipped'][attribute]})"))
    detector = result.get("emphasis_detector") or {}
    for language, why in (detector.get("skipped") or {}).items():
        console.print(f"emphasis: no {language} detector ({why})")
    for language, version in (detector.get("detectors") or {}).items():
        console.print(f"emphasis: {language} detector [bold]{version}[/bold]")
    if detector.get("predicted"):
        console.print(f"emphasis: {detector['predicted']} clips answered, {detector['stressed_found']} with a stressed word")
    if labels["auto_version"]:
        console.print(f"labels: groups without edges got percentile edges, frozen as "
                      f"[bold]{labels['auto_version']}[/bold] (see `speechcraft bins show`)")
    if labels.get("default_groups"):
        console.print(f"labels: {labels['default_groups']} group(s) with too few clips for percentile edges use the "
                      f"default edges [bold]defaults-v1[/bold] (docs/bins.md; `speechcraft bins freeze` replaces them)")
    console.print(f"labels: {labels['changed']} of {labels['clips']} clips (re)labelled")
    write_result(query("SELECT * FROM label_distribution", lake), "table", sys.stdout)
    if result.get("validations"):
        print_validations(result["run"]["run_id"], lake)


def print_validations(run_id: str, lake: str | None) -> None:
    """The run's validation rows, one line each: accuracy, then precision/recall per class and the
    confusions (true→predicted counts) that were not right."""
    import pyarrow as pa

    from ..warehouse.sql import query

    rows = query(f"""SELECT attribute, reference, corpus, predictor, n_clips, n_speakers, accuracy, per_class,
                            confusion
                     FROM validations WHERE run_id = '{run_id}'
                     ORDER BY attribute DESC, reference, corpus = 'all' DESC, corpus""", lake).to_pylist()
    predictors = sorted({row.pop("predictor") for row in rows})
    print(f"\nvalidation ({'; '.join(predictors)}):")
    for row in rows:
        per_class = json.loads(row.pop("per_class"))
        confusion = json.loads(row.pop("confusion"))
        if row["attribute"] == "emphasis":      # sentence level: per_class holds accuracies, confusion counts
            row["precision / recall"] = "; ".join(f"{c} accuracy {_ratio(m['accuracy'])} of {m['support']}"
                                                  for c, m in per_class.items())
            row["mistakes (true→predicted)"] = "; ".join(f"{k} {n}" for k, n in confusion.items() if k != "right")
        else:
            row["precision / recall"] = "; ".join(
                f"{c} {_ratio(m['precision'])}/{_ratio(m['recall'])}" for c, m in per_class.items())
            row["mistakes (true→predicted)"] = "; ".join(
                f"{t}→{p} {n}" for t, predicted in confusion.items() for p, n in predicted.items() if p != t) or "none"
        row["accuracy"] = _ratio(row["accuracy"])
    write_result(pa.Table.from_pylist(rows), "table", sys.stdout)


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def cmd_emphasize(args: argparse.Namespace) -> int:
    _quiet_services()
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
    _print_outcome(result["run"], "emphasize",
                   f"{result['run']['n_new']} stressed clips made, {result['cached']} from cache, "
                   f"{result['up_to_date']} up to date, [bold]{result['rejected']} rejected[/bold]",
                   "stage = 'emphasize'")
    if result.get("skipped"):      # parents not regenerated, now or by an earlier run for the same inputs
        print("  parents not regenerated: " + ", ".join(f"{n} {reason}" for reason, n in sorted(result["skipped"].items())))
    print("next: `speechcraft annotate --stage emphasis` trains the detector on them and runs it on every clip")
    return 0 if result["run"]["status"] == "completed" else 1


def cmd_validate(args: argparse.Namespace) -> int:
    _quiet_services()
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


def cmd_models(args: argparse.Namespace) -> int:
    from ..models.hf_audio import ModelLoadError
    from ..models.registry import BACKENDS, DEFAULT_BACKEND, backend_class
    from ..settings import ConfigError, load_project_config

    try:
        stages = load_project_config(args.config).get("stages", {})
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = []
    for stage in BACKENDS:
        options = {"backend": DEFAULT_BACKEND, **stages.get(stage, {})}
        name = options.pop("backend")
        try:
            info = backend_class(stage, name)(**options).describe()    # weights are resolved, not loaded
            rows.append({"stage": stage, "backend": info.backend, "model": info.model, "weights": info.weights,
                         "version": info.version})
        except (ModelLoadError, ImportError, ValueError) as exc:
            rows.append({"stage": stage, "backend": name, "model": options.get("model", ""),
                         "weights": f"unavailable: {exc}", "version": ""})
    import pyarrow as pa

    write_result(pa.Table.from_pylist(rows), args.format, sys.stdout)
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    _quiet_services()
    from ..flows.annotate import NothingIngestedError
    from ..flows.describe import describe_flow
    from ..models.hf_audio import ModelLoadError
    from ..settings import ConfigError, load_project_config

    try:
        options = dict(load_project_config(args.config).get("stages", {}).get("describe", {}))
        options.update({k: v for k, v in {"backend": args.backend, "model": args.model, "device": args.device,
                                          "batch_size": args.batch_size, "tensor_parallel": args.tensor_parallel,
                                          "retries": args.retries,
                                          "allow_download": args.allow_download or None}.items() if v is not None})
        if args.model and not args.backend and options.get("backend", "embedded") == "embedded":
            options["backend"] = "transformers"
        result = describe_flow(args.lake, corpus=args.corpus, options=options)
    except (NothingIngestedError, ConfigError, ModelLoadError, ImportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_descriptions(result, args.lake)
    return 0 if result["run"]["status"] == "completed" else 1


def print_descriptions(result: dict, lake: str | None, examples: int = 0) -> None:
    from ..warehouse.sql import query

    _print_outcome(result["run"], "describe",
                   f"{result['clips']} clips written, {result['up_to_date']} up to date; {result['published']} texts "
                   f"published, {result['fallbacks']} by the embedded fallback", "stage = 'describe'")
    write_result(query("""SELECT generator, kind, count(*) AS texts, round(avg(passed::int), 4) AS passed,
                                 round(avg((omissions > 0)::int), 4) AS with_omissions,
                                 round(avg((distortions > 0)::int), 4) AS with_distortions,
                                 sum(published::int) AS published
                          FROM descriptions WHERE text IS NOT NULL
                          GROUP BY generator, kind ORDER BY generator, kind""", lake), "table", sys.stdout)
    if examples:
        for language in ("en", "zh"):
            rows = query(f"""SELECT description, instruction FROM clip_annotations
                             WHERE language = '{language}' AND description IS NOT NULL AND instruction IS NOT NULL
                             ORDER BY hash(clip_id) LIMIT {examples}""", lake).to_pylist()
            for row in rows:
                print(f"  {row['description']}\n    {row['instruction']}")


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
        _quiet_services()
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


def build_parser() -> argparse.ArgumentParser:
    lake = argparse.ArgumentParser(add_help=False)
    lake.add_argument("--lake", metavar="URI", default=None,
                      help="lakehouse location (default: $SPEECHCRAFT_LAKE, else ./lakehouse)")
    backends = argparse.ArgumentParser(add_help=False)      # annotate and describe: a stage's backend and model
    backends.add_argument("--backend", help="embedded (the default, offline), a model backend (annotate: model; "
                                            "describe: transformers, vllm), or a plug-in package.module:Class")
    backends.add_argument("--model", help="hub id (read from the local Hugging Face cache) or local folder")
    backends.add_argument("--device", help="auto (CUDA when there is one, else CPU; default), cpu, cuda, cuda:N")
    backends.add_argument("--batch-size", type=int, help="items per forward pass of a model (halved "
                                                         "automatically on out-of-memory)")
    backends.add_argument("--allow-download", action="store_true",
                          help="let a model backend download weights from the hub (off: only local weights)")
    backends.add_argument("--corpus", help="only clips of this corpus (default: all)")
    backends.add_argument("--config", type=Path, help="project config (default: $SPEECHCRAFT_CONFIG, else "
                                                      "./speechcraft.toml when present)")
    parser = argparse.ArgumentParser(
        prog="speechcraft",
        description="Speech corpora in, SpeechCraft-annotated clips out: a lakehouse on LanceDB + DuckDB, "
                    "orchestrated by Prefect.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", parents=[lake], help="read a corpus into the clips table",
                                 description="Read a corpus (metadata streamed, audio referenced and "
                                             "verified once) into the clips table; bad inputs go to rejects.")
    ingest.add_argument("corpus", choices=CORPORA)
    ingest.add_argument("root", type=Path, help="the corpus root folder")
    ingest.add_argument("--subset", action="append", metavar="NAME",
                        help="take only this subset (repeatable; default: every subset present)")
    ingest.add_argument("--name", help="folder reader: corpus name (default: the folder's name)")
    ingest.add_argument("--language", choices=["zh", "en"], help="folder reader: language (default: from text)")
    ingest.add_argument("--batch-size", type=int, default=256, help="clips per Prefect task (default 256)")
    ingest.set_defaults(func=cmd_ingest)

    sql = commands.add_parser("sql", parents=[lake], help="run a read-only SQL query",
                              description="Run a read-only DuckDB query over the lakehouse tables and views "
                                          "(clips, rejects, runs, corpus_summary, ...).")
    sql.add_argument("query")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.set_defaults(func=cmd_sql)

    annotate = commands.add_parser(
        "annotate", parents=[lake, backends], help="run every annotation stage that has work, then the labels",
        description="Measure the clips that lack a row for each stage's current version (acoustics: F0, energy, "
                    "speech activity, speaking rate), in batches of Prefect tasks cached on their inputs, then "
                    "label them against the pinned bin edges.")
    annotate.add_argument("--stage", action="append",
                          choices=["transcript", "acoustics", "speaker", "emotion", "emphasis"],
                          help="run only this stage (repeatable; default: all, or [annotate] stages in the config)")
    annotate.add_argument("--clips-per-task", type=int, help="clips per Prefect task (default 256)")
    annotate.add_argument("--workers", type=int, help="acoustics worker processes (default: the cores available)")
    annotate.add_argument("--vad", choices=["energy", "silero"],
                          help="voice activity detector (default energy; silero needs the `silero` extra)")
    annotate.add_argument("--reference", type=Path, help="TSV of known gender/age_group per clip_id or speaker_id "
                                                         "to validate the published labels against")
    annotate.add_argument("--min-population", type=int, default=20,
                          help="clips a group needs before percentile edges are frozen for it (default 20)")
    annotate.set_defaults(func=cmd_annotate)

    validate = commands.add_parser(
        "validate", parents=[lake], help="compare speaker predictions with corpus metadata and a reference",
        description="Gender and age-group accuracy, precision and recall per class and the confusion matrix: "
                    "the embedded classifier on held-out speakers, model backends on every labelled speaker, "
                    "and the published labels against a --reference TSV. Stored in the validations table.")
    validate.add_argument("--reference", type=Path, help="TSV with a header: clip_id or speaker_id (and corpus), "
                                                         "gender and/or age_group; with --stage emphasis: "
                                                         "clip_id<TAB>stressed word (or none)")
    validate.add_argument("--stage", choices=["speaker", "emphasis"], default="speaker",
                          help="speaker (default): gender and age; emphasis: the detector's sentence-level "
                               "accuracy on held-out regenerated clips (and on --reference)")
    validate.set_defaults(func=cmd_validate)

    emphasize = commands.add_parser(
        "emphasize", parents=[lake], help="regenerate clips with their keyword stressed, as new clips",
        description="Per clip: pick its most informative content word, find it in the audio, and regenerate "
                    "the clip with that word stressed (raised F0, more energy, longer), keeping the speaker's "
                    "voice (WORLD vocoder). The new clips form the corpus <name>-stressed, with the keyword as a "
                    "known emphasis label; they train and test the emphasis detector.")
    emphasize.add_argument("--corpus", action="append", metavar="NAME",
                           help="corpus to draw parents from (repeatable; default: every ingested corpus)")
    emphasize.add_argument("--limit", type=int, help="at most this many stressed clips per corpus (default: all)")
    emphasize.add_argument("--backend", choices=["world", "tts"], default="world",
                           help="world (default): edit the recording itself; tts: re-synthesise with a local "
                                "FastSpeech2ConformerWithHifiGan model (--model), English only")
    emphasize.add_argument("--model", help="tts: local folder with the model and its vocab.json")
    emphasize.add_argument("--device", help="tts: auto (default), cpu, cuda, cuda:N")
    emphasize.add_argument("--pitch-scale", type=float, help="F0 multiplier on the keyword (default 1.3)")
    emphasize.add_argument("--energy-db", type=float, help="gain on the keyword in dB (default 6)")
    emphasize.add_argument("--duration-scale", type=float, help="how much longer the keyword lasts (default 1.3)")
    emphasize.add_argument("--ramp-s", type=float, help="fade between plain and stressed, seconds (default 0.04)")
    emphasize.add_argument("--clips-per-task", type=int, default=128, help="clips per Prefect task (default 128)")
    emphasize.set_defaults(func=cmd_emphasize)

    models = commands.add_parser("models", help="which backend each stage uses and where its weights come from",
                                 description="Per stage: backend, model, where its weights are read from, and "
                                             "its version, as the project config sets them.")
    models.add_argument("--format", choices=["table", "csv", "json"], default="table")
    models.add_argument("--config", type=Path, help="project config (default: ./speechcraft.toml when present)")
    models.set_defaults(func=cmd_models)

    describe = commands.add_parser(
        "describe", parents=[lake, backends], help="write a description and an instruction for every labelled clip",
        description="Descriptions and instructions in each clip's language, from its labels, checked for "
                    "omissions, distortions, the transcript and invented content; an LLM's failures are retried "
                    "and then replaced by the embedded generator. Only passing texts are published.")
    describe.add_argument("--tensor-parallel", type=int, help="vllm: GPUs per model")
    describe.add_argument("--retries", type=int, help="LLM attempts after the first before the embedded "
                                                      "generator takes over (default 2)")
    describe.set_defaults(func=cmd_describe)

    check_text = commands.add_parser(
        "check-text", help="judge a description or instruction against its labels (exit 0: passes, 1: fails)",
        description="The checker the describe stage uses: omitted and distorted attributes, the transcript "
                    "(instructions), invented content.")
    check_text.add_argument("text")
    check_text.add_argument("--labels", required=True,
                            help="key=value,...: gender, age, pitch, volume, speed, emotion, emphasis, topic "
                                 "(values as in docs/annotation-contract.md, spaces as underscores)")
    check_text.add_argument("--transcript", help="the transcript: the text is then an instruction")
    check_text.add_argument("--language", choices=["en", "zh"], help="default: from the text")
    check_text.set_defaults(func=cmd_check_text)

    bins = commands.add_parser("bins", help="show, freeze or pin the label bin edges",
                               description="Labels are computed against pinned bin-edge versions; ingesting "
                                           "more data never relabels a clip until you freeze or pin edges.")
    bins_actions = bins.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = bins_actions.add_parser("show", parents=[lake], help="the edges in force beside today's percentiles")
    show.add_argument("--format", choices=["table", "csv", "json"], default="table")
    freeze = bins_actions.add_parser("freeze", parents=[lake],
                                     help="freeze edges as a new version and pin it (relabels)")
    freeze.add_argument("--name", required=True, help="the new version's name")
    freeze.add_argument("--config", type=Path,
                        help="fixed edges from this TOML file (default: SpeechCraft percentiles of the "
                             "clips measured now); see docs/bins-fixed.toml")
    use = bins_actions.add_parser("use", parents=[lake], help="pin an existing version again (relabels)")
    use.add_argument("name")
    for action in (show, freeze, use):
        action.add_argument("--min-population", type=int, default=20, help=argparse.SUPPRESS)
    bins.set_defaults(func=cmd_bins)

    check = commands.add_parser(
        "check", parents=[lake], help="run the quality suites; exits 1 when a critical expectation fails",
        description="great-expectations suites over every table (tasks/quality_suites.py). Results go to the "
                    "quality_runs table and Data Docs HTML; a failed critical expectation blocks exports. "
                    "Nothing is changed or deleted.")
    check.add_argument("--suite", action="append", help="only this suite (repeatable; default: all)")
    check.add_argument("--docs", help="where Data Docs go (default: <lake>/quality-docs)")
    check.set_defaults(func=cmd_check)

    export = commands.add_parser(
        "export", parents=[lake], help="write the clips the quality gate passed, in a trainer's format",
        description="The clips the latest `speechcraft check` passed, measured, labelled and with a published "
                    "description and instruction (clips flagged no_speech or too_short are left out, counted per "
                    "reason): a Parler-TTS / Hugging Face parquet dataset (datasets.load_dataset(OUT)), lhotse "
                    "manifests (recordings and supervisions .jsonl.gz), or SpeechCraft JSON records (one .jsonl "
                    "per corpus). Refused (exit 1) when no check ran, the latest failed a critical expectation, or "
                    "the lakehouse changed after it. Re-running replaces the previous export in OUT.")
    export.add_argument("format", choices=["parler-tts", "lhotse", "speechcraft"])
    export.add_argument("out", help="a folder (created when missing) or s3://bucket/prefix")
    export.add_argument("--corpus", help="only this corpus's clips (default: all)")
    export.add_argument("--audio", choices=["embed", "reference"], default="embed",
                        help="parler-tts: embed each clip's audio as FLAC (default; GigaSpeech segments cut out) "
                             "or reference the files by path (spans as start_s/end_s columns)")
    export.add_argument("--rows-per-shard", type=int,
                        help="parler-tts: rows per parquet shard (default 2000 embedded, 200000 referenced)")
    export.set_defaults(func=cmd_export)

    dashboard = commands.add_parser(
        "dashboard", parents=[lake], help="the Streamlit dashboard, read-only over the lakehouse",
        description="Overview, distributions, validation, clip browser, search and SQL pages.")
    dashboard.add_argument("--address", default="127.0.0.1",
                           help="address to bind (default 127.0.0.1: this machine only)")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.add_argument("--no-browser", "--headless", dest="no_browser", action="store_true",
                           help="never open a browser (one opens only when there is a terminal and a display)")
    dashboard.set_defaults(func=cmd_dashboard)

    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, help="project config (default: $SPEECHCRAFT_CONFIG, else "
                                                    "./speechcraft.toml when present)")
    run = commands.add_parser(
        "run", parents=[lake, config], help="the whole pipeline: ingest what is new, every stage, check, export",
        description="Every [[sources]] entry of the project config is ingested (only new or changed files), then "
                    "every stage runs over what it has not done yet, then the quality check, then the exports "
                    "(only if the check passed). Steps that fail are recorded and retried by the next run.")
    run.add_argument("--step", action="append", choices=["ingest", "emphasize", "annotate", "describe", "check",
                                                         "export"], help="only this step (repeatable; default: all)")
    run.add_argument("--runner", choices=["thread", "ray"], help="where annotation batches run (default: [runner] "
                                                                 "kind in the config, else threads here)")
    run.add_argument("--ray-address", help="a running Ray cluster (auto, or ray://HOST:10001); implies --runner ray")
    run.add_argument("--export-dir", help="where exports go: <dir>/<format> (default: [pipeline] export_dir, "
                                          "else <lake>/exports); a folder or s3://bucket/prefix")
    run.set_defaults(func=cmd_run)

    serve = commands.add_parser(
        "serve", parents=[lake, config], help="serve the pipeline on the config's schedules (Prefect deployments)",
        description="One deployment per [[sources]] entry with a schedule (cron) or interval, served from this "
                    "process against the Prefect server at $PREFECT_API_URL; without one, a local server "
                    "(SQLite) is started and its UI address printed.")
    serve.add_argument("--api-url", help="the Prefect server (default: $PREFECT_API_URL, else a local one)")
    serve.add_argument("--server-port", type=int, default=4200, help="port of the local server (default 4200)")
    serve.add_argument("--work-pool", help="register the deployments with this Prefect work pool (a process pool, "
                                           "created when missing) for workers on other machines, instead of "
                                           "running them here")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo", parents=[lake], help="build small corpora and run the pipeline on them",
                               description="Synthesise small corpora in the four real layouts (espeak-ng), "
                                           "with deliberate bad inputs, write them as the sources of a project "
                                           "config and `speechcraft run` it: every stage, check, exports.")
    demo.add_argument("--workdir", type=Path, default=Path("demo-data"),
                      help="where the generated corpora go (default ./demo-data)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "lake", None) and not lake_reachable(args.lake):
        return 2
    return args.func(args)


def lake_reachable(lake: str) -> bool:
    """A lakehouse on object storage is opened before any flow starts, so a wrong bucket, endpoint or
    credentials is one line naming what to set, not a flow's traceback. Local folders are never created
    by this check."""
    from ..warehouse.lake import resolve_lake_uri
    from ..warehouse.storage import LakeStorageError, is_remote

    if not is_remote(resolve_lake_uri(lake)):
        return True
    from ..warehouse import Lakehouse

    try:
        Lakehouse(lake).open()
    except LakeStorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
