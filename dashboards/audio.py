"""A clip's audio for the browser's player: its file, or its span of a long file (GigaSpeech), as WAV bytes."""
from __future__ import annotations

import io

import soundfile as sf


def clip_wav(path: str, start_s: float | None, end_s: float | None) -> bytes:
    with sf.SoundFile(path) as audio:
        rate = audio.samplerate
        start = int(round((start_s or 0.0) * rate))
        stop = int(round(end_s * rate)) if end_s is not None else audio.frames
        audio.seek(start)
        samples = audio.read(max(stop - start, 0), dtype="float32")
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()
