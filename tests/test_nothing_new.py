"""`speechcraft run` with nothing new since the last complete run answers in a line, before Prefect is
imported; anything that could change an output (a source file, the config or a file it names, the code, a
table written by another command, the exports, --force, a run that did not complete) lets the pipeline run."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from speechcraft.nothing_new import nothing_new, run_request
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.fingerprints import RECORD, forget_complete_run, record_complete_run


@pytest.fixture
def project(tmp_path):
    """A config with one folder source, a lakehouse holding a table, exports, and the record a complete
    run leaves: (config dict, config path, lake, source folder)."""
    source = tmp_path / "incoming"
    (source / "spk00").mkdir(parents=True)
    (source / "spk00" / "a.wav").write_bytes(b"RIFF0000")
    (source / "spk00" / "a.txt").write_text("hello")
    lake = str(tmp_path / "lake")
    Lakehouse(lake).upsert("clips", [{"clip_id": "incoming/a", "corpus": "incoming"}])
    (tmp_path / "lake" / "exports" / "lhotse").mkdir(parents=True)
    (tmp_path / "lake" / "exports" / "lhotse" / "export.json").write_text("{}")
    config = {"sources": [{"corpus": "folder", "path": str(source), "name": "incoming"}]}
    path = tmp_path / "speechcraft.toml"
    path.write_text(f'[[sources]]\ncorpus = "folder"\npath = "{source}"\nname = "incoming"\n')
    _complete_run(config, lake)
    return config, path, lake, source


def _complete_run(config: dict, lake: str) -> None:
    uri, export_root, inputs = run_request(config, lake, None)
    record_complete_run(uri, "run-1", datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc), inputs, 1, export_root)


def _answer(config: dict, lake: str) -> str | None:
    uri, export_root, inputs = run_request(config, lake, None)
    return nothing_new(uri, export_root, inputs)


def test_nothing_changed_is_answered(project):
    config, _, lake, _ = project
    assert _answer(config, lake) == ("nothing new since run run-1 (2025-01-02T03:04:05+00:00): 1 clips, exports up "
                                     "to date (--force runs the pipeline anyway)")
    Lakehouse(lake).upsert("runs", [{"run_id": "another"}])        # bookkeeping: every run writes it
    assert _answer(config, lake) is not None


@pytest.mark.parametrize("change", ["new file", "file touched", "file removed", "config", "table written",
                                    "exports removed", "environment", "run not complete"])
def test_any_change_lets_the_pipeline_run(project, change, monkeypatch):
    config, _, lake, source = project
    if change == "new file":
        (source / "spk00" / "b.wav").write_bytes(b"RIFF1111")
    elif change == "file touched":
        later = time.time() + 10
        os.utime(source / "spk00" / "a.txt", (later, later))
    elif change == "file removed":
        (source / "spk00" / "a.txt").unlink()
    elif change == "config":
        config = {**config, "annotate": {"min_population": 4}}
    elif change == "table written":                     # e.g. `speechcraft bins use`, or an annotate by hand
        Lakehouse(lake).upsert("bin_edges", [{"edge_id": "v2/en/pitch/male"}])
    elif change == "exports removed":
        (Path(lake) / "exports" / "lhotse" / "export.json").unlink()
    elif change == "environment":
        monkeypatch.setenv("SPEECHCRAFT_DESCRIBE_SEED", "7")
    elif change == "run not complete":
        forget_complete_run(lake)
    assert _answer(config, lake) is None


def test_a_lakehouse_on_object_storage_always_runs(project):
    config, _, _, _ = project
    uri, export_root, inputs = run_request(config, "s3://bucket/lake", None)
    assert uri.startswith("s3://") and nothing_new(uri, export_root, inputs) is None


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "speechcraft.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_the_command_answers_before_importing_prefect(project):
    _, path, lake, source = project
    started = time.perf_counter()
    out = _cli("run", "--config", str(path), "--lake", lake)
    wall = time.perf_counter() - started
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("nothing new since run run-1 ("), out.stdout
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert not {"prefect", "lancedb", "duckdb", "lance"} & imported
    assert wall < 10            # about half a second; generous for a loaded test machine


def test_force_and_a_new_file_go_to_the_pipeline(project, monkeypatch):
    """Both reach the pipeline flow (stubbed here: the real one is bench/pipeline.py's and test_pipeline's)."""
    from speechcraft.cli import main
    from speechcraft.flows import pipeline

    config, path, lake, source = project
    calls = []
    monkeypatch.setattr(pipeline, "pipeline_flow", lambda lake_uri, **kw: calls.append(kw) or {"stub": True})
    monkeypatch.setattr("speechcraft.cli.commands_pipeline.print_pipeline", lambda result, lake: 0)
    assert main(["run", "--config", str(path), "--lake", lake]) == 0 and calls == []
    assert main(["run", "--config", str(path), "--lake", lake, "--force"]) == 0 and len(calls) == 1
    assert calls[0]["fingerprint"]["files"]                        # what the flow records if it completes
    (source / "spk00" / "b.wav").write_bytes(b"RIFF1111")
    assert main(["run", "--config", str(path), "--lake", lake]) == 0 and len(calls) == 2
    assert main(["run", "--config", str(path), "--lake", lake, "--step", "ingest"]) == 0
    assert calls[-1]["fingerprint"] is None                       # only the whole pipeline is recorded


def test_the_record_is_written_last_and_atomically(project):
    _, _, lake, _ = project
    assert (Path(lake) / RECORD).is_file()
    assert not list(Path(lake).glob("*.tmp"))


@pytest.mark.slow
def test_a_real_second_run_is_answered_and_new_files_are_not(corpora, prefect_harness, tmp_path):
    """The pipeline records its complete run; the same command again answers without it; a dropped file runs it."""
    from speechcraft.cli import main
    from speechcraft.tasks.demo_corpora import build_bulk_folder

    bulk = tmp_path / "bulk"
    build_bulk_folder(bulk, 12)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for folder in sorted(bulk.iterdir())[:2]:
        folder.rename(incoming / folder.name)
    config = tmp_path / "speechcraft.toml"
    config.write_text("\n".join([
        "[pipeline]", f'export_dir = "{tmp_path / "exports"}"',
        "[annotate]", "clips_per_task = 8", "workers = 1", "min_population = 4",
        "[[sources]]", 'corpus = "libritts-r"', f'path = "{corpora["libritts-r"].root}"',
        "[[sources]]", 'corpus = "folder"', f'path = "{incoming}"', 'name = "incoming"']) + "\n")
    lake = str(tmp_path / "lake")
    assert main(["run", "--config", str(config), "--lake", lake]) == 0
    assert (Path(lake) / RECORD).is_file()
    out = _cli("run", "--config", str(config), "--lake", lake)
    assert out.returncode == 0 and out.stdout.startswith("nothing new since run "), out.stdout + out.stderr[-2000:]
    runs = Lakehouse(lake).count("runs", "flow = 'pipeline'")
    folder = sorted(bulk.iterdir())[-1]
    folder.rename(incoming / folder.name)
    assert main(["run", "--config", str(config), "--lake", lake]) == 0
    assert Lakehouse(lake).count("runs", "flow = 'pipeline'") == runs + 1
    assert _cli("run", "--config", str(config), "--lake", lake).stdout.startswith("nothing new since run ")
