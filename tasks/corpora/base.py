"""The data model every corpus reader speaks, and the small base class they share.

A reader walks a corpus's metadata (never its audio) and yields, in a stream:
- `ClipSource`: one utterance to ingest — where its audio is, its transcript and the corpus's own labels;
- `Reject`: an input it could not use, with a specific reason.
Opening the audio (decode check, duration, hash) is the ingest task's job, done once per clip.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar


class RejectReason(StrEnum):
    MISSING_AUDIO = "missing_audio"              # metadata points at a file that is not there
    EMPTY_AUDIO = "empty_audio"                  # zero-byte file
    TRUNCATED_AUDIO = "truncated_audio"          # header promises more samples than the file holds
    UNDECODABLE_AUDIO = "undecodable_audio"      # not audio, or a codec error
    MALFORMED_METADATA = "malformed_metadata"    # wrong field count, missing keys, unparsable values
    BAD_ENCODING = "bad_encoding"                # a metadata line that is not UTF-8
    PATH_ESCAPES_ROOT = "path_escapes_root"      # e.g. ../../etc/passwd: never opened
    DUPLICATE_ID = "duplicate_id"                # the same native id seen twice in one scan
    SPAN_OUT_OF_RANGE = "span_out_of_range"      # a segment that ends past its audio
    LISTED_BAD_SAMPLE = "listed_bad_sample"      # the corpus itself lists it as unusable (LibriTTS-R)
    NO_SPEECH_SEGMENT = "no_speech_segment"      # GigaSpeech <SIL>/<MUSIC>/<NOISE>/<OTHER>-only segment
    UNLISTED_AUDIO = "unlisted_audio"            # audio file no metadata line mentions
    AUDIO_CHANGED = "audio_changed"              # a stage found other bytes than ingest hashed: re-ingest


class CorpusLayoutError(Exception):
    """The root is not the named corpus; the message names the file that was expected."""


@dataclass
class ClipSource:
    """One utterance as the corpus describes it (lhotse's recording + supervision, in one row)."""
    corpus: str
    native_id: str
    language: str
    audio_path: Path                   # absolute, inside the corpus root
    subset: str | None = None
    split: str = "train"
    speaker_id: str | None = None
    transcript: str | None = None
    transcript_raw: str | None = None
    start_s: float | None = None       # a span inside a long file (GigaSpeech); None = whole file
    end_s: float | None = None
    meta_gender: str | None = None
    meta_age_group: str | None = None
    meta_accent: str | None = None
    meta_topic: str | None = None
    extras: dict[str, str | float | None] = field(default_factory=dict)

    @property
    def clip_id(self) -> str:
        return f"{self.corpus}/{self.native_id}"


@dataclass
class Reject:
    corpus: str
    source: str                         # audio path relative to the root, or "<metadata relpath>:<line>"
    reason: RejectReason
    detail: str = ""
    native_id: str | None = None

    @property
    def clip_id(self) -> str | None:
        return f"{self.corpus}/{self.native_id}" if self.native_id else None


ScanItem = ClipSource | Reject
# A table parser tells `report(line_number, reason, detail)` about every line it skips.
ReportProblem = Callable[[int, RejectReason, str], None]
Table = TypeVar("Table")


class CorpusReader:
    """Base of the per-corpus readers. A subclass sets `name`, `language`, `subsets` and `required`,
    and implements `scan`; the helpers below build its rejects the same way in every reader.
    Keep readers free of audio decoding and storage."""

    name: str = ""
    language: str = ""
    subsets: tuple[str, ...] = ()      # every subset the corpus defines, in its own spelling
    required: tuple[str, ...] = ()     # files whose absence means "this is not the corpus"
    speaking_style: str = ""           # "read" for audiobook corpora: the emotion stage labels them neutral

    def __init__(self, root: Path | str, subsets: list[str] | None = None):
        self.root = Path(root).resolve()
        self.wanted = list(subsets or [])
        unknown = [s for s in self.wanted if self.subsets and s not in self.subsets]
        if unknown:
            raise ValueError(f"{self.name}: unknown subset(s) {unknown}; choose from {list(self.subsets)}")
        self._seen: set[str] = set()

    def check_layout(self) -> None:
        if not self.root.is_dir():
            raise CorpusLayoutError(f"{self.root} is not a folder")
        for rel in self.required:
            if not (self.root / rel).exists():
                raise CorpusLayoutError(
                    f"{self.root} does not look like {self.name}: expected {self.root / rel}")

    def scan(self) -> Iterator[ScanItem]:
        raise NotImplementedError

    # -- helpers the readers share -------------------------------------------------------------
    def resolve_inside(self, base: Path, rel: str) -> Path | None:
        """`base/rel` made absolute, or None when it lies outside the corpus root (never opened)."""
        path = Path(os.path.normpath(base / rel))
        if os.path.isabs(rel) or not path.is_relative_to(self.root):
            return None
        return path

    def first_sighting(self, native_id: str) -> bool:
        """False (and remembered) when a native id repeats within one scan."""
        if native_id in self._seen:
            return False
        self._seen.add(native_id)
        return True

    def reject(self, source: str, reason: RejectReason, detail: str = "", native_id: str | None = None) -> Reject:
        return Reject(self.name, source, reason, detail, native_id)


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


def read_text_lines(path: Path) -> Iterator[tuple[int, str | None, bytes]]:
    """Yield (1-based line number, decoded line or None if it is not UTF-8, raw bytes), newline stripped.
    Decoding per line means one bad line is rejected and the rest of the file still lands."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            raw = raw.rstrip(b"\r\n")
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield number, raw.decode("utf-8"), raw
            except UnicodeDecodeError:
                yield number, None, raw
