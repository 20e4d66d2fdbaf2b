"""`speechcraft run`: the whole pipeline over the config's sources. New files are picked up and only they are
processed; a run with nothing new does nothing; a failed batch is retried by the next run; two runs at once
and a run killed with SIGKILL leave the same tables as one clean run; a schedule served on a local Prefect
server fires real runs; the annotation batches run on a local Ray cluster."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from speechcraft.cli import main
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query

pytestmark = pytest.mark.slow

KEYED_TABLES = {"clips": "clip_id", "acoustics": "clip_id", "labels": "clip_id", "speakers": "clip_id",
                "descriptions": "text_id", "runs": "run_id"}


@pytest.fixture(scope="module")
def bulk(tmp_path_factory) -> Path:
    """36 clips of real synthetic speech in the folder layout: spk00-spk11, three clips each."""
    from speechcraft.tasks.demo_corpora import build_bulk_folder

    root = tmp_path_factory.mktemp("bulk") / "bulk"
    build_bulk_folder(root, 36)
    return root


def _drop(bulk: Path, into: Path, speakers: range) -> int:
    """Copy the speakers' folders into the watched folder (what a user dropping new data does)."""
    copied = 0
    for number in speakers:
        source = bulk / f"spk{number:02d}"
        shutil.copytree(source, into / source.name)
        copied += len(list(source.glob("*.wav")))
    return copied


def _config(tmp_path: Path, incoming: Path, known: Path, stages: list[str] | None = None,
            steps: list[str] | None = None, source: tuple[str, ...] = (), tail: tuple[str, ...] = (),
            clips_per_task: int = 8) -> Path:
    """A project config watching `incoming`, with small batches, beside `known`, a corpus whose speakers'
    genders are known (what the embedded classifier learns the incoming clips' genders from)."""
    path = tmp_path / "speechcraft.toml"
    lines = ["[pipeline]", f'export_dir = "{tmp_path / "exports"}"']
    lines += [f"steps = {steps!r}".replace("'", '"')] if steps else []
    # a few dozen clips: percentile bins from groups of 4 (a real corpus keeps the default 20)
    lines += ["[annotate]", f"clips_per_task = {clips_per_task}", "workers = 1", "min_population = 4"]
    lines += [f"stages = {stages!r}".replace("'", '"')] if stages else []
    lines += ["[[sources]]", 'corpus = "libritts-r"', f'path = "{known}"']
    lines += ["[[sources]]", 'corpus = "folder"', f'path = "{incoming}"', 'name = "incoming"', *source, *tail]
    path.write_text("\n".join(lines) + "\n")
    return path


def _steps(lake: str) -> dict[str, dict]:
    """The latest pipeline run's steps by name."""
    rows = query("""SELECT * FROM run_stages WHERE run_id = (
                        SELECT arg_max(run_id, started_at) FROM runs WHERE flow = 'pipeline')""", lake).to_pylist()
    return {r["step"]: r for r in rows}


def _assert_no_duplicates(lake: str) -> None:
    for table, key in KEYED_TABLES.items():
        keys = Lakehouse(lake).read(table, [key])[key].to_pylist()
        assert len(keys) == len(set(keys)), f"{table} holds a {key} twice"


def _assert_complete(lake: str, n_incoming: int) -> None:
    """Every clip went through every stage exactly once."""
    store = Lakehouse(lake)
    assert store.count("clips", "corpus = 'incoming'") == n_incoming
    n_clips = store.count("clips")
    for table in ("acoustics", "labels", "speakers", "emotions"):
        assert store.count(table) == n_clips, table
    assert query("SELECT count(DISTINCT clip_id) AS n FROM descriptions WHERE published",
                 lake).to_pylist()[0]["n"] == n_clips
    _assert_no_duplicates(lake)


