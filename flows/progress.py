"""Progress of long work, in two places: a live bar on the terminal (rich; silent when output is not a
terminal) and, inside a Prefect flow run, a progress artifact in Prefect's UI (updated at most every few
seconds, so a big stage does not flood the API)."""
from __future__ import annotations

import sys
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn, TextColumn, \
    TimeElapsedColumn

ARTIFACT_EVERY_S = 5.0


class Progress:
    """`update(counts, completed)`: a text of counts, and how far along when the total is known."""

    def __init__(self, title: str, total: int | None = None, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn()]
        if total is not None:
            columns.append(MofNCompleteColumn())
        self._bar = RichProgress(*columns, TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), transient=False)
        self._task = None
        self._artifact = None
        self._artifact_at = 0.0
        self._completed = 0
        self.title, self.total = title, total

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.total, counts="starting")
        self._artifact = _start_artifact(self.title) if self.total else None
        return self

    def update(self, counts: str, completed: int | None = None) -> None:
        if self._task is not None:
            self._bar.update(self._task, counts=counts, completed=completed)
        self._completed = completed if completed is not None else self._completed
        if self._artifact and completed is not None and time.monotonic() - self._artifact_at >= ARTIFACT_EVERY_S:
            self._push(completed, counts)

    def _push(self, completed: int, counts: str) -> None:
        from prefect.artifacts import update_progress_artifact

        self._artifact_at = time.monotonic()
        update_progress_artifact(self._artifact, progress=100.0 * completed / self.total,
                                 description=f"{self.title}: {counts}")

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._bar.stop()
        if self._artifact:
            if exc[0] is None:
                self._push(self.total, "finished")
            else:
                self._push(self._completed, f"stopped: {exc[0].__name__}")


def _start_artifact(title: str):
    """A progress artifact on the current flow run; None outside one."""
    from prefect.artifacts import create_progress_artifact
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:
        return None
    return create_progress_artifact(progress=0.0, description=f"{title}: starting")
