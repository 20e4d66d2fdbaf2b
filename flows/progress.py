"""A live progress line for long runs on the terminal (rich); silent when output is not a terminal."""
from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, SpinnerColumn, TextColumn, \
    TimeElapsedColumn


class Progress:
    """`update(counts, completed)`: a text of counts, and how far along when the total is known."""

    def __init__(self, title: str, total: int | None = None, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn()]
        if total is not None:
            columns.append(MofNCompleteColumn())
        self._bar = RichProgress(*columns, TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), transient=False)
        self._task = None
        self.title, self.total = title, total

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.total, counts="starting")
        return self

    def update(self, counts: str, completed: int | None = None) -> None:
        if self._task is not None:
            self._bar.update(self._task, counts=counts, completed=completed)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._bar.stop()
