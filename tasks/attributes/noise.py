"""The noise stage: each clip's signal-to-noise ratio in dB (models/snr.py: the noise floor from its quietest
frames, per band), and Parler-TTS v1's noise label of it."""
from __future__ import annotations

import pyarrow as pa

from ...models.snr import MAX_DB, MIN_DB, MIN_SECONDS, estimate_snr
from ...vocabulary import PARLER_BINS, parler_label
from ..checks import critical, in_vocabulary, warning
from . import AttributeStage, no_signal, register


def measure(samples, rate, job) -> dict:
    if no_signal(samples, rate, MIN_SECONDS):
        return {"snr_db": None, "noise_parler": None}
    snr = estimate_snr(samples, rate)
    return {"snr_db": snr, "noise_parler": parler_label("noise", snr)}


NOISE = register(AttributeStage(
    "noise", "1", {"snr_db": pa.float64(), "noise_parler": pa.string()}, measure,
    checks=(critical("ExpectColumnValuesToBeBetween", "an SNR inside the estimator's range (models/snr.py)",
                     column="snr_db", min_value=MIN_DB, max_value=MAX_DB),
            in_vocabulary("noise_parler", PARLER_BINS["noise"][1], "Parler-TTS's noise label"),
            warning("ExpectColumnValuesToBeBetween", "training speech is mostly above 10 dB SNR",
                    column="snr_db", min_value=10.0, mostly=0.9)),
    exported=("snr_db", "noise_parler"),
    export_names={"snr_db": "snr", "noise_parler": "noise"},      # Parler-TTS's column names
    after=("acoustics",)))