def test_run_takes_only_new_files_and_a_run_with_nothing_new_does_nothing(bulk, corpora, prefect_harness, tmp_path,
                                                                            capsys):
    from prefect.client.orchestration import get_client

    incoming, lake = tmp_path / "incoming", str(tmp_path / "lake")
    first = _drop(bulk, incoming, range(0, 12, 2))
    config = _config(tmp_path, incoming, corpora["libritts-r"].root)
    assert main(["run", "--config", str(config), "--lake", lake]) == 0
    steps = _steps(lake)
    assert steps["ingest:incoming"]["clips"] == first
    before = Lakehouse(lake).count("clips")
    assert steps["acoustics"]["clips"] == before
    assert steps["acoustics"]["audio_hours_per_hour"] > 0
    assert steps["check"]["status"] == "completed"
    assert "run: completed" in capsys.readouterr().out
    _assert_complete(lake, first)

    second = _drop(bulk, incoming, range(1, 12, 2))
    assert main(["run", "--config", str(config), "--lake", lake]) == 0
    steps = _steps(lake)
    assert steps["ingest:incoming"]["clips"] == second
    assert steps["ingest:incoming"]["up_to_date"] == first
    for stage in ("acoustics", "speaker", "emotion"):
        assert steps[stage]["clips"] == second and steps[stage]["up_to_date"] == before, stage
    _assert_complete(lake, first + second)

    capsys.readouterr()
    assert main(["run", "--config", str(config), "--lake", lake]) == 0     # answered before any flow starts
    assert "nothing new since run" in capsys.readouterr().out
    assert main(["run", "--config", str(config), "--lake", lake, "--force"]) == 0     # every step, with no work
    steps = _steps(lake)
    assert all(row["clips"] == 0 for row in steps.values()), steps
    assert steps["check"]["status"] == "skipped"

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    kinds = Counter(a.type for a in artifacts)
    assert kinds["progress"] >= 3 and kinds["table"] >= 3       # per-stage progress; each run's step table
    assert any(a.type == "progress" and a.data == 100.0 and "acoustics" in (a.description or "") for a in artifacts)


def test_a_failed_batch_is_retried_by_the_next_run_and_only_it(bulk, corpora, prefect_harness, tmp_path,
                                                                monkeypatch):
    import speechcraft.tasks.acoustics as acoustics

    incoming, lake = tmp_path / "incoming", str(tmp_path / "lake")
    n_clips = _drop(bulk, incoming, range(0, 6))
    config = _config(tmp_path, incoming, corpora["libritts-r"].root, stages=["transcript", "acoustics"])
    measure = acoustics.measure_batch
    doomed = {}

    def fails_once(jobs, *args, **kwargs):
        if not doomed:
            doomed.update({j.clip_id: True for j in jobs})
            raise RuntimeError("disk went away")
        return measure(jobs, *args, **kwargs)

    monkeypatch.setattr(acoustics, "measure_batch", fails_once)
    assert main(["run", "--config", str(config), "--lake", lake, "--step", "ingest", "--step", "annotate"]) == 1
    steps = _steps(lake)
    assert steps["acoustics"]["failed_batches"] == 1 and steps["acoustics"]["status"] == "partial"
    total = Lakehouse(lake).count("clips")
    assert Lakehouse(lake).count("acoustics") == total - len(doomed)
    assert query("SELECT status FROM runs WHERE flow = 'pipeline'", lake).to_pylist() == [{"status": "partial"}]

    assert main(["run", "--config", str(config), "--lake", lake, "--step", "ingest", "--step", "annotate"]) == 0
    steps = _steps(lake)
    assert steps["acoustics"]["clips"] == len(doomed)          # only the failed batch's clips
    assert Lakehouse(lake).count("acoustics") == total


def _measured(lake: Path) -> int:
    """Incoming clips with acoustics."""
    return query("SELECT count(*) AS n FROM acoustics JOIN clips USING (clip_id) WHERE corpus = 'incoming'",
                 str(lake)).to_pylist()[0]["n"]


def _command(config: Path, lake: Path) -> list[str]:
    return [sys.executable, "-m", "speechcraft.cli", "run", "--config", str(config), "--lake", str(lake)]


