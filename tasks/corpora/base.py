"""The data model every corpus reader speaks, and the small base class they share.

A reader walks a corpus's metadata (never its audio) and yields, in a stream:
- `ClipSource`: one utterance to ingest — where its audio is, its transcript and the corpus's own labels;
- `Reject`: an input it could not use, with a specific reason.
Opening the audio (decode check, duration, hash) is the ingest task's job, done once per clip.
"""
from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, TypeVar


class RejectReason(StrEnum):
    MISSING_AUDIO = "missing_audio"              # metadata points at a file that is not there
    EMPTY_AUDIO = "empty_audio"                  # zero-byte file
    TRUNCATED_AUDIO = "truncated_audio"          # header promises more samples than the file holds
    UNDECODABLE_AUDIO = "undecodable_audio"      # not audio, or a codec error
    MALFORMED_METADATA = "malformed_metadata"    # wrong field count, missing keys, unparsable values
    BAD_ENCODING = "bad_encoding"                # a metadata line in neither UTF-8 nor GB18030
    PATH_ESCAPES_ROOT = "path_escapes_root"      # e.g. ../../etc/passwd: never opened
    DUPLICATE_ID = "duplicate_id"                # the same native id seen twice in one scan
    SPAN_OUT_OF_RANGE = "span_out_of_range"      # a segment that ends past its audio
    LISTED_BAD_SAMPLE = "listed_bad_sample"      # the corpus itself lists it as unusable (LibriTTS-R)
    NO_SPEECH_SEGMENT = "no_speech_segment"      # GigaSpeech <SIL>/<MUSIC>/<NOISE>/<OTHER>-only segment
    UNLISTED_AUDIO = "unlisted_audio"            # audio file no metadata line mentions
    AUDIO_CHANGED = "audio_changed"              # a stage found other bytes than ingest hashed: re-ingest
    RECOVERED_ENCODING = "recovered_encoding"    # a warning: a line read as GB18030, not UTF-8; its clip lands


