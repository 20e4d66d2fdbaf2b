"""The command line as a user meets it: help text, and the fixture builder's own entry point."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "speechcraft.cli", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for command in ("ingest", "sql", "demo"):
        assert command in out
    ingest = subprocess.run([sys.executable, "-m", "speechcraft.cli", "ingest", "--help"], capture_output=True,
                            text=True, check=True).stdout
    for corpus in ("aishell3", "libritts-r", "gigaspeech", "zhvoice", "folder", "--subset", "--lake"):
        assert corpus in ingest


def test_help_does_not_import_the_heavy_libraries():
    probe = ("import sys; from speechcraft.cli import build_parser; build_parser(); "
             "print(sorted(m for m in ('prefect', 'lancedb', 'lance', 'duckdb', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_corpus_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "speechcraft.cli", "ingest", "timit", "/tmp"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice" in result.stderr


def _relations() -> list[str]:
    from speechcraft.warehouse.schema import TABLES
    from speechcraft.warehouse.views import VIEWS

    return sorted(TABLES) + sorted(VIEWS)


def test_every_format_prints_every_table_and_view(checked_lake, capsys):
    """Lists (flags), vectors (search embeddings), structs: each relation in each format, from the CLI."""
    import csv
    import io
    import json

    from speechcraft.cli import main

    for relation in _relations():
        for fmt in ("table", "csv", "json"):
            code = main(["sql", "--lake", checked_lake, "--format", fmt, f"SELECT * FROM {relation} LIMIT 3"])
            out, err = capsys.readouterr()
            assert code == 0, (relation, fmt, err)
            if fmt == "csv":
                rows = list(csv.DictReader(io.StringIO(out)))
                if relation == "clip_annotations":
                    assert rows and all(json.loads(row["flags"]) is not None for row in rows)
            elif fmt == "json":
                json.loads(out)


def test_nested_and_binary_values_print_as_json_text():
    import csv
    import io
    import json

    import pyarrow as pa

    from speechcraft.cli import write_result

    table = pa.table({
        "flags": pa.array([["no_speech", "clipped"], [], None], pa.list_(pa.string())),
        "vector": pa.array([[0.5, 1.0], [float("-inf"), 0.0], None], pa.list_(pa.float16(), 2)),
        "span": pa.array([{"start": 0.1, "word": "天"}, None, {"start": 2.0, "word": "b"}]),
        "tags": pa.array([[("k", 1)], None, []], pa.map_(pa.string(), pa.int64())),
        "digest": pa.array([b"\x01\xff", None, b""], pa.binary()),
    })
    out = io.StringIO()
    write_result(table, "csv", out)
    first = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert json.loads(first["flags"]) == ["no_speech", "clipped"]
    assert json.loads(first["vector"]) == [0.5, 1.0]
    assert json.loads(first["span"]) == {"start": 0.1, "word": "天"}
    assert first["digest"] == "01ff"
    out = io.StringIO()
    write_result(table, "json", out)
    rows = json.loads(out.getvalue())
    assert rows[1]["vector"] == [None, 0.0]            # -inf has no JSON spelling: null, as in flat columns
    out = io.StringIO()
    write_result(table, "table", out)
    assert '["no_speech", "clipped"]' in out.getvalue()


PROBE_SERVER_DEADLINE = """
from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings
from speechcraft.cli import preflight

started = []
launch = preflight.subprocess.Popen
preflight.subprocess.Popen = lambda *args, **kwargs: started.append(launch(*args, **kwargs)) or started[-1]
preflight.MIN_SERVER_STARTUP_S = 0
with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 1}):
    try:
        preflight.start_prefect_server_early()()
    except preflight.PrefectServerError as exc:
        print(exc)
print("launched", len(started), "running", sum(process.poll() is None for process in started))
"""


def test_a_prefect_server_that_never_comes_up_is_stopped_and_named(tmp_path):
    """`speechcraft run` starts Prefect's temporary server early; one that misses its deadline is stopped (it
    would outlive the command, holding its stdout open) and the error says what to do. In a process of its own:
    no test server's PREFECT_API_URL, and its output must end (an orphaned server would keep the pipe open)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    out = subprocess.run([sys.executable, "-c", PROBE_SERVER_DEADLINE], capture_output=True, text=True, env=env,
                         timeout=120).stdout
    assert "did not start (not within 1 s)" in out and "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in out, out
    assert "launched 1 running 0" in out, out


PROBE_EARLY_SERVER = """
from prefect import flow, get_client
from speechcraft.cli import preflight

ready = preflight.start_prefect_server_early()

@flow
def probe() -> str:
    with get_client(sync_client=True) as client:
        return f"{client.api_url} flow runs: {len(client.read_flow_runs())}"

with ready():
    print(probe())
"""


def test_run_starts_prefects_server_itself_and_its_flows_report_there(tmp_path):
    """The server `speechcraft run` starts early is the one its flows report to (no second, ephemeral one),
    and it is gone when the command ends: the command's output ends, and its port is closed."""
    import socket

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    out = subprocess.run([sys.executable, "-c", PROBE_EARLY_SERVER], capture_output=True, text=True, env=env,
                         timeout=180).stdout
    url, runs = out.strip().splitlines()[-1].split(" flow runs: ")
    assert url.startswith("http://127.0.0.1:") and url.endswith("/api/") and runs == "1", out
    with socket.socket() as probe, pytest.raises(OSError):
        probe.connect(("127.0.0.1", int(url.split(":")[2].split("/")[0])))


PROBE_COMMAND_EXIT = """
import atexit
from speechcraft import cli

def main(argv=None):
    atexit.register(lambda: print("a handler registered by the command ran", flush=True))
    print("output written by the command", end="")
    return 3

cli.main = main
cli.command()
"""


def test_the_console_script_ends_after_every_exit_handler_with_mains_status():
    """`command` ends the process without the interpreter's teardown, but only after the last exit handler
    (the early server's stop is one), with main's status and its output flushed."""
    result = subprocess.run([sys.executable, "-c", PROBE_COMMAND_EXIT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "output written by the command" + "a handler registered by the command ran\n"


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`speechcraft sql ... | head -1`: the pipe closes under the command; it ends quietly."""
    command = subprocess.Popen([sys.executable, "-m", "speechcraft.cli", "sql", "SELECT * FROM range(200000)",
                                "--lake", str(tmp_path / "lake")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b"range" in command.stdout.readline() + command.stdout.readline()
    command.stdout.close()
    stderr = command.stderr.read().decode()
    assert command.wait(timeout=120) in (0, 1) and "Traceback" not in stderr, stderr


def test_the_embedders_libraries_are_imported_by_the_caller_not_in_the_background():
    """torch imported by a background thread is half-initialised to other threads' imports meanwhile (scipy
    read `torch.Tensor` off it and a run crashed): `preload_embedder` imports in the calling thread and only
    loads the model in the background."""
    pytest.importorskip("sentence_transformers")
    probe = ("import sys, threading; from speechcraft.tasks.search_index import preload_embedder; "
             "loading = preload_embedder(); "
             "print('torch' in sys.modules and hasattr(sys.modules['torch'], 'Tensor'), "
             "'sentence_transformers' in sys.modules, loading is not threading.current_thread()); loading.join()")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["True", "True", "True"], out.stderr[-2000:]
