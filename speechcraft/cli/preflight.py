"""What runs before a command's flow: keep Prefect and great-expectations quiet and offline, and open a
lakehouse on object storage once, so that a wrong bucket or endpoint is one line instead of a flow's traceback."""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable


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


def start_prefect_server_early() -> Callable[[], None]:
    """Without a Prefect API (a plain command), the first flow starts Prefect's temporary server in a
    subprocess and waits for it: seconds, during which this process does nothing. Started here, in a
    thread, it comes up while this process imports the pipeline (the other seconds of start-up); the
    returned function waits for it before the first flow and raises PrefectServerError if it never came up."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED, \
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return lambda: None
    timeout = max(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(), MIN_SERVER_STARTUP_S)
    failures: list[Exception] = []

    def start() -> None:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        try:
            server.start(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - reported by ready(), in the main thread
            # A start that timed out leaves its server process running, holding this process's stdout open:
            # stop it, or it outlives this command (and whatever reads our output waits for it forever).
            server.stop()
            failures.append(exc)

    thread = threading.Thread(target=start, name="prefect-server-start", daemon=True)
    thread.start()

    def ready() -> None:
        thread.join()
        if failures:
            raise PrefectServerError(
                f"Prefect's temporary server did not start within {timeout} s ({failures[0]}). On a busy "
                "machine raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run `prefect server start` "
                "and set PREFECT_API_URL to it.")

    return ready
