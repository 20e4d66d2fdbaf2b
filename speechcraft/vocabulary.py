"""The annotation vocabulary, each fact written once: the languages, the values every label may take and
their order, the names texts use for the labels, the acoustic flags and the units.

Source: docs/annotation-contract.md ("Vocabularies": stored values are English, lower case, spaces as
underscores), unless a comment names another page. Orders are the contract's (young to old, low to high):
the order charts draw classes in and error messages list them.

Plain constants and two small functions: this module imports nothing of the project and nothing heavy, so
models, tasks, warehouse, dashboards and bench may all import it.
"""
from __future__ import annotations

# The languages the annotators, the describers and the checker support; Chinese first, as the corpora's
# folder reader and the bin-edge config list them. (Alphabetical, sorted(LANGUAGES), where a page or a
# quality expectation lists them.)
LANGUAGES = ("zh", "en")

# Speakers (contract: gender, age). Corpus metadata, classifiers and models all map onto these.
GENDERS = ("female", "male")
AGE_GROUPS = ("child", "teenager", "young_adult", "middle_aged", "elderly")       # young to old

# The seven emotions of SpeechCraft (contract: emotion).
EMOTIONS = ("angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised")

# The binned labels (contract: "From numbers to labels"): below the low edge, between the edges, at or above
# the high edge.
LEVELS = ("low", "normal", "high")       # pitch, energy
PACES = ("slow", "normal", "fast")       # speed
LABEL_NAMES = {"pitch": LEVELS, "energy": LEVELS, "speed": PACES}

# Energy and volume are one attribute: measured and stored as energy (energy_db, energy_label, the `energy`
# of bin_edges), named volume in texts, in a text's labels and in SpeechCraft's own labels line.
TEXT_NAMES = {"energy": "volume"}        # stored attribute -> its name in texts, where the two differ
VOLUME = TEXT_NAMES["energy"]

# The labels a description or instruction is written from (`speechcraft check-text --labels`, the describe
# stage), in the order they are listed: those with a closed vocabulary, then emphasis (the stressed word) and
# topic (a phrase), which are free.
TEXT_VALUES = {"gender": GENDERS, "age": AGE_GROUPS,
               **{TEXT_NAMES.get(attribute, attribute): names for attribute, names in LABEL_NAMES.items()},
               "emotion": EMOTIONS}
TEXT_LABELS = (*TEXT_VALUES, "emphasis", "topic")


class Flag:
    """The acoustic stage's flags, stored in `acoustics.flags` (docs/annotation.md, "Flags")."""
    NO_SPEECH = "no_speech"            # no speech frames or no voiced frame: F0 is NaN, never invented
    TOO_SHORT = "too_short"            # under the stage's minimum duration
    NO_TRANSCRIPT = "no_transcript"    # nothing to count: speaking rate is unknown


FLAGS = (Flag.NO_SPEECH, Flag.TOO_SHORT, Flag.NO_TRANSCRIPT)
# Measured, but unusable: such clips are left out of the populations bin edges are cut from (the "usable
# clips" of docs/bins.md) and out of the exports (docs/quality-and-exports.md).
UNUSABLE_FLAGS = (Flag.NO_SPEECH, Flag.TOO_SHORT)

# Units (contract: attributes). Speaking rate counts speech units per second of speech: syllables for
# English, characters for Chinese; `acoustics.rate_unit` stores the unit, bin edges and exports the unit/s.
RATE_UNITS = {"en": "syllables", "zh": "characters"}
MEASURE_UNITS = {"pitch": "Hz", "energy": "dBFS"}      # F0 mean; RMS over speech frames


def per_second(unit: str) -> str:
    """A speech unit as a rate: syllables -> syllables/s."""
    return f"{unit}/s"


def measure_unit(attribute: str, language: str) -> str:
    """The unit a binned attribute is measured (and its bin edges cut) in: Hz, dBFS, syllables/s or
    characters/s."""
    return MEASURE_UNITS.get(attribute) or per_second(RATE_UNITS[language])


