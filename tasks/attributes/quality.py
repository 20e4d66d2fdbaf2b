"""The quality stage: DNSMOS per clip (models/speech_quality.py; ONNX weights inside the `speechmos` package):
overall, signal and background MOS (P.835) and the P.808 MOS, each 1-5.

It costs about a quarter of a second of one core per clip of up to 9 s (a GPU-free network over a 9 s
window): off unless named (`[annotate] stages`, `annotate --stage quality`), so that a plain run keeps its
speed; the demo names it."""
from __future__ import annotations

import pyarrow as pa

from ...models.speech_quality import MIN_SECONDS, dnsmos, load
from ..checks import critical, warning
from . import AttributeStage, no_signal, register

COLUMNS = {"dnsmos_ovrl": "ovrl", "dnsmos_sig": "sig", "dnsmos_bak": "bak", "dnsmos_p808": "p808"}


def measure(samples, rate, job) -> dict:
    if no_signal(samples, rate, MIN_SECONDS):
        return dict.fromkeys(COLUMNS)
    scores = dnsmos(samples, rate)
    return {column: scores[metric] for column, metric in COLUMNS.items()}


QUALITY = register(AttributeStage(
    "quality", "1", {column: pa.float64() for column in COLUMNS}, measure,
    checks=(*(critical("ExpectColumnValuesToBeBetween", "a mean opinion score, 1-5 (DNSMOS's calibration "
                       "can overshoot by a little)", column=column, min_value=0.5, max_value=5.5)
              for column in COLUMNS),
            warning("ExpectColumnValuesToBeBetween", "Emilia-Pipe keeps clips of DNSMOS OVRL >= 3.0",
                    column="dnsmos_ovrl", min_value=3.0, mostly=0.5)),
    exported=tuple(COLUMNS),
    after=("acoustics",),
    default=False,
    ready=load))
