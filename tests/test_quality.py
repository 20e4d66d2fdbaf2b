"""The quality gate: `speechcraft check` passes on the fixture lakehouse, fails (naming the expectation and
the clip) when a value is corrupted, stores every result, writes Data Docs, and never touches the data."""
from __future__ import annotations

import json
import shutil

import pytest

from speechcraft.cli import main
from speechcraft.tasks.quality_suites import CRITICAL, SUITES, WARNING
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query


def test_check_passes_on_the_fixture_lakehouse_and_stores_every_result(checked_lake):
    latest = query("SELECT * FROM latest_quality", checked_lake).to_pylist()
    assert latest, "the check stored no results"
    assert not [r for r in latest if r["severity"] == CRITICAL and not r["success"]]
    # every suite over a written table ran, with each of its expectations
    expected = {(s.name, c.name) for s in SUITES for c in s.checks if s.name != "stressed_clips"
                and s.name != "emphasis"}          # no stressed clips in the fixture lakehouse
    assert expected <= {(r["suite"], r["expectation"]) for r in latest}
    assert {r["severity"] for r in latest} == {CRITICAL, WARNING}
    run = query("SELECT * FROM runs WHERE flow = 'check'", checked_lake).to_pylist()
    assert [r["status"] for r in run] == ["completed"]
    docs = latest[0]["docs_path"]
    html = open(docs, encoding="utf-8").read()
    assert "acoustics" in html and "labels" in html      # the Data Docs index links every suite


def test_a_corrupted_label_and_f0_fail_the_check_by_name_and_nothing_is_deleted(checked_lake, tmp_path, capsys):
    lake_uri = str(tmp_path / "lake")
    shutil.copytree(checked_lake, lake_uri)
    lake = Lakehouse(lake_uri)
    label = lake.read("labels").to_pylist()[0]
    label["pitch_label"] = "very_high"
    lake.upsert("labels", [label])
    acoustic = next(r for r in lake.read("acoustics").to_pylist() if r["f0_mean_hz"])
    acoustic["f0_mean_hz"] = 5000.0
    lake.upsert("acoustics", [acoustic])
    counts = {name: lake.count(name) for name in ("clips", "labels", "acoustics")}

    assert main(["check", "--lake", lake_uri]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "expect_column_values_to_be_in_set(pitch_label)" in out
    assert "expect_column_values_to_be_between(f0_mean_hz, 50..600)" in out

    failed = {(r["suite"], r["expectation"]): r for r in query(
        "SELECT * FROM latest_quality WHERE NOT success AND severity = 'critical'", lake_uri).to_pylist()}
    assert set(failed) == {("labels", "expect_column_values_to_be_in_set(pitch_label)"),
                           ("acoustics", "expect_column_values_to_be_between(f0_mean_hz, 50..600)")}
    pitch = failed[("labels", "expect_column_values_to_be_in_set(pitch_label)")]
    assert pitch["unexpected_count"] == 1
    assert json.loads(pitch["observed"]) == [{"pitch_label": "very_high", "clip_id": label["clip_id"]}]
    f0 = failed[("acoustics", "expect_column_values_to_be_between(f0_mean_hz, 50..600)")]
    assert json.loads(f0["observed"]) == [{"f0_mean_hz": 5000.0, "clip_id": acoustic["clip_id"]}]
    # the gate reports, it never repairs or deletes
    assert {name: lake.count(name) for name in counts} == counts
    assert lake.lookup("labels", [label["clip_id"]], ["pitch_label"]).to_pylist() == [{"pitch_label": "very_high"}]
    run = query("SELECT status, error FROM runs WHERE flow = 'check' ORDER BY started_at DESC LIMIT 1",
                lake_uri).to_pylist()[0]
    assert run["status"] == "failed" and "labels.expect_column_values_to_be_in_set(pitch_label)" in run["error"]


def test_each_check_run_adds_its_own_results(checked_lake, tmp_path):
    lake_uri = str(tmp_path / "lake")
    shutil.copytree(checked_lake, lake_uri)
    before = Lakehouse(lake_uri).count("quality_runs")
    assert main(["check", "--lake", lake_uri, "--suite", "clips", "--suite", "labels"]) == 0
    rows = query("SELECT run_id, suite, result_id FROM quality_runs", lake_uri).to_pylist()
    assert len({r["result_id"] for r in rows}) == len(rows)
    newest = query("SELECT DISTINCT suite FROM latest_quality", lake_uri).column("suite").to_pylist()
    assert sorted(newest) == ["clips", "labels"]
    assert len(rows) == before + sum(len(s.checks) for s in SUITES if s.name in ("clips", "labels"))
    history = query("SELECT count(DISTINCT run_id) AS runs FROM quality_runs", lake_uri).to_pylist()[0]
    assert history["runs"] == 2


def test_duplicate_keys_are_a_critical_failure(checked_lake, tmp_path):
    """A duplicate written past the upserts (a second writer appending) is caught, never silently merged."""
    import lancedb

    lake_uri = str(tmp_path / "lake")
    shutil.copytree(checked_lake, lake_uri)
    table = lancedb.connect(lake_uri).open_table("speakers")
    table.add(table.to_lance().to_table(limit=1))
    from speechcraft.flows.check import check_flow

    result = check_flow(lake_uri, suites=["speakers"])
    assert [r["expectation"] for r in result["critical_failures"]] == ["expect_column_values_to_be_unique(clip_id)"]


@pytest.mark.parametrize("argv, message", [
    (["check", "--suite", "nonsense"], "no suite named ['nonsense']"),
    (["check"], "nothing is ingested"),
])
def test_bad_check_requests_are_refused_with_a_reason(tmp_path, capsys, argv, message, checked_lake):
    lake_uri = checked_lake if "--suite" in argv else str(tmp_path / "empty")
    assert main(argv + ["--lake", lake_uri]) == 2
    assert message in capsys.readouterr().err