def _env(tmp_path: Path, name: str) -> dict:
    """A subprocess's environment: its own Prefect home (SQLite), no test server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / f"prefect-{name}"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="WARNING")
    return env


def test_two_runs_at_once_take_turns_and_duplicate_nothing(bulk, corpora, tmp_path):
    incoming, lake = tmp_path / "incoming", tmp_path / "lake"
    n_clips = _drop(bulk, incoming, range(0, 12, 3))
    config = _config(tmp_path, incoming, corpora["libritts-r"].root,
                     stages=["transcript", "acoustics", "speaker", "emotion"])
    runs = [subprocess.Popen(_command(config, lake), env=_env(tmp_path, name), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for name in ("a", "b")]
    outputs = [run.communicate(timeout=400)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    _assert_complete(str(lake), n_clips)
    ingests = query("SELECT n_new FROM runs WHERE flow = 'ingest' AND corpus = 'incoming' ORDER BY started_at",
                    str(lake)).to_pylist()
    assert [r["n_new"] for r in ingests] == [n_clips, 0]          # the second waited, then found it done


def test_a_run_killed_mid_stage_resumes_to_the_same_tables(bulk, corpora, tmp_path):
    incoming, lake = tmp_path / "incoming", tmp_path / "lake"
    _drop(bulk, incoming, range(0, 12))
    # batches of two clips: many small commits, so the kill lands between two of them
    config = _config(tmp_path, incoming, corpora["libritts-r"].root,
                     stages=["transcript", "acoustics", "speaker", "emotion"], clips_per_task=2)
    env = _env(tmp_path, "killed")
    env["SPEECHCRAFT_CACHE"] = str(tmp_path / "cache")           # nothing cached from other tests
    run = subprocess.Popen(_command(config, lake), env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # watch the table's commits on disk (opening it would be slower than the stage): kill after a few
    versions = lake / "acoustics.lance" / "_versions"
    deadline = time.time() + 300
    while time.time() < deadline and run.poll() is None:
        if versions.exists() and len(list(versions.iterdir())) >= 4:
            break
        time.sleep(0.01)
    assert run.poll() is None, f"the run ended before it could be killed: {run.stderr.read()}"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    store = Lakehouse(lake)
    landed, n_clips = store.count("acoustics"), store.count("clips")
    assert 0 < landed < n_clips, f"the kill should land mid-stage ({landed} of {n_clips} measured)"

    resumed = subprocess.run(_command(config, lake), env=env, capture_output=True, text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    _assert_complete(str(lake), 36)
    statuses = Counter((r["flow"], r["status"]) for r in Lakehouse(lake).read("runs").to_pylist())
    assert statuses[("pipeline", "interrupted")] == 1 and statuses[("pipeline", "completed")] == 1
    assert statuses[("annotate", "interrupted")] == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scheduled(bulk: Path, corpora, tmp_path: Path, name: str) -> tuple[Path, Path, int, Path, dict]:
    """A drop folder with two speakers' clips, a source on a 5 s interval, and an environment in which
    Prefect's scheduler, runner and workers poll every 2 s (so the test does not wait a minute per run)."""
    incoming, lake = tmp_path / "incoming", tmp_path / "lake"
    first = _drop(bulk, incoming, range(0, 2))
    config = _config(tmp_path, incoming, corpora["libritts-r"].root, stages=["transcript", "acoustics"],
                     steps=["ingest", "annotate"], source=("interval = 5",))
    env = _env(tmp_path, name)
    env.update(PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2", PREFECT_RUNNER_POLL_FREQUENCY="2",
               PREFECT_WORKER_QUERY_SECONDS="2")
    return incoming, lake, first, config, env


def _wait_until_measured(lake: Path, expected: int, timeout_s: float, process: subprocess.Popen) -> int:
    """Poll until `expected` incoming clips have acoustics (or time is up, or `process` died)."""
    deadline = time.time() + timeout_s
    count = 0
    while time.time() < deadline and process.poll() is None:
        if (lake / "acoustics.lance").exists():
            count = _measured(lake)
            if count >= expected:
                break
        time.sleep(1)
    return count


