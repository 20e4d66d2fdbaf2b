"""Praat's autocorrelation pitch method (Boersma 1993) with every frame of a clip analysed at once.

Praat analyses one frame at a time: window, FFT, autocorrelation, candidate peaks, each refined by a Brent
search over a sinc interpolation. This tracker cuts all frames of a clip out of the signal in one array and
takes their autocorrelations with one batched FFT (float32, padded only as far as the lags read); the peak
search, the sinc interpolations (a cheaper search for the same maximum) and Praat's path finder (the same
strengths, octave cost, octave-jump and voicing costs) run compiled with numba. Same frames, window and
thresholds as `PraatPitch`, so its track stands in for Praat's: `bench/pitch.py` measures how closely
(docs/annotation.md#the-batched-f0-tracker).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .pitch import PitchTrack

# As in Praat: candidates are chosen by the correlation at their parabolic peak read through a sinc
# interpolation over SELECT_DEPTH lags each side; the chosen ones are then placed at the maximum of a
# SINC_DEPTH-lag interpolation (Praat searches it with Brent's method; here one parabola through three
# points a twentieth of a lag apart, within 1e-4 lag of it).
SELECT_DEPTH, SINC_DEPTH = 30, 70
REFINE_STEP = 0.05


@dataclass(frozen=True)
class BatchedAutocorrelationPitch:
    floor_hz: float = 60.0           # the same floor and ceiling as PraatPitch (see there why 60 Hz)
    ceiling_hz: float = 600.0
    analysis_rate: int = 16000
    # Praat's standard `To Pitch (ac)` values
    periods_per_window: float = 3.0
    max_candidates: int = 15
    silence_threshold: float = 0.03
    voicing_threshold: float = 0.45
    octave_cost: float = 0.01
    octave_jump_cost: float = 0.35
    voiced_unvoiced_cost: float = 0.14
    name: str = "ac-batched"

    def config(self) -> dict:
        return asdict(self)

    def track(self, samples: np.ndarray, sample_rate: int) -> PitchTrack:
        from .pitch import PitchTrack, resample     # models/pitch.py registers this tracker: imported late

        if sample_rate > self.analysis_rate:
            samples = resample(samples, sample_rate, self.analysis_rate)
            sample_rate = self.analysis_rate
        if len(samples) < self.periods_per_window / self.floor_hz * sample_rate:
            return PitchTrack(np.full(0, np.nan), np.zeros(0))    # shorter than one analysis window
        geometry = _Geometry.of(self, sample_rate)
        x = np.asarray(samples, dtype=np.float32)
        times = geometry.frame_times(len(x))
        frequencies, strengths, intensity = self._candidates(x, times, geometry)
        chosen = _best_path(frequencies, strengths, intensity, self._path_costs(geometry))
        f0 = np.where((chosen > 0) & (chosen < geometry.ceiling_hz), chosen, np.nan)
        return PitchTrack(f0, times, float(times[0]), geometry.step_s)

    def _candidates(self, x: np.ndarray, times: np.ndarray, g: "_Geometry"):
        """Per frame: up to max_candidates - 1 voiced candidates (frequency, strength; 0 where none) and
        the frame's local peak relative to the clip's global peak."""
        n_frames = len(times)
        # the first sample left of each frame's centre (Praat's samples sit at (k + 0.5) / rate)
        left = np.floor(times * g.rate - 0.5).astype(np.int64)
        # local mean: one longest period to both sides of the centre, from a running sum
        cumulative = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
        local_mean = (cumulative[left + g.period + 1] - cumulative[left + 1 - g.period]) / (2 * g.period)
        # float32 throughout: the correlations' rounding (1e-7) is far below any decision threshold
        frames = np.lib.stride_tricks.sliding_window_view(x, g.window_samples)[left + 1 - g.half_window]
        frames -= local_mean.astype(np.float32)[:, None]
        frames *= g.window
        global_peak = float(np.max(np.abs(x - x.mean(dtype=np.float64))))
        local_peak = np.max(np.abs(frames[:, g.peak_start:g.peak_end]), axis=1)
        intensity = np.minimum(local_peak / global_peak, 1.0) if global_peak > 0 else np.zeros(n_frames)

        from scipy import fft

        spectrum = fft.rfft(frames, n=g.fft_size, axis=1, workers=1)
        ac = fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=g.fft_size, axis=1, workers=1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # normalised to lag 0, then divided by the window's own normalised autocorrelation
            r = ac[:, :g.lags_kept] * (1.0 / ac[:, :1]) * g.inverse_window_autocorrelation
        # absolute silence is always voiceless; so is a frame too faint (below about -380 dB) for float32
        r[(local_peak == 0) | ~np.isfinite(r[:, 1])] = 0.0

        frequencies, strengths = _compiled().candidates(
            r, g.last_lag, float(g.rate), 0.5 * self.voicing_threshold, self.octave_cost, self.floor_hz,
            g.ceiling_hz, self.max_candidates_for(g) - 1)
        return frequencies, strengths, intensity

    def max_candidates_for(self, g: "_Geometry") -> int:
        return max(self.max_candidates, int(g.ceiling_hz / self.floor_hz))

    def _path_costs(self, g: "_Geometry") -> np.ndarray:
        # Praat scales the transition costs to a 10 ms time step
        correction = 0.01 / g.step_s
        return np.array([self.silence_threshold, self.voicing_threshold, self.octave_cost,
                         self.octave_jump_cost * correction, self.voiced_unvoiced_cost * correction,
                         g.ceiling_hz])


@dataclass(frozen=True)
class _Geometry:
    """Frame and lag sizes, in samples at the analysis rate, as Praat derives them from floor and ceiling."""
    rate: int
    step_s: float
    window_s: float
    period: int                 # samples in the longest period (the floor's)
    half_window: int
    ceiling_hz: float
    last_lag: int               # candidates are looked for below this lag
    fft_size: int
    peak_start: int             # the frame's middle (half a longest period each side): its local peak
    peak_end: int

    @property
    def window_samples(self) -> int:
        return 2 * self.half_window

    @property
    def window(self) -> np.ndarray:
        return _hanning(self.window_samples)

    @property
    def lags_kept(self) -> int:
        """The correlation is read at lags 0 .. last_lag, and by the sinc interpolations SINC_DEPTH beyond."""
        return self.last_lag + SINC_DEPTH + 2

    @property
    def inverse_window_autocorrelation(self) -> np.ndarray:
        return _inverse_window_autocorrelation(self.window_samples, self.fft_size, self.lags_kept)

    @classmethod
    def of(cls, tracker: BatchedAutocorrelationPitch, rate: int) -> "_Geometry":
        window_s = tracker.periods_per_window / tracker.floor_hz
        period = int(np.floor(rate / tracker.floor_hz))
        half_period = period // 2 + 1
        half_window = int(np.floor(window_s * rate)) // 2 - 1
        window_samples = 2 * half_window
        max_lag = min(int(np.floor(window_samples / tracker.periods_per_window)) + 2, window_samples)
        interpolation_lags = window_samples // 2      # Praat's autocorrelation is trusted up to half a window
        last_lag = min(max_lag, interpolation_lags)
        from scipy.fft import next_fast_len

        # long enough that the circular correlation does not wrap into the lags read (Praat pads further)
        fft_size = next_fast_len(window_samples + last_lag + SINC_DEPTH + 2, real=True)
        return cls(rate=rate, step_s=window_s / 4.0, window_s=window_s, period=period, half_window=half_window,
                   ceiling_hz=min(tracker.ceiling_hz, 0.5 * rate), last_lag=last_lag,
                   fft_size=fft_size, peak_start=max(half_window - half_period, 0),
                   peak_end=min(half_window + half_period, window_samples))

    def frame_times(self, n_samples: int) -> np.ndarray:
        """As many frames as fit, placed symmetrically in the clip (Praat's short-term analysis)."""
        duration = (1.0 / self.rate) * n_samples       # as Praat computes it: a frame more or less otherwise
        n_frames = int(np.floor((duration - self.window_s) / self.step_s)) + 1
        first = 0.5 * duration - 0.5 * n_frames * self.step_s + 0.5 * self.step_s
        return first + self.step_s * np.arange(n_frames)


@lru_cache(maxsize=8)
def _hanning(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1, n + 1) / (n + 1))).astype(np.float32)


