"""F0 trackers: mono samples in, a per-frame F0 track out (Hz, NaN where unvoiced).

The shipped backend is Praat's autocorrelation pitch (Boersma 1993) through parselmouth: real voicing
decisions, so silence and noise give no F0 instead of a made-up one (`librosa.piptrack`, which SpeechCraft's
released code used, reports spectral peaks of 900-1300 Hz on a female voice).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from .pitch_batched import BatchedAutocorrelationPitch


@dataclass(frozen=True)
class PitchTrack:
    f0_hz: np.ndarray            # one value per frame, NaN where unvoiced
    times_s: np.ndarray          # each frame's centre, seconds from the start of the samples tracked
    # the tracker's own frame grid (times_s == start_s + step_s * i), so a stored track keeps exact times
    start_s: float = 0.0
    step_s: float = 0.0

    def within(self, segments: np.ndarray, offset_s: float = 0.0, margin_s: float = 0.0) -> "PitchTrack":
        """The frames inside any of `segments` (seconds, widened by `margin_s`), for a track of samples
        that started at `offset_s`."""
        times = self.times_s + offset_s
        inside = np.zeros(len(times), dtype=bool)
        for start, end in segments:
            inside |= (times >= start - margin_s) & (times <= end + margin_s)
        return PitchTrack(self.f0_hz[inside], times[inside])

    @property
    def voiced(self) -> np.ndarray:
        return self.f0_hz[np.isfinite(self.f0_hz)]

    @property
    def voiced_ratio(self) -> float:
        return float(len(self.voiced) / len(self.f0_hz)) if len(self.f0_hz) else 0.0


class PitchTracker(Protocol):
    name: str

    def config(self) -> dict: ...

    def track(self, samples: np.ndarray, sample_rate: int) -> PitchTrack: ...


@dataclass(frozen=True)
class PraatPitch:
    """Praat's `To Pitch (ac)` with its standard settings, on audio brought down to `analysis_rate`.

    Praat's cost grows with the sample rate, so 44.1/24/22.05 kHz audio is resampled to 16 kHz first (F0 and
    the harmonics Praat's voicing decisions use lie well below 8 kHz). Going lower is not free: at 8 kHz the
    fixtures stayed within 2% of Praat on the original audio, but real male voices (shared/data/realspeech)
    moved by up to 14%; at 16 kHz they stay within 2%."""
    # Praat's default floor is 75 Hz; deep voices (72-78 Hz espeak males, real basses) then come out an
    # octave or more too high. 3 periods of the floor make the analysis window.
    floor_hz: float = 60.0
    ceiling_hz: float = 600.0
    analysis_rate: int = 16000       # audio above this rate is resampled down to it, never up
    name: str = "praat-ac"

    def config(self) -> dict:
        import parselmouth

        return {**asdict(self), "parselmouth": parselmouth.__version__}

    def track(self, samples: np.ndarray, sample_rate: int) -> PitchTrack:
        import parselmouth

        if sample_rate > self.analysis_rate:
            samples = resample(samples, sample_rate, self.analysis_rate)
            sample_rate = self.analysis_rate
        window_s = 3.0 / self.floor_hz
        if len(samples) < window_s * sample_rate:
            return PitchTrack(np.full(0, np.nan), np.zeros(0))    # shorter than one analysis window
        pitch = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sample_rate).to_pitch_ac(
            pitch_floor=self.floor_hz, pitch_ceiling=self.ceiling_hz)
        f0 = pitch.selected_array["frequency"]
        return PitchTrack(np.where(f0 > 0, f0, np.nan), np.asarray(pitch.xs()), pitch.x1, pitch.dx)


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    import soxr

    return soxr.resample(samples.astype(np.float32), rate_in, rate_out)


PITCH_TRACKERS: dict[str, type] = {"praat-ac": PraatPitch, "ac-batched": BatchedAutocorrelationPitch}
# Praat's method with all frames of a clip at once: Praat's own track (to 0.01% at the 95th percentile, real
# voices too) at twice the acoustic stage's speed (docs/annotation.md#the-batched-f0-tracker)
DEFAULT_PITCH = "ac-batched"


def default_pitch_tracker() -> PitchTracker:
    return PITCH_TRACKERS[DEFAULT_PITCH]()
