"""One pass over a clip's signal: everything the acoustic, speaker and emphasis features (and later attributes)
read from the audio, computed once per clip.

The clip is resampled once to ANALYSIS_RATE (16 kHz); on that signal F0 is tracked once (Praat's method:
models/pitch.py's default tracker), 10 ms frame energies give the speech segments, and two short-time
spectra give the speaker's spectral envelope and the emphasis words' frame energy and spectral tilt. What
comes out is a `Contours`: frame-level arrays (F0 on Praat's frames, energy and tilt every 10 ms) plus the envelope, small enough to store per clip
(`compact()`: float32) so that later stages read them instead of decoding and analysing the audio again.

Every number here is computed exactly as the stages computed it before they shared this pass (same Praat
settings, same resampler, same frames), so their outputs did not move: see docs/annotation.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from .pitch import PitchTrack, PitchTracker, default_pitch_tracker, resample
from .vad import FRAME_S, EnergyVAD, frame_power, power_db

ANALYSIS_RATE = 16000
# The short-time spectra: 25 ms Hann windows every 10 ms. The speaker's log-mel envelope uses a 400-point
# FFT, the emphasis words' energy and tilt a 512-point one (each as its features were defined and trained).
HOP, WINDOW = 160, 400
TILT_FFT = 512
N_MELS = 32
SPEECH_MARGIN_S = 0.05       # F0 read inside speech widens each segment by this (mains hum in pauses)
_FLOOR = 1e-10


@dataclass(frozen=True)
class Contours:
    """A clip's frame-level analysis. Times are seconds from the clip's start."""
    f0_hz: np.ndarray            # Praat's frames (every f0_step_s from f0_start_s), NaN where unvoiced
    f0_start_s: float
    f0_step_s: float
    energy_db: np.ndarray        # every 10 ms (non-overlapping frames of the 16 kHz signal), dBFS
    speech_segments: np.ndarray  # (n, 2) start and end seconds: the energy VAD over those frames
    window_energy_db: np.ndarray # every 10 ms, 25 ms Hann windows, the first centred at 12.5 ms
    tilt_db: np.ndarray          # same windows: dB of 50-1000 Hz over 1-4 kHz
    spectral_envelope: np.ndarray  # N_MELS log-mel means over the speech frames (all frames if none)
    frame_power: np.ndarray | None = None   # energy_db's mean squares, in memory only (not stored)

    @property
    def f0_times_s(self) -> np.ndarray:
        return self.f0_start_s + self.f0_step_s * np.arange(len(self.f0_hz))

    @property
    def pitch(self) -> PitchTrack:
        return PitchTrack(self.f0_hz.astype(np.float64), self.f0_times_s, self.f0_start_s, self.f0_step_s)

    @property
    def window_times_s(self) -> np.ndarray:
        return (np.arange(len(self.tilt_db)) * HOP + WINDOW / 2) / ANALYSIS_RATE

    def pitch_in_speech(self) -> PitchTrack:
        """F0 inside the speech segments (widened by SPEECH_MARGIN_S); the whole track when there is none."""
        if not len(self.speech_segments):
            return self.pitch
        return self.pitch.within(self.speech_segments, margin_s=SPEECH_MARGIN_S)

    def f0_at(self, times_s: np.ndarray) -> np.ndarray:
        """F0 at any frame times (e.g. every 10 ms): the nearest Praat frame within 10 ms, else NaN. Voicing
        at those times is `np.isfinite` of it."""
        f0 = np.full(len(times_s), np.nan)
        track_times = self.f0_times_s
        if len(track_times):
            nearest = np.clip(np.searchsorted(track_times, times_s), 0, len(track_times) - 1)
            close = np.abs(track_times[nearest] - times_s) <= FRAME_S
            f0[close] = self.f0_hz[nearest[close]]
        return f0

    def compact(self) -> "Contours":
        """The stored form: float32 contours (float16 would move F0 by up to 0.05%, which the speaker
        classifier's F0 quantiles carry into its probabilities); the 32-value envelope stays float64."""
        return replace(self, f0_hz=self.f0_hz.astype(np.float32), energy_db=self.energy_db.astype(np.float32),
                       window_energy_db=self.window_energy_db.astype(np.float32),
                       tilt_db=self.tilt_db.astype(np.float32), frame_power=None)


def analyse_signal(samples: np.ndarray, sample_rate: int, pitch: PitchTracker | None = None) -> Contours:
    """The one analysis of a mono clip, its F0 by `pitch` (default: the project's tracker). Audio below
    16 kHz is tracked at its own rate (the trackers never upsample) and brought up to 16 kHz for the
    spectra only."""
    pitch = pitch or default_pitch_tracker()
    audio = resample_once(samples, sample_rate)
    if sample_rate > ANALYSIS_RATE and getattr(pitch, "analysis_rate", None) == ANALYSIS_RATE:
        track = pitch.track(audio, ANALYSIS_RATE)       # the very samples the tracker would resample to
    else:
        track = pitch.track(samples, sample_rate)
    power = frame_power(audio, ANALYSIS_RATE)
    segments = EnergyVAD().segments_from_power(power)
    window_energy_db, tilt_db, log_mel = _short_time_spectra(audio)
    return Contours(f0_hz=track.f0_hz, f0_start_s=float(track.start_s), f0_step_s=float(track.step_s),
                    energy_db=power_db(power), speech_segments=segments, window_energy_db=window_energy_db, tilt_db=tilt_db,
                    spectral_envelope=_spectral_envelope(log_mel, segments), frame_power=power)


def resample_once(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The clip at ANALYSIS_RATE, float32 (soxr; the same samples Praat's own resampling gives)."""
    if sample_rate == ANALYSIS_RATE:
        return samples.astype(np.float32, copy=False)
    return resample(samples, sample_rate, ANALYSIS_RATE)


def _short_time_spectra(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 25 ms Hann window every 10 ms: RMS dBFS, spectral tilt (stressed vowels are spoken with more
    effort, which flattens the spectrum and lowers the tilt: dB of 50-1000 Hz over 1-4 kHz, 512-point FFT)
    and the log-mel spectrum (400-point FFT). The windows are cut once and transformed in float32 by
    scipy's FFT: the same numbers as float64 to about 1e-6, at a third of the cost (these spectra were a
    quarter of the stage's time beside Praat's). A clip shorter than one window has no energy or tilt, and
    one zero-padded log-mel frame."""
    from scipy import fft

    padded = audio if len(audio) >= WINDOW else np.pad(audio, (0, WINDOW - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(padded.astype(np.float32, copy=False), WINDOW)[::HOP]
    frames = frames * _hann()
    log_mel = np.log10(_power(fft.rfft(frames, axis=1, workers=1)) @ _mel_filters().T + 1e-10)
    if len(audio) < WINDOW:
        return np.zeros(0), np.zeros(0), log_mel
    bands = _power(fft.rfft(frames, n=TILT_FFT, axis=1, workers=1)) @ _tilt_bands()
    energy_db = 10 * np.log10(np.mean(np.square(frames, dtype=np.float64), axis=1) + _FLOOR)
    tilt_db = 10 * np.log10(bands[:, 0] + _FLOOR) - 10 * np.log10(bands[:, 1] + _FLOOR)
    return energy_db, tilt_db.astype(np.float64), log_mel


def _power(spectrum: np.ndarray) -> np.ndarray:
    return np.square(spectrum.real) + np.square(spectrum.imag)


def _spectral_envelope(log_mel: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Mean log-mel spectrum over the frames inside speech (all frames when there is no speech): the
    vocal-tract envelope the speaker classifier's cepstra come from."""
    centres = (np.arange(len(log_mel)) * HOP + WINDOW / 2) / ANALYSIS_RATE
    speech = np.zeros(len(log_mel), dtype=bool)
    for start, end in segments:
        speech |= (centres >= start) & (centres <= end)
    frames = log_mel[speech] if speech.any() else log_mel
    return frames.astype(np.float64).mean(axis=0) if len(frames) else np.zeros(N_MELS)


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    return np.hanning(WINDOW).astype(np.float32)


@lru_cache(maxsize=1)
def _tilt_bands() -> np.ndarray:
    """The two bands of the tilt as a (bins, 2) 0/1 matrix: their sums are one small matrix product."""
    freqs = np.fft.rfftfreq(TILT_FFT, 1 / ANALYSIS_RATE)
    return np.stack([(freqs >= 50) & (freqs < 1000), (freqs >= 1000) & (freqs < 4000)], axis=1).astype(np.float32)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """Triangular filters evenly spaced on the mel scale from 60 Hz to 7.6 kHz."""
    def mel(hz):
        return 2595 * np.log10(1 + hz / 700)

    def hz(m):
        return 700 * (10 ** (m / 2595) - 1)

    edges = hz(np.linspace(mel(60), mel(7600), N_MELS + 2))
    bins = np.fft.rfftfreq(WINDOW, 1 / ANALYSIS_RATE)
    filters = np.zeros((N_MELS, len(bins)))
    for k in range(N_MELS):
        low, centre, high = edges[k:k + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        filters[k] = np.clip(np.minimum(rising, falling), 0, None)
    return filters.astype(np.float32)
