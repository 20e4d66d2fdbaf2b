"""A live progress line for long runs on the terminal (rich); silent when output is not a terminal."""
from __future__ import annotations

import sys

from rich.progress import BarColumn, Progress as RichProgress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Progress:
    def __init__(self, title: str, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = RichProgress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[counts]}"), TimeElapsedColumn(), transient=False)
        self._task = None
        self.title = title

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=None, counts="starting")
        return self

    def update(self, totals) -> None:
        if self._task is not None:
            counts = (f"{totals.scanned} clips · {totals.new} new · {totals.unchanged} unchanged · "
                      f"{totals.rejected} rejected · {totals.audio_seconds / 3600:.2f} h")
            self._bar.update(self._task, counts=counts)

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self._bar.stop()
