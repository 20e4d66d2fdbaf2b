"""LibriTTS-R (OpenSLR 141): per-chapter `trans.tsv` files list the clips; `speakers.tsv` or `SPEAKERS.txt`
give gender, `CHAPTERS.txt` the book, `*.book.tsv` the SNR, and the corpus's own bad-sample lists name
clips whose speech restoration failed."""
from __future__ import annotations

import math
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ._common import ignore_problem, normalise_gender, table_lines
from .base import AudioBases, ClipSource, CorpusReader, Reject, RejectReason, ReportProblem, ScanItem

BAD_SAMPLE_FOLDER = "libritts_r_failed_speech_restoration_examples"
RESOURCE_FORK = "._"        # macOS metadata files shipped inside the tarballs: not part of the corpus


def split_of(subset: str) -> str:
    return subset.split("-")[0]       # dev-clean -> dev, train-other-500 -> train


def is_speaker_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def read_speakers_tsv(path: Path, report: ReportProblem = ignore_problem) -> dict[str, str]:
    """speaker id -> female / male from speakers.tsv. Its header is `READER\\tGENDER\\tSUBSET NAME` (a space,
    not a tab, before NAME) and a row may end in an empty name (`60\\tM\\ttrain-clean-100\\t`), so rows are
    read by position and only the first two fields are required."""
    genders: dict[str, str] = {}
    for number, line in table_lines(path, report):
        fields = line.split("\t")
        if fields[0].strip().upper() == "READER":
            continue
        record = _speaker_gender(fields)
        if record is None:
            report(number, RejectReason.MALFORMED_METADATA, "expected a numeric reader id and F/M gender")
        else:
            genders[record[0]] = record[1]
    return genders


def read_speakers_txt(path: Path, report: ReportProblem = ignore_problem) -> dict[str, str]:
    """speaker id -> female / male from the LibriSpeech-style SPEAKERS.txt (`;` comments,
    `ID | SEX | SUBSET | MINUTES | NAME`; a name may itself contain `|`, hence the maxsplit)."""
    genders: dict[str, str] = {}
    for number, line in table_lines(path, report, comment=";"):
        record = _speaker_gender(line.split("|", 4))
        if record is None:
            report(number, RejectReason.MALFORMED_METADATA, "expected a numeric reader id and F/M gender")
        else:
            genders[record[0]] = record[1]
    return genders


def _speaker_gender(fields: list[str]) -> tuple[str, str] | None:
    if len(fields) < 2:
        return None
    speaker, gender = fields[0].strip(), normalise_gender(fields[1])
    if not is_speaker_number(speaker) or gender is None:
        return None
    return speaker, gender


def read_chapters_txt(path: Path, report: ReportProblem = ignore_problem) -> dict[str, str]:
    """chapter id -> project (book) title from CHAPTERS.txt (`;` comments; `|` fields: id, reader, minutes,
    subset, project id, book id, chapter title, project title). A chapter title may contain `|`, so the
    project title is taken as the last field."""
    titles: dict[str, str] = {}
    for number, line in table_lines(path, report, comment=";"):
        fields = line.split("|")
        chapter, title = fields[0].strip(), fields[-1].strip()
        if len(fields) < 8 or not is_speaker_number(chapter) or not title:
            report(number, RejectReason.MALFORMED_METADATA, "expected 8 '|'-separated fields with a numeric id")
            continue
        titles[chapter] = title
    return titles


def read_book_snr(path: Path, report: ReportProblem = ignore_problem) -> dict[str, float | None]:
    """utterance id -> SNR from a chapter's 7-column `.book.tsv` (id, original, normalized, aligned,
    start, end, snr). An empty or non-finite SNR is kept as None."""
    snr: dict[str, float | None] = {}
    for number, line in table_lines(path, report):
        fields = line.split("\t")
        if len(fields) != 7:
            report(number, RejectReason.MALFORMED_METADATA, f"expected 7 tab-separated fields, got {len(fields)}")
            continue
        utterance, snr_text = fields[0], fields[6].strip()
        try:
            value = float(snr_text) if snr_text else None
        except ValueError:
            report(number, RejectReason.MALFORMED_METADATA, f"SNR {snr_text!r} is not a number")
            continue
        snr[utterance] = value if value is not None and math.isfinite(value) else None
    return snr


def read_bad_sample_list(path: Path, report: ReportProblem = ignore_problem) -> set[str]:
    """The audio paths (relative to the corpus root, `dev-clean/1272/…/….wav`) that a
    `<subset>_bad_sample_list.txt` names as failed restorations; its lines are `./<subset>/…/<utt>.wav`.
    An empty file is normal (train-clean-360's is)."""
    listed: set[str] = set()
    for number, line in table_lines(path, report):
        relpath = posixpath.normpath(line.strip())
        if not relpath.endswith(".wav") or relpath.startswith(("/", "..")):
            report(number, RejectReason.MALFORMED_METADATA, f"not a relative .wav path: {line.strip()!r}")
            continue
        listed.add(relpath)
    return listed


@dataclass
class CorpusTables:
    """The corpus-wide lookups a chapter needs."""
    genders: dict[str, str] = field(default_factory=dict)
    book_titles: dict[str, str] = field(default_factory=dict)
    bad_samples: set[str] = field(default_factory=set)


