"""The export formats, registered here: `speechcraft export FORMAT` offers exactly these, in this order.
Adding a format is one module in this folder (an `ExportFormat`, see base.py) and one line in REGISTERED."""
from __future__ import annotations

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from .base import BATCH_ROWS, ExportFormat, FormatWriter, Records
from .lhotse import Lhotse
from .parler_tts import ParlerTTS
from .speechcraft_json import SpeechCraftJSON

REGISTERED: tuple[ExportFormat, ...] = (
    ParlerTTS(),
    Lhotse(),
    SpeechCraftJSON(),
)
FORMATS = tuple(f.name for f in REGISTERED)
# every audio mode some format honours (in the order they are declared): what `--audio` accepts
AUDIO_MODES = tuple(dict.fromkeys(mode for f in REGISTERED for mode in f.audio_modes))

__all__ = ["AUDIO_MODES", "BATCH_ROWS", "FORMATS", "REGISTERED", "ExportFormat", "FormatWriter", "Records",
           "build_records", "check_request", "export_format"]


def export_format(name: str) -> ExportFormat:
    for fmt in REGISTERED:
        if fmt.name == name:
            return fmt
    raise ValueError(f"unknown export format {name!r}; the formats are {', '.join(FORMATS)}")


def check_request(fmt: str, audio: str) -> None:
    """Refuse an unknown format or audio mode before anything is read or written."""
    chosen = export_format(fmt)
    if audio not in AUDIO_MODES:
        raise ValueError(f"unknown audio mode {audio!r}; choose {' or '.join(AUDIO_MODES)}")
    if chosen.audio_modes and audio not in chosen.audio_modes:
        raise ValueError(f"{fmt} writes audio as {' or '.join(chosen.audio_modes)}, not {audio!r}")


@task(name="export-batch", task_run_name="export-{fmt}-batch-{batch_number}", cache_policy=NO_CACHE)
def build_records(fmt: str, batch: pa.RecordBatch, audio: str = "embed", batch_number: int = 0) -> Records:
    """One batch of exported clips as the format's records (parler with embedded audio: decoded, span cut,
    FLAC-encoded here)."""
    chosen = export_format(fmt)
    return chosen.records(batch.to_pylist(), chosen.audio_mode(audio))