# Rows of `rejects` that record something done about an input that was still taken, not an input lost.
WARNING_REASONS = frozenset({RejectReason.RECOVERED_ENCODING})
# Chinese text files that are not UTF-8 are usually GBK, which GB18030 extends.
FALLBACK_ENCODING = "gb18030"


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
    extras: dict[str, str | float | None] = field(default_factory=dict)   # the reader's own fields
    reader: str = ""                   # the reader that read it (its registry name: "folder" for folders)
    speaking_style: str = ""           # "read" for audiobooks, else "" (unknown): the emotion stage's prior
    # Warning rows for `rejects` (WARNING_REASONS) that travel with the clip, so they reach the same batch.
    warnings: list[Reject] = field(default_factory=list)

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
    # The `extras` fields that get their own queryable column in `clips`: name -> Arrow type name
    # ("string", "double"); any other extra is kept in the JSON column `extras`.
    extra_columns: ClassVar[dict[str, str]] = {}

    def __init__(self, root: Path | str, subsets: list[str] | None = None):
        self.root = Path(root).resolve()
        self.wanted = list(subsets or [])
        unknown = [s for s in self.wanted if self.subsets and s not in self.subsets]
        if unknown:
            raise ValueError(f"{self.name}: unknown subset(s) {unknown}; choose from {list(self.subsets)}")
        self._seen: set[str] = set()
        self.layouts: dict[str, list[AudioBases]] = {}     # subset -> where its metadata's paths are found
        self.layout_notes: dict[str, str] = {}              # subset -> a remark for the layout report

    def check_layout(self) -> None:
        if not self.root.is_dir():
            raise CorpusLayoutError(f"{self.root} is not a folder")
        for rel in self.required:
            if not (self.root / rel).exists():
                raise CorpusLayoutError(
                    f"{self.root} does not look like {self.name}: expected {self.root / rel}")

    def scan(self) -> Iterator[ScanItem]:
        raise NotImplementedError

    def clips(self) -> Iterator[ScanItem]:
        """`scan`, each clip stamped with the reader that read it and its speaking style (what ingest stores)."""
        for item in self.scan():
            if isinstance(item, ClipSource):
                item.reader = type(self).name
                item.speaking_style = item.speaking_style or self.speaking_style
            yield item

    # -- helpers the readers share -------------------------------------------------------------
    def audio_bases(self, folders: Iterable[Path], listed_in: Path, labels: dict[Path, str] | None = None
                    ) -> AudioBases:
        """The folders the relative paths in the metadata file `listed_in` may be relative to, in order."""
        return AudioBases(self.root, folders, self.file_source(listed_in), labels)

    def find_layouts(self, layouts: dict[str, list[AudioBases]], listed: Iterable[tuple[AudioBases, str]]) -> None:
        """Before any clip is read: look up the (bases, relative path) pairs of the subsets' metadata until each
        bases of `layouts` (subset -> the bases of its metadata files) has found a file, so each tries that
        folder first. A bases none of whose paths exists anywhere is a layout error naming what was tried, not
        one missing_audio reject per line. The layouts are kept for `layout_report`."""
        pending = {id(bases) for group in layouts.values() for bases in group}
        for bases, relpath in listed:
            if id(bases) in pending:
                bases.resolve(relpath)
                if bases.found:
                    pending.discard(id(bases))
                    if not pending:
                        break
        for subset, group in layouts.items():
            for bases in group:
                if bases.missing and not bases.found:
                    raise CorpusLayoutError(f"{self.name}: subset {subset}: {bases.nothing_found()}")
                bases.restart()
        self.layouts = layouts

    def layout_report(self) -> list[str]:
        """One line per subset: where the paths of its metadata were found (counts from the last scan)."""
        report = [f"{subset}: " + "; ".join(bases.summary() for bases in group)
                  for subset, group in self.layouts.items()]
        return report + [f"{subset}: {note}" for subset, note in self.layout_notes.items()]

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

    # -- metadata lines that name clips ---------------------------------------------------------
    def read_lines(self, path: Path, read_line: Callable[[int, str], ScanItem | None]) -> Iterator[ScanItem]:
        """`read_line(number, text)` over every line of `path`, each outcome then judged by how the line
        decoded: a GB18030 line keeps its clip, with a `recovered_encoding` warning; a line in neither encoding
        is `bad_encoding`, naming the clip its (usually ASCII) id part gives. None from `read_line`: skip."""
        for line in text_lines(path):
            item = read_line(line.number, line.text)
            if item is not None:
                yield self.judge_encoding(path, line, item)

    def judge_encoding(self, path: Path, line: TextLine, item: ScanItem) -> ScanItem:
        if line.encoding == "utf-8":
            return item
        source = self.line_source(path, line.number)
        if line.encoding is None:
            named = item.native_id if item.native_id and "\ufffd" not in item.native_id else None
            return self.reject(source, RejectReason.BAD_ENCODING, NEITHER_ENCODING, named)
        if isinstance(item, Reject):
            item.detail += f" ({READ_AS_FALLBACK})"
        else:
            item.warnings.append(self.reject(source, RejectReason.RECOVERED_ENCODING, READ_AS_FALLBACK,
                                             item.native_id))
        return item

    # -- rejects the readers raise the same way --------------------------------------------------
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


