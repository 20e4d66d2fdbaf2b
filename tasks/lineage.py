"""Regenerated clips and their parents, by corpus name: a clip regenerated with a stressed keyword is a clip of
corpus "<parent corpus>-stressed" (tasks/stressing.py). What the parent's corpus declares about its speech (its
reader's speaking style) holds for the regenerated clips too: stressing one word does not turn read speech
into something else; nor does it change the speaker.

A module of its own, with no imports, so that the stages that only need a clip's lineage (the emotion stage's
workers) do not load the synthesizer.
"""
from __future__ import annotations

SUFFIX = "-stressed"


def stressed_corpus(corpus: str) -> str:
    return corpus + SUFFIX


def is_stressed(corpus: str) -> bool:
    return corpus.endswith(SUFFIX)


def parent_corpus(corpus: str) -> str:
    """The corpus a clip's audio comes from originally: its own name, less the regeneration's suffix."""
    return corpus.removesuffix(SUFFIX)


def parent_clip_id(clip_id: str) -> str:
    """The clip a clip was regenerated from ("<corpus>-stressed/<native id>" -> "<corpus>/<native id>"); a clip
    that is no regeneration is its own."""
    corpus, _, native_id = clip_id.partition("/")
    return f"{parent_corpus(corpus)}/{native_id}"


def speaker_key(corpus: str, speaker_id: str | None, clip_id: str) -> str:
    """A speaker across corpora; a clip without a speaker id counts as its own speaker. A regenerated clip is
    its parent's speaker, so that a speaker held out of training is held out with its regenerations."""
    return f"{parent_corpus(corpus)}/{speaker_id}" if speaker_id else parent_clip_id(clip_id)
