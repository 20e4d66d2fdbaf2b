"""Which word of a clip is stressed, if any: word-level prosodic features and a classifier over them.

Each word is described relative to its own sentence, so that speaker, recording level and language cancel out:
F0 peak and mean (semitones over the sentence's median), how far its F0 peak and energy stand above the other
words', energy (dB over the sentence), duration relative to the word's expected length (the aligner's
syllable-based share) and to the other words', spectral tilt, voicing and position. Then the prosodic ones
again relative to the speaker: how far a word stands out among every word its speaker says (a voice with a
wide pitch range lifts its ordinary accents as high as a narrow voice lifts a stressed word; against the
speaker's own spread the two read apart); and, in Mandarin, its lexical tones (`detector_input`). A
gradient-boosted classifier scores each word; a sentence's stressed word is its top-scoring word when that
score reaches the threshold, otherwise none. The threshold is the one that maximises balanced sentence-level accuracy
(plain and stressed sentences weighed alike, a plain one right only when no word is flagged) on out-of-fold scores
of the training clips.
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
# What the detectors score (DETECTOR_INPUT, INPUT_NAMES): FEATURE_NAMES; then these against the speaker's own words;
# (each word against the words just before and after it was tried and left out, docs/emphasis.md: it raised
# the espeak-ng sets and flagged a word in over half of the flite voices' plain sentences)
SPEAKER_RELATIVE = ("f0_peak_st", "f0_mean_st", "f0_peak_over_others_st", "f0_rise_st", "energy_db", "energy_peak_db",
                    "energy_over_others_db", "duration_log_ratio", "duration_over_others", "tilt_db")
# then the word's Mandarin lexical tones (0 in other languages): a tone-4 syllable falls from high and a
# tone-1 one stays high unstressed, so how high a word's pitch is says little until its tones are known
TONES = ("first_tone", "last_tone", "tone1_share", "tone2_share", "tone3_share", "tone4_share", "tone_before",
         "tone_after")
INPUT_NAMES = FEATURE_NAMES + tuple(f"{name}_speaker_z" for name in SPEAKER_RELATIVE) + TONES
_RELATIVE_COLUMNS = [FEATURE_NAMES.index(name) for name in SPEAKER_RELATIVE]
DETECTOR_INPUT = f"{FEATURE_SET}+speaker-z+tones/2"
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


def detector_inputs(sentences: list[np.ndarray], speakers: list[str], words: list[list[str]],
                    language: str) -> list[np.ndarray]:
    """Each sentence's detector input (INPUT_NAMES), its speaker-relative columns read against every word that
    sentence's speaker says in `sentences` (one speaker and one list of words per sentence, in order)."""
    norms = norms_by_speaker(sentences, speakers)
    return [detector_input(features, norms[speaker], mine, language)
            for features, speaker, mine in zip(sentences, speakers, words)]


def detector_input(features: np.ndarray, norms: np.ndarray, words: list[str], language: str) -> np.ndarray:
    """A sentence's rows of FEATURE_NAMES with the rest of INPUT_NAMES appended: the SPEAKER_RELATIVE columns
    against its speaker's `norms`, and the words' TONES."""
    features = np.asarray(features, dtype=np.float32).reshape(-1, len(FEATURE_NAMES))
    relative = (features[:, _RELATIVE_COLUMNS] - norms[0]) / norms[1]
    return np.hstack([features, relative, _tones(words, language, len(features))]).astype(np.float32)


def _tones(words: list[str], language: str, n: int) -> np.ndarray:
    """Each word's TONES from its characters' standard readings (pypinyin). 0 where no tone is known: outside
    Mandarin, a word with no Chinese character, before the first word and after the last, and every word when
    the words do not match the features' rows (a number, not missing: a column missing in every word is one
    the lakehouse's histogram trees cannot bin)."""
    out = np.zeros((n, len(TONES)))
    if language != "zh" or len(words) != n:
        return out
    from pypinyin import Style, lazy_pinyin

    for i, word in enumerate(words):
        tones = [int(s[-1]) for s in lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True,
                                                 errors="ignore") if s[-1:].isdigit()]
        if tones:
            out[i, :6] = [tones[0], tones[-1], *(tones.count(k) / len(tones) for k in (1, 2, 3, 4))]
    out[1:, 6], out[:-1, 7] = out[:-1, 1], out[1:, 0]
    return out


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
    """The lowest of the thresholds (0.5 and every word score) with the best balanced sentence accuracy: the share of
    plain sentences right plus the share of stressed ones right, so how often the training clips happen to carry
    stress (three takes in four for the shipped detector) does not tilt it towards flagging a word. A plain sentence
    is right below its top score, a stressed one at or above it when its top word is the stressed one: counted for
    every candidate at once by sorting the top scores (tens of thousands of sentences and scores)."""
    candidates = np.unique(np.concatenate([[0.5], *[s for s, _ in sentences if len(s)]]))
    scored = [(float(np.max(s)), int(np.argmax(s)), truth) for s, truth in sentences if len(s)]
    plain_tops = np.sort([top for top, _, truth in scored if truth is None])
    found_tops = np.sort([top for top, index, truth in scored if truth is not None and index == truth])
    stressed = sum(truth is not None for *_, truth in scored)
    plain_right = np.searchsorted(plain_tops, candidates, side="left")
    stressed_right = len(found_tops) - np.searchsorted(found_tops, candidates, side="left")
    balanced = plain_right / max(len(plain_tops), 1) + stressed_right / max(stressed, 1)
    return float(candidates[int(np.argmax(balanced))])


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
