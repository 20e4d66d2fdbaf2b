"""Voice activity detectors: mono samples in, speech segments (start, end in seconds) out.

`energy` (shipped default) thresholds 10 ms frame energies against the clip's own noise floor and loudness;
it runs at several thousand times real time. `silero` runs the Silero VAD network whose weights ship inside the
`silero-vad` package (install the `silero` extra); it is about 85x real time on one core, too slow to be the
default at the corpus scale this project targets. `bench/vad.py` measures both against known speech spans.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

FRAME_S = 0.01


class VoiceActivityDetector(Protocol):
    name: str

    def config(self) -> dict: ...

    def segments(self, samples: np.ndarray, sample_rate: int) -> np.ndarray: ...


def frame_power(samples: np.ndarray, sample_rate: int, frame_s: float = FRAME_S) -> np.ndarray:
    """Mean square of each non-overlapping frame (a trailing partial frame is dropped)."""
    size = max(1, int(round(frame_s * sample_rate)))
    n = len(samples) // size
    frames = samples[: n * size].astype(np.float64).reshape(n, size)
    return np.einsum("ij,ij->i", frames, frames) / size


def power_db(power: np.ndarray | float) -> np.ndarray | float:
    return 10.0 * np.log10(np.maximum(power, 1e-12))


def mask_to_segments(mask: np.ndarray, frame_s: float, merge_gap_s: float, min_speech_s: float) -> np.ndarray:
    """Runs of True frames as (start, end) seconds; gaps shorter than `merge_gap_s` are bridged (pauses
    inside a phrase are speech time), then segments shorter than `min_speech_s` are dropped (clicks)."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = edges.reshape(-1, 2).astype(np.float64) * frame_s
    if len(runs) == 0:
        return np.zeros((0, 2))
    merged = [list(runs[0])]
    for start, end in runs[1:]:
        if start - merged[-1][1] < merge_gap_s:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    segments = np.array(merged)
    return segments[segments[:, 1] - segments[:, 0] >= min_speech_s]


@dataclass(frozen=True)
class EnergyVAD:
    """A frame is speech when its smoothed energy is above a threshold set per clip: `margin_db` over the
    noise floor (10th percentile), at least `floor_dbfs`. A clip whose loud frames (95th percentile) are
    within `min_range_db` of its floor is stationary (silence, hum, noise) and has no speech."""
    floor_dbfs: float = -55.0
    margin_db: float = 9.0
    min_range_db: float = 12.0
    merge_gap_s: float = 0.3
    min_speech_s: float = 0.1
    name: str = "energy"

    def config(self) -> dict:
        return asdict(self)

    def segments(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.segments_from_power(frame_power(samples, sample_rate))

    def segments_from_power(self, power: np.ndarray) -> np.ndarray:
        if len(power) == 0:
            return np.zeros((0, 2))
        smoothed = power_db(np.convolve(power, np.ones(3) / 3, mode="same"))
        noise, loud = np.percentile(smoothed, [10, 95])
        if loud < self.floor_dbfs or loud - noise < self.min_range_db:
            return np.zeros((0, 2))
        threshold = max(self.floor_dbfs, noise + self.margin_db)
        return mask_to_segments(smoothed > threshold, FRAME_S, self.merge_gap_s, self.min_speech_s)


@dataclass(frozen=True)
class SileroVAD:
    """Silero VAD (weights inside the `silero-vad` wheel; needs torch). Audio is resampled to 16 kHz."""
    threshold: float = 0.5
    merge_gap_s: float = 0.3
    min_speech_s: float = 0.1
    name: str = "silero"

    def config(self) -> dict:
        from importlib.metadata import version

        return {**asdict(self), "silero-vad": version("silero-vad")}

    def segments(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        try:
            import torch
            from silero_vad import get_speech_timestamps
        except ImportError:
            raise RuntimeError("the silero VAD needs the `silero` extra: pip install 'speechcraft-lakehouse[silero]'"
                               ) from None
        from .pitch import resample

        audio = resample(samples, sample_rate, 16000) if sample_rate != 16000 else samples.astype(np.float32)
        stamps = get_speech_timestamps(torch.from_numpy(np.ascontiguousarray(audio)), _silero_model(),
                                       threshold=self.threshold, sampling_rate=16000,
                                       min_silence_duration_ms=int(self.merge_gap_s * 1000),
                                       min_speech_duration_ms=int(self.min_speech_s * 1000),
                                       return_seconds=False)
        return np.array([[s["start"] / 16000, s["end"] / 16000] for s in stamps]).reshape(-1, 2)


_SILERO = None


def _silero_model():
    global _SILERO
    if _SILERO is None:
        import torch
        from silero_vad import load_silero_vad

        torch.set_num_threads(1)           # one model per worker process; the pool supplies the parallelism
        _SILERO = load_silero_vad()
    return _SILERO


VAD_BACKENDS: dict[str, type] = {"energy": EnergyVAD, "silero": SileroVAD}