class LibriTTSRReader(CorpusReader):
    name = "libritts-r"
    language = "en"
    speaking_style = "read"
    subsets = ("dev-clean", "dev-other", "test-clean", "test-other",
               "train-clean-100", "train-clean-360", "train-other-500")
    extra_columns = {"original_text": "string", "book": "string", "snr": "double"}

    def check_layout(self) -> None:
        super().check_layout()
        self.selected_subsets()

    def selected_subsets(self) -> list[str]:
        present = [subset for subset in self.subsets if (self.root / subset).is_dir()]
        return self.choose_subsets(present, expected=lambda subset: self.root / subset,
                                   fallback=self.root / "train-clean-100")

    def bad_sample_list(self, subset: str) -> Path | None:
        """The subset's bad-sample list, inside the root or (as the separate tarball unpacks) beside it.
        This fixed, well-known name is the one file the reader looks for outside the root."""
        name = f"{subset}_bad_sample_list.txt"
        for folder in (self.root / BAD_SAMPLE_FOLDER, self.root.parent / BAD_SAMPLE_FOLDER):
            if (folder / name).is_file():
                return folder / name
        return None

    def scan(self) -> Iterator[ScanItem]:
        self.check_layout()
        tables = CorpusTables()
        for speaker_table, parse in (("speakers.tsv", read_speakers_tsv), ("SPEAKERS.txt", read_speakers_txt)):
            if (self.root / speaker_table).is_file():
                tables.genders = yield from self.load_table(parse, self.root / speaker_table)
                break
        if (self.root / "CHAPTERS.txt").is_file():
            tables.book_titles = yield from self.load_table(read_chapters_txt, self.root / "CHAPTERS.txt")
        for subset in self.selected_subsets():
            bad_list = self.bad_sample_list(subset)
            tables.bad_samples = set()
            if bad_list is not None:
                tables.bad_samples = yield from self.load_table(read_bad_sample_list, bad_list)
            for chapter_dir in self.chapter_dirs(self.root / subset):
                yield from self.scan_chapter(subset, chapter_dir, tables)

    def chapter_dirs(self, subset_dir: Path) -> Iterator[Path]:
        for speaker_dir in sorted_subdirs(subset_dir):
            yield from sorted_subdirs(speaker_dir)

    def scan_chapter(self, subset: str, chapter_dir: Path, tables: CorpusTables) -> Iterator[ScanItem]:
        """The clips of every `*.trans.tsv` in one chapter folder, then its wavs that no line mentions."""
        names = sorted(name for name in os.listdir(chapter_dir) if not name.startswith(RESOURCE_FORK))
        mentioned: set[str] = set()
        for trans_name in (name for name in names if name.endswith(".trans.tsv")):
            trans_path = chapter_dir / trans_name
            book_path = chapter_dir / trans_name.replace(".trans.tsv", ".book.tsv")
            snr: dict[str, float | None] = {}
            if book_path.is_file():
                snr = yield from self.load_table(read_book_snr, book_path)
            bases = self.audio_bases([chapter_dir], trans_path)
            yield from self.read_lines(trans_path, partial(self.read_trans_line, subset, bases, snr, tables,
                                                           mentioned, trans_path))
        for name in names:
            if name.endswith(".wav") and name.removesuffix(".wav") not in mentioned:
                yield self.reject(self.file_source(chapter_dir / name), RejectReason.UNLISTED_AUDIO,
                                  "no trans.tsv line lists this file", name.removesuffix(".wav"))

    def read_trans_line(self, subset: str, bases: AudioBases, snr: dict[str, float | None], tables: CorpusTables,
                        mentioned: set[str], path: Path, number: int, line: str) -> ClipSource | Reject:
        """One `id<TAB>original<TAB>normalized` line as a clip or a reject; its id goes into `mentioned`, so its
        wav is not also reported as unlisted."""
        fields = line.split("\t")
        mentioned.add(fields[0])
        if len(fields) != 3:
            return self.malformed(path, number, f"expected 3 tab-separated fields, got {len(fields)}")
        native_id, original, normalized = fields
        source = self.line_source(path, number)
        audio_path = bases.resolve(native_id + ".wav")
        if audio_path is None:
            return self.escapes_root(source, native_id + ".wav")
        speaker_id = native_id.split("_")[0]
        if not is_speaker_number(speaker_id):
            return self.malformed(path, number, f"utterance id {native_id!r} does not start with a speaker number")
        if not normalized.strip():
            return self.malformed(path, number, "empty normalized text", native_id)
        if not self.first_sighting(native_id):
            return self.duplicate(source, native_id)
        if self.file_source(audio_path) in tables.bad_samples:
            return self.reject(self.file_source(audio_path), RejectReason.LISTED_BAD_SAMPLE,
                               "listed in the corpus's failed speech restoration examples", native_id)
        problem = self.check_audio(audio_path, native_id)
        if problem is not None:
            return problem

        book = tables.book_titles.get(path.parent.name)      # the chapter folder holding trans.tsv
        return ClipSource(
            corpus=self.name, native_id=native_id, language=self.language, audio_path=audio_path,
            subset=subset, split=split_of(subset), speaker_id=speaker_id,
            transcript=normalized.strip(), transcript_raw=original,
            meta_gender=tables.genders.get(speaker_id), meta_topic=book,
            extras={"original_text": original, "normalized_text": normalized,
                    "snr": snr.get(native_id), "book": book},
        )


def sorted_subdirs(folder: Path) -> list[Path]:
    """Sub-folders in name order, without hidden or macOS resource-fork entries."""
    return sorted(entry for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
