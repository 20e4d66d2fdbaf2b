"""The lakehouse on object storage: `--lake s3://bucket/lake` through the same code as a local folder.

A local S3-compatible server (moto) is started once for the module; the lakehouse reaches it through the standard
AWS environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION), as MinIO or Ceph would.
Two fixture corpora are ingested, re-ingested, annotated, described, checked, queried and exported there.
"""
from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass

import pytest

pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

BUCKET = "speechcraft-test"
LAKE = f"s3://{BUCKET}/lake"
CORPORA = [("aishell3", "aishell3"), ("libritts-r", "libritts-r")]     # (reader, fixture folder)
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT", "AWS_ALLOW_HTTP", "AWS_PROFILE")


@dataclass
class S3:
    endpoint: str
    client: object

    def keys(self, prefix: str) -> list[str]:
        keys, token = [], None
        while True:
            page = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix,
                                               **({"ContinuationToken": token} if token else {}))
            keys += [o["Key"] for o in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            if not token:
                return keys


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server on a free port, the AWS environment pointing at it (restored afterwards), one bucket."""
    from moto.s3.responses import S3Response
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)     # one log line per request otherwise
    with pytest.MonkeyPatch.context() as env:
        # S3 refuses the second of two racing `If-None-Match: *` PUTs (what Lance's commits rely on); moto
        # checks and then stores, one request per thread, so both could land and one commit be lost
        put, guard = S3Response.put_object, threading.Lock()

        def atomic_put(self):
            with guard:
                return put(self)

        env.setattr(S3Response, "put_object", atomic_put)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name in AWS_VARS:
            env.delenv(name, raising=False)
        # exactly what a user sets for MinIO/Ceph: no AWS_ALLOW_HTTP (an http:// endpoint implies it)
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_REGION", "us-east-1")
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        try:
            yield S3(endpoint, client)
        finally:
            server.stop()


@pytest.fixture(scope="module")
def s3_lake(s3, corpora, prefect_harness) -> dict:
    """The two corpora ingested into the s3 lakehouse: {reader: first run's runs row}."""
    from speechcraft.flows.ingest import ingest_flow

    return {reader: ingest_flow(reader, str(corpora[folder].root), lake_uri=LAKE, show_progress=False)
            for reader, folder in CORPORA}


def _counts(lake: str) -> dict[str, int]:
    from speechcraft.warehouse.sql import query

    return {r["corpus"]: r["n"] for r in query("SELECT corpus, count(*) AS n FROM clips GROUP BY corpus",
                                               lake).to_pylist()}


def test_ingest_writes_the_tables_into_the_bucket(s3, s3_lake, corpora):
    for reader, folder in CORPORA:
        run = s3_lake[reader]
        assert run["status"] == "completed"
        assert run["n_new"] == len(corpora[folder].clips)
        assert run["n_rejected"] == len(corpora[folder].rejects)
    assert _counts(LAKE) == {reader: len(corpora[folder].clips) for reader, folder in CORPORA}
    keys = s3.keys("lake/")
    for table in ("clips", "rejects", "runs"):
        assert any(k.startswith(f"lake/{table}.lance/_versions/") for k in keys), table
        assert any(k.startswith(f"lake/{table}.lance/data/") for k in keys), table


def test_reingest_adds_nothing(s3_lake, corpora):
    from speechcraft.flows.ingest import ingest_flow
    from speechcraft.warehouse.sql import query

    before = _counts(LAKE)
    for reader, folder in CORPORA:
        run = ingest_flow(reader, str(corpora[folder].root), lake_uri=LAKE, show_progress=False)
        assert (run["status"], run["n_new"], run["n_updated"]) == ("completed", 0, 0)
        assert run["n_unchanged"] == len(corpora[folder].clips)
    assert _counts(LAKE) == before
    row = query("SELECT count(*) AS n, count(DISTINCT clip_id) AS ids FROM clips", LAKE).to_pylist()[0]
    assert row["n"] == row["ids"]
    rejects = query("SELECT count(*) AS n, count(DISTINCT reject_id) AS ids FROM rejects", LAKE).to_pylist()[0]
    assert rejects["n"] == rejects["ids"] == sum(len(corpora[f].rejects) for _, f in CORPORA)


def test_same_clips_as_a_local_lake(s3_lake, corpora, tmp_path):
    from speechcraft.flows.ingest import ingest_flow
    from speechcraft.warehouse.sql import query

    local = str(tmp_path / "lake")
    for reader, folder in CORPORA:
        ingest_flow(reader, str(corpora[folder].root), lake_uri=local, show_progress=False)
    sql = "SELECT clip_id, duration_s, audio_sha256 FROM clips ORDER BY clip_id"
    assert query(sql, LAKE).to_pylist() == query(sql, local).to_pylist()
    sql = "SELECT corpus, reason, count(*) AS n FROM rejects GROUP BY ALL ORDER BY ALL"
    assert query(sql, LAKE).to_pylist() == query(sql, local).to_pylist()


def test_annotate_describe_and_check_run_on_s3(s3, s3_lake, tmp_path):
    from speechcraft.flows.annotate import annotate_flow
    from speechcraft.flows.check import check_flow
    from speechcraft.flows.describe import describe_flow
    from speechcraft.warehouse.reports import lake_version
    from speechcraft.warehouse.sql import query

    version = lake_version(LAKE)
    assert "clips:" in version
    # 13 + 15 clips: bins freeze from 3 clips a group, so that clips get labels (and can be exported)
    annotated = annotate_flow(LAKE, workers=2, min_population=3, show_progress=False)
    assert annotated["run"]["status"] == "completed"
    assert lake_version(LAKE) != version                 # the dashboard's caches see the writes
    n_clips = sum(_counts(LAKE).values())
    for table in ("acoustics", "speakers", "labels"):
        assert query(f"SELECT count(DISTINCT clip_id) AS n FROM {table}", LAKE).to_pylist()[0]["n"] == n_clips
    view = query("""SELECT count(*) AS n, count(pitch_hz) AS f0, count(gender) AS gender,
                           count(pitch_label) AS labelled FROM clip_annotations""", LAKE).to_pylist()[0]
    assert view["n"] == n_clips and view["gender"] == n_clips
    assert view["f0"] > n_clips // 2 and view["labelled"] > n_clips // 2

    described = describe_flow(LAKE, show_progress=False)
    assert described["run"]["status"] == "completed" and described["published"] > 0
    assert query("SELECT count(*) AS n FROM descriptions WHERE published", LAKE).to_pylist()[0]["n"] > 0

    checked = check_flow(LAKE)
    assert checked["run"]["status"] == "completed" and checked["docs"] is None   # no docs folder on s3
    assert not [k for k in s3.keys("") if "quality-docs" in k]
    latest = query("SELECT count(*) AS n FROM latest_quality", LAKE).to_pylist()[0]["n"]
    assert latest == len(checked["results"]) > 0
    with_docs = check_flow(LAKE, docs_dir=str(tmp_path / "docs"))     # a local docs folder works for an s3 lake
    assert with_docs["docs"] == str(tmp_path / "docs" / "index.html")
    with pytest.raises(ValueError, match="local folder"):
        check_flow(LAKE, docs_dir=f"s3://{BUCKET}/docs")
    statuses = query("SELECT flow, status FROM runs WHERE flow IN ('annotate', 'describe', 'check')",
                     LAKE).to_pylist()
    assert {r["status"] for r in statuses} == {"completed"}
    assert any(k.startswith("lake/quality_runs.lance/") for k in s3.keys("lake/"))


def test_export_parler_tts_to_s3_reads_back(s3, s3_lake):
    export_flow = pytest.importorskip("speechcraft.flows.export").export_flow
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    # needs the check run of the test before (the quality gate); run it here when this test runs alone
    from speechcraft.warehouse.sql import query
    if not query("SELECT count(*) AS n FROM quality_runs", LAKE).to_pylist()[0]["n"]:
        pytest.skip("needs the annotate/describe/check test before it")
    out = f"s3://{BUCKET}/exports/parler"
    result = export_flow("parler-tts", out, lake_uri=LAKE, show_progress=False)
    assert result["run"]["status"] == "completed" and result["clips"] > 0
    keys = s3.keys("exports/parler/")
    assert "exports/parler/export.json" in keys and "exports/parler/README.md" in keys
    shards = [k for k in keys if k.endswith(".parquet")]
    assert shards and all(k.startswith("exports/parler/data/") for k in shards)
    fs = pafs.S3FileSystem(endpoint_override=s3.endpoint.split("://", 1)[1], scheme="http", region="us-east-1")
    table = pq.read_table([f"{BUCKET}/{k}" for k in shards], filesystem=fs)
    assert table.num_rows == result["clips"]
    assert {"text", "audio"} <= set(table.column_names)
    assert table.column("audio")[0].as_py()["bytes"][:4] == b"fLaC"


def test_a_missing_bucket_is_one_sentence(s3, prefect_harness, corpora, capsys):
    from speechcraft.cli import main
    from speechcraft.warehouse import Lakehouse
    from speechcraft.warehouse.sql import query
    from speechcraft.warehouse.storage import LakeStorageError

    uri = "s3://no-such-bucket/lake"
    with pytest.raises(LakeStorageError) as error:
        Lakehouse(uri).exists("clips")
    message = str(error.value)
    assert uri in message and "does not exist" in message and "AWS_ENDPOINT_URL" in message
    assert "\n" not in message and len(message) < 400
    with pytest.raises(LakeStorageError, match="no-such-bucket"):
        query("SELECT count(*) FROM clips", uri)
    # what a user sees from the command line: one line, exit 2
    code = main(["ingest", "aishell3", str(corpora["aishell3"].root), "--lake", uri])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith(f"error: cannot open the lakehouse at {uri}: the bucket 'no-such-bucket' does not exist")


def test_an_unreachable_endpoint_is_one_sentence(s3, monkeypatch):
    from speechcraft.warehouse import Lakehouse
    from speechcraft.warehouse.storage import LakeStorageError

    endpoint = f"http://127.0.0.1:{_free_port()}"      # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("OBJECT_STORE_CLIENT_MAX_RETRIES", "0")    # Lance retries 3 times otherwise (~3 s more)
    with pytest.raises(LakeStorageError) as error:
        Lakehouse(LAKE).exists("clips")
    message = str(error.value)
    assert message.startswith(f"cannot open the lakehouse at {LAKE}: the endpoint {endpoint} could not be reached")
    assert "AWS_ACCESS_KEY_ID" in message and "\n" not in message


WRITER = """
import sys
from speechcraft.warehouse import Lakehouse
lake = Lakehouse(sys.argv[1])
for i in range(int(sys.argv[3])):
    lake.upsert("runs", [{"run_id": f"{sys.argv[2]}-{i}", "flow": "ingest", "status": "running"}])
"""


def test_writers_in_two_processes_lose_nothing(s3):
    """The per-table lock is per process; across processes (or machines) Lance's commits on S3 are conditional
    PUTs of the next manifest, so a writer that loses a race retries on top of the winner."""
    import subprocess
    import sys

    from speechcraft.warehouse import Lakehouse

    lake, n = f"s3://{BUCKET}/concurrent", 8
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, lake, tag, str(n)], stderr=subprocess.PIPE, text=True)
               for tag in ("a", "b")]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err[-2000:]
    stored = Lakehouse(lake).read("runs", ["run_id"]).column("run_id").to_pylist()
    assert sorted(stored) == sorted(f"{tag}-{i}" for tag in "ab" for i in range(n))


