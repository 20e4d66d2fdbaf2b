"""Opening audio: one read of the file's bytes gives its SHA-256 and its decoded samples.

Shared by ingest (verify, measure, hash) and the later stages (decode a clip or a span of a long file).
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpora.base import RejectReason


class AudioError(Exception):
    def __init__(self, reason: RejectReason, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class DecodedAudio:
    samples: np.ndarray          # float32, shape (frames, channels)
    sample_rate: int
    format: str                  # WAV, FLAC, MP3, OGG, ...
    sha256: str                  # of the file's bytes

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    def span(self, start_s: float | None, end_s: float | None) -> np.ndarray:
        if start_s is None and end_s is None:
            return self.samples
        first = int(round((start_s or 0.0) * self.sample_rate))
        last = self.samples.shape[0] if end_s is None else int(round(end_s * self.sample_rate))
        return self.samples[first:last]


# libsndfile notes a WAV whose data chunk claims more bytes than the file holds as
# "data : 32000 (should be 15978)" and then quietly reads what is there.
_SHORT_DATA_CHUNK = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def decode_audio(path: Path) -> DecodedAudio:
    """Read the file once, hash it, decode all of it. Raises AudioError with a specific reason."""
    import soundfile as sf

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AudioError(RejectReason.MISSING_AUDIO, f"{path} does not exist") from None
    except OSError as exc:
        raise AudioError(RejectReason.UNDECODABLE_AUDIO, f"cannot read {path}: {exc}") from None
    if not data:
        raise AudioError(RejectReason.EMPTY_AUDIO, f"{path} is 0 bytes")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            promised = f.frames
            header_log = f.extra_info
            samples = f.read(dtype="float32", always_2d=True)
            rate, fmt = f.samplerate, f.format
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioError(RejectReason.UNDECODABLE_AUDIO, f"{path.name}: {exc}") from None
    short = _SHORT_DATA_CHUNK.search(header_log or "")
    if short and int(short.group(2)) < int(short.group(1)):
        raise AudioError(RejectReason.TRUNCATED_AUDIO,
                         f"{path.name}: header promises {short.group(1)} data bytes, file holds {short.group(2)}")
    if fmt == "OGG" and not _ogg_stream_ended(data):
        raise AudioError(RejectReason.TRUNCATED_AUDIO, f"{path.name}: the Ogg stream has no end-of-stream page")
    if samples.shape[0] < promised:
        raise AudioError(RejectReason.TRUNCATED_AUDIO,
                         f"{path.name}: header promises {promised} frames, decoded {samples.shape[0]}")
    if samples.shape[0] == 0:
        raise AudioError(RejectReason.UNDECODABLE_AUDIO, f"{path.name}: no audio frames")
    return DecodedAudio(samples, rate, fmt, sha256)


def _ogg_stream_ended(data: bytes) -> bool:
    """Whether the last Ogg page carries the end-of-stream flag. A cut Ogg/Opus file decodes cleanly as
    a shorter one; only its missing last page tells it was truncated."""
    last_page = data.rfind(b"OggS", max(0, len(data) - 65_536))
    return last_page >= 0 and last_page + 5 < len(data) and bool(data[last_page + 5] & 0x04)


def peak_dbfs(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")
