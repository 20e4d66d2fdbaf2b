"""Where each word of a transcript lies in the audio, without a model: the embedded aligner.

Each word has an expected length (Chinese: one syllable per character; English: CMUdict syllables plus a
little per letter) and an expected number of syllable nuclei. Nuclei are voiced peaks of the energy envelope;
word boundaries may fall on dips of the envelope (pauses above all) or, failing one, on a 40 ms grid. A dynamic
programme places the boundaries so that each word's length is close to its share of the speech and holds its
syllables' nuclei, preferring deep dips. Speech starts and ends where the energy is within SPEECH_RANGE_DB of
the loudest frame.

The other source of word times is Whisper's word timestamps (`from_timestamps`), stored by the transcript
stage's model backend.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from .speech_units import count_units
from .word_prosody import HOP_S, Frames

SPEECH_RANGE_DB = 30.0
GRID_FRAMES = 4                   # a boundary may fall on any 40 ms step, dips preferred
SMOOTH_FRAMES = 5
DIP_REACH_FRAMES = 8              # a dip is measured against the highest energy within 80 ms each side
LENGTH_WEIGHT, NUCLEI_WEIGHT, DIP_WEIGHT = 1.0, 1.0, 0.04   # chosen on 30 fixture sentences per language
MAX_DIP_DB = 12.0
LETTER_WEIGHT = 0.3               # English: a long word of one syllable ("strengths") still takes time


@dataclass(frozen=True)
class WordSpan:
    word: str
    start_s: float
    end_s: float


def expected_units(word: str, language: str) -> tuple[float, int]:
    """(relative length, syllables) of a word."""
    syllables = count_units(word, language) or 1
    if language == "zh":
        return float(syllables), syllables
    return syllables + LETTER_WEIGHT * len(re.sub(r"[^A-Za-z]", "", word)), syllables


class EmbeddedAligner:
    name = "embedded"
    version = "1"

    def align(self, frames: Frames, words: list[str], language: str) -> list[WordSpan]:
        if not words or len(frames.times_s) < 3:
            return []
        energy = np.convolve(frames.energy_db, np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES, mode="same")
        speaking = np.flatnonzero(energy > energy.max() - SPEECH_RANGE_DB)
        first, last = int(speaking[0]), int(speaking[-1])
        times = frames.times_s
        nuclei = self._nuclei(energy, frames.voiced, energy.max() - SPEECH_RANGE_DB + 5)
        dips = self._dip_depth(energy)
        valleys, _ = find_peaks(-energy)
        positions = np.unique(np.concatenate([[first], np.arange(first, last, GRID_FRAMES),
                                              valleys[(valleys > first) & (valleys < last)], [last]]))
        t = times[positions] + np.where(positions == last, HOP_S / 2, 0.0) - np.where(positions == first, HOP_S / 2, 0.0)
        nuclei_before = np.searchsorted(nuclei, positions)          # nuclei in frames before each position
        weights = np.array([expected_units(w, language)[0] for w in words])
        syllables = np.array([expected_units(w, language)[1] for w in words])
        expected = weights / weights.sum() * (t[-1] - t[0])
        bonus = np.minimum(dips[positions], MAX_DIP_DB) * DIP_WEIGHT
        k = len(positions)
        duration = t[None, :] - t[:, None]
        held = nuclei_before[None, :] - nuclei_before[:, None]
        cost = np.full(k, np.inf)
        cost[0] = 0.0
        back = np.zeros((len(words), k), dtype=int)
        for w in range(len(words)):
            with np.errstate(divide="ignore", invalid="ignore"):
                step = (cost[:, None] + LENGTH_WEIGHT * np.log(duration / expected[w]) ** 2
                        + NUCLEI_WEIGHT * (held - syllables[w]) ** 2 / syllables[w])
            step[duration <= HOP_S] = np.inf
            back[w] = np.argmin(step, axis=0)
            cost = step[back[w], np.arange(k)] - (bonus if w < len(words) - 1 else 0.0)
        bounds = [k - 1]
        for w in range(len(words) - 1, -1, -1):
            bounds.append(back[w, bounds[-1]])
        bounds.reverse()
        return [WordSpan(word, float(t[bounds[i]]), float(t[bounds[i + 1]])) for i, word in enumerate(words)]

    @staticmethod
    def _nuclei(energy: np.ndarray, voiced: np.ndarray, floor_db: float) -> np.ndarray:
        peaks, _ = find_peaks(energy, prominence=2.0, distance=6)
        near_voicing = np.convolve(voiced.astype(float), np.ones(5), mode="same") > 0
        return peaks[(energy[peaks] > floor_db) & near_voicing[peaks]]

    @staticmethod
    def _dip_depth(energy: np.ndarray) -> np.ndarray:
        """dB by which each frame lies below the louder sides within DIP_REACH_FRAMES (0 on a slope)."""
        padded = np.pad(energy, DIP_REACH_FRAMES, mode="edge")
        windows = np.lib.stride_tricks.sliding_window_view(padded, DIP_REACH_FRAMES + 1)
        left = windows[: len(energy)].max(axis=1)
        right = windows[DIP_REACH_FRAMES:].max(axis=1)
        return np.maximum(np.minimum(left, right) - energy, 0.0)


def from_timestamps(stamps: list[dict], words: list[str]) -> list[WordSpan] | None:
    """Spans of `words` (split_words of the transcript) from another tokenisation's timestamps (Whisper's
    words, with punctuation and spaces): each character takes its time from the stamp it lies in, and a word
    spans its characters. None when the two texts do not spell the same thing."""
    def letters(text: str) -> str:
        return re.sub(r"[\W_]+", "", text).lower()

    char_times: list[tuple[float, float]] = []
    for stamp in stamps:
        spelled = letters(stamp["word"])
        step = (stamp["end_s"] - stamp["start_s"]) / max(len(spelled), 1)
        char_times += [(stamp["start_s"] + i * step, stamp["start_s"] + (i + 1) * step) for i in range(len(spelled))]
    if len(char_times) != sum(len(letters(w)) for w in words):
        return None
    spans, at = [], 0
    for word in words:
        n = len(letters(word))
        spans.append(WordSpan(word, char_times[at][0], char_times[at + n - 1][1]))
        at += n
    return spans


def word_spans(frames: Frames, words: list[str], language: str,
               stamps: list[dict] | None = None) -> tuple[list[WordSpan], str]:
    """(spans, their source): Whisper's word timestamps when the clip has them and they spell its
    transcript, else the embedded aligner."""
    if stamps:
        spans = from_timestamps(stamps, words)
        if spans:
            return spans, "whisper"
    return EmbeddedAligner().align(frames, words, language), f"{EmbeddedAligner.name}:{EmbeddedAligner.version}"
