"""Corpus readers: one per corpus, each streaming `ClipSource` rows and `Reject`s from the corpus's metadata.

    reader = get_reader("libritts-r", "/data/LibriTTS_R", subsets=["dev-clean"])
    reader.check_layout()              # CorpusLayoutError when the root is not that corpus
    for item in reader.scan(): ...     # ClipSource | Reject
"""
from __future__ import annotations

from pathlib import Path

from .aishell3 import Aishell3Reader
from .base import ClipSource, CorpusLayoutError, CorpusReader, Reject, RejectReason, ScanItem
from .folder import FolderReader
from .gigaspeech import GigaSpeechReader
from .libritts_r import LibriTTSRReader
from .zhvoice import ZhvoiceReader

READERS: dict[str, type[CorpusReader]] = {
    "aishell3": Aishell3Reader,
    "libritts-r": LibriTTSRReader,
    "gigaspeech": GigaSpeechReader,
    "zhvoice": ZhvoiceReader,
    "folder": FolderReader,
}




def extra_columns() -> dict[str, str]:
    """The readers' own queryable `clips` columns (name -> Arrow type name), in READERS order."""
    columns: dict[str, str] = {}
    for reader in READERS.values():
        for name, kind in reader.extra_columns.items():
            if columns.setdefault(name, kind) != kind:
                raise ValueError(f"readers declare the clips column {name!r} as both {columns[name]} and {kind}")
    return columns


def get_reader(name: str, /, root: Path | str, subsets: list[str] | None = None, **options) -> CorpusReader:
    """The reader for corpus `name` over `root`. `options` are reader-specific (folder: `name`, the corpus
    name, and `language`); `name` is positional-only here so that the folder's `name=` option can pass."""
    try:
        reader_class = READERS[name]
    except KeyError:
        raise ValueError(f"unknown corpus {name!r}; choose from {', '.join(READERS)}") from None
    return reader_class(root, subsets, **options)


def speaking_style(corpus: str) -> str:
    """The style the corpus's reader declares ("read" for audiobooks); "" for folders and unknown corpora."""
    reader = READERS.get(corpus)
    return reader.speaking_style if reader and reader.name == corpus else ""


__all__ = [
    "READERS", "extra_columns", "get_reader", "speaking_style",
    "Aishell3Reader", "LibriTTSRReader", "GigaSpeechReader", "ZhvoiceReader", "FolderReader",
    "ClipSource", "Reject", "RejectReason", "CorpusLayoutError", "CorpusReader", "ScanItem",
]
