"""The quality gate: runs the suites of `quality_suites` with great-expectations over the lakehouse, one
checkpoint per suite, and renders Data Docs. It reads only; it never changes or deletes data."""
from __future__ import annotations

import json
import logging
import math
import os
from datetime import datetime, timezone
from pathlib import Path

from prefect import get_run_logger, task

from ..warehouse.lake import Lakehouse
from ..warehouse.sql import connect
from ..warehouse.storage import is_remote
from .quality_suites import CRITICAL, Suite, all_suites

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")   # no usage reports from an offline tool
SAMPLE_VALUES = 10                                         # unexpected values kept per failed expectation


def _context(docs_dir: Path | None):
    """An ephemeral great-expectations context whose only Data Docs site is `docs_dir`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # quiet its INFO chatter (one of its modules sets INFO on its own logger); set here, after Prefect's logging set-up
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site in list(context.variables.data_docs_sites or {}):
        context.delete_data_docs_site(site)    # the default site writes into a temporary folder
    if docs_dir is not None:
        context.add_data_docs_site(site_name="lakehouse", site_config={
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    return context


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "item"):      # numpy scalars
        return _jsonable(value.item())
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _observed(result: dict) -> str | None:
    """The observed value, else a sample of failing rows (named by the suite's id columns and their values)."""
    if result.get("observed_value") is not None:
        return json.dumps(_jsonable(result["observed_value"]))
    sample = result.get("partial_unexpected_index_list") or result.get("partial_unexpected_list")
    return json.dumps(_jsonable(sample[:SAMPLE_VALUES])) if sample else None


def run_suite(context, suite: Suite, frame, run_id: str, docs: bool) -> list[dict]:
    """Validate one suite's rows; one result row per expectation."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier

    checks = {}
    gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name))
    for check in suite.checks:
        expectation = getattr(gxe, check.expectation)(**check.kwargs, severity=check.severity,
                                                      description=check.why, meta={"name": check.name})
        gx_suite.add_expectation(expectation)
        checks[check.name] = check
    asset = context.data_sources.get("lakehouse").add_dataframe_asset(suite.name)
    definition = context.validation_definitions.add(gx.ValidationDefinition(
        name=suite.name, data=asset.add_batch_definition_whole_dataframe("all"), suite=gx_suite))
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if docs else []
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=suite.name, validation_definitions=[definition], actions=actions,
        result_format={"result_format": "SUMMARY", "unexpected_index_column_names": list(suite.ids)}))
    outcome = checkpoint.run(batch_parameters={"dataframe": frame},
                             run_id=RunIdentifier(run_name=f"{run_id}-{suite.name}"))
    rows = []
    for validation in outcome.run_results.values():
        for result in validation.results:
            config = result.expectation_config
            check = checks[config.meta["name"]]
            info = result.result or {}
            exception = (result.exception_info or {}).get("exception_message") if result.exception_info else None
            rows.append({
                "result_id": f"{run_id}/{suite.name}/{check.name}", "run_id": run_id, "suite": suite.name,
                "expectation": check.name, "expectation_type": config.type,
                "kwargs": json.dumps(_jsonable(check.kwargs), sort_keys=True), "severity": check.severity,
                "why": check.why, "success": bool(result.success),
                "element_count": info.get("element_count", len(frame)),
                "unexpected_count": info.get("unexpected_count"),
                "unexpected_percent": info.get("unexpected_percent"),
                "observed": _observed(info), "exception": exception})
    return rows


@task(name="quality-check")
def check_suites(lake_uri: str, run_id: str, docs_dir: str | None, only: list[str] | None = None) -> list[dict]:
    """Every suite over the stored tables. A suite whose table was never written is skipped (logged)."""
    logger = get_run_logger()
    if docs_dir and is_remote(docs_dir):
        raise ValueError(f"Data Docs are written to a local folder, not {docs_dir}")
    lake = Lakehouse(lake_uri)
    con = connect(lake.uri)
    context = _context(Path(docs_dir) if docs_dir else None)
    context.data_sources.add_pandas("lakehouse")
    rows: list[dict] = []
    for suite in all_suites():
        if only and suite.name not in only:
            continue
        if suite.table and not lake.exists(suite.table):
            logger.info("suite %s: table %s not written yet, skipped", suite.name, suite.table)
            continue
        frame = con.sql(suite.sql).to_arrow_table().to_pandas()   # great-expectations takes pandas only
        suite_rows = run_suite(context, suite, frame, run_id, docs=docs_dir is not None)
        failed = [r["expectation"] for r in suite_rows if not r["success"]]
        logger.info("suite %s: %d rows, %d expectations, %d failed%s", suite.name, len(frame), len(suite_rows),
                    len(failed), f" ({', '.join(failed)})" if failed else "")
        rows += suite_rows
    checked_at = datetime.now(timezone.utc)
    index = str(Path(docs_dir) / "index.html") if docs_dir else None
    for row in rows:
        row.update(checked_at=checked_at, docs_path=index)
    return rows


def check_suite_names(names: list[str] | None) -> None:
    suites = [s.name for s in all_suites()]
    unknown = set(names or []) - set(suites)
    if unknown:
        raise ValueError(f"no suite named {sorted(unknown)}; the suites are {suites}")


def critical_failures(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["severity"] == CRITICAL and not r["success"]]
