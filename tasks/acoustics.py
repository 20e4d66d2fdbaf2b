"""The acoustic stage: which clips have work, the Prefect task that measures a batch, and its write.

A clip has work when it has no `acoustics` row for the stage's current version, configuration and inputs
(audio hash, span, transcript): the anti-join of docs/architecture.md. A batch's task is cached by Prefect on exactly
those keys, so a batch measured once is never measured again, even into a lakehouse rebuilt from scratch.
Within a batch each audio file is decoded once and files are spread over the worker processes of
tasks/worker_pool.py (the tracker holds the GIL while it analyses, so threads would not add cores).

The stage also stores each clip's contours (models/signal.py) in `signal_contours`: F0, frame energy and
speech segments and the short-time spectra the speaker and emphasis stages read. `clip_contours` is how any
stage gets them: the stored ones where they are current, else one analysis of the clip's audio.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from prefect import task

from ..models.pitch import PITCH_TRACKERS, PitchTracker, default_pitch_tracker
from ..models.signal import ANALYSIS_RATE, HOP, N_MELS, TILT_FFT, WINDOW, Contours, analyse_signal
from ..models.vad import EnergyVAD
from ..warehouse import Lakehouse
from .acoustic_analysis import AcousticConfig, analyse_files
from .clip_batches import BatchResult, ClipFailure, ClipJob, PendingWork, batch_cache_key, config_digest, \
    decode_clips, pending_jobs, stage_columns, store_batch
from .worker_pool import spread

STAGE = "acoustics"
ACOUSTICS_VERSION = "1"       # bump when the measuring code changes: every clip is measured again
CONTOURS_TABLE = "signal_contours"
CONTOURS_VERSION = "1"        # bump when models/signal.py changes what it computes
CONTOURS_ANNOTATOR = "{pitch}+energy-vad+spectra"


@dataclass
class AcousticsBatch(BatchResult):
    contours: list[dict] = field(default_factory=list)     # signal_contours rows


def contours_config_hash(pitch: PitchTracker | None = None) -> str:
    """What the contours depend on besides the audio: the tracker's settings and the analysis's frames."""
    return config_digest({"pitch": (pitch or default_pitch_tracker()).config(), "vad": EnergyVAD().config(),
                          "rate": ANALYSIS_RATE, "hop": HOP, "window": WINDOW, "tilt_fft": TILT_FFT,
                          "n_mels": N_MELS})


def audio_input_hash(job: ClipJob) -> str:
    """The contours' inputs: the audio and the span (not the transcript, which the acoustics row also covers)."""
    return hashlib.sha256(json.dumps([job.audio_sha256, job.start_s, job.end_s]).encode()).hexdigest()[:16]


def pending_clips(lake: Lakehouse, config: AcousticConfig, corpus: str | None = None) -> PendingWork:
    return pending_jobs(lake, STAGE, ACOUSTICS_VERSION, config.config_hash(), corpus)


def measure_batch(jobs: list[ClipJob], config: AcousticConfig, run_id: str, workers: int = 1) -> AcousticsBatch:
    """Measure a batch: files decoded once each, spread over `workers` processes; each clip's contours with
    its row."""
    by_file: dict[str, list[ClipJob]] = defaultdict(list)
    for job in jobs:
        by_file[job.audio_path].append(job)
    outcomes = spread(analyse_files, list(by_file.values()), workers, config, pitch=config.pitch.name)

    result = AcousticsBatch()
    columns = stage_columns(config.annotator, ACOUSTICS_VERSION, config.config_hash(), run_id)
    signal_columns = stage_columns(CONTOURS_ANNOTATOR.format(pitch=config.pitch.name), CONTOURS_VERSION,
                                   contours_config_hash(config.pitch), run_id)
    for job, outcome in outcomes:
        if isinstance(outcome, ClipFailure):
            result.failures.append(outcome)
            continue
        measured, contours = outcome
        result.rows.append({"clip_id": job.clip_id, **measured, **columns, "input_hash": job.input_hash()})
        result.contours.append(contours_row(job.clip_id, contours) | signal_columns
                               | {"input_hash": audio_input_hash(job)})
        result.audio_s += job.duration_s or 0.0
    return result


