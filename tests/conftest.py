"""Shared test set-up: fixture corpora built once per test session (shared by xdist workers through a
file lock), one lakehouse with every fixture corpus ingested, and a Prefect test harness."""
from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Stage results cached by Prefect go to a folder of this session, never the user's ~/.cache.
os.environ.setdefault("SPEECHCRAFT_CACHE", tempfile.mkdtemp(prefix="speechcraft-cache-"))

from speechcraft.tasks.demo_corpora.truth import FixtureTruth  # noqa: E402

# (reader name, fixture folder)
FIXTURE_CORPORA = [("aishell3", "aishell3"), ("libritts-r", "libritts-r"), ("gigaspeech", "gigaspeech"),
                   ("zhvoice", "zhvoice"), ("zhvoice", "zhvoice-split"), ("folder", "folder"),
                   ("folder", "prosody")]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _shared_dir(tmp_path_factory, name: str) -> Path:
    # xdist workers each get their own basetemp; its parent is common to the session.
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    return root / name


@pytest.fixture(scope="session")
def corpora(tmp_path_factory) -> dict[str, FixtureTruth]:
    """Every fixture corpus, built once: folder name -> its truth."""
    from speechcraft.tasks.demo_corpora import build_all

    out = _shared_dir(tmp_path_factory, "corpora")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / ".built").exists():
            build_all(out)
            (out / ".built").touch()
    return {folder: FixtureTruth.load(out / f"{folder}.truth.json") for _, folder in FIXTURE_CORPORA}


@pytest.fixture(scope="session")
def stress_corpora(tmp_path_factory):
    """The plain emphasis corpus (6 speakers a language, 24 shared sentences) and the SSML-stressed one."""
    from speechcraft.tasks.demo_corpora import stress

    out = _shared_dir(tmp_path_factory, "stress-corpora")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / ".built").exists():
            stress.build(out / "stress", speakers_per_language=6, sentences=24).save(out / "stress.truth.json")
            stress.build_ssml(out / "stress-ssml").save(out / "stress-ssml.truth.json")
            (out / ".built").touch()
    return {name: FixtureTruth.load(out / f"{name}.truth.json") for name in ("stress", "stress-ssml")}


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def ingested_lake(corpora, prefect_harness, tmp_path_factory) -> str:
    """A lakehouse holding every fixture corpus, ingested through the real flow once."""
    from speechcraft.flows.ingest import ingest_flow

    lake = str(tmp_path_factory.mktemp("lake"))
    for reader, folder in FIXTURE_CORPORA:
        ingest_flow(reader, str(corpora[folder].root), lake_uri=lake, batch_size=4, show_progress=False)
    return lake


@pytest.fixture(scope="session")
def annotated_lake(ingested_lake, tmp_path_factory) -> str:
    """A copy of the ingested lakehouse with the acoustic stage and labels run (two worker processes,
    small batches, so the process pool and batching are exercised)."""
    from speechcraft.flows.annotate import annotate_flow

    lake = str(tmp_path_factory.mktemp("annotated") / "lake")
    shutil.copytree(ingested_lake, lake)
    annotate_flow(lake, clips_per_task=64, workers=2, show_progress=False)
    return lake


@pytest.fixture(scope="session")
def described_lake(annotated_lake, tmp_path_factory) -> str:
    """The annotated lakehouse with descriptions and instructions written (and indexed for search)."""
    from speechcraft.flows.describe import describe_flow

    lake = str(tmp_path_factory.mktemp("described") / "lake")
    shutil.copytree(annotated_lake, lake)
    describe_flow(lake, show_progress=False)
    return lake


@pytest.fixture(scope="session")
def checked_lake(described_lake, tmp_path_factory) -> str:
    """The described lakehouse after one `check` run: what the dashboard's tests read."""
    from speechcraft.flows.check import check_flow

    lake = str(tmp_path_factory.mktemp("checked") / "lake")
    shutil.copytree(described_lake, lake)
    check_flow(lake)
    return lake
