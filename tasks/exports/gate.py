"""The quality gate: an export publishes only what the latest `speechcraft check` passed, on data that has not
changed since.

Refused (`ExportBlockedError`, naming what failed and asking for `speechcraft check`) when there is no check
yet, a critical expectation failed, the latest check ran only some suites (`--suite`), or a run that writes
clips, measurements, labels or texts was still going or finished after the check started. A completed run
that added and updated nothing (a scheduled run with nothing new) does not count. The `runs` table is the
change log this reads; `bins freeze/use` relabels as a `bins` run, so it counts too (the per-clip
`stale_texts` rule in selection.py catches texts a relabelling made wrong).
"""
from __future__ import annotations

import json

from ...stages import EXPORT_CHANGING_FLOWS
from ...warehouse.lake import sql_literal_list
from ...warehouse.sql import check_read_only

# Flows whose runs change what an export reads (speechcraft/stages.py): a run of one after the latest check
# makes that check stale.
WRITING_FLOWS = EXPORT_CHANGING_FLOWS


class ExportBlockedError(ValueError):
    """The quality gate refuses to publish: no check yet, a critical failure, or a check that is stale."""


def read_rows(con, sql: str, params: list | None = None) -> list[dict]:
    """A read-only query on the export's connection, as dicts (the gate and the clip counts are small)."""
    check_read_only(con, sql)
    return con.sql(sql, params=params or None).to_arrow_table().to_pylist()


def quality_gate(con) -> dict:
    """The latest check, if it lets exports publish; else ExportBlockedError saying why and what to run.
    Returns {"run_id", "started_at", "checked_at", "expectations", "failed_warnings"}."""
    latest = read_rows(con, "SELECT suite, expectation, severity, success, run_id, checked_at FROM latest_quality")
    if not latest:
        raise ExportBlockedError("no quality check has run on this lakehouse: run `speechcraft check` first "
                                 "(exports publish only what the latest check passed)")
    run_id, checked_at = latest[0]["run_id"], latest[0]["checked_at"]
    critical = [f"{r['suite']}.{r['expectation']}" for r in latest
                if r["severity"] == "critical" and not r["success"]]
    if critical:
        raise ExportBlockedError(
            f"the latest check (run {run_id}, {checked_at:%Y-%m-%d %H:%M:%S} UTC) failed {len(critical)} critical "
            f"expectation(s): {', '.join(critical)}. Fix the data, then run `speechcraft check` again "
            f"(details: speechcraft sql \"SELECT * FROM latest_quality WHERE NOT success\")")
    run = read_rows(con, "SELECT started_at, params FROM runs WHERE run_id = ?", [run_id])
    started_at = run[0]["started_at"] if run else checked_at
    suites = json.loads((run[0]["params"] if run else None) or "{}").get("suites")
    if suites:
        raise ExportBlockedError(f"the latest check (run {run_id}) ran only the suite(s) {', '.join(suites)}: "
                                 "run `speechcraft check` with every suite before exporting")
    later = read_rows(con, f"""
        SELECT flow, corpus, status, started_at, finished_at FROM runs
        WHERE flow IN {sql_literal_list(WRITING_FLOWS)}
          AND coalesce(finished_at, CASE WHEN status = 'running' THEN now() ELSE started_at END) > ?
          -- a run that finished having written nothing (a scheduled run with nothing new) changed nothing
          AND NOT (status = 'completed' AND coalesce(n_new, 0) + coalesce(n_updated, 0) = 0)
        ORDER BY started_at""", [started_at])
    if later:
        what = ", ".join(f"{r['flow']}{' ' + r['corpus'] if r['corpus'] else ''} ({r['status']}, "
                         f"{(r['finished_at'] or r['started_at']):%Y-%m-%d %H:%M:%S})" for r in later[:5])
        raise ExportBlockedError(
            f"the lakehouse changed after the latest check (run {run_id}, started "
            f"{started_at:%Y-%m-%d %H:%M:%S} UTC): {len(later)} later run(s): {what}. "
            "Run `speechcraft check` again before exporting")
    return {"run_id": run_id, "started_at": started_at, "checked_at": checked_at, "expectations": len(latest),
            "failed_warnings": [f"{r['suite']}.{r['expectation']}" for r in latest if not r["success"]]}
