"""JSON lines files, one per key, for the formats whose records are JSON objects (lhotse, speechcraft)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from ..target import Target
from .base import FormatWriter, Records


def json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, allow_nan=False, default=str)


@dataclass
class LineRecords(Records):
    """A batch as (file key, JSON record) pairs, in the order they are written."""
    lines: list[tuple[str, dict]] = field(default_factory=list)


class JsonLinesFiles(FormatWriter):
    """Each key's records appended to the file `file_name(key)` (gzipped when it ends in .gz), opened on first
    use. With `one_open`, opening a file closes the others: the rows come grouped by key (one corpus at a
    time), so a key never comes back, and a format with many keys holds one stream open, not one per key."""

    def __init__(self, staged: Target, file_name: Callable[[str], str], one_open: bool = False):
        self.staged, self.file_name, self.one_open = staged, file_name, one_open
        self.files: list[str] = []              # in the order opened: the manifest's order
        self._streams: dict[str, object] = {}

    def stream(self, key: str):
        if key not in self._streams:
            if self.one_open:
                for other in list(self._streams):
                    self._streams.pop(other).close()
            relative = self.file_name(key)
            if relative in self.files:
                raise RuntimeError(f"{relative} was already written by this export")
            self.files.append(relative)
            self._streams[key] = self.staged.open(relative, gzip=relative.endswith(".gz"))
        return self._streams[key]

    def write(self, records: LineRecords) -> None:
        chunks: dict[str, list[str]] = {}       # one write per file and batch
        for key, record in records.lines:
            chunks.setdefault(key, []).append(json_line(record))
        for key, lines in chunks.items():
            self.stream(key).write(("\n".join(lines) + "\n").encode("utf-8"))

    def close(self) -> None:
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()

    def staged_files(self) -> list[tuple[str, str]]:
        return [(relative, relative) for relative in self.files]
