"""What the corpus readers share: reading metadata tables line by line, naming where a reject came from,
the cheap audio checks a reader may do without opening a file, and choosing the subsets to scan.

Table parsers (speaker lists, prosody labels, ...) are plain functions `parse(path, report) -> table` so a
test can call them directly; they tell `report(line_number, reason, detail)` about every line they skip.
`StreamingReader.load_table` turns those reports into `Reject`s of the reader's stream.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from .base import CorpusLayoutError, CorpusReader, Reject, RejectReason, read_text_lines

ReportProblem = Callable[[int, RejectReason, str], None]
Table = TypeVar("Table")

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


def audio_problem(path: Path) -> tuple[RejectReason, str] | None:
    """Why the audio at `path` cannot be a clip, judged from one stat (never opened), or None.
    Only call it for paths already known to be inside the corpus root."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return RejectReason.MISSING_AUDIO, "no such file"
    except OSError as error:   # e.g. a path component that is a file, or a permission error
        return RejectReason.MISSING_AUDIO, f"cannot stat: {error.strerror or error}"
    if not stat.S_ISREG(info.st_mode):
        return RejectReason.MISSING_AUDIO, "not a regular file"
    if info.st_size == 0:
        return RejectReason.EMPTY_AUDIO, "file has 0 bytes"
    return None


class StreamingReader(CorpusReader):
    """A CorpusReader with the reject and subset helpers the concrete readers share."""

    # -- where a reject came from ------------------------------------------------------------------
    def file_source(self, path: Path) -> str:
        """A path relative to the root, in '/' form; a file beside the root comes out as '../…'."""
        return Path(os.path.relpath(path, self.root)).as_posix()

    def line_source(self, path: Path, number: int) -> str:
        return f"{self.file_source(path)}:{number}"

    # -- rejects the readers raise the same way --------------------------------------------------
    def bad_encoding(self, path: Path, number: int) -> Reject:
        return self.reject(self.line_source(path, number), RejectReason.BAD_ENCODING, "line is not UTF-8")

    def malformed(self, path: Path, number: int, detail: str, native_id: str | None = None) -> Reject:
        return self.reject(self.line_source(path, number), RejectReason.MALFORMED_METADATA, detail, native_id)

    def escapes_root(self, source: str, target: str, native_id: str | None = None) -> Reject:
        return self.reject(source, RejectReason.PATH_ESCAPES_ROOT, f"{target!r} lies outside the corpus root",
                           native_id)

    def duplicate(self, source: str, native_id: str) -> Reject:
        return self.reject(source, RejectReason.DUPLICATE_ID, f"{native_id} was already seen in this scan",
                           native_id)

    def check_audio(self, audio_path: Path, native_id: str) -> Reject | None:
        """A missing_audio / empty_audio reject for a clip's file (source: the audio path), or None."""
        problem = audio_problem(audio_path)
        if problem is None:
            return None
        reason, detail = problem
        return self.reject(self.file_source(audio_path), reason, detail, native_id)

    def check_clip(self, line_source: str, audio_path: Path, native_id: str) -> Reject | None:
        """The checks every per-line clip goes through once its metadata parsed: repeat id, then its audio."""
        if not self.first_sighting(native_id):
            return self.duplicate(line_source, native_id)
        return self.check_audio(audio_path, native_id)

    def load_table(self, parse: Callable[[Path, ReportProblem], Table], path: Path) -> Iterator[Reject]:
        """Run a table parser over `path`, yield a Reject per line it skipped, and return its table
        (use as `table = yield from self.load_table(parse, path)`)."""
        rejects: list[Reject] = []

        def report(number: int, reason: RejectReason, detail: str) -> None:
            rejects.append(self.reject(self.line_source(path, number), reason, detail))

        table = parse(path, report)
        yield from rejects
        return table

    # -- subsets ---------------------------------------------------------------------------------
    def choose_subsets(self, present: list[str], expected: Callable[[str], Path], fallback: Path) -> list[str]:
        """The subsets to scan: the ones asked for, each of which must be on disk (`expected(subset)` names
        what is missing), else every subset present in the corpus's own order (`fallback` names what a
        corpus with none would need)."""
        if self.wanted:
            for subset in self.wanted:
                if subset not in present:
                    raise CorpusLayoutError(
                        f"{self.name}: subset {subset!r} was asked for but {expected(subset)} does not exist")
            return list(dict.fromkeys(self.wanted))
        chosen = [subset for subset in self.subsets if subset in present]
        if not chosen:
            raise CorpusLayoutError(f"{self.root} does not look like {self.name}: expected {fallback}")
        return chosen

