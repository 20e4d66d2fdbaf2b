"""Frame-level prosody of a clip, for the word aligner and the emphasis detector: every 10 ms the energy (dB),
F0 (Praat, NaN where unvoiced) and spectral tilt (dB of 50-1000 Hz over 1-4 kHz: stressed vowels are spoken
with more effort, which flattens the spectrum and lowers the tilt).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pitch import PraatPitch, resample

ANALYSIS_RATE = 16000
HOP_S = 0.010
WINDOW_S = 0.025
_FLOOR = 1e-10


@dataclass(frozen=True)
class Frames:
    times_s: np.ndarray          # frame centres
    energy_db: np.ndarray        # RMS dBFS
    f0_hz: np.ndarray            # NaN where unvoiced
    tilt_db: np.ndarray

    @property
    def voiced(self) -> np.ndarray:
        return np.isfinite(self.f0_hz)

    def index(self, t: float) -> int:
        return int(np.clip(round((t - self.times_s[0]) / HOP_S), 0, len(self.times_s) - 1)) if len(self.times_s) else 0


def analyse(samples: np.ndarray, sample_rate: int) -> Frames:
    """The clip's frames; a clip shorter than one window has none."""
    if sample_rate != ANALYSIS_RATE:
        samples = resample(samples, sample_rate, ANALYSIS_RATE)
    hop, window = int(HOP_S * ANALYSIS_RATE), int(WINDOW_S * ANALYSIS_RATE)
    if len(samples) < window:
        empty = np.zeros(0)
        return Frames(empty, empty, empty, empty)
    starts = np.arange(0, len(samples) - window + 1, hop)
    frames = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float64), window)[starts] * np.hanning(window)
    power = np.abs(np.fft.rfft(frames, n=512)) ** 2
    freqs = np.fft.rfftfreq(512, 1 / ANALYSIS_RATE)
    energy_db = 10 * np.log10(np.mean(frames ** 2, axis=1) + _FLOOR)
    low = power[:, (freqs >= 50) & (freqs < 1000)].sum(axis=1)
    high = power[:, (freqs >= 1000) & (freqs < 4000)].sum(axis=1)
    tilt_db = 10 * np.log10(low + _FLOOR) - 10 * np.log10(high + _FLOOR)
    times = (starts + window / 2) / ANALYSIS_RATE
    track = PraatPitch().track(samples, ANALYSIS_RATE)
    f0 = np.full(len(times), np.nan)
    if len(track.times_s):
        nearest = np.clip(np.searchsorted(track.times_s, times), 0, len(track.times_s) - 1)
        close = np.abs(track.times_s[nearest] - times) <= HOP_S
        f0[close] = track.f0_hz[nearest[close]]
    return Frames(times, energy_db, f0, tilt_db)
