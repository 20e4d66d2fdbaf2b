"""The enhancement stage (opt-in): an enhanced copy of each clip's audio, written into the lakehouse
(<lake>/audio/enhancement/<clip_id>.flac; the original is never touched), kept only where it sounds better.

The paper enhanced every clip that was not from a professional audiobook before annotating it. Here the
enhanced copy stands beside the original: DNSMOS OVRL is measured on both, and a clip whose enhanced audio
scores no higher keeps its original (no file, `enhanced_path` null). `speechcraft export --audio-source
enhanced` then takes the enhanced copy where there is one. The enhancer (models/enhancer.py): spectral
gating (noisereduce) by default, DeepFilterNet3 with SPEECHCRAFT_ENHANCER=deepfilternet.
"""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import soundfile as sf

from ...models.enhancer import enhancer
from ...models.speech_quality import MIN_SECONDS, dnsmos, load
from ..checks import critical
from . import AttributeStage, no_signal, register

ENHANCER = enhancer(os.environ.get("SPEECHCRAFT_ENHANCER") or None)


def enhanced_file(out: Path, clip_id: str) -> Path:
    return out / f"{clip_id}.flac"          # clip ids are <corpus>/<native id>: a folder per corpus


def measure(samples, rate, job, out: Path) -> dict:
    if no_signal(samples, rate, MIN_SECONDS):        # nothing to enhance: the clip keeps its original
        return {"enhanced_path": None, "dnsmos_before": None, "dnsmos_after": None, "enhancer": ENHANCER.name}
    cleaned = ENHANCER.enhance(samples, rate)
    before, after = dnsmos(samples, rate)["ovrl"], dnsmos(cleaned, rate)["ovrl"]
    path = enhanced_file(out, job.clip_id)
    if after <= before:                     # no better: the clip keeps its original (and no stale copy)
        path.unlink(missing_ok=True)
        return {"enhanced_path": None, "dnsmos_before": before, "dnsmos_after": after, "enhancer": ENHANCER.name}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.flac")
    sf.write(partial, cleaned, rate, format="FLAC")
    partial.replace(path)                   # whole or absent: a crash never leaves half a file under the name
    return {"enhanced_path": str(path), "dnsmos_before": before, "dnsmos_after": after, "enhancer": ENHANCER.name}


ENHANCEMENT = register(AttributeStage(
    "enhancement", "1",
    {"enhanced_path": pa.string(), "dnsmos_before": pa.float64(), "dnsmos_after": pa.float64(),
     "enhancer": pa.string()},
    measure,
    checks=(critical("ExpectColumnValuesToBeBetween", "DNSMOS of the original, 1-5", column="dnsmos_before",
                     min_value=0.5, max_value=5.5),
            critical("ExpectColumnValuesToBeBetween", "DNSMOS of the enhanced copy, 1-5", column="dnsmos_after",
                     min_value=0.5, max_value=5.5)),
    after=("acoustics",),
    config={"enhancer": ENHANCER.config()},
    default=False,
    ready=lambda: (load(), ENHANCER.load()),
    writes_files=True))
