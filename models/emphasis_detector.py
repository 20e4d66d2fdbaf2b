"""Which word of a clip is stressed, if any: word-level prosodic features and a classifier over them.

Each word is described relative to its own sentence, so that speaker, recording level and language cancel out:
F0 peak and mean (semitones over the sentence's median), how far its F0 peak and energy stand above the other
words', energy (dB over the sentence), duration relative to the word's expected length (the aligner's
syllable-based share) and to the other words', spectral tilt, voicing and position. Then the prosodic ones
again relative to the speaker (`speaker_relative`): how far a word stands out among every word its speaker
says. A voice with a wide pitch range lifts its ordinary accents as high as a narrow voice lifts a stressed
word; against the speaker's own spread the two read apart. A gradient-boosted classifier scores each word; a
sentence's stressed word is its top-scoring word when that score reaches the threshold, otherwise none. The
threshold is the one that maximises sentence-level accuracy (no-emphasis sentences included) on out-of-fold
scores of the training clips.
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .reverberation import TreeEnsemble
from .word_aligner import WordSpan, expected_units
from .word_prosody import Frames

FEATURE_SET = "word-prosody-v1"
FEATURE_NAMES = ("f0_peak_st", "f0_mean_st", "f0_peak_over_others_st", "f0_rise_st", "energy_db",
                 "energy_peak_db", "energy_over_others_db", "duration_log_ratio", "duration_over_others",
                 "tilt_db", "voiced_share", "position", "is_first", "is_last", "f0_peak_z", "energy_z", "duration_z")
# the features also read against the speaker's own words; what the detectors score is FEATURE_NAMES, then these
SPEAKER_RELATIVE = ("f0_peak_st", "f0_mean_st", "f0_peak_over_others_st", "f0_rise_st", "energy_db", "energy_peak_db",
                    "energy_over_others_db", "duration_log_ratio", "duration_over_others", "tilt_db")
_RELATIVE_COLUMNS = [FEATURE_NAMES.index(name) for name in SPEAKER_RELATIVE]
DETECTOR_INPUT = f"{FEATURE_SET}+speaker-z/1"
PACKAGED_PATH = Path(__file__).parent / "data" / "emphasis_detector.npz"
MISSING = -99.0                   # a feature a word lacks (no voiced frame): the shipped trees need a number
CLASSIFIER_PARAMS = {"max_iter": 300, "learning_rate": 0.06, "max_leaf_nodes": 15, "l2_regularization": 1.0}


def _semitones(f0: np.ndarray, reference: float) -> np.ndarray:
    return 12 * np.log2(f0 / reference)


def _over_others(values: np.ndarray) -> np.ndarray:
    """Each value minus the largest of the others (NaN-aware): positive only for the single highest. The
    largest of the others is the largest value, except for the largest itself, whose is the runner-up."""
    out = np.full(len(values), np.nan)
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) < 2:
        return out
    ranked = finite[np.argsort(values[finite], kind="stable")]
    top, runner_up = ranked[-1], ranked[-2]
    out[finite] = values[finite] - values[top]
    out[top] = values[top] - values[runner_up]
    return out


def _z(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if len(finite) < 2 or finite.std() == 0:
        return np.zeros(len(values))
    return (values - finite.mean()) / finite.std()


def word_features(frames: Frames, spans: list[WordSpan], language: str) -> np.ndarray:
    """One row of FEATURE_NAMES per word (NaN where a word has no voiced frame)."""
    n = len(spans)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    voiced_f0 = frames.f0_hz[frames.voiced]
    reference = float(np.median(voiced_f0)) if len(voiced_f0) else np.nan
    speech = frames.energy_db > frames.energy_db.max() - 30
    energy_ref = float(frames.energy_db[speech].mean())
    tilt_ref = float(frames.tilt_db[speech].mean())
    f0_peak, f0_mean, f0_rise, energy, energy_peak, tilt, voiced_share = (np.full(n, np.nan) for _ in range(7))
    durations = np.array([max(s.end_s - s.start_s, 0.01) for s in spans])
    weights = np.array([expected_units(s.word, language)[0] for s in spans])
    for i, span in enumerate(spans):
        inside = (frames.times_s >= span.start_s) & (frames.times_s < span.end_s)
        if not inside.any():
            continue
        energy[i] = frames.energy_db[inside].mean() - energy_ref
        energy_peak[i] = frames.energy_db[inside].max() - energy_ref
        tilt[i] = frames.tilt_db[inside].mean() - tilt_ref
        f0 = frames.f0_hz[inside]
        voiced_share[i] = np.isfinite(f0).mean()
        f0 = f0[np.isfinite(f0)]
        if len(f0) and np.isfinite(reference):
            semitones = _semitones(f0, reference)
            f0_peak[i], f0_low = np.percentile(semitones, [90, 10])
            f0_mean[i], f0_rise[i] = semitones.mean(), f0_peak[i] - f0_low
    # duration against the word's share of the sentence's speech: > 0 means slower than its siblings
    duration_ratio = np.log(durations / (weights / weights.sum() * durations.sum()))
    position = np.arange(n) / max(n - 1, 1)
    columns = [f0_peak, f0_mean, _over_others(f0_peak), f0_rise, energy, energy_peak, _over_others(energy),
               duration_ratio, _over_others(duration_ratio), tilt, voiced_share, position,
               (np.arange(n) == 0).astype(float), (np.arange(n) == n - 1).astype(float),
               _z(f0_peak), _z(energy), _z(duration_ratio)]
    return np.column_stack(columns).astype(np.float32)


def speaker_norms(sentences: list[np.ndarray]) -> np.ndarray:
    """One speaker's (median, spread) of each SPEAKER_RELATIVE feature over all its words in `sentences` (rows
    of FEATURE_NAMES): robust, so the few stressed words among them move neither; the spread is the
    interquartile range scaled to a normal's standard deviation."""
    width = len(_RELATIVE_COLUMNS)
    words = np.vstack(sentences)[:, _RELATIVE_COLUMNS] if sentences else np.zeros((0, width))
    if not len(words) or not np.isfinite(words).any():
        return np.vstack([np.zeros(width), np.ones(width)])
    with np.errstate(all="ignore"):
        low, median, high = np.nanpercentile(words, [25, 50, 75], axis=0)
    spread = np.where(np.isfinite(high - low) & (high - low > 0), (high - low) / 1.349, 1.0)
    return np.vstack([np.nan_to_num(median), np.maximum(spread, 1e-3)])


