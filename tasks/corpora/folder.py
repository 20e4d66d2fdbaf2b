"""Any folder of audio files, with optional same-name `.txt` / `.lab` transcripts beside them."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from .base import ClipSource, CorpusReader, RejectReason, ScanItem

AUDIO_EXTENSIONS = frozenset({".wav", ".flac", ".mp3", ".ogg", ".opus"})
TRANSCRIPT_EXTENSIONS = (".txt", ".lab")          # in order of preference
LANGUAGES = ("zh", "en")
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
CORPUS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_SYMLINK_HOPS = 40


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

    def scan(self) -> Iterator[ScanItem]:
        self.check_layout()
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

        transcript_raw = None
        transcript_file = next((audio_path.with_suffix(extension) for extension in TRANSCRIPT_EXTENSIONS
                                if audio_path.stem + extension in siblings), None)
        if transcript_file is not None and not self.symlink_escapes(transcript_file):
            try:
                transcript_raw = transcript_file.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError:
                yield self.reject(self.file_source(transcript_file), RejectReason.BAD_ENCODING,
                                  "transcript is not UTF-8; the clip lands without one", native_id)
        transcript = (transcript_raw or "").strip() or None
        yield ClipSource(
            corpus=self.name, native_id=native_id,
            language=self.forced_language or guess_language(transcript), audio_path=audio_path,
            subset=None, split="train", speaker_id=relative.parts[0] if len(relative.parts) > 1 else None,
            transcript=transcript, transcript_raw=transcript_raw,
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
