"""What an export format is to the rest of the export: one `ExportFormat` (its name, the audio modes it
honours, the order it wants the rows in, how a batch of rows becomes its records) and the `FormatWriter` it
returns, which appends those records to files in the staging folder and says what to publish.

A new format is a module in this folder with a subclass of each (or a reuse of `JsonLinesFiles`) and one line
in formats/__init__.py; the flow, the staging, the manifest and the CLI's choices need nothing else.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..target import Target

# Clips per Prefect task (`build_records`), by audio mode: a few hundred when each task decodes and encodes
# the audio, thousands when the records only name the files.
BATCH_ROWS = {"embed": 256, "reference": 4_096}


@dataclass
class Records:
    """One batch's records, held by each format's subclass of this, and what every format counts."""
    unreadable: list[str] = field(default_factory=list)     # clip ids whose audio could not be read
    audio_s: float = 0.0
    corpora: Counter = field(default_factory=Counter)       # exported clips per corpus

    def took(self, row: dict) -> None:
        """Count one clip of the batch as exported (after its records were added)."""
        self.corpora[row["corpus"]] += 1
        self.audio_s += row["duration_s"] or 0.0

    @property
    def clips(self) -> int:
        return sum(self.corpora.values())


class FormatWriter:
    """Appends a format's records to its files in the staging folder (a `Target` of its own)."""
    # clips per split, for formats that publish splits (the manifest's `splits`; null for the others)
    splits: Counter | None = None

    def write(self, records: Records) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Close what is open; called before publishing and on abort."""

    def staged_files(self) -> list[tuple[str, str]]:
        """(name in the staging folder, name in OUT) of each file written, in the order the manifest lists them."""
        raise NotImplementedError

    def publish_files(self, manifest: dict) -> dict[str, str]:
        """Text files written at publish time, once every record is in (name -> text): parler's dataset card."""
        return {}


class ExportFormat:
    """A trainer's format: `speechcraft export NAME OUT`."""
    name: str = ""
    # The `--audio` modes it honours; () when its records only name the audio files, so `--audio` does not
    # apply to it (and the manifest's `audio` is null).
    audio_modes: tuple[str, ...] = ()
    # The clips_sql column the rows come sorted by before their file ("" : by file only): what keeps a
    # format's files whole, such as one parquet split or one corpus file at a time.
    row_order: str = ""

    def audio_mode(self, requested: str) -> str | None:
        """The mode this format writes for a requested `--audio`: None when it has no choice."""
        return requested if requested in self.audio_modes else None

    def records(self, rows: list[dict], audio: str | None) -> Records:
        """One batch of exported clips (clips_sql rows) as this format's records; runs in a Prefect task."""
        raise NotImplementedError

    def writer(self, staged: Target, audio: str | None, rows_per_shard: int | None) -> FormatWriter:
        """The writer of one export, writing into the staging folder `staged`."""
        raise NotImplementedError
