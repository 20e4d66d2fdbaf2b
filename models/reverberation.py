"""Blind reverberation estimate: C50 in dB (energy of the first 50 ms of the room impulse response against the
rest) from reverberant speech alone, per clip, offline.

No pretrained model: a small gradient-boosted regressor trained by `scripts/train_c50.py` on espeak-ng speech
convolved with pyroomacoustics shoebox room impulse responses of known C50 (computed from each RIR with
`c50_of_rir`), dry speech standing for the top of the scale (60 dB, Parler-TTS's ceiling). The trees ship as
plain arrays in `models/data/c50_regressor.npz` (no pickle); inference is numpy only.

Features (`features`, 16 kHz, ~5 ms hop) describe how fast and how far the energy falls after speech offsets,
per octave band and broadband: percentiles of the least-squares decay slope over 40 and 100 ms windows that
start loud, percentiles of the drop 20/50/100/200 ms after a loud frame, the level distribution relative to
the loud frames; plus the envelope's modulation-spectrum ratios, spectral flatness and the kurtosis of the
linear-prediction residual. docs/reverberation.md has the method, the figures and the limits.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from ..vocabulary import PARLER_BINS, parler_label

RATE = 16000                      # analysis rate; other rates are resampled with soxr
MIN_SECONDS = 0.5
MODEL_PATH = Path(__file__).parent / "data" / "c50_regressor.npz"

# Parler-TTS v1's frozen reverberation bins (the vocabulary's): the labels the estimator is judged in
REVERBERATION_LABELS = PARLER_BINS["reverberation"][1]

N_FFT = 512
HOP = 80                          # 5 ms
BAND_EDGES_HZ = (125, 250, 500, 1000, 2000, 4000, 8000)
SLOPE_FRAMES = (8, 20)            # 40 ms and 100 ms decay windows
DROP_FRAMES = (4, 10, 20, 40)     # 20, 50, 100, 200 ms after a loud frame
FLOOR_DB = -100.0                 # levels are clipped this far below the loud frames (digital silence)


def reverberation_label(c50_db: float) -> str:
    """The Parler-TTS reverberation label of a C50 value (dB)."""
    return parler_label("reverberation", c50_db)


def reverberation_bin(c50_db: float) -> int:
    return REVERBERATION_LABELS.index(reverberation_label(c50_db))


def c50_of_rir(rir: np.ndarray, rate: int, onset: int | None = None, cap: float = 60.0) -> float:
    """C50 (dB) of an impulse response: energy from the start to 50 ms after the direct sound against the rest.

    `onset` is the direct sound's sample; by default the first sample within 20 dB of the RIR's peak. A RIR
    with no energy after 50 ms (a dry clip) gives `cap`.
    """
    h = np.asarray(rir, dtype=np.float64)
    e = h * h
    if onset is None:
        onset = int(np.argmax(e >= e.max() * 0.01))
    cut = onset + int(round(0.05 * rate))
    early, late = e[:cut].sum(), e[cut:].sum()
    if late <= early * 10 ** (-cap / 10):
        return float(cap)
    return float(min(cap, 10 * np.log10(early / late)))


def _band_levels(x: np.ndarray) -> np.ndarray:
    """(bands + broadband) x frames log energies in dB, relative to each row's 99th percentile, floored."""
    n_frames = 1 + max(0, (len(x) - N_FFT) // HOP)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    frames = x[np.minimum(idx, len(x) - 1)] * np.hanning(N_FFT)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(N_FFT, 1 / RATE)
    rows = [power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in zip(BAND_EDGES_HZ, BAND_EDGES_HZ[1:])]
    rows.append(power[:, (freqs >= 100)].sum(axis=1))
    energy = np.stack(rows)
    levels = 10 * np.log10(energy + 1e-20)
    top = np.percentile(levels, 99, axis=1, keepdims=True)
    return np.maximum(levels - top, FLOOR_DB), power


def _slope_kernel(n: int) -> np.ndarray:
    t = np.arange(n) - (n - 1) / 2
    return t / (t @ t) / (HOP / RATE)    # least-squares slope in dB per second


def _decay_features(level: np.ndarray) -> list[float]:
    out = [float(v) for v in np.percentile(level, [5, 20, 50])]
    loud = level > -40.0
    for n in SLOPE_FRAMES:
        if len(level) <= n:
            out += [0.0, 0.0, 0.0]
            continue
        slopes = np.correlate(level, _slope_kernel(n), mode="valid")
        start = loud[: len(slopes)]
        sel = slopes[start] if start.any() else slopes
        out += [float(v) for v in np.percentile(sel, [1, 5, 20])]
    very_loud = level > -20.0
    for d in DROP_FRAMES:
        if len(level) <= d:
            out += [0.0, 0.0]
            continue
        drop = level[:-d] - level[d:]
        start = very_loud[:-d]
        sel = drop[start] if start.any() else drop
        out += [float(v) for v in np.percentile(sel, [90, 98])]
    return out


def _global_features(x: np.ndarray, level: np.ndarray, power: np.ndarray) -> list[float]:
    # modulation spectrum of the broadband amplitude envelope (200 Hz frame rate)
    env = 10 ** (level / 20)
    env = env - env.mean()
    spec = np.abs(np.fft.rfft(env, n=max(1024, len(env)))) ** 2
    mf = np.fft.rfftfreq(max(1024, len(env)), HOP / RATE)
    band = lambda lo, hi: spec[(mf >= lo) & (mf < hi)].sum() + 1e-12  # noqa: E731
    low, mid, high = band(0.5, 4), band(4, 16), band(16, 50)
    mod = [float(np.log10(mid / low)), float(np.log10(high / low))]
    # spectral flatness of the loud frames and of the quiet ones
    logp = np.log(power[:, 4:] + 1e-20)
    flat = np.exp(logp.mean(axis=1)) / (power[:, 4:].mean(axis=1) + 1e-20)
    loud = level > -30.0
    quiet = (level < -30.0) & (level > FLOOR_DB + 1)
    flat_feats = [
        float(np.median(flat[loud])) if loud.any() else 0.0,
        float(np.median(flat[quiet])) if quiet.any() else 1.0,
    ]
    # kurtosis of the LP residual (order 16, whole clip): reverberation smears the excitation pulses
    r = _autocorr(x, 17)
    r[0] *= 1 + 1e-6
    try:
        a = solve_toeplitz(r[:-1], -r[1:])
        res = lfilter(np.concatenate([[1.0], a]), [1.0], x)
    except (np.linalg.LinAlgError, ValueError):
        res = x
    res = res[np.abs(res) > 0] if np.any(res != 0) else res
    m2 = np.mean(res ** 2) + 1e-20
    kurt = float(np.log10(np.mean(res ** 4) / m2 ** 2 + 1e-6))
    return mod + flat_feats + [kurt, float(np.log10(len(x) / RATE))]


def _autocorr(x: np.ndarray, lags: int) -> np.ndarray:
    n = 1 << int(np.ceil(np.log2(2 * len(x))))
    f = np.fft.rfft(x, n)
    return np.fft.irfft(f * np.conj(f), n)[:lags]


def features(samples16k: np.ndarray) -> np.ndarray:
    """The regressor's feature vector of a 16 kHz mono clip."""
    x = np.asarray(samples16k, dtype=np.float64)
    rms = np.sqrt(np.mean(x * x))
    if rms <= 0:
        raise ValueError("the clip is silent (all zeros); C50 needs speech")
    x = (x - x.mean()) / rms
    levels, power = _band_levels(x)
    out: list[float] = []
    for row in levels:
        out += _decay_features(row)
    out += _global_features(x, levels[-1], power)
    return np.asarray(out, dtype=np.float64)


def feature_names() -> list[str]:
    """Names of `features`' entries, in order (band lower edge in Hz or `bb` for broadband)."""
    names = []
    for band in [str(f) for f in BAND_EDGES_HZ[:-1]] + ["bb"]:
        names += [f"{band}_level_p{p}" for p in (5, 20, 50)]
        names += [f"{band}_slope{n * HOP * 1000 // RATE}ms_p{p}" for n in SLOPE_FRAMES for p in (1, 5, 20)]
        names += [f"{band}_drop{d * HOP * 1000 // RATE}ms_p{p}" for d in DROP_FRAMES for p in (90, 98)]
    return names + ["mod_4_16_over_0.5_4", "mod_16_50_over_0.5_4", "flatness_loud", "flatness_quiet",
                    "lp_residual_log_kurtosis", "log_duration"]


class TreeEnsemble:
    """Gradient-boosted regression trees from flat arrays: prediction = base + rate * sum of leaf values."""

    def __init__(self, arrays: dict):
        self.feature = arrays["feature"]          # (trees, nodes) int, -1 at leaves
        self.threshold = arrays["threshold"]
        self.left = arrays["left"]
        self.right = arrays["right"]
        self.value = arrays["value"]
        self.base = float(arrays["base"])
        self.rate = float(arrays["rate"])
        self.depth = int(arrays["depth"])
        self.low, self.high = (float(v) for v in arrays["target_range"])

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x).astype(np.float32)   # scikit-learn's trees compare float32 features
        trees = np.arange(self.feature.shape[0])
        out = np.empty(len(x))
        for i, row in enumerate(x):
            node = np.zeros(len(trees), dtype=np.int64)
            for _ in range(self.depth):
                f = self.feature[trees, node]
                leaf = f < 0
                go_left = row[np.maximum(f, 0)] <= self.threshold[trees, node]
                nxt = np.where(go_left, self.left[trees, node], self.right[trees, node])
                node = np.where(leaf, node, nxt)
            out[i] = self.base + self.rate * self.value[trees, node].sum()
        return np.clip(out, self.low, self.high)


@lru_cache(maxsize=1)
def load_model(path: str | None = None) -> TreeEnsemble:
    with np.load(path or MODEL_PATH, allow_pickle=False) as data:
        return TreeEnsemble({k: data[k] for k in data.files})


def to_analysis_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"estimate_c50 takes mono samples (1-D), got shape {x.shape}")
    if rate != RATE:
        import soxr
        x = soxr.resample(x, rate, RATE)
    return x


def estimate_c50(samples: np.ndarray, rate: int) -> float:
    """Blind C50 (dB) of a mono clip (float in [-1, 1], any rate), clipped to the trained range.

    Raises ValueError for clips shorter than 0.5 s, silent clips or non-mono input.
    """
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if len(samples) < MIN_SECONDS * rate:
        raise ValueError(f"clip too short for a C50 estimate: {len(samples) / rate:.3f} s < {MIN_SECONDS} s")
    x = to_analysis_rate(samples, rate)
    return float(load_model().predict(features(x))[0])
