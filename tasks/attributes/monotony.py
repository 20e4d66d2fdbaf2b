"""The monotony stage: how much the pitch moves. The F0 standard deviation over a clip's voiced frames in
semitones (comparable across voices: a 20 Hz swing is wide for a bass, narrow for a child) and in Hz (what
Parler-TTS v1 bins), and Parler-TTS's monotony label of the Hz figure.

It reads the acoustic stage's contours (models/signal.py): the F0 tracked once for the clip, inside its
speech segments, as the acoustic stage's own pitch figures are; no decode and no second pitch analysis."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...vocabulary import PARLER_BINS, parler_label
from ..checks import critical, in_vocabulary
from . import AttributeStage, register

MIN_VOICED_FRAMES = 10        # fewer voiced frames (0.1 s) say nothing about variation: no value


def measure(contours, job) -> dict:
    voiced = contours.pitch_in_speech().voiced
    if len(voiced) < MIN_VOICED_FRAMES:
        return {"f0_std_semitones": None, "f0_std_voiced_hz": None, "speech_monotony_parler": None}
    semitones = 12 * np.log2(voiced / np.median(voiced))
    std_hz = float(np.std(voiced))
    return {"f0_std_semitones": float(np.std(semitones)), "f0_std_voiced_hz": std_hz,
            "speech_monotony_parler": parler_label("speech_monotony", std_hz)}


MONOTONY = register(AttributeStage(
    "monotony", "1",
    {"f0_std_semitones": pa.float64(), "f0_std_voiced_hz": pa.float64(), "speech_monotony_parler": pa.string()},
    measure,
    checks=(critical("ExpectColumnValuesToBeBetween", "an F0 spread a voice can have: under two octaves",
                     column="f0_std_semitones", min_value=0.0, max_value=24.0),
            in_vocabulary("speech_monotony_parler", PARLER_BINS["speech_monotony"][1], "Parler-TTS's monotony label")),
    exported=("f0_std_semitones", "speech_monotony_parler"),
    export_names={"speech_monotony_parler": "speech_monotony"},      # Parler-TTS's column names
    after=("acoustics",),
    reads_contours=True,
    config={"min_voiced_frames": MIN_VOICED_FRAMES}))