def norms_by_speaker(sentences: list[np.ndarray], speakers: list[str]) -> dict[str, np.ndarray]:
    """speaker -> speaker_norms over that speaker's sentences (one speaker per sentence, in order)."""
    by_speaker: dict[str, list[np.ndarray]] = {}
    for features, speaker in zip(sentences, speakers):
        by_speaker.setdefault(speaker, []).append(np.asarray(features, dtype=np.float32).reshape(-1, len(FEATURE_NAMES)))
    return {speaker: speaker_norms(mine) for speaker, mine in by_speaker.items()}


def speaker_relative(sentences: list[np.ndarray], speakers: list[str]) -> list[np.ndarray]:
    """Each sentence's rows of FEATURE_NAMES with the SPEAKER_RELATIVE columns appended as robust z-scores over
    every word that sentence's speaker says in `sentences` (the detectors' input, DETECTOR_INPUT)."""
    norms = norms_by_speaker(sentences, speakers)
    return [with_norms(features, norms[speaker]) for features, speaker in zip(sentences, speakers)]


def with_norms(features: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """A sentence's rows of FEATURE_NAMES and, appended, its SPEAKER_RELATIVE columns against `norms`."""
    features = np.asarray(features, dtype=np.float32).reshape(-1, len(FEATURE_NAMES))
    return np.hstack([features, (features[:, _RELATIVE_COLUMNS] - norms[0]) / norms[1]]).astype(np.float32)


@dataclass(frozen=True)
class Detection:
    word_index: int | None        # None: no word stressed
    top_index: int | None         # the best-scoring word, stressed or not
    score: float                  # the top word's score


def sentence_decision(scores: np.ndarray, threshold: float) -> Detection:
    if len(scores) == 0:
        return Detection(None, None, 0.0)
    top = int(np.argmax(scores))
    return Detection(top if scores[top] >= threshold else None, top, float(scores[top]))


def detect_sentences(detector: "EmphasisClassifier | PackagedDetector", sentences: list[np.ndarray]) -> list[Detection]:
    """Each sentence's decision (rows of word features per sentence), all their words scored in one call: a
    word's score does not depend on the others scored with it, and each call costs milliseconds of set-up."""
    if not sentences:
        return []
    scores = detector.scores(np.vstack(sentences))
    ends = np.cumsum([len(words) for words in sentences])[:-1]
    return [sentence_decision(part, detector.threshold) for part in np.split(scores, ends)]


def sentence_accuracy(sentences: list[tuple[np.ndarray, int | None]], threshold: float) -> float:
    """Share of (word scores, stressed word index or None) whose decision is exactly right."""
    right = sum(sentence_decision(scores, threshold).word_index == truth for scores, truth in sentences)
    return right / len(sentences) if sentences else float("nan")


def best_threshold(sentences: list[tuple[np.ndarray, int | None]]) -> float:
    candidates = np.unique(np.concatenate([[0.5], *[s for s, _ in sentences if len(s)]]))
    accuracies = [sentence_accuracy(sentences, t) for t in candidates]
    return float(candidates[int(np.argmax(accuracies))])


class EmphasisClassifier:
    """Word scorer plus sentence threshold; `fit` on sentences of word features with their stressed index."""

    def __init__(self, model=None, threshold: float = 0.5):
        self.model, self.threshold = model, threshold

    @staticmethod
    def _stack(sentences: list[tuple[np.ndarray, int | None]]) -> tuple[np.ndarray, np.ndarray]:
        x = np.vstack([f for f, _ in sentences])
        y = np.concatenate([np.arange(len(f)) == truth for f, truth in sentences]).astype(int)
        return x, y

    @staticmethod
    def _model():
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=0, **CLASSIFIER_PARAMS)

    def fit(self, sentences: list[tuple[np.ndarray, int | None]], groups: list[str], folds: int = 4) -> "EmphasisClassifier":
        """Out-of-fold scores (folds grouped by speaker) choose the threshold; then fit on everything."""
        from sklearn.model_selection import GroupKFold

        group_ids = np.array(groups)
        scored: list[tuple[np.ndarray, int | None]] = []
        n_folds = min(folds, len(set(groups)))
        if n_folds >= 2:
            for train, test in GroupKFold(n_splits=n_folds).split(np.zeros(len(sentences)), groups=group_ids):
                model = self._model().fit(*self._stack([sentences[i] for i in train]))
                scored += [(model.predict_proba(sentences[i][0])[:, 1], sentences[i][1]) for i in test]
            self.threshold = best_threshold(scored)
        self.model = self._model().fit(*self._stack(sentences))
        return self

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(features)[:, 1] if len(features) else np.zeros(0)

    def detect(self, features: np.ndarray) -> Detection:
        return sentence_decision(self.scores(features), self.threshold)

    def to_bytes(self) -> bytes:
        return pickle.dumps({"model": self.model, "threshold": self.threshold})

    @classmethod
    def from_bytes(cls, blob: bytes) -> "EmphasisClassifier":
        state = pickle.loads(blob)
        return cls(state["model"], state["threshold"])


