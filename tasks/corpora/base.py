"""The data model every corpus reader speaks, and the small base class they share.

A reader walks a corpus's metadata (never its audio) and yields, in a stream:
- `ClipSource`: one utterance to ingest — where its audio is, its transcript and the corpus's own labels;
- `Reject`: an input it could not use, with a specific reason.
Opening the audio (decode check, duration, hash) is the ingest task's job, done once per clip.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


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


class CorpusReader:
    """Base of the per-corpus readers. A subclass sets `name`, `language`, `subsets` and `required`,
    and implements `scan`. Keep readers free of audio decoding and storage."""

    name: str = ""
    language: str = ""
    subsets: tuple[str, ...] = ()      # every subset the corpus defines, in its own spelling
    required: tuple[str, ...] = ()     # files whose absence means "this is not the corpus"

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
    def relpath(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

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
