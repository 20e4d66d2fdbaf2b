"""Line-level helpers the corpus readers share for their metadata tables.

Table parsers (speaker lists, prosody labels, ...) are plain functions `parse(path, report) -> table` so a
test can call them directly; they tell `report(line_number, reason, detail)` about every line they skip.
`CorpusReader.load_table` turns those reports into `Reject`s of the reader's stream.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .base import ReportProblem, RejectReason, read_text_lines

GENDERS = {"f": "female", "female": "female", "m": "male", "male": "male"}


def ignore_problem(number: int, reason: RejectReason, detail: str) -> None:
    """The default `report` of the table parsers: callers that only want the table skip bad lines quietly."""


def normalise_gender(value: str) -> str | None:
    """`female` / `male` from the spellings the corpora use (F, M, female, male), else None."""
    return GENDERS.get(value.strip().lower())


def content_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(1-based line number, text) of every line that is not blank; text is None when the line is not UTF-8.
    Blank lines (a trailing newline, an empty last line) carry nothing, so they are not reported."""
    for number, text, raw in read_text_lines(path):
        if text is None:
            if raw.strip():
                yield number, None
        elif text.strip():
            yield number, text


def table_lines(path: Path, report: ReportProblem, comment: str | None = None) -> Iterator[tuple[int, str]]:
    """The decoded data lines of a small table: comment lines skipped, undecodable lines reported."""
    for number, text in content_lines(path):
        if text is None:
            report(number, RejectReason.BAD_ENCODING, "line is not UTF-8")
        elif comment is None or not text.lstrip().startswith(comment):
            yield number, text


