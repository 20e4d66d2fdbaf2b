"""The voice stage: one speaker embedding per clip (models/voice_encoder.py; Resemblyzer's GE2E encoder by
default), stored as a fixed-size float32 vector in `attr_voice.voice_embedding`, L2-normalised so that cosine
similarity is a dot product. A clip with under half a second of speech after silence trimming gets zeros and
`has_voice` false: LanceDB's vector columns take no nulls, and every reader filters on `has_voice`.

What reads it (docs/voices.md): the speaker clusters and the duplicates (tasks/voices.py,
tasks/duplicates.py), voice search, and the embedded speaker classifier (tasks/speakers.py).

It runs by default where its encoder is installed (the `voices` extra); elsewhere only where named, and then
`annotate` stops before any work with the one line saying what to install.
"""
from __future__ import annotations

import os

import pyarrow as pa

from ...models.packaged import ModelNotInstalled, is_installed
from ...models.voice_encoder import DIM, load_encoder, parse_choice
from . import AttributeStage, register

ENCODER_ENV = "SPEECHCRAFT_VOICE_ENCODER"        # resemblyzer (default) or torchscript=/path/model.pt
DEVICE_ENV = "SPEECHCRAFT_VOICE_DEVICE"          # cpu (default), cuda, cuda:1, ...
COLUMN = "voice_embedding"
ENCODER, MODEL = parse_choice(os.environ.get(ENCODER_ENV))
DEVICE = os.environ.get(DEVICE_ENV, "cpu")


class VoiceEncoderMissing(ImportError):
    """The encoder's package or model file is not here; the message says what to install."""


def encoder():
    try:
        return load_encoder(ENCODER, MODEL, DEVICE)
    except ModelNotInstalled as exc:
        raise VoiceEncoderMissing(f"the voice stage cannot run: {exc}") from None


def ready() -> None:
    encoder()


def measure(samples, rate, job) -> dict:
    vector = encoder().embed(samples, rate)
    if vector is None:
        return {COLUMN: [0.0] * DIM, "has_voice": False}
    return {COLUMN: vector.tolist(), "has_voice": True}


VOICE = register(AttributeStage(
    "voice", "1", {COLUMN: pa.list_(pa.float32(), DIM), "has_voice": pa.bool_()}, measure,
    after=(),
    config={"encoder": ENCODER, "model": MODEL},
    default=ENCODER != "resemblyzer" or is_installed("resemblyzer"),
    ready=ready))
