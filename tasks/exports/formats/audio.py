"""A clip's audio for the formats that embed it: read (a span cut out of a long file by seeking) and
encoded as FLAC bytes, with the file name the bytes are published under."""
from __future__ import annotations

import io
import re


class ClipAudio:
    """Reads clips, keeping the last file open: the spans of one long file (GigaSpeech) come in a row, each
    read by seeking (exact for Opus, FLAC and WAV), never by decoding the whole file again."""

    def __init__(self):
        self._path, self._file = None, None

    def read(self, path: str, start_s: float | None, end_s: float | None):
        import soundfile as sf

        if path != self._path:
            self.close()
            self._file, self._path = sf.SoundFile(path), path
        f = self._file
        if start_s is None and end_s is None:
            f.seek(0)
            return f.read(dtype="float32", always_2d=True), f.samplerate
        first = int(round((start_s or 0.0) * f.samplerate))
        last = f.frames if end_s is None else int(round(end_s * f.samplerate))
        f.seek(first)
        return f.read(max(0, last - first), dtype="float32", always_2d=True), f.samplerate

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._path, self._file = None, None


def flac_bytes(samples, sample_rate: int) -> bytes:
    """16-bit FLAC of float samples, clipped to what 16 bits hold."""
    import numpy as np
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples, -1.0, 1.0 - 1 / 32768), sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def flac_file_name(clip_id: str) -> str:
    """The name embedded FLAC bytes go by: the clip id, safe as a file name."""
    return re.sub(r"[^\w.-]+", "_", clip_id) + ".flac"
