"""Line-level helpers the corpus readers share for their metadata tables.

Table parsers (speaker lists, prosody labels, ...) are plain functions `parse(path, report) -> table` so a
test can call them directly; they tell `report(line_number, reason, detail)` about every line they skip.
`CorpusReader.load_table` turns those reports into `Reject`s of the reader's stream.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...vocabulary import GENDERS
from .base import NEITHER_ENCODING, READ_AS_FALLBACK, ReportProblem, RejectReason, text_lines

# How the corpora spell a gender: the word, or its initial (F, M), in any case.
GENDER_SPELLINGS = {spelling: gender for gender in GENDERS for spelling in (gender, gender[0])}


def ignore_problem(number: int, reason: RejectReason, detail: str) -> None:
    """The default `report` of the table parsers: callers that only want the table skip bad lines quietly."""


def normalise_gender(value: str) -> str | None:
    """`female` / `male` from the spellings the corpora use (F, M, female, male), else None."""
    return GENDER_SPELLINGS.get(value.strip().lower())


def table_lines(path: Path, report: ReportProblem, comment: str | None = None) -> Iterator[tuple[int, str]]:
    """The decoded data lines of a small table, comment lines skipped. A GB18030 line is kept and reported as
    `recovered_encoding` (a warning); a line in neither encoding is reported as `bad_encoding` and skipped."""
    for line in text_lines(path):
        if line.encoding is None:
            report(line.number, RejectReason.BAD_ENCODING, NEITHER_ENCODING)
            continue
        if line.encoding != "utf-8":
            report(line.number, RejectReason.RECOVERED_ENCODING, READ_AS_FALLBACK)
        if comment is None or not line.text.lstrip().startswith(comment):
            yield line.number, line.text
