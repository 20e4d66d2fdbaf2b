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