@lru_cache(maxsize=8)
def _inverse_window_autocorrelation(n: int, fft_size: int, lags: int) -> np.ndarray:
    """1 / the window's own normalised autocorrelation: multiplying by it undoes the window's taper of
    the lags."""
    window = _hanning(n).astype(np.float64)
    ac = np.fft.irfft(np.abs(np.fft.rfft(window, n=fft_size)) ** 2, n=fft_size)[:lags]
    return (ac[0] / ac).astype(np.float32)


def _best_path(frequencies: np.ndarray, strengths: np.ndarray, intensity: np.ndarray,
               costs: np.ndarray) -> np.ndarray:
    """The frequency on the best path through every frame's candidates (0 where the path is voiceless)."""
    return _compiled().viterbi(frequencies, strengths, intensity, costs)


@lru_cache(maxsize=1)
def _compiled():
    """The two sequential parts, compiled with numba (cached on disk after the first process)."""
    from types import SimpleNamespace

    from numba import njit

    @njit(cache=True, nogil=True)
    def sinc_value(row, x, depth):
        """The correlation between lags, by a raised-cosine windowed sinc over `depth` lags each side
        (the correlation is even: lag -i reads lag i)."""
        left_lag = int(np.floor(x))
        if x == left_lag:
            return row[left_lag]
        phase = np.pi * (x - left_lag)
        half_sin = 0.5 * np.sin(phase)              # sin(pi (x - i)) alternates in sign from lag to lag
        total = 0.0
        for side in range(2):
            # the window's cosine advances by a fixed angle from one lag to the next: rotate, not recompute
            distance = x - left_lag if side == 0 else left_lag + 1 - x
            span = distance + depth
            angle, step = np.pi * distance / span, np.pi / span
            cos_w, sin_w, cos_step, sin_step = np.cos(angle), np.sin(angle), np.cos(step), np.sin(step)
            sign = 1.0
            for k in range(depth):
                lag = left_lag - k if side == 0 else left_lag + 1 + k
                total += row[abs(lag)] * sign * half_sin / (np.pi * distance) * (1.0 + cos_w)
                cos_w, sin_w = cos_w * cos_step - sin_w * sin_step, sin_w * cos_step + cos_w * sin_step
                distance += 1.0
                sign = -sign
        return total

    @njit(cache=True, nogil=True)
    def refined(row, lag):
        """The maximum of the SINC_DEPTH interpolation near a parabolic peak: (lag, value)."""
        before = sinc_value(row, lag - REFINE_STEP, SINC_DEPTH)
        middle = sinc_value(row, lag, SINC_DEPTH)
        after = sinc_value(row, lag + REFINE_STEP, SINC_DEPTH)
        curvature = before - 2.0 * middle + after
        if curvature < 0.0:
            shift = 0.5 * REFINE_STEP * (before - after) / curvature
            if abs(shift) < 1.0:
                return lag + shift, sinc_value(row, lag + shift, SINC_DEPTH)
        return lag, middle

    @njit(cache=True, nogil=True)
    def candidates(r, last_lag, rate, min_strength, octave_cost, floor_hz, ceiling_hz, keep):
        """Each frame's local maxima of the correlation at lags 2 .. last_lag - 1 above `min_strength`;
        the `keep` strongest (favouring high frequencies by the octave cost: an undertone correlates as well
        as F0 itself) as (frequency, strength), 0 where fewer were found."""
        n_frames = r.shape[0]
        frequencies = np.zeros((n_frames, keep))
        strengths = np.zeros((n_frames, keep))
        ranks = np.zeros(keep)
        lags = np.zeros(keep)
        for t in range(n_frames):
            row = r[t]
            found = 0
            for i in range(2, last_lag):
                ri, before, after = row[i], row[i - 1], row[i + 1]
                if not (ri > min_strength and ri > before and ri >= after):
                    continue
                dr = 0.5 * (after - before)
                d2r = 2.0 * ri - before - after
                lag = i + dr / d2r
                strength = sinc_value(row, lag, SELECT_DEPTH)
                if strength > 1.0:                     # short windows overshoot 1
                    strength = 1.0 / strength
                rank = strength + octave_cost * np.log2(rate / lag / floor_hz)
                if found < keep:
                    place = found
                    found += 1
                else:                                  # replace the weakest, if this one is stronger
                    place = 0
                    for c in range(1, keep):
                        if ranks[c] < ranks[place]:
                            place = c
                    if rank <= ranks[place]:
                        continue
                lags[place] = lag
                strengths[t, place] = strength
                ranks[place] = rank
            for c in range(found):
                lag = lags[c]
                if rate / lag < ceiling_hz:            # above the ceiling a peak counts as voiceless anyway
                    lag, strength = refined(row, lag)
                    strengths[t, c] = strength if strength <= 1.0 else 1.0 / strength
                frequencies[t, c] = rate / lag
        return frequencies, strengths

    @njit(cache=True, nogil=True)
    def viterbi(frequencies, strengths, intensity, costs):
        """Praat's path finder: each frame's candidates are its voiced peaks and one voiceless choice; a
        path scores the strengths it passes minus the cost of each octave jump and each voicing change."""
        silence, voicing, octave, jump, unvoiced_cost, ceiling = costs
        n_frames, n_voiced = frequencies.shape
        n = n_voiced + 1                          # candidate 0: voiceless
        score = np.empty((n_frames, n))
        back = np.zeros((n_frames, n), dtype=np.int64)
        log_f = np.zeros((n_frames, n))
        voiced = np.zeros((n_frames, n), dtype=np.bool_)
        for t in range(n_frames):
            voiceless_strength = 2.0 - intensity[t] / (silence / (1.0 + voicing))
            voiceless_strength = voicing + max(voiceless_strength, 0.0)
            score[t, 0] = voiceless_strength
            for c in range(n_voiced):
                f = frequencies[t, c]
                if 0.0 < f < ceiling:
                    voiced[t, c + 1] = True
                    log_f[t, c + 1] = np.log2(f)
                    score[t, c + 1] = strengths[t, c] - octave * np.log2(ceiling / f)
                elif f > 0.0:                    # a peak above the ceiling counts as voiceless
                    score[t, c + 1] = voiceless_strength
                else:                            # no candidate in this place
                    score[t, c + 1] = -1e30
        for t in range(1, n_frames):
            for c2 in range(n):
                if score[t, c2] <= -1e29:
                    continue
                best, place = -1e300, 0
                for c1 in range(n):
                    if score[t - 1, c1] <= -1e29:
                        continue
                    if voiced[t, c2] and voiced[t - 1, c1]:
                        transition = jump * abs(log_f[t - 1, c1] - log_f[t, c2])
                    elif voiced[t, c2] or voiced[t - 1, c1]:
                        transition = unvoiced_cost
                    else:
                        transition = 0.0
                    value = score[t - 1, c1] - transition
                    if value > best:
                        best, place = value, c1
                score[t, c2] += best
                back[t, c2] = place
        chosen = np.zeros(n_frames)
        place = 0
        for c in range(1, n):
            if score[n_frames - 1, c] > score[n_frames - 1, place]:
                place = c
        for t in range(n_frames - 1, -1, -1):
            chosen[t] = frequencies[t, place - 1] if place > 0 else 0.0
            place = back[t, place]
        return chosen

    return SimpleNamespace(candidates=candidates, viterbi=viterbi)