def test_speechcraft_run_with_the_lakehouse_and_exports_on_s3(s3, corpora, prefect_harness, tmp_path, capsys):
    """The whole pipeline (`speechcraft run --lake s3://...`) into a lakehouse and exports in the bucket; a
    second run with nothing new does nothing."""
    from speechcraft.cli import main
    from speechcraft.warehouse.sql import query

    lake, exports = f"s3://{BUCKET}/pipeline/lake", f"s3://{BUCKET}/pipeline/exports"
    config = tmp_path / "speechcraft.toml"
    config.write_text("\n".join(["[pipeline]", f'export_dir = "{exports}"', "[annotate]", "min_population = 3",
                                 *(line for reader, folder in CORPORA for line in (
                                     "[[sources]]", f'corpus = "{reader}"', f'path = "{corpora[folder].root}"',
                                     "stress = 2"))]) + "\n")
    assert main(["run", "--config", str(config), "--lake", lake]) == 0, capsys.readouterr()
    steps = {r["step"]: r for r in query("SELECT step, status, clips FROM run_stages", lake).to_pylist()}
    assert steps["acoustics"]["clips"] > 0 and steps["check"]["status"] == "completed"
    assert steps["emphasize:aishell3"]["status"] == "skipped"    # regenerated audio needs a local disk
    for fmt in ("parler-tts", "lhotse", "speechcraft"):
        assert steps[f"export:{fmt}"]["status"] == "completed" and steps[f"export:{fmt}"]["clips"] > 0
        assert f"pipeline/exports/{fmt}/export.json" in s3.keys(f"pipeline/exports/{fmt}/")
    assert not s3.keys("pipeline/lake/quality-docs")

    assert main(["run", "--config", str(config), "--lake", lake]) == 0
    latest = query("""SELECT step, status, clips FROM run_stages WHERE run_id = (
                          SELECT arg_max(run_id, started_at) FROM runs WHERE flow = 'pipeline')""", lake).to_pylist()
    assert all(r["clips"] == 0 for r in latest) and {r["status"] for r in latest} <= {"completed", "skipped"}
