"""The reverberation stage: each clip's C50 in dB, estimated blind from the speech (models/reverberation.py: a
small regressor the project trains on speech in simulated rooms of known C50, docs/reverberation.md), and
Parler-TTS v1's reverberation label of it."""
from __future__ import annotations

import pyarrow as pa

from ...models.reverberation import MIN_SECONDS, estimate_c50
from ...vocabulary import PARLER_BINS
from ..checks import critical, in_vocabulary
from . import AttributeStage, one_number_and_its_parler_label, register


REVERBERATION = register(AttributeStage(
    "reverberation", "1", {"c50_db": pa.float64(), "reverberation_parler": pa.string()},
    one_number_and_its_parler_label("c50_db", estimate_c50, "reverberation", MIN_SECONDS),
    checks=(critical("ExpectColumnValuesToBeBetween", "a C50 inside the estimator's trained range "
                     "(docs/reverberation.md)", column="c50_db", min_value=-20.0, max_value=60.0),
            in_vocabulary("reverberation_parler", PARLER_BINS["reverberation"][1], "Parler-TTS's reverberation label")),
    exported=("c50_db", "reverberation_parler"),
    export_names={"c50_db": "c50", "reverberation_parler": "reverberation"},      # Parler-TTS's column names
    after=("acoustics",)))
