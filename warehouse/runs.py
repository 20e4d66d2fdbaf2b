"""Run bookkeeping: one `runs` row per flow run (what, when, counts, outcome)."""
from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import datetime, timezone

from .lake import Lakehouse


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_interrupted_runs(lake: Lakehouse) -> int:
    """Runs still 'running' whose process on this host is gone were killed: say so."""
    if not lake.exists("runs"):
        return 0
    host = socket.gethostname()
    stale = [r for r in lake.read("runs", where="status = 'running'").to_pylist()
             if r["host"] == host and not _pid_alive(r["pid"])]
    for row in stale:
        row.update(status="interrupted", error="the process ended without finishing (killed?)")
    if stale:
        lake.upsert("runs", stale)
    return len(stale)


def start_run(lake: Lakehouse, flow: str, corpus: str | None, params: dict) -> dict:
    mark_interrupted_runs(lake)
    run = {"run_id": uuid.uuid4().hex, "flow": flow, "corpus": corpus,
           "params": json.dumps(params, sort_keys=True, default=str), "status": "running",
           "started_at": _now(), "host": socket.gethostname(), "pid": os.getpid()}
    lake.upsert("runs", [run])
    return run


def finish_run(lake: Lakehouse, run: dict, status: str, counts: dict | None = None,
               error: str | None = None) -> dict:
    finished = _now()
    wall_s = (finished - run["started_at"]).total_seconds()
    row = {**run, **(counts or {}), "status": status, "finished_at": finished, "wall_s": wall_s,
           "error": error}
    hours = row.get("audio_hours") or 0.0
    row["audio_hours_per_hour"] = hours / (wall_s / 3600) if wall_s > 0 else None
    lake.upsert("runs", [row])
    return row


def ingested_roots(lake: Lakehouse, reader: str, corpus: str) -> set[str]:
    """The corpus roots earlier successful ingests of `reader` stored under the name `corpus`."""
    if not lake.exists("runs"):
        return set()
    rows = lake.read("runs", ["corpus", "params", "status"],
                     where="flow = 'ingest' AND status IN ('completed', 'partial')").to_pylist()
    roots = set()
    for row in rows:
        params = json.loads(row["params"] or "{}")
        if row["corpus"] == corpus and params.get("reader") == reader:
            roots.add(params.get("root"))
    return roots
