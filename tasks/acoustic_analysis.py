"""The acoustic measurements of one clip: F0, energy, speech activity and speaking rate, over the whole clip.

Pure signal work with no Prefect or storage imports, so the worker processes of the acoustics stage start
light. `analyse_file` takes every clip of one audio file (GigaSpeech: many spans of one long file), decodes
the file once and runs the one signal analysis per clip (models/signal.py): the measurements are taken from
it, and its contours come back with them for the acoustic stage to store, so that the speaker and emphasis
stages read them instead of analysing the audio again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from ..models.pitch import DEFAULT_PITCH, PITCH_TRACKERS, PitchTracker, default_pitch_tracker
from ..models.signal import ANALYSIS_RATE, Contours, analyse_signal
from ..models.speech_units import count_units
from ..models.vad import VAD_BACKENDS, EnergyVAD, VoiceActivityDetector, frame_power, power_db
from ..vocabulary import RATE_UNITS, Flag
from .clip_batches import ClipFailure, ClipJob, decode_clips

MIN_DURATION_S = 0.3            # shorter clips are measured but flagged: too little speech to label reliably
# F0 counts only frames inside speech segments (plus this margin): pauses and lead-in silence often carry
# mains hum that Praat calls voiced at 50/60 Hz (seen on real LibriSpeech clips), which is not the speaker.
PITCH_MARGIN_S = 0.05


@dataclass(frozen=True)
class AcousticConfig:
    pitch: PitchTracker = field(default_factory=default_pitch_tracker)
    vad: VoiceActivityDetector = field(default_factory=EnergyVAD)
    min_duration_s: float = MIN_DURATION_S

    @classmethod
    def from_options(cls, options: dict | None = None) -> "AcousticConfig":
        """From plain values (a flow parameter, CLI flags): `pitch` / `vad` backend names with their
        `pitch_options` / `vad_options`, and `min_duration_s`."""
        options = dict(options or {})
        pitch_name, vad_name = options.pop("pitch", None) or DEFAULT_PITCH, options.pop("vad", "energy")
        if pitch_name not in PITCH_TRACKERS:
            raise ValueError(f"unknown pitch tracker {pitch_name!r}; choose from {', '.join(PITCH_TRACKERS)}")
        if vad_name not in VAD_BACKENDS:
            raise ValueError(f"unknown VAD {vad_name!r}; choose from {', '.join(VAD_BACKENDS)}")
        return cls(pitch=PITCH_TRACKERS[pitch_name](**options.pop("pitch_options", {})),
                   vad=VAD_BACKENDS[vad_name](**options.pop("vad_options", {})), **options)

    @property
    def annotator(self) -> str:
        return f"{self.pitch.name}+{self.vad.name}-vad+cmudict"

    def describe(self) -> dict:
        from importlib.metadata import version

        return {"pitch": self.pitch.config(), "vad": self.vad.config(), "min_duration_s": self.min_duration_s,
                "units": {**RATE_UNITS, "cmudict": version("cmudict")}}

    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()[:16]


def measure(samples: np.ndarray, sample_rate: int, transcript: str | None, language: str,
            config: AcousticConfig, contours: Contours | None = None) -> dict:
    """All measurements of one mono clip. Missing values are None (no speech, no transcript), never guesses.
    `contours`: the clip's signal analysis with `config.pitch` (made here when not given), whose F0 track is
    the one measured."""
    contours = contours or analyse_signal(samples, sample_rate, config.pitch)
    duration = len(samples) / sample_rate
    flags = [Flag.TOO_SHORT] if duration < config.min_duration_s else []
    # level and speech time are measured at the file's own rate, as they always were; at 16 kHz (most
    # corpora) that is the analysis's own frame energies and, with the default VAD, its segments
    same_rate = sample_rate == ANALYSIS_RATE
    power = contours.frame_power if same_rate and contours.frame_power is not None else \
        frame_power(samples, sample_rate)
    if same_rate and config.vad == EnergyVAD():
        segments = contours.speech_segments
    elif isinstance(config.vad, EnergyVAD):
        segments = config.vad.segments_from_power(power)       # reuse the frame energies
    else:
        segments = config.vad.segments(samples, sample_rate)
    speech_s = float(np.sum(segments[:, 1] - segments[:, 0])) if len(segments) else 0.0

    f0_mean = f0_std = energy_db = None
    voiced_ratio = 0.0
    if speech_s > 0:
        frame_times = (np.arange(len(power)) + 0.5) * (len(samples) / sample_rate / max(len(power), 1))
        in_speech = np.zeros(len(power), dtype=bool)
        for start, end in segments:
            in_speech |= (frame_times >= start) & (frame_times < end)
        if in_speech.any():
            energy_db = float(power_db(power[in_speech].mean()))
        # tracked over the whole clip (the path search sees all of it), then read inside speech only
        track = contours.pitch.within(segments, margin_s=PITCH_MARGIN_S)
        voiced, voiced_ratio = track.voiced, track.voiced_ratio
        if len(voiced):
            f0_mean, f0_std = float(voiced.mean()), float(voiced.std())
    if f0_mean is None:
        flags.append(Flag.NO_SPEECH)

    units = count_units(transcript, language)
    if units is None:
        flags.append(Flag.NO_TRANSCRIPT)
    rate = units / speech_s if units and speech_s > 0 and f0_mean is not None else None
    return {
        "f0_mean_hz": f0_mean, "f0_std_hz": f0_std, "voiced_ratio": voiced_ratio,
        "energy_db": energy_db, "speech_s": speech_s,
        "speech_start_s": float(segments[0, 0]) if len(segments) else None,
        "speech_end_s": float(segments[-1, 1]) if len(segments) else None,
        "speech_units": units, "rate_unit": RATE_UNITS.get(language, RATE_UNITS["en"]), "speech_rate": rate,
        "flags": flags,
    }


Measured = tuple[dict, Contours]      # a clip's measurements and its contours (compact, to store)


def analyse_file(jobs: list[ClipJob], config: AcousticConfig) -> list[tuple[ClipJob, Measured | ClipFailure]]:
    """Decode one audio file once and analyse and measure every clip of it (or say why a clip cannot be)."""
    results: list[tuple[ClipJob, Measured | ClipFailure]] = []
    for job, audio in decode_clips(jobs):
        if isinstance(audio, ClipFailure):
            results.append((job, audio))
            continue
        contours = analyse_signal(*audio, config.pitch)
        results.append((job, (measure(*audio, job.transcript, job.language, config, contours), contours.compact())))
    return results


def analyse_files(groups: list[list[ClipJob]], config: AcousticConfig) -> list[tuple[ClipJob, Measured | ClipFailure]]:
    """`analyse_file` over several files: the unit of work a worker process receives."""
    return [result for jobs in groups for result in analyse_file(jobs, config)]
