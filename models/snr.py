"""Signal-to-noise ratio of a speech clip, blind (no clean reference), in dB.

dataspeech measures SNR with Brouhaha, a GPU model. This is the embedded method: the noise floor is read
from the clip's quietest frames, the speech level from its active frames, per frequency band.

1. The clip is cut into 32 ms frames (16 ms hop) and each frame's power is taken in BANDS (a short FFT,
   summed over each band's bins): noise that is loud in one band (hum, rumble, hiss) and absent in
   another is measured where it is, not diluted into one broadband figure.
2. Per band, the noise power is the mean of the quietest NOISE_QUANTILE of its frames: a clip always has
   some frames without speech (pauses between words, breaths, the edges) and there only noise is left.
   Minimum statistics underestimate a noise whose power fluctuates (the mean of the lowest frames lies
   under the mean of all, the more so in a narrow band of few FFT bins); `minimum_bias` measures that
   ratio per band on Gaussian noise once (1.1 to 4.1 dB) and corrects for it.
3. Speech frames are those a band-summed power puts more than ACTIVE_DB above the noise floor; the speech
   power is their mean power minus the noise (power adds: speech and noise are uncorrelated).
4. SNR = 10 log10(speech power / noise power), the speech power that of active speech (ITU-T P.56's
   convention: pauses do not dilute it), clipped to [MIN_DB, MAX_DB]. Digital silence between words (a
   synthetic or gated clip) has no noise at all: such a clip reads MAX_DB.

Limits: a clip with no pause at all (speech from edge to edge over steady noise) has its noise floor read
from its quietest speech, so its SNR reads low; babble (noise that is itself speech) is counted as speech;
and the estimate is the SNR of the clip as recorded, not of the talker in the room (a room's reverberation
tail fills the pauses and reads as noise: reverberant clips read a few dB lower). bench/noise.py measures
its error against known SNRs.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

RATE = 16_000
FRAME, HOP = 512, 256                           # 32 ms frames, 16 ms hop at 16 kHz
BANDS_HZ = (0, 300, 1000, 2500, 5000, 8000)    # edges of the bands noise is measured in
NOISE_QUANTILE = 0.10
ACTIVE_DB = 6.0                                # a frame this far above the noise floor holds speech
MIN_DB, MAX_DB = -10.0, 100.0
MIN_SECONDS = 0.25


def band_powers(samples: np.ndarray) -> np.ndarray:
    """(frames, bands) power of each 32 ms frame in each band."""
    frames = np.lib.stride_tricks.sliding_window_view(samples, FRAME)[::HOP]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1)) ** 2
    bins = np.fft.rfftfreq(FRAME, 1 / RATE)
    edges = np.searchsorted(bins, BANDS_HZ)
    return np.stack([spectrum[:, lo:hi].sum(axis=1) for lo, hi in zip(edges[:-1], edges[1:])], axis=1)


def quietest_mean(powers: np.ndarray) -> np.ndarray:
    """Per band, the mean power of the quietest NOISE_QUANTILE of the frames."""
    count = max(1, int(round(NOISE_QUANTILE * len(powers))))
    return np.sort(powers, axis=0)[:count].mean(axis=0)


@lru_cache(maxsize=1)
def minimum_bias() -> np.ndarray:
    """Per band: mean power / quietest_mean on 30 s of white Gaussian noise (fixed seed)."""
    powers = band_powers(np.random.default_rng(0).standard_normal(30 * RATE))
    return powers.mean(axis=0) / quietest_mean(powers)


def estimate_snr(samples: np.ndarray, rate: int) -> float:
    """The clip's SNR in dB. `samples`: mono float audio at `rate` (resampled to 16 kHz here)."""
    if rate != RATE:
        import soxr
        samples = soxr.resample(samples, rate, RATE)
    samples = np.asarray(samples, dtype=np.float64)
    if len(samples) < MIN_SECONDS * RATE:
        raise ValueError(f"a clip of {len(samples) / RATE:.2f} s is too short for an SNR estimate "
                         f"(at least {MIN_SECONDS} s)")
    powers = band_powers(samples)
    noise = quietest_mean(powers) * minimum_bias()         # per band
    total_noise = noise.sum()
    if total_noise <= 0:                    # digital silence in the pauses: no noise to measure
        return MAX_DB if powers.sum() > 0 else MIN_DB
    frame_power = powers.sum(axis=1)
    active = frame_power > total_noise * 10 ** (ACTIVE_DB / 10)
    if not active.any():
        return MIN_DB
    speech = max(frame_power[active].mean() - total_noise, 0.0)
    if speech <= 0:
        return MIN_DB
    return float(np.clip(10 * np.log10(speech / total_noise), MIN_DB, MAX_DB))