class PackagedDetector:
    """The shipped detector of one language: regression trees over the word features (a word's score is its
    predicted chance of being the stressed one) and the sentence threshold chosen on the training voices'
    out-of-fold scores."""

    def __init__(self, trees: TreeEnsemble, threshold: float, version: str):
        self.trees, self.threshold, self.version = trees, threshold, version

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Each word's score, a probability like the lakehouse detector's (the trees' regression of 0/1 can
        step a little outside; the threshold lies well inside, so no decision changes)."""
        if not len(features):
            return np.zeros(0)
        return np.clip(self.trees.predict(np.nan_to_num(features, nan=MISSING)), 0.0, 1.0)

    def detect(self, features: np.ndarray) -> Detection:
        return sentence_decision(self.scores(features), self.threshold)


@lru_cache(maxsize=2)
def packaged_detectors(path: str | None = None) -> dict[str, PackagedDetector]:
    """language -> the shipped detector; empty when the file is missing or was made for other features."""
    path = Path(path or PACKAGED_PATH)
    if not path.is_file():
        return {}
    version = "packaged-" + hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    if str(arrays.pop("feature_set")) != DETECTOR_INPUT:
        return {}
    languages = {k.split(".", 1)[0] for k in arrays}
    return {lang: PackagedDetector(TreeEnsemble({k.split(".", 1)[1]: v for k, v in arrays.items()
                                                 if k.startswith(f"{lang}.")}),
                                   float(arrays[f"{lang}.sentence_threshold"]), version) for lang in sorted(languages)}