@task(name="acoustics-batch", task_run_name="acoustics-batch-{batch_number}", persist_result=True,
      cache_key_fn=lambda _, p: batch_cache_key(STAGE, ACOUSTICS_VERSION, p["config"].config_hash(), p["jobs"]))
def acoustics_batch(jobs: list[ClipJob], config: AcousticConfig, run_id: str, workers: int = 1,
                    batch_number: int = 0) -> AcousticsBatch:
    return measure_batch(jobs, config, run_id, workers)


def store_acoustics(lake: Lakehouse, result: BatchResult, run_id: str) -> None:
    # the contours first: a clip with an acoustics row then always has its contours (a cached batch from
    # before the contours existed has none; the stages reading them analyse those clips themselves)
    lake.upsert(CONTOURS_TABLE, getattr(result, "contours", []))
    store_batch(lake, STAGE, STAGE, result, run_id)


# -- contours ---------------------------------------------------------------------------------------------------
CONTOUR_COLUMNS = ("f0_hz", "f0_start_s", "f0_step_s", "energy_db", "speech_segments", "window_energy_db",
                   "tilt_db", "spectral_envelope")


def contours_row(clip_id: str, contours: Contours) -> dict:
    return {"clip_id": clip_id, "f0_hz": contours.f0_hz, "f0_start_s": contours.f0_start_s,
            "f0_step_s": contours.f0_step_s, "energy_db": contours.energy_db,
            "speech_segments": [{"start_s": float(a), "end_s": float(b)} for a, b in contours.speech_segments],
            "window_energy_db": contours.window_energy_db, "tilt_db": contours.tilt_db,
            "spectral_envelope": contours.spectral_envelope}


def _from_row(row: dict) -> Contours:
    def floats(name: str) -> np.ndarray:
        return np.asarray(row[name], dtype=np.float32)

    segments = np.array([[s["start_s"], s["end_s"]] for s in row["speech_segments"]], dtype=np.float64)
    return Contours(f0_hz=floats("f0_hz"), f0_start_s=row["f0_start_s"], f0_step_s=row["f0_step_s"],
                    energy_db=floats("energy_db"), speech_segments=segments.reshape(-1, 2),
                    window_energy_db=floats("window_energy_db"), tilt_db=floats("tilt_db"),
                    spectral_envelope=np.asarray(row["spectral_envelope"], dtype=np.float64))


def stored_contours(lake: Lakehouse, jobs: list[ClipJob]) -> dict[str, Contours]:
    """The stored contours of these clips that are current: computed from their audio and span as they are
    now, by today's analysis with any registered pitch tracker at its settings (the two agree to a
    hundredth of a percent: docs/annotation.md), the one the last acoustic run chose."""
    current = _current_contour_hashes()
    expected = {job.clip_id: audio_input_hash(job) for job in jobs}
    table = lake.lookup(CONTOURS_TABLE, list(expected), ["clip_id", "config_hash", "input_hash", *CONTOUR_COLUMNS])
    return {row["clip_id"]: _from_row(row) for row in table.to_pylist()
            if row["config_hash"] in current and row["input_hash"] == expected[row["clip_id"]]}


@lru_cache(maxsize=1)
def _current_contour_hashes() -> frozenset[str]:
    """Once per process: a tracker's settings include its package's version (parselmouth's, for Praat)."""
    return frozenset(contours_config_hash(tracker()) for tracker in PITCH_TRACKERS.values())


def clip_contours(jobs: list[ClipJob], lake: Lakehouse | None = None,
                  stored: dict[str, Contours] | None = None) -> dict[str, Contours | ClipFailure]:
    """Each clip's contours: the acoustic stage's stored ones where current (read from `lake`, or `stored`
    when the caller looked them up already), else one analysis of its decoded audio (compact, like the
    stored ones, so a stage's output never depends on which way its contours came); a clip whose audio
    cannot be read gets the reason."""
    found: dict[str, Contours | ClipFailure] = dict(stored if stored is not None else
                                                     stored_contours(lake, jobs) if lake is not None else {})
    for job, audio in decode_clips([job for job in jobs if job.clip_id not in found]):
        found[job.clip_id] = audio if isinstance(audio, ClipFailure) else analyse_signal(*audio).compact()
    return found
