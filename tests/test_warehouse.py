"""The lakehouse itself: upserts never duplicate, SQL is read-only, and the documented formats print."""
from __future__ import annotations

import json

import pytest

from speechcraft.cli import main
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import ReadOnlyError, query


def _run(lake, rid, status="running", **extra):
    return {"run_id": rid, "flow": "ingest", "corpus": "x", "status": status, **extra}


def test_upsert_inserts_then_updates_by_key(tmp_path):
    lake = Lakehouse(tmp_path)
    first = lake.upsert("runs", [_run(lake, "a"), _run(lake, "b")])
    again = lake.upsert("runs", [_run(lake, "a", "completed"), _run(lake, "c")])
    assert (first.inserted, first.updated) == (2, 0)
    assert (again.inserted, again.updated) == (1, 1)
    rows = {r["run_id"]: r["status"] for r in lake.read("runs").to_pylist()}
    assert rows == {"a": "completed", "b": "running", "c": "running"}


def test_insert_missing_keeps_the_first_write(tmp_path):
    lake = Lakehouse(tmp_path)
    assert lake.insert_missing("runs", [_run(lake, "a", "first")]) == 1
    assert lake.insert_missing("runs", [_run(lake, "a", "second"), _run(lake, "b")]) == 1
    assert {r["run_id"]: r["status"] for r in lake.read("runs").to_pylist()} == {"a": "first", "b": "running"}


def test_a_merge_refused_for_another_writers_commit_is_tried_again(tmp_path, monkeypatch):
    """Two processes creating one new table at once: Lance refuses the merge of the one whose table handle
    predates the other's commit (seen on S3 as "incompatible with concurrent transaction Overwrite"). The
    batch lands on a second try, on the table as it now stands."""
    from speechcraft.warehouse.schema import TABLES

    lake, other = Lakehouse(tmp_path), Lakehouse(tmp_path)
    lake.upsert("runs", [_run(lake, "a")])
    stale = lake.table("runs")
    other.db.create_table("runs", schema=TABLES["runs"][0], mode="overwrite")     # the other writer's commit
    opened = iter([stale])
    fresh = Lakehouse.table
    monkeypatch.setattr(Lakehouse, "table", lambda self, name: next(opened, None) or fresh(self, name))
    assert lake.upsert("runs", [_run(lake, "b")]).inserted == 1
    assert [r["run_id"] for r in lake.read("runs").to_pylist()] == ["b"]


def test_lookup_quotes_ids_with_apostrophes(tmp_path):
    lake = Lakehouse(tmp_path)
    lake.upsert("runs", [_run(lake, "it's"), _run(lake, "plain")])
    assert lake.lookup("runs", ["it's"], ["run_id"]).column("run_id").to_pylist() == ["it's"]


def test_lake_location_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEECHCRAFT_LAKE", str(tmp_path / "elsewhere"))
    assert Lakehouse().uri == str(tmp_path / "elsewhere")
    assert Lakehouse(tmp_path / "flag").uri == str(tmp_path / "flag")


@pytest.mark.parametrize("statement", [
    "DELETE FROM runs",
    "INSERT INTO runs (run_id) VALUES ('x')",
    "CREATE TABLE t AS SELECT 1",
    "DROP VIEW corpus_summary",
    "COPY runs TO '/tmp/out.csv'",
    "ATTACH '/tmp/other.db'",
    "SET enable_external_access = true",
    "SELECT 1; DELETE FROM runs",
])
def test_sql_refuses_anything_but_reads(tmp_path, statement):
    lake = Lakehouse(tmp_path)
    lake.upsert("runs", [_run(lake, "a")])
    with pytest.raises(ReadOnlyError, match="read-only"):
        query(statement, tmp_path)
    assert lake.count("runs") == 1


def test_sql_cannot_read_files_outside_the_lake(tmp_path):
    import duckdb

    Lakehouse(tmp_path).upsert("runs", [{"run_id": "a"}])
    with pytest.raises(duckdb.Error, match="disabled"):
        query("SELECT * FROM read_csv('/etc/passwd')", tmp_path)


def test_sql_command_formats_and_exit_codes(tmp_path, capsys):
    lake = Lakehouse(tmp_path)
    lake.upsert("runs", [_run(lake, "a", "completed", n_new=3), _run(lake, "b", "failed", n_new=1)])
    assert main(["sql", "SELECT run_id, n_new FROM runs ORDER BY run_id", "--lake", str(tmp_path),
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"run_id": "a", "n_new": 3}, {"run_id": "b", "n_new": 1}]
    assert main(["sql", "SELECT run_id, n_new FROM runs ORDER BY run_id", "--lake", str(tmp_path),
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ['"run_id","n_new"', '"a",3', '"b",1']
    assert main(["sql", "SELECT count(*) AS n FROM runs", "--lake", str(tmp_path)]) == 0
    assert "(1 row)" in capsys.readouterr().out
    assert main(["sql", "SELECT -'inf'::DOUBLE AS peak, 'x' AS s", "--lake", str(tmp_path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"peak": None, "s": "x"}]   # valid JSON for silent clips
    assert main(["sql", "DELETE FROM runs", "--lake", str(tmp_path)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert main(["sql", "SELECT * FROM no_such_table", "--lake", str(tmp_path)]) == 2
