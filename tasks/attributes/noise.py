"""The noise stage: each clip's signal-to-noise ratio in dB (models/snr.py: the noise floor from its quietest
frames, per band), and Parler-TTS v1's noise label of it."""
from __future__ import annotations

import pyarrow as pa

from ...models.snr import MAX_DB, MIN_DB, MIN_SECONDS, estimate_snr
from ...vocabulary import PARLER_BINS
from ..checks import critical, in_vocabulary, warning
from . import AttributeStage, one_number_and_its_parler_label, register


NOISE = register(AttributeStage(
    "noise", "1", {"snr_db": pa.float64(), "noise_parler": pa.string()},
    one_number_and_its_parler_label("snr_db", estimate_snr, "noise", MIN_SECONDS),
    checks=(critical("ExpectColumnValuesToBeBetween", "an SNR inside the estimator's range (models/snr.py)",
                     column="snr_db", min_value=MIN_DB, max_value=MAX_DB),
            in_vocabulary("noise_parler", PARLER_BINS["noise"][1], "Parler-TTS's noise label"),
            warning("ExpectColumnValuesToBeBetween", "training speech is mostly above 10 dB SNR",
                    column="snr_db", min_value=10.0, mostly=0.9)),
    exported=("snr_db", "noise_parler"),
    export_names={"snr_db": "snr", "noise_parler": "noise"},      # Parler-TTS's column names
    after=("acoustics",)))
