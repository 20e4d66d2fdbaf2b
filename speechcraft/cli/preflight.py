"""What runs before a command's flow: keep Prefect and great-expectations quiet and offline, and open a
lakehouse on object storage once, so that a wrong bucket or endpoint is one line instead of a flow's traceback."""
from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path


def quiet_services(foreground: bool = True) -> None:
    # No network here and on many users' clusters: never phone home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if foreground:      # a served deployment keeps Prefect's tracebacks: its logs are all there is
        import logging

        for name in ("prefect.flow_runs", "prefect.task_runs"):
            logging.getLogger(name).addFilter(_one_line_user_errors)


def _one_line_user_errors(record) -> bool:
    """Prefect logs a flow's exception with its traceback before the command sees it. For the errors a
    command answers with one `error:` line (the project's own, and bad values or missing packages), that
    traceback reads as a crash: keep the log line, drop the traceback. Anything else keeps it."""
    error = record.exc_info[1] if record.exc_info else None
    if error is not None and (isinstance(error, (ValueError, ImportError))
                              or type(error).__module__.startswith("speechcraft.")):
        record.exc_info = record.exc_text = None
    return True


def lake_reachable(lake: str) -> bool:
    """A lakehouse on object storage is opened before any flow starts, so a wrong bucket, endpoint or
    credentials is one line naming what to set, not a flow's traceback. Local folders are never created
    by this check."""
    from ..warehouse.lake import resolve_lake_uri
    from ..warehouse.storage import LakeStorageError, is_remote

    if not is_remote(resolve_lake_uri(lake)):
        return True
    from ..warehouse import Lakehouse

    try:
        Lakehouse(lake).open()
    except LakeStorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


class PrefectServerError(RuntimeError):
    """Prefect's temporary server did not come up."""


# A busy machine (a test suite or another run beside this one) can take longer than Prefect's default 20 s
# to start the server; the early start below waits at least this long.
MIN_SERVER_STARTUP_S = 90


def start_prefect_server_early() -> Callable[[], AbstractContextManager]:
    """Without a Prefect API (a plain command), the first flow would start Prefect's temporary server and wait
    for it: seconds during which this process does nothing. Started here instead, it comes up while this
    process imports the pipeline. Prefect's own launcher (`SubprocessASGIServer`) is not used: importing it
    loads the whole server app into this process (3 s that hold the GIL against the pipeline's own imports,
    so the server used to be ready twice as late); the server process is the very one it runs. The returned
    function waits for the server (PrefectServerError if it never comes up) and gives the settings context
    the flow must run in, pointing Prefect at it; the server stops when this process exits."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED, \
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, get_current_settings

    from ..flows.schedules import LocalServer, healthy

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return nullcontext
    timeout = max(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), MIN_SERVER_STARTUP_S)
    port = _free_port()
    prefect_root = Path(importlib.util.find_spec("prefect").origin).parent.parent
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect_root), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        # what Prefect's launcher gives it: this process's settings, no UI, the temporary server's mode
        env={**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
             "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"})
    api_url = f"http://127.0.0.1:{port}/api"
    # Stopped at exit: a server left running would hold this process's stdout open (whatever reads our output
    # would wait forever). Registered before the flow starts Prefect's own exit handlers, so it runs after
    # them (they still send the last events and logs to this server).
    stop = LocalServer(api_url, server).stop
    atexit.register(stop)

    def ready() -> AbstractContextManager:
        from prefect.settings import temporary_settings

        deadline = time.monotonic() + timeout
        while not healthy(api_url):
            if server.poll() is not None or time.monotonic() > deadline:
                why = f"it exited with code {server.returncode}" if server.poll() is not None else \
                    f"not within {timeout} s"
                stop()
                raise PrefectServerError(
                    f"Prefect's temporary server did not start ({why}). On a busy machine raise "
                    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run `prefect server start` and set "
                    "PREFECT_API_URL to it.")
            time.sleep(0.1)
        return temporary_settings(updates={PREFECT_API_URL: api_url})

    return ready


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
