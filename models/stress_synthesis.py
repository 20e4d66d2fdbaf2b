"""Regenerating a clip with one word stressed: the backends behind `StressSynthesizer`.

    synthesizer = WorldStressor(StressSettings(pitch_scale=1.3, energy_db=6, duration_scale=1.3))
    out = synthesizer.stress(samples, sample_rate, start_s=1.2, end_s=1.6)   # -> StressedAudio

The embedded backend edits the recording itself with the WORLD vocoder (pyworld): the clip is analysed into F0,
spectral envelope and aperiodicity every 5 ms; over the keyword's span F0 is multiplied by `pitch_scale`, the
envelope raised by `energy_db` and the frames stretched by `duration_scale`, each change faded in and out over
`ramp_s` with a raised cosine so the joins are smooth; then the clip is resynthesised. The speaker's own voice
(envelope, breathiness, timing outside the span) is kept. The TTS backend (models/stress_tts.py) instead
re-synthesises the sentence with FastSpeech 2, scaling the keyword's predicted pitch, energy and durations.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from .pitch import resample

FRAME_PERIOD_MS = 5.0
MAX_RATE = 24000          # WORLD's cost grows with the rate; 24 kHz keeps everything speech needs
F0_FLOOR_HZ = 50.0        # WORLD's default floor (71 Hz) leaves deep male voices unvoiced, hence breathy


@dataclass(frozen=True)
class StressSettings:
    """How strongly the keyword is stressed. Defaults chosen by bench/emphasis.py: the weakest setting whose
    stressed words the detector still finds above the paper's accuracy (see README)."""
    pitch_scale: float = 1.3         # F0 multiplier on the keyword
    energy_db: float = 6.0           # gain on the keyword
    duration_scale: float = 1.3      # the keyword lasts this much longer
    ramp_s: float = 0.04             # length of each fade between plain and stressed

    def __post_init__(self):
        if not (1.0 <= self.pitch_scale <= 2.0 and 0.0 <= self.energy_db <= 15.0
                and 1.0 <= self.duration_scale <= 2.5 and 0.0 <= self.ramp_s <= 0.2):
            raise ValueError(f"stress settings out of range: {self} (pitch_scale 1-2, energy_db 0-15, "
                             "duration_scale 1-2.5, ramp_s 0-0.2)")


@dataclass(frozen=True)
class StressedAudio:
    samples: np.ndarray
    sample_rate: int
    source_times_s: np.ndarray        # a time in the source clip ...
    output_times_s: np.ndarray        # ... and where it lies in the output

    def to_output(self, t: float) -> float:
        """Where time `t` of the source clip lies in the stressed clip."""
        return float(np.interp(t, self.source_times_s, self.output_times_s))


class StressSynthesizer(Protocol):
    name: str
    version: str

    def describe(self) -> dict: ...

    def stress(self, samples: np.ndarray, sample_rate: int, start_s: float, end_s: float) -> StressedAudio: ...


class WorldStressor:
    name = "world"
    version = "1"

    def __init__(self, settings: StressSettings | None = None):
        self.settings = settings or StressSettings()

    def describe(self) -> dict:
        import pyworld

        return {"backend": self.name, "version": self.version, "f0_floor_hz": F0_FLOOR_HZ, "pyworld": getattr(pyworld, "__version__", ""),
                **asdict(self.settings)}

    def stress(self, samples: np.ndarray, sample_rate: int, start_s: float, end_s: float) -> StressedAudio:
        import pyworld

        if sample_rate > MAX_RATE:
            samples, sample_rate = resample(samples, sample_rate, MAX_RATE), MAX_RATE
        x = np.ascontiguousarray(samples, dtype=np.float64)
        f0, times = pyworld.dio(x, sample_rate, f0_floor=F0_FLOOR_HZ, frame_period=FRAME_PERIOD_MS)
        f0 = pyworld.stonemask(x, f0, times, sample_rate)
        fft_size = pyworld.get_cheaptrick_fft_size(sample_rate, F0_FLOOR_HZ)
        envelope = pyworld.cheaptrick(x, f0, times, sample_rate, f0_floor=F0_FLOOR_HZ, fft_size=fft_size)
        aperiodicity = pyworld.d4c(x, f0, times, sample_rate, fft_size=fft_size)
        s = self.settings
        weight = self._weight(times, start_s, end_s)
        f0 = f0 * s.pitch_scale ** weight
        envelope = envelope * (10 ** (s.energy_db * weight / 10))[:, None]
        # each source frame lasts 1 + (duration_scale - 1) * weight frames of output
        period = FRAME_PERIOD_MS / 1000
        output_times = np.concatenate([[0.0], np.cumsum(1 + (s.duration_scale - 1) * weight[:-1])]) * period
        grid = np.arange(0.0, output_times[-1] + period / 2, period)
        position = np.interp(grid, output_times, np.arange(len(times)))
        below = np.floor(position).astype(int)
        above = np.minimum(below + 1, len(times) - 1)
        frac = (position - below)[:, None]
        nearest = np.rint(position).astype(int)
        voiced = f0[nearest] > 0                  # voicing is not interpolated: a frame is voiced or not
        new_f0 = np.where(voiced & (f0[below] > 0) & (f0[above] > 0),
                          f0[below] * (1 - frac[:, 0]) + f0[above] * frac[:, 0], f0[nearest] * voiced)
        new_envelope = envelope[below] * (1 - frac) + envelope[above] * frac
        new_aperiodicity = aperiodicity[below] * (1 - frac) + aperiodicity[above] * frac
        y = pyworld.synthesize(new_f0, np.ascontiguousarray(new_envelope), np.ascontiguousarray(new_aperiodicity),
                               sample_rate, FRAME_PERIOD_MS)
        peak = np.max(np.abs(y)) if len(y) else 0.0
        if peak > 0.99:                           # never clip: the whole clip comes down, the stress stays
            y = y * (0.99 / peak)
        return StressedAudio(y.astype(np.float32), sample_rate, times, output_times)

    def _weight(self, times: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
        """1 inside [start_s, end_s], 0 outside, raised-cosine fades of ramp_s centred on both edges."""
        ramp = max(self.settings.ramp_s, FRAME_PERIOD_MS / 1000)
        rise = np.clip((times - (start_s - ramp / 2)) / ramp, 0, 1)
        fall = np.clip(((end_s + ramp / 2) - times) / ramp, 0, 1)
        return 0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall))
