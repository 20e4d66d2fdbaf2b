"""Frame-level prosody of a clip, for the word aligner and the emphasis detector: every 10 ms the energy (dB),
F0 (Praat, NaN where unvoiced) and spectral tilt (dB of 50-1000 Hz over 1-4 kHz: stressed vowels are spoken
with more effort, which flattens the spectrum and lowers the tilt).

The frames are read off a clip's contours (models/signal.py): the emphasis stage takes the ones the acoustic
stage stored; `analyse` runs the analysis itself for audio that has none (a regeneration being checked).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .signal import Contours, analyse_signal

HOP_S = 0.010


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


def frames_from(contours: Contours) -> Frames:
    """The clip's 25 ms windows every 10 ms, each with the nearest Praat F0; a clip shorter than one window
    has none."""
    if not len(contours.tilt_db):
        empty = np.zeros(0)
        return Frames(empty, empty, empty, empty)
    times = contours.window_times_s
    return Frames(times, contours.window_energy_db.astype(np.float64), contours.f0_at(times),
                  contours.tilt_db.astype(np.float64))


def analyse(samples: np.ndarray, sample_rate: int) -> Frames:
    """The frames of audio that has no stored contours."""
    return frames_from(analyse_signal(samples, sample_rate))
