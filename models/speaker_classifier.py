"""The embedded speaker backend: voice features per clip, and a small classifier (gender or age group) that
the project trains on the clips whose corpus labels them, then applies to clips whose corpus does not.

Features (FEATURE_SET): the spectral envelope over speech frames as cepstral coefficients c1-c12 of the
log-mel spectrum (MFCCs without c0, the level), which carry vocal-tract length, plus Praat F0 quantiles and
the voiced ratio. Keeping 12 coefficients smooths away the harmonics, so the envelope does not simply
restate F0: on the fixtures, raw 32-band log-mel shapes misread high-pitched male voices (95% vs 97.5%). The classifier is a standardised logistic regression: few parameters, so it learns
from a few hundred clips without memorising speakers, and its probabilities are calibrated enough to store.
"""
from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.fft import dct

from .annotators import BackendInfo, Clip
from .hf_audio import resample
from .pitch import PraatPitch
from .vad import EnergyVAD

FEATURE_SET = "mfcc1-12+log2f0-q10-50-90+voiced/2"
RATE = 16000
N_FFT, HOP, N_MELS, N_CEPSTRA = 400, 160, 32, 12      # 25 ms windows every 10 ms
CLASSIFIER_PARAMS = {"model": "standardised logistic regression", "C": 0.5, "class_weight": "balanced"}


def speaker_features(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """One feature vector per clip (float32, len N_CEPSTRA + 4). Frames outside speech are left out; a clip
    with no detected speech uses all of its frames, and no voiced frames give F0 features of 0."""
    audio = resample(samples, sample_rate, RATE)
    log_mel = _log_mel(audio)
    segments = EnergyVAD().segments(audio, RATE)
    speech = _frames_inside(segments, len(log_mel))
    frames = log_mel[speech] if speech.any() else log_mel
    means = frames.mean(axis=0) if len(frames) else np.zeros(N_MELS)
    cepstra = dct(means, type=2, norm="ortho")[1:N_CEPSTRA + 1]
    track = PraatPitch().track(audio, RATE)
    if len(segments):
        track = track.within(segments, margin_s=0.05)
    voiced = track.voiced
    f0 = np.log2(np.percentile(voiced, [10, 50, 90])) if len(voiced) else np.zeros(3)
    return np.concatenate([cepstra, f0, [track.voiced_ratio]]).astype(np.float32)


def _log_mel(audio: np.ndarray) -> np.ndarray:
    if len(audio) < N_FFT:
        audio = np.pad(audio, (0, N_FFT - len(audio)))
    n_frames = 1 + (len(audio) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    spectrum = np.abs(np.fft.rfft(audio[index] * np.hanning(N_FFT), axis=1)) ** 2
    return np.log10(spectrum @ _mel_filters().T + 1e-10)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """Triangular filters evenly spaced on the mel scale from 60 Hz to 7.6 kHz."""
    def mel(hz):
        return 2595 * np.log10(1 + hz / 700)

    def hz(m):
        return 700 * (10 ** (m / 2595) - 1)

    edges = hz(np.linspace(mel(60), mel(7600), N_MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1 / RATE)
    filters = np.zeros((N_MELS, len(bins)))
    for k in range(N_MELS):
        low, centre, high = edges[k:k + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        filters[k] = np.clip(np.minimum(rising, falling), 0, None)
    return filters


def _frames_inside(segments: np.ndarray, n_frames: int) -> np.ndarray:
    centres = (np.arange(n_frames) * HOP + N_FFT / 2) / RATE
    inside = np.zeros(n_frames, dtype=bool)
    for start, end in segments:
        inside |= (centres >= start) & (centres <= end)
    return inside


@dataclass
class SpeakerClassifier:
    """A fitted classifier for one attribute; `to_bytes`/`from_bytes` store it in the lakehouse."""
    attribute: str               # gender / age_group
    classes: list[str]
    pipeline: object             # scikit-learn Pipeline(StandardScaler, LogisticRegression)

    @classmethod
    def fit(cls, attribute: str, features: np.ndarray, labels: list[str]) -> "SpeakerClassifier":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError(f"cannot train a {attribute} classifier: the labelled clips have only "
                             f"{classes or 'no'} {attribute}; ingest a corpus with both")
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(
            C=CLASSIFIER_PARAMS["C"], class_weight=CLASSIFIER_PARAMS["class_weight"], max_iter=2000))
        pipeline.fit(features, labels)
        return cls(attribute, [str(c) for c in pipeline.classes_], pipeline)

    def predict(self, features: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Predicted class and its probability, per row."""
        if len(features) == 0:
            return [], np.zeros(0)
        probs = self.pipeline.predict_proba(features)
        best = probs.argmax(axis=1)
        return [self.classes[i] for i in best], probs[np.arange(len(best)), best]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        pickle.dump(self.pipeline, buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, attribute: str, classes: list[str], blob: bytes) -> "SpeakerClassifier":
        return cls(attribute, classes, pickle.loads(blob))   # noqa: S301 - our own artifact, from our own table


class EmbeddedSpeaker:
    """The `embedded` speaker backend. Its per-clip work is the feature vector; gender and age come from the
    corpus where it has them, and from classifiers trained in the lakehouse elsewhere (tasks/speakers.py)."""
    needs_audio = True
    trains_in_lakehouse = True

    def __init__(self, **_options):
        pass

    def predict(self, clips: list[Clip]) -> list[np.ndarray]:
        return [speaker_features(clip.samples, clip.sample_rate) for clip in clips]

    def describe(self) -> BackendInfo:
        return BackendInfo("embedded", "corpus metadata, else a classifier trained on it",
                           "trained in this lakehouse (table classifiers)",
                           f"{FEATURE_SET}; {CLASSIFIER_PARAMS['model']} C={CLASSIFIER_PARAMS['C']}")
