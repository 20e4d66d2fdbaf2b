"""The embedded speaker backend: voice features per clip, and a small classifier (gender or age group) that
the project trains on the clips whose corpus labels them, then applies to clips whose corpus does not.

Features (FEATURE_SET): the spectral envelope over speech frames as cepstral coefficients c1-c12 of the
log-mel spectrum (MFCCs without c0, the level), which carry vocal-tract length, plus Praat F0 quantiles and
the voiced ratio. Keeping 12 coefficients smooths away the harmonics, so the envelope does not simply
restate F0: on the fixtures, raw 32-band log-mel shapes misread high-pitched male voices (95% vs 97.5%). The classifier is a standardised logistic regression: few parameters, so it learns
from a few hundred clips without memorising speakers, and its probabilities are calibrated enough to store.

With a voice vector (the voice stage's 256-d speaker embedding, docs/voices.md) appended to those features
(VOICE_FEATURE_SET), `fit` with the speakers as `groups` chooses, by cross-validation grouped by speaker on
the training clips only, among the F0/cepstral features alone, the vector alone, and the two classifiers'
probabilities averaged: 256 dimensions learnt from a few dozen speakers can overfit, and which reading wins
depends on the corpora, so the training speakers decide, never the speakers it is validated on.
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
VOICE_FEATURE_SET = f"{FEATURE_SET}+voice256/1"     # the same, then the voice vector
N_CEPSTRA = 12
BASE_WIDTH = N_CEPSTRA + 4
CLASSIFIER_PARAMS = {"model": "standardised logistic regression", "C": 0.5, "class_weight": "balanced"}
READINGS = ("features", "voice", "both")   # what a classifier with the voice vector may read (grouped CV picks)
CV_FOLDS = 5


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
    pipeline: object             # scikit-learn Pipeline(StandardScaler, LogisticRegression), or a VoiceReading

    @classmethod
    def fit(cls, attribute: str, features: np.ndarray, labels: list[str],
            groups: list[str] | None = None) -> "SpeakerClassifier":
        """Rows of FEATURE_SET, or of VOICE_FEATURE_SET (wider than BASE_WIDTH): then, with `groups` (the
        speakers), the reading is chosen by grouped cross-validation on these rows only."""
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError(f"cannot train a {attribute} classifier: the labelled clips have only "
                             f"{classes or 'no'} {attribute}; ingest a corpus with both")
        if features.shape[1] <= BASE_WIDTH:
            pipeline = _logistic().fit(features, labels)
            return cls(attribute, [str(c) for c in pipeline.classes_], pipeline)
        reading = _choose_reading(features, np.asarray(labels), groups) if groups is not None else "both"
        model = VoiceReading(reading).fit(features, labels)
        return cls(attribute, model.classes, model)

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


def _logistic():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(
        C=CLASSIFIER_PARAMS["C"], class_weight=CLASSIFIER_PARAMS["class_weight"], max_iter=2000))


class VoiceReading:
    """A classifier over VOICE_FEATURE_SET rows that reads the F0/cepstral features, the voice vector, or
    both (each block's own logistic regression, probabilities averaged)."""

    def __init__(self, reading: str):
        self.reading = reading
        self.models: dict[str, object] = {}
        self.classes: list[str] = []

    def _blocks(self, features: np.ndarray) -> dict[str, np.ndarray]:
        named = {"features": features[:, :BASE_WIDTH], "voice": features[:, BASE_WIDTH:]}
        return named if self.reading == "both" else {self.reading: named[self.reading]}

    def fit(self, features: np.ndarray, labels) -> "VoiceReading":
        self.models = {name: _logistic().fit(block, labels) for name, block in self._blocks(features).items()}
        self.classes = [str(c) for c in next(iter(self.models.values())).classes_]
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        blocks = self._blocks(features)
        return np.mean([self.models[name].predict_proba(block) for name, block in blocks.items()], axis=0)


def _choose_reading(features: np.ndarray, labels: np.ndarray, groups: list[str]) -> str:
    """The reading with the best class-balanced accuracy over folds that each hold out whole speakers; a tie
    keeps the simpler one (READINGS' order). Too few speakers to fold: both."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    folds = min(CV_FOLDS, len(set(groups.tolist())))
    if folds < 2:
        return "both"
    scores = {}
    for reading in READINGS:
        predicted = np.empty(len(labels), dtype=object)
        for train, test in GroupKFold(folds).split(features, labels, groups):
            if len(set(labels[train])) < 2:
                predicted[test] = labels[train][0]
                continue
            model = VoiceReading(reading).fit(features[train], labels[train])
            predicted[test] = np.array(model.classes)[model.predict_proba(features[test]).argmax(axis=1)]
        scores[reading] = balanced_accuracy_score(labels, predicted.astype(str))
    return max(READINGS, key=lambda r: (scores[r], -READINGS.index(r)))


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
