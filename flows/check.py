"""The check flow: the quality suites over the lakehouse, results into `quality_runs`, Data Docs beside them.
A failed critical expectation makes the run `failed` (exports refuse to publish); no data is touched."""
from __future__ import annotations

import re
from pathlib import Path

from prefect import flow, get_run_logger

from ..tasks.quality import check_suite_names, check_suites, critical_failures
from ..warehouse import Lakehouse
from ..warehouse.runs import finish_run, start_run
from ..warehouse.storage import is_remote
from .annotate import NothingIngestedError
from .exclusive import one_writer


def default_docs_dir(lake: Lakehouse) -> Path | None:
    """Data Docs live inside a local lakehouse; a lakehouse on object storage needs --docs (a local folder)."""
    return None if lake.remote else Path(lake.uri) / "quality-docs"


def docs_location(lake: Lakehouse, docs_dir: str | None) -> Path | None:
    # "s3:/bucket/docs": an s3:// URI that went through Path() on its way here; never a folder anyone means
    if docs_dir and (is_remote(docs_dir) or re.match(r"[A-Za-z][\w+.-]*:/(?!/)", str(docs_dir))):
        raise ValueError(f"Data Docs are written to a local folder, not {docs_dir}: give --docs a local path "
                         "(the results themselves are stored in the lakehouse's quality_runs wherever it lives)")
    return Path(docs_dir) if docs_dir else default_docs_dir(lake)


@flow(name="check")
@one_writer
def check_flow(lake_uri: str | None = None, docs_dir: str | None = None, suites: list[str] | None = None) -> dict:
    """Returns {"run": runs row, "results": one dict per expectation, "critical_failures": those that block,
    "docs": the Data Docs index or None}."""
    logger = get_run_logger()
    lake = Lakehouse(lake_uri)
    docs = docs_location(lake, docs_dir)
    if not lake.exists("clips"):
        raise NothingIngestedError(f"nothing is ingested at {lake.uri}: run `speechcraft ingest CORPUS ROOT` first")
    check_suite_names(suites)
    run = start_run(lake, "check", None, {"docs_dir": str(docs) if docs else None, "suites": suites})
    try:
        results = check_suites(lake.uri, run["run_id"], str(docs) if docs else None, suites)
        lake.upsert("quality_runs", results)
    except BaseException as exc:
        finish_run(lake, run, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    blocking = critical_failures(results)
    error = (f"{len(blocking)} critical expectation(s) failed: "
             + ", ".join(f"{r['suite']}.{r['expectation']}" for r in blocking)) if blocking else None
    counts = {"n_scanned": len(results), "n_new": len(results), "n_updated": 0, "n_unchanged": 0,
              "n_rejected": sum(not r["success"] for r in results)}
    finished = finish_run(lake, run, "failed" if blocking else "completed", counts, error=error)
    logger.info("check: %d expectations, %d failed, %d critical", len(results), counts["n_rejected"], len(blocking))
    index = docs / "index.html" if docs and (docs / "index.html").exists() else None
    return {"run": finished, "results": results, "critical_failures": blocking,
            "docs": str(index) if index else None}