# Recording conditions and delivery (contract: "Recording conditions and delivery"). Stored as measurements by
# their attribute stages (tasks/attributes/); labelled twice: SpeechCraft-style in three bins through the
# versioned bin edges (tasks/labels.py), and in Parler-TTS v1's own words through its frozen bins below.
CONDITION_LABEL_NAMES = {
    "noise": ("noisy", "moderate_noise", "clean"),                          # SNR low to high
    "reverberation": ("distant", "moderate_distance", "close"),             # C50 low to high
    "monotony": ("monotone", "moderate_variation", "expressive"),           # F0 variation low to high
}
MEASURE_UNITS.update({"noise": "dB SNR", "reverberation": "dB C50", "monotony": "semitones"})

# Parler-TTS v1's frozen bins (dataspeech's v02 tags): edges, then labels low to high; bin i holds
# edges[i] <= value < edges[i + 1], and a value outside the edges takes the end bin.
PARLER_BINS: dict[str, tuple[tuple[float, ...], tuple[str, ...]]] = {
    "speaking_rate": ((0.0, 3.826, 7.652, 11.477, 15.303, 19.129, 22.955, 26.781),       # phonemes/s
                      ("very slowly", "slowly", "slightly slowly", "moderate speed", "slightly fast", "fast",
                       "very fast")),
    "noise": ((17.13, 25.40, 33.67, 41.95, 50.22, 58.50, 66.77, 75.04),                  # SNR dB
              ("very noisy", "noisy", "slightly noisy", "balanced in clarity", "slightly clean", "clean",
               "very clean")),
    "reverberation": ((10.0, 35.0, 45.0, 55.0, 59.0, 60.0),                              # C50 dB
                      ("very distant-sounding", "distant-sounding", "slightly distant-sounding",
                       "slightly close-sounding", "very close-sounding")),
    "speech_monotony": ((0.0, 20.38, 40.76, 70.0, 90.0, 142.65),                         # F0 std Hz
                        ("very monotone", "monotone", "slightly expressive and animated",
                         "expressive and animated", "very expressive and animated")),
}
# Pitch: the speaker's mean F0, seven equal bins between these bounds, per gender.
PARLER_PITCH_RANGE_HZ = {"male": (64.65, 183.75), "female": (120.18, 270.30)}
PARLER_PITCH_LABELS = ("very low-pitch", "low-pitch", "slightly low-pitch", "moderate pitch", "slightly high-pitch",
                       "high-pitch", "very high-pitch")
# Parler-TTS's speaking rate is phonemes per second: English has about 2.6 phonemes per syllable (CMUdict over
# running text); a Mandarin character is one syllable, read at 5.18 syllables/s against English's 6.19
# (Pellegrino, Coupé & Marsico 2011), so it counts as 6.19 / 5.18 English syllables (docs/bins.md).
PHONEMES_PER_UNIT = {"en": 2.6, "zh": 2.6 * 6.19 / 5.18}


def parler_label(attribute: str, value: float | None) -> str | None:
    """The Parler-TTS v1 label of a measurement (PARLER_BINS); None for a missing or NaN value."""
    if value is None or value != value:
        return None
    edges, labels = PARLER_BINS[attribute]
    return labels[_bin_index(edges, value, len(labels))]


def parler_pitch_label(mean_hz: float | None, gender: str | None) -> str | None:
    """Parler-TTS v1's pitch label of a speaker's mean F0 within the speaker's gender; None when either is
    unknown."""
    if mean_hz is None or mean_hz != mean_hz or gender not in PARLER_PITCH_RANGE_HZ:
        return None
    low, high = PARLER_PITCH_RANGE_HZ[gender]
    count = len(PARLER_PITCH_LABELS)
    edges = tuple(low + (high - low) * i / count for i in range(count + 1))
    return PARLER_PITCH_LABELS[_bin_index(edges, mean_hz, count)]


def _bin_index(edges: tuple[float, ...], value: float, bins: int) -> int:
    index = sum(value >= edge for edge in edges) - 1
    return min(max(index, 0), bins - 1)
