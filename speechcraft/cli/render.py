"""How results are printed: a query's answer as a table, CSV or JSON (`write_result`), and one report per
command's run (`print_*`). Rich and pyarrow are imported inside the functions, so `--help` stays fast."""
from __future__ import annotations

import json
import math
import sys

from ..vocabulary import LANGUAGES

RESULT_FORMATS = ("table", "csv", "json")       # write_result's formats: the --format choices of sql, models, bins


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


def print_outcome(run: dict, title: str, counts: str, rejects_where: str) -> None:
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


def print_run(run: dict) -> None:
    print_outcome(run, run["corpus"],
                   f"{run['n_scanned']} clips scanned, {run['n_new']} new, {run['n_updated']} updated, "
                   f"{run['n_unchanged']} unchanged, [bold]{run['n_rejected']} rejected[/bold] "
                   f"({run['audio_hours']:.3f} h of audio processed)", f"corpus = '{run['corpus']}'")
    for line in run.get("layout") or []:        # which on-disk layout each subset was read in
        print(f"  layout {line}")
    if run.get("n_warnings"):
        print(f"  {run['n_warnings']} warning(s), clips kept: speechcraft sql \"SELECT reason, source, detail "
              f"FROM rejects WHERE corpus = '{run['corpus']}' AND reason = 'recovered_encoding'\"")


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
        print_transcribed(lake)
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


def print_annotation(result: dict, lake: str | None) -> None:
    """The run's counts per stage (in the order annotate runs them), what the speaker and emphasis training
    made, the labelling, the label distribution, and the run's validations."""
    from rich.console import Console

    from ..flows.annotate import annotation_stages   # loaded already: an annotate run's result is being printed
    from ..warehouse.sql import query

    run, labels = result["run"], result["labels"]
    stages = [s for s in annotation_stages() if s in result]
    print_outcome(run, "annotate", "; ".join(
        f"{stage}: {st['computed']} done, {st['cached']} from cache, {st['up_to_date']} up to date, "
        f"[bold]{st['rejected']} rejected[/bold]" for stage in stages for st in [result[stage]]),
        f"stage IN ({', '.join(repr(s) for s in stages)})")
    console = Console(soft_wrap=True)
    training = result.get("speaker_training") or {}
    for attribute, version in (training.get("classifiers") or {}).items():
        console.print(f"speaker: {attribute} classifier " + (f"[bold]{version}[/bold]" if version else
                      f"not trained ({training['skipped'][attribute]})"))
    for attribute, version in (training.get("voice_classifiers") or {}).items():
        if version:
            console.print(f"speaker: {attribute} classifier with the voice vector [bold]{version}[/bold]")
    clusters, duplicates = result.get("voice_clusters"), result.get("duplicates") or {}
    if clusters:
        console.print(f"voices: {clusters['clustered']} clips clustered now ({clusters['new_clusters']} new "
                      f"clusters); clusters per corpus without speaker ids: {clusters['clusters'] or 'none'}")
    if duplicates.get("exact") or duplicates.get("near"):
        console.print(f"duplicates: {duplicates['exact']} exact and {duplicates['near']} near copies, each exported "
                      f"once (`speechcraft voices clusters`, table duplicates)")
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
        console.print(f"labels: {labels['default_groups']} group(s) use the default edges "
                      f"[bold]{labels['default_version']}[/bold]: too few clips for percentile edges, or an attribute "
                      f"binned at fixed edges (docs/bins.md; `speechcraft bins freeze` replaces them)")
    console.print(f"labels: {labels['changed']} of {labels['clips']} clips (re)labelled")
    write_result(query("SELECT * FROM label_distribution", lake), "table", sys.stdout)
    if result.get("validations"):
        print_validations(result["run"]["run_id"], lake)


def print_transcribed(lake: str | None, examples: int = 5) -> None:
    """A few clips the ASR transcribed (those whose corpus gives no text): the clip, the language it heard, the text."""
    from ..warehouse.sql import query

    rows = query(f"""SELECT clip_id, language, text, backend FROM transcripts WHERE coalesce(text, '') <> ''
                     ORDER BY clip_id LIMIT {examples}""", lake).to_pylist()
    if rows:
        print(f"\ntranscribed by {rows[0]['backend']} (clips without text; language detected where the corpus "
              f"declares none):")
    for row in rows:
        print(f"  {row['clip_id']} [{row['language']}] {row['text']}")


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


def print_descriptions(result: dict, lake: str | None, examples: int = 0) -> None:
    from ..warehouse.sql import query

    print_outcome(result["run"], "describe",
                   f"{result['clips']} clips written, {result['up_to_date']} up to date; {result['published']} texts "
                   f"published, {result['fallbacks']} by the embedded fallback", "stage = 'describe'")
    write_result(query("""SELECT generator, kind, count(*) AS texts, round(avg(passed::int), 4) AS passed,
                                 round(avg((omissions > 0)::int), 4) AS with_omissions,
                                 round(avg((distortions > 0)::int), 4) AS with_distortions,
                                 sum(published::int) AS published
                          FROM descriptions WHERE text IS NOT NULL
                          GROUP BY generator, kind ORDER BY generator, kind""", lake), "table", sys.stdout)
    if examples:
        for language in sorted(LANGUAGES):
            rows = query(f"""SELECT description, instruction FROM clip_annotations
                             WHERE language = '{language}' AND description IS NOT NULL AND instruction IS NOT NULL
                             ORDER BY hash(clip_id) LIMIT {examples}""", lake).to_pylist()
            for row in rows:
                print(f"  {row['description']}\n    {row['instruction']}")
