"""`speechcraft serve`: one Prefect deployment of the pipeline per scheduled source, served against a
Prefect server; when none is configured, a local one (SQLite under PREFECT_HOME) is started for it.

Each deployment runs the whole pipeline for its source: ingest what is new in that corpus, then every
stage over whatever is pending, the check and the exports. Its concurrency limit is 1, and every run takes
the lakehouse's writer lock, so runs that overlap take turns.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

SERVER_START_S = 120           # a cold first start migrates the SQLite database


class ScheduleError(ValueError):
    pass


def scheduled_deployments(config: dict, lake_uri: str) -> list:
    """A RunnerDeployment of pipeline_flow for every [[sources]] entry with a schedule or an interval."""
    from prefect.deployments.runner import EntrypointType

    from .pipeline import pipeline_arguments, pipeline_flow, source_corpus

    arguments = pipeline_arguments(config)
    deployments = []
    for source in config.get("sources", []):
        if "schedule" not in source and "interval" not in source:
            continue
        name = source_corpus(source)
        when = {"cron": source["schedule"]} if "schedule" in source else {"interval": source["interval"]}
        deployments.append(pipeline_flow.to_deployment(
            name=f"pipeline-{name}", **when, concurrency_limit=1, tags=["speechcraft", name],
            description=f"speechcraft run for {source['corpus']} at {source['path']}",
            parameters={**arguments, "sources": [source], "lake_uri": lake_uri, "show_progress": False},
            entrypoint_type=EntrypointType.MODULE_PATH))
    if not deployments:
        raise ScheduleError("no source in the project config has a schedule: give a [[sources]] entry "
                            "schedule = \"CRON\" or interval = SECONDS")
    return deployments


@dataclass
class LocalServer:
    url: str
    process: subprocess.Popen | None     # None: one was already running there

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_local_server(host: str, port: int, log_path: str) -> LocalServer:
    """A Prefect server on host:port (SQLite in PREFECT_HOME), or the one already answering there."""
    url = f"http://{host}:{port}/api"
    if healthy(url):
        return LocalServer(url, None)
    prefect = shutil.which("prefect", path=os.path.dirname(sys.executable)) or shutil.which("prefect")
    if prefect is None:
        raise ScheduleError("the `prefect` command is not installed beside this Python")
    with open(log_path, "ab") as log:
        process = subprocess.Popen([prefect, "server", "start", "--host", host, "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ScheduleError(f"the local Prefect server exited ({process.returncode}); its log: {log_path}")
        if healthy(url):
            return LocalServer(url, process)
        time.sleep(0.5)
    LocalServer(url, process).stop()
    raise ScheduleError(f"the local Prefect server did not answer within {SERVER_START_S} s; its log: {log_path}")


def register_with_pool(deployments: list, pool: str) -> None:
    """Register the deployments with a work pool (a process pool, created when missing): workers started on
    any machine with `prefect worker start --pool POOL` run their scheduled runs. Each worker machine needs
    this package installed and the corpora and lakehouse at the same paths (or the lakehouse on s3://)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass
    for deployment in deployments:
        deployment.apply(work_pool_name=pool)


def serve(deployments: list) -> None:
    """Serve the deployments until interrupted: their scheduled runs execute here, one process each."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments, print_starting_message=False)
