"""A clip's values as the formats write them: numbers JSON and parquet can hold, labels as words, the rate
unit, and the annotation dict that lhotse's `custom` and SpeechCraft's records share."""
from __future__ import annotations

import math

from ....vocabulary import per_second
from ...attributes import exported_columns


def finite(value):
    """The value, or None for a NaN or infinite float (JSON has no NaN; a trainer wants null)."""
    return value if not isinstance(value, float) or math.isfinite(value) else None


def spoken(label: str | None) -> str | None:
    """A label as words: young_adult -> young adult."""
    return label.replace("_", " ") if label else None


def rate_unit(r: dict) -> str | None:
    """The speaking rate's unit: syllables/s, characters/s."""
    return per_second(r["rate_unit"]) if r["rate_unit"] else None


def annotations(r: dict) -> dict:
    """Every SpeechCraft annotation of a clip, as lhotse's `custom` and SpeechCraft's records hold them."""
    return {"clip_id": r["clip_id"], "corpus": r["corpus"], "subset": r["subset"], "split": r["split"],
            "age": r["age_group"], "emotion": r["emotion"], "emotion_caption": r["emotion_caption"],
            "pitch": r["pitch_label"], "pitch_hz": r["pitch_hz"], "pitch_std_hz": r["pitch_std_hz"],
            "energy": r["energy_label"], "energy_db": r["energy_db"],
            "speed": r["speed_label"], "speech_rate": r["speech_rate"], "speech_rate_unit": rate_unit(r),
            "emphasis": r["emphasis"], "detected_emphasis": r["detected_emphasis"],
            "detected_emphasis_score": r["detected_emphasis_score"], "topic": r["topic"],
            "parent_clip_id": r["parent_clip_id"], "description": r["description"],
            "instruction": r["instruction"], "gender_source": r["gender_source"], "age_source": r["age_source"],
            "transcript_source": r["transcript_source"], "noise": r["noise_label"],
            "reverberation": r["reverberation_label"], "monotony": r["monotony_label"],
            **{column: finite(r[column]) for column in exported_columns()}}       # attribute stages' own