def test_a_served_schedule_fires_real_runs_that_pick_up_new_files(bulk, corpora, tmp_path):
    """`speechcraft serve` with no server configured starts a local one, and its interval schedule runs the
    pipeline: first over what is there, then over files dropped in later."""
    incoming, lake, first, config, env = _scheduled(bulk, corpora, tmp_path, "serve")
    port = _free_port()
    serve = subprocess.Popen([sys.executable, "-m", "speechcraft.cli", "serve", "--config", str(config),
                              "--lake", str(lake), "--server-port", str(port)], env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _wait_until_measured(lake, first, 240, serve) == first
        second = _drop(bulk, incoming, range(2, 4))
        assert _wait_until_measured(lake, first + second, 180, serve) == first + second
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            output = serve.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            output = serve.communicate()[0]
    assert f"http://127.0.0.1:{port}" in output
    ingests = query("SELECT n_new FROM runs WHERE flow = 'ingest' AND n_new > 0 ORDER BY started_at",
                    str(lake)).to_pylist()
    assert [r["n_new"] for r in ingests] == [first, second]      # each run took only what was new
    _assert_no_duplicates(str(lake))


def test_batches_run_on_a_local_ray_cluster_with_their_resources(bulk, corpora, prefect_harness,
                                                                            tmp_path):
    ray = pytest.importorskip("ray")
    incoming, lake = tmp_path / "incoming", str(tmp_path / "lake")
    n_clips = _drop(bulk, incoming, range(0, 4))
    config = _config(tmp_path, incoming, corpora["libritts-r"].root, stages=["transcript", "acoustics", "speaker"],
                     tail=("[runner]", 'kind = "ray"', "[runner.resources.acoustics]", "num_cpus = 2"))
    # the dashboard serves the state API the test reads the batches' resource requests from
    ray.init(num_cpus=2, include_dashboard=True, dashboard_port=_free_port(), log_to_driver=False)
    try:
        address = ray.get_runtime_context().gcs_address
        assert main(["run", "--config", str(config), "--lake", lake, "--ray-address", address,
                     "--step", "ingest", "--step", "annotate"]) == 0
        from ray.util.state import list_tasks

        batches = [t for t in list_tasks(address=address, limit=1000, detail=True)]
    finally:
        ray.shutdown()
    assert _measured(Path(lake)) == n_clips
    names = Counter(t.name for t in batches)
    assert any("acoustics" in name for name in names), names
    assert any("ingest" in name for name in names), names          # [runner] reaches every batch stage
    acoustic = [t for t in batches if "acoustics" in t.name]
    assert all(t.required_resources.get("CPU") == 2 for t in acoustic), acoustic


def test_deployments_registered_with_a_work_pool_run_on_a_worker(bulk, corpora, tmp_path, monkeypatch):
    """`serve --work-pool`: the deployments go to a Prefect work pool on a running server, and a worker
    (which could be on another machine) runs their scheduled runs."""
    from speechcraft.flows.schedules import start_local_server

    _, lake, first, config, env = _scheduled(bulk, corpora, tmp_path, "pool")
    for name in ("PREFECT_HOME", "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"):    # the server inherits them
        monkeypatch.setenv(name, env[name])
    server = start_local_server("127.0.0.1", _free_port(), str(tmp_path / "server.log"))
    worker = None
    try:
        env["PREFECT_API_URL"] = server.url
        registered = subprocess.run([sys.executable, "-m", "speechcraft.cli", "serve", "--config", str(config),
                                     "--lake", str(lake), "--work-pool", "speech"], env=env, capture_output=True,
                                    text=True, timeout=120)
        assert registered.returncode == 0, registered.stdout + registered.stderr
        assert "prefect worker start --pool speech" in registered.stdout
        prefect = Path(sys.executable).parent / "prefect"
        worker = subprocess.Popen([str(prefect), "worker", "start", "--pool", "speech"], env=env,
                                  start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert _wait_until_measured(lake, first, 240, worker) == first
    finally:
        if worker:
            os.killpg(worker.pid, signal.SIGKILL)
        server.stop()
    assert query("SELECT count(*) AS n FROM runs WHERE flow = 'pipeline' AND status = 'completed'",
                 str(lake)).to_pylist()[0]["n"] >= 1


def test_a_missing_source_folder_fails_its_step_and_the_rest_lands(bulk, prefect_harness, tmp_path):
    incoming, lake = tmp_path / "incoming", str(tmp_path / "lake")
    n_clips = _drop(bulk, incoming, range(0, 2))
    config = tmp_path / "speechcraft.toml"
    config.write_text("\n".join(['[pipeline]', 'steps = ["ingest", "annotate"]', '[annotate]', 'stages = ["acoustics"]',
                                 '[[sources]]', 'corpus = "aishell3"', f'path = "{tmp_path / "gone"}"',
                                 '[[sources]]', 'corpus = "folder"', f'path = "{incoming}"', 'name = "incoming"']))
    for _ in range(2):                     # a re-run fails the same way and adds nothing
        assert main(["run", "--config", str(config), "--lake", lake]) == 1
        steps = _steps(lake)
        assert steps["ingest:aishell3"]["status"] == "failed"
        assert steps["ingest:incoming"]["status"] == "completed" and steps["acoustics"]["status"] == "completed"
        assert _measured(Path(lake)) == n_clips == Lakehouse(lake).count("clips")
        _assert_no_duplicates(lake)
    assert query("SELECT error FROM runs WHERE flow = 'pipeline' ORDER BY started_at DESC LIMIT 1",
                 lake).to_pylist()[0]["error"].startswith("ingest:aishell3: CorpusLayoutError")
