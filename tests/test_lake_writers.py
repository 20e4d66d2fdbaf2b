"""Commands that write to the lakehouse outside the stage flows (`bins freeze|use`, `validate`) run like
every writer: they wait for the writer lock, record a `runs` row, and a relabelling blocks exports until
the next check. No command ends in a traceback."""
from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from speechcraft.cli import main
from speechcraft.flows.export import export_flow
from speechcraft.tasks.exports import ExportBlockedError
from speechcraft.warehouse.locks import lock_path
from speechcraft.warehouse.sql import query

HOLD_LOCK = """
import fcntl, sys, time
with open(sys.argv[1], "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    print(time.time(), flush=True)      # the moment it lets go
"""


def runs_of(lake: str, flow: str) -> list[dict]:
    return query(f"SELECT * FROM runs WHERE flow = '{flow}' ORDER BY started_at", lake).to_pylist()


def while_another_process_writes(lake: str, command: list[str]) -> tuple[int, float]:
    """Run `command` while a second process holds the lakehouse's writer lock for a few seconds; returns its
    exit code and the moment the other process let go."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock_path(lake)), "3"], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    code = main(command)
    released = float(holder.stdout.readline())
    holder.wait(timeout=30)
    return code, released


@pytest.fixture
def lake(checked_lake, tmp_path) -> str:
    copy = str(tmp_path / "lake")
    shutil.copytree(checked_lake, copy)
    return copy


def test_bins_freeze_waits_for_the_writer_records_a_run_and_blocks_exports(lake, prefect_harness, tmp_path):
    assert export_flow("speechcraft", str(tmp_path / "before"), lake_uri=lake, show_progress=False)["clips"]
    edges = tmp_path / "edges.toml"     # every clip's energy becomes `high`: labels change for sure
    edges.write_text('["*"]\nenergy = [-120.0, -110.0]\n')
    code, released = while_another_process_writes(
        lake, ["bins", "freeze", "--name", "loud", "--config", str(edges), "--lake", lake])
    assert code == 0
    [run] = runs_of(lake, "bins")
    assert run["status"] == "completed" and run["n_updated"] > 0
    assert run["started_at"] >= datetime.fromtimestamp(released, timezone.utc)   # it waited for the lock
    with pytest.raises(ExportBlockedError, match="changed after the latest check.*bins"):
        export_flow("speechcraft", str(tmp_path / "after"), lake_uri=lake, show_progress=False)
    assert {r["energy_label"] for r in query("SELECT energy_label FROM clip_annotations WHERE energy_label "
                                             "IS NOT NULL", lake).to_pylist()} == {"high"}
    assert main(["bins", "use", "missing-version", "--lake", lake]) == 2
    assert main(["bins", "freeze", "--name", "loud", "--lake", lake]) == 2     # versions are immutable
    assert len(runs_of(lake, "bins")) == 1          # a refusal changes nothing, so it records no run


def test_validate_waits_for_the_writer_and_records_a_run(lake, prefect_harness, capsys):
    code, released = while_another_process_writes(lake, ["validate", "--lake", lake])
    assert code == 0
    run = runs_of(lake, "validate")[-1]
    assert run["status"] == "completed" and run["n_new"] > 0
    assert run["started_at"] >= datetime.fromtimestamp(released, timezone.utc)
    stored = query(f"SELECT count(*) AS n FROM validations WHERE run_id = '{run['run_id']}'", lake).to_pylist()
    assert stored[0]["n"] == run["n_new"]
    assert "gender" in capsys.readouterr().out


def test_a_failing_flow_ends_in_one_error_line_not_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "speechcraft.cli", "check", "--lake", str(tmp_path / "empty")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "error: nothing is ingested" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
