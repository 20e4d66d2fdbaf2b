"""What every speaker, emotion and transcript backend takes and returns.

A backend is a class with `predict(clips) -> list[prediction]` (one prediction per clip, in order) and
`describe() -> BackendInfo`. It never touches storage: tasks/ decode the audio, call it on a batch and write
the rows. A new backend is one module with such a class plus one line in models/registry.py (or, without
editing this package, `backend = "package.module:Class"` in the project config).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

# The vocabularies backends predict in; EMOTIONS and GENDERS are re-exported for the importers of this module.
from ..vocabulary import AGE_GROUPS, EMOTIONS, GENDERS  # noqa: F401


@dataclass
class Clip:
    """One clip as a backend sees it: mono float32 samples at their native rate (None for backends that
    declare `needs_audio = False`), and what the corpus says about it."""
    clip_id: str
    samples: np.ndarray | None
    sample_rate: int
    language: str | None = None
    corpus: str = ""
    speaking_style: str = ""          # "read" for audiobook corpora (tasks.corpora readers declare it)
    transcript: str | None = None

    @property
    def duration_s(self) -> float:
        return 0.0 if self.samples is None else len(self.samples) / self.sample_rate


@dataclass
class SpeakerPrediction:
    gender: str | None                # one of vocabulary.GENDERS
    gender_prob: float | None
    age_group: str | None = None
    age_years: float | None = None
    age_prob: float | None = None


@dataclass
class EmotionPrediction:
    emotion: str | None               # one of vocabulary.EMOTIONS; None when the backend cannot tell (see reason)
    prob: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    caption: str | None = None        # a free-text description, from captioning backends
    reason: str | None = None


@dataclass
class Word:
    word: str
    start_s: float
    end_s: float


@dataclass
class Transcription:
    text: str
    language: str | None
    words: list[Word] = field(default_factory=list)


@dataclass
class BackendInfo:
    """What `speechcraft models` shows, and what every stored row records about its maker."""
    backend: str                      # registry name: embedded / model / module:Class
    model: str                        # model id or folder; a description for embedded backends
    weights: str                      # where the weights are read from
    version: str                      # changes whenever the predictions could change


class Backend(Protocol):
    needs_audio: bool

    def predict(self, clips: list[Clip]) -> list: ...

    def describe(self) -> BackendInfo: ...


def age_group_from_years(years: float) -> str:
    """docs/annotation-contract.md's cuts at 14, 26, 40 and 55 years (AISHELL-3's groups: A <14, B 14-25, C 26-40, D >40)."""
    child, teenager, young_adult, middle_aged, elderly = AGE_GROUPS
    if years < 14:
        return child
    if years < 26:
        return teenager
    if years <= 40:
        return young_adult
    if years <= 55:
        return middle_aged
    return elderly
