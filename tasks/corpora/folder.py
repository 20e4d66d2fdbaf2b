"""Any folder of audio files, with optional same-name `.txt` / `.lab` transcripts beside them, and an optional
`speakers.tsv` at the root giving each speaker folder's gender and age group."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from ...vocabulary import AGE_GROUPS, LANGUAGES
from ._common import normalise_gender, table_lines
from .base import FALLBACK_ENCODING, ClipSource, CorpusReader, RejectReason, ReportProblem, ScanItem, decode_text

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus"})
TRANSCRIPT_EXTENSIONS = (".txt", ".lab")          # in order of preference
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
CORPUS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_SYMLINK_HOPS = 40
SPEAKERS_FILE = "speakers.tsv"


def read_speaker_table(path: Path, report: ReportProblem) -> dict[str, tuple[str | None, str | None]]:
    """speaker folder -> (gender, age group) from `speakers.tsv`: `#` comments, an optional header line
    starting `speaker`, rows `speaker<TAB>gender[<TAB>age_group]` (gender F/M/female/male or empty; age group
    one of AGE_GROUPS, spaces or hyphens allowed: `young adult`)."""
    speakers: dict[str, tuple[str | None, str | None]] = {}
    for number, line in table_lines(path, report, comment="#"):
        fields = [field.strip() for field in line.split("\t")]
        if fields[0].lower() in ("speaker", "speaker_id"):
            continue
        if len(fields) < 2 or len(fields) > 3 or not fields[0]:
            report(number, RejectReason.MALFORMED_METADATA, "expected speaker<TAB>gender[<TAB>age_group]")
            continue
        gender = normalise_gender(fields[1]) if fields[1] else None
        age = re.sub(r"[\s-]+", "_", fields[2].lower()) if len(fields) == 3 and fields[2] else None
        if fields[1] and gender is None:
            report(number, RejectReason.MALFORMED_METADATA, f"unknown gender {fields[1]!r} (F/M/female/male)")
        elif age is not None and age not in AGE_GROUPS:
            report(number, RejectReason.MALFORMED_METADATA, f"unknown age group {fields[2]!r} ({', '.join(AGE_GROUPS)})")
        else:
            speakers[fields[0]] = (gender, age)
    return speakers


def corpus_name_for(folder: Path) -> str:
    """The folder's own name lower-cased, runs of anything but [a-z0-9-] turned into '-'
    (`My Voice (2024)` -> `my-voice-2024-`)."""
    return re.sub(r"[^a-z0-9-]+", "-", folder.name.lower()) or "folder"


def guess_language(transcript: str | None) -> str:
    return "zh" if transcript and CJK.search(transcript) else "en"


def is_hidden(name: str) -> bool:
    return name.startswith(".")           # also macOS `._*` resource forks


class FolderReader(CorpusReader):
    name = "folder"          # the registry's name; an instance takes its corpus name (option `name`)
    language = ""            # per clip: the `language` option, else guessed from the transcript

    def __init__(self, root: Path | str, subsets: list[str] | None = None,
                 name: str | None = None, language: str | None = None):
        if subsets:
            raise ValueError("folder: a plain folder has no subsets")
        if name is not None and not CORPUS_NAME.fullmatch(name):
            raise ValueError(f"folder: corpus name {name!r} must be letters, digits, '.', '_' or '-'")
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"folder: language {language!r} must be one of {list(LANGUAGES)} or None (auto)")
        super().__init__(root)
        self.name = name or corpus_name_for(self.root)
        self.forced_language = language
        self.speakers: dict[str, tuple[str | None, str | None]] = {}

    def scan(self) -> Iterator[ScanItem]:
        self.check_layout()
        self.speakers = {}
        if (self.root / SPEAKERS_FILE).is_file():
            self.speakers = yield from self.load_table(read_speaker_table, self.root / SPEAKERS_FILE)
        for folder, subfolders, files in os.walk(self.root):
            subfolders[:] = sorted(name for name in subfolders if not is_hidden(name))
            siblings = set(files)
            for file_name in sorted(files):
                if not is_hidden(file_name) and Path(file_name).suffix.lower() in AUDIO_EXTENSIONS:
                    yield from self.read_audio_file(Path(folder) / file_name, siblings)

    def read_audio_file(self, audio_path: Path, siblings: set[str]) -> Iterator[ScanItem]:
        """The clip for one audio file (and a reject first when its transcript cannot be decoded)."""
        relative = audio_path.relative_to(self.root)
        source = relative.as_posix()
        native_id = relative.with_suffix("").as_posix()
        if not is_utf8(native_id):
            yield self.reject(printable(source), RejectReason.BAD_ENCODING, "file name is not UTF-8")
            return
        if self.symlink_escapes(audio_path):
            yield self.reject(source, RejectReason.PATH_ESCAPES_ROOT, "symbolic link to outside the root",
                              native_id)
            return
        problem = self.check_clip(source, audio_path, native_id)
        if problem is not None:
            yield problem
            return

        transcript_raw, warnings = None, []
        transcript_file = next((audio_path.with_suffix(extension) for extension in TRANSCRIPT_EXTENSIONS
                                if audio_path.stem + extension in siblings), None)
        if transcript_file is not None and not self.symlink_escapes(transcript_file):
            text, encoding = decode_text(transcript_file.read_bytes())
            source = self.file_source(transcript_file)
            if encoding is None:
                yield self.reject(source, RejectReason.BAD_ENCODING, "transcript is neither UTF-8 nor "
                                  f"{FALLBACK_ENCODING.upper()}; the clip lands without one", native_id)
            else:
                transcript_raw = text
            if encoding == FALLBACK_ENCODING:
                warnings.append(self.reject(source, RejectReason.RECOVERED_ENCODING,
                                            f"transcript is not UTF-8; read as {encoding.upper()}", native_id))
        transcript = (transcript_raw or "").strip() or None
        speaker = relative.parts[0] if len(relative.parts) > 1 else None
        gender, age_group = self.speakers.get(speaker, (None, None))
        yield ClipSource(
            corpus=self.name, native_id=native_id,
            language=self.forced_language or guess_language(transcript), audio_path=audio_path,
            subset=None, split="train", speaker_id=speaker, transcript=transcript, transcript_raw=transcript_raw,
            meta_gender=gender, meta_age_group=age_group, warnings=warnings,
        )

    def symlink_escapes(self, path: Path) -> bool:
        """True when `path` is a symbolic link whose chain leads outside the root. Follows the links by
        reading them, so nothing outside the root is ever stat-ed or opened."""
        for _ in range(MAX_SYMLINK_HOPS):
            if not path.is_symlink():     # lstat: the link itself, inside the root
                return False
            path = Path(os.path.normpath(path.parent / os.readlink(path)))
            if not path.is_relative_to(self.root):
                return True
        return True                          # a loop, or a chain too long to trust


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:              # os.walk hands undecodable bytes over as surrogates
        return False
    return True


def printable(text: str) -> str:
    return os.fsencode(text).decode("utf-8", "backslashreplace")
