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

import numpy as np
from scipy.fft import dct

from .annotators import BackendInfo, Clip
from .signal import Contours, analyse_signal

FEATURE_SET = "mfcc1-12+log2f0-q10-50-90+voiced/2"
N_CEPSTRA = 12
CLASSIFIER_PARAMS = {"model": "standardised logistic regression", "C": 0.5, "class_weight": "balanced"}


def features_from(contours: Contours) -> np.ndarray:
    """One feature vector per clip (float32, len N_CEPSTRA + 4), read off its contours (models/signal.py):
    the cepstra of the spectral envelope over speech, and the F0 quantiles and voiced ratio inside speech.
    No voiced frames give F0 features of 0."""
    cepstra = dct(contours.spectral_envelope, type=2, norm="ortho")[1:N_CEPSTRA + 1]
    track = contours.pitch_in_speech()
    voiced = track.voiced
    f0 = np.log2(np.percentile(voiced, [10, 50, 90])) if len(voiced) else np.zeros(3)
    return np.concatenate([cepstra, f0, [track.voiced_ratio]]).astype(np.float32)


def speaker_features(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The feature vector of audio that has no stored contours."""
    return features_from(analyse_signal(samples, sample_rate))


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
    corpus where it has them, and from classifiers trained in the lakehouse elsewhere (tasks/speakers.py).
    It reads a clip's contours (`predict_contours`) rather than its audio: the speaker stage hands it the
    ones the acoustic stage stored."""
    needs_audio = True
    trains_in_lakehouse = True
    reads_contours = True

    def __init__(self, **_options):
        pass

    def predict(self, clips: list[Clip]) -> list[np.ndarray]:
        return [speaker_features(clip.samples, clip.sample_rate) for clip in clips]

    def predict_contours(self, contours: list[Contours]) -> list[np.ndarray]:
        return [features_from(c) for c in contours]

    def describe(self) -> BackendInfo:
        return BackendInfo("embedded", "corpus metadata, else a classifier trained on it",
                           "trained in this lakehouse (table classifiers)",
                           f"{FEATURE_SET}; {CLASSIFIER_PARAMS['model']} C={CLASSIFIER_PARAMS['C']}")