class AudioBases:
    """Where the relative paths of one metadata file point. A corpus whose layout is not certain (zhvoice's
    archives unpack several ways) is read by trying each path against every folder its documented layouts
    allow and taking the one that holds the file; the folder that held the last file is tried first, so a
    consistent file costs one lookup a line. A reading outside the corpus root is never looked at."""

    def __init__(self, root: Path, folders: Iterable[Path], listed_in: str, labels: dict[Path, str] | None = None):
        self.root = root
        self.folders = list(dict.fromkeys(folders))
        self.listed_in = listed_in               # the metadata file, relative to the root
        self.labels = labels or {}               # folder -> a note on what reading paths under it means
        self.found: Counter[Path] = Counter()    # folder -> paths found under it
        self.missing = 0                         # paths found under none of the folders
        self.example: str | None = None          # the first path looked up, for a layout error

    def readings(self, relpath: str) -> list[tuple[Path, Path]]:
        """(folder, absolute path) for each folder under which `relpath` stays inside the root."""
        if os.path.isabs(relpath):
            return []
        readings = [(folder, Path(os.path.normpath(folder / relpath))) for folder in self.folders]
        return [(folder, path) for folder, path in readings if path.is_relative_to(self.root)]

    def resolve(self, relpath: str) -> Path | None:
        """The first reading whose file exists; else the reading under the preferred folder (a clip whose audio
        is missing names that path); None when every reading lies outside the root."""
        readings = self.readings(relpath)
        if not readings:
            return None
        self.example = self.example or relpath
        for folder, path in readings:
            if path.exists():
                self.found[folder] += 1
                if folder != self.folders[0]:
                    self.folders.remove(folder)
                    self.folders.insert(0, folder)
                return path
        self.missing += 1
        return readings[0][1]

    def restart(self) -> None:
        """Forget the counts (the preferred folder stays first): a scan reports its own."""
        self.found.clear()
        self.missing = 0

    def note(self, folder: Path) -> str:
        return "the corpus root" if folder == self.root else self.labels.get(folder, "")

    def label(self, folder: Path) -> str:
        """How the layout report names a folder: relative to the root, with its note."""
        if folder == self.root:
            return self.note(folder)
        relative = f"{Path(os.path.relpath(folder, self.root)).as_posix()}/"
        return f"{relative} ({self.note(folder)})" if self.note(folder) else relative

    def summary(self) -> str:
        found = [f"{count} {plural(count, 'line')} relative to {self.label(folder)}"
                 for folder, count in self.found.most_common()]
        missing = [f"{self.missing} {plural(self.missing, 'line')} found nowhere"] if self.missing else []
        return f"{self.listed_in}: " + ", ".join(found + missing or ["no lines"])

    def nothing_found(self) -> str:
        tried = " and ".join(f"{folder}/" + (f" ({self.note(folder)})" if self.note(folder) else "")
                             for folder in self.folders)
        example = ", ".join(str(path) for _, path in self.readings(self.example or ""))
        return (f"none of the {self.missing} {plural(self.missing, 'line')} of {self.listed_in} names a file that "
                f"exists. Each path was tried relative to {tried}; {self.example!r}, for one, is at none of: "
                f"{example}. Is the corpus unpacked in another layout, or its audio converted to another format?")


def plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


NEITHER_ENCODING = f"line is neither UTF-8 nor {FALLBACK_ENCODING.upper()}"
READ_AS_FALLBACK = f"line is not UTF-8; read as {FALLBACK_ENCODING.upper()}"


@dataclass(frozen=True)
class TextLine:
    number: int                  # 1-based
    text: str                    # newline stripped
    encoding: str | None         # "utf-8", FALLBACK_ENCODING, or None: neither (the bad bytes read as U+FFFD)


def decode_text(raw: bytes) -> tuple[str, str | None]:
    """(text, encoding) of bytes read from a metadata or transcript file: UTF-8 (a leading BOM dropped), else
    GB18030, else UTF-8 with U+FFFD for the bytes that are not, so the readable part (an ASCII id) still names
    its clip."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    for encoding in ("utf-8", FALLBACK_ENCODING):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return raw.decode("utf-8", "replace"), None


def text_lines(path: Path) -> Iterator[TextLine]:
    """Every line of `path` that is not blank, decoded line by line: one bad line is judged on its own and the
    rest of the file still lands. Blank lines (a trailing newline, an empty last line) carry nothing."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            text, encoding = decode_text(raw.rstrip(b"\r\n"))
            if text.strip():
                yield TextLine(number, text, encoding)
