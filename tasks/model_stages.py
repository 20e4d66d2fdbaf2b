"""The speaker, emotion and transcript stages: a backend from models/registry.py run over batches of clips.

One Prefect task (`predict-batch`) serves the three: it decodes the batch (when the backend needs audio),
calls the backend once on the whole batch, and turns each prediction into its table's row. A backend that
reads contours (the embedded speaker features) gets the ones the acoustic stage stored instead of audio
(tasks/acoustics.py `clip_contours`): no second decode or pitch track of the clip. Which clips a
stage takes is the anti-join on its table, for the stage's version and the backend's configuration; the
transcript stage takes only clips whose corpus has no transcript.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from prefect import task

from ..models.annotators import Clip, EmotionPrediction, SpeakerPrediction, Transcription
from ..models.registry import DEFAULT_BACKEND, load_backend
from ..models.signal import Contours
from ..warehouse import Lakehouse
from .acoustics import clip_contours
from .clip_batches import BatchResult, ClipFailure, ClipJob, PendingWork, batch_cache_key, config_digest, \
    decode_clips, pending_jobs, stage_columns
from .corpora import READERS, speaking_style
from .lineage import parent_corpus


@dataclass(frozen=True)
class StageSpec:
    name: str
    table: str
    version: str                      # bump when this stage's code changes what it writes
    row: Callable[[object, str], dict]   # (prediction, source) -> the table's columns
    takes: str | None = None          # SQL condition on clips: which clips the stage annotates


def _speaker_row(p: SpeakerPrediction, source: str) -> dict:
    # final values start as the prediction; tasks/speakers.py lets corpus metadata win where it exists
    return {"gender": p.gender, "gender_prob": p.gender_prob, "gender_source": source if p.gender else None,
            "age_group": p.age_group, "age_years": p.age_years, "age_prob": p.age_prob,
            "age_source": source if p.age_group else None,
            "predicted_gender": p.gender, "predicted_gender_prob": p.gender_prob,
            "predicted_age_group": p.age_group, "predicted_age_prob": p.age_prob}


def _features_row(features, source: str) -> dict:
    from ..models.speaker_classifier import FEATURE_SET

    return {"features": [float(x) for x in features], "feature_set": FEATURE_SET}


def _emotion_row(p: EmotionPrediction, source: str) -> dict:
    return {"emotion": p.emotion, "emotion_prob": p.prob, "emotion_scores": json.dumps(p.scores) if p.scores else None,
            "caption": p.caption, "emotion_source": source if p.emotion or p.caption else None, "reason": p.reason}


def _transcript_row(p: Transcription | None, source: str) -> dict:
    if p is None:
        return {"text": None, "language": None, "words": []}
    return {"text": p.text, "language": p.language, "words": [asdict(w) for w in p.words]}


SPECS: dict[str, StageSpec] = {
    "speaker": StageSpec("speaker", "speakers", "1", _speaker_row),
    "emotion": StageSpec("emotion", "emotions", "1", _emotion_row),
    "transcript": StageSpec("transcript", "transcripts", "1", _transcript_row,
                            takes="(transcript IS NULL OR transcript = '')"),
}
# The embedded speaker backend's per-clip work is a feature vector for the classifiers trained afterwards.
FEATURES = StageSpec("speaker", "speaker_features", "1", _features_row)


def spec_for(stage: str, options: dict) -> StageSpec:
    backend = load_backend(stage, options)
    return FEATURES if getattr(backend, "trains_in_lakehouse", False) else SPECS[stage]


def stage_config(stage: str, options: dict) -> tuple[str, str]:
    """(annotator, config hash) of a stage under its backend options: the hash covers the backend's own
    version (weights fingerprint, label mapping), so new weights recompute every clip."""
    info = load_backend(stage, options).describe()
    annotator = f"{info.backend}:{info.model}"
    runtime = {"device", "batch_size"}     # how it runs, not what it computes
    described = {**{k: v for k, v in options.items() if k not in runtime}, "version": info.version}
    return annotator, config_digest(described)


def pending(lake: Lakehouse, stage: str, options: dict, corpus: str | None = None) -> PendingWork:
    spec = spec_for(stage, options)
    _, config_hash = stage_config(stage, options)
    return pending_jobs(lake, spec.table, spec.version, config_hash, corpus, where=spec.takes,
                        asr_transcripts=stage != "transcript")


def _cache_key(_context, parameters: dict) -> str:
    stage, options = parameters["stage"], parameters["options"]
    spec = spec_for(stage, options)
    return batch_cache_key(f"{spec.table}", spec.version, stage_config(stage, options)[1], parameters["jobs"])


def reads_contours(stage: str, options: dict) -> bool:
    """Whether the stage's backend reads clip contours rather than audio (the flow then looks them up)."""
    return getattr(load_backend(stage, options), "reads_contours", False)


def predict(stage: str, jobs: list[ClipJob], options: dict, run_id: str,
            contours: dict[str, Contours] | None = None) -> BatchResult:
    """Run the stage's backend on one batch; clips whose audio cannot be read become failures. `contours`:
    the stored contours the flow found for the batch (a backend that reads contours analyses the rest)."""
    backend = load_backend(stage, options)
    spec = spec_for(stage, options)
    annotator, config_hash = stage_config(stage, options)
    info = backend.describe()
    result = BatchResult()
    inputs, kept = [], []
    if getattr(backend, "reads_contours", False):
        found = clip_contours(jobs, stored=contours or {})
        for job in jobs:
            if isinstance(found[job.clip_id], ClipFailure):
                result.failures.append(found[job.clip_id])
                continue
            inputs.append(found[job.clip_id])
            kept.append(job)
        predictions = backend.predict_contours(inputs)
    elif backend.needs_audio:
        for job, audio in decode_clips(jobs):
            if isinstance(audio, ClipFailure):
                result.failures.append(audio)
                continue
            inputs.append(_clip(job, *audio, stage=stage))
            kept.append(job)
        predictions = backend.predict(inputs)
    else:
        kept = list(jobs)
        predictions = backend.predict([_clip(job, None, 0) for job in jobs])
    columns = stage_columns(annotator, spec.version, config_hash, run_id)
    source = info.model if info.backend != DEFAULT_BACKEND else info.backend
    for job, prediction in zip(kept, predictions, strict=True):
        result.rows.append({"clip_id": job.clip_id, **spec.row(prediction, source),
                            **({} if spec is FEATURES else {"backend": info.backend, "model": info.model}),
                            **columns, "input_hash": job.input_hash()})
        result.audio_s += job.duration_s or 0.0
    return result


def _clip(job: ClipJob, samples, rate: int, stage: str = "") -> Clip:
    # a stressed regeneration speaks as its parent corpus does (read speech stays read speech)
    parent = parent_corpus(job.corpus)
    style = speaking_style(parent)
    # An ASR backend detects the language where the corpus does not declare one: a folder's clip without text
    # has only the reader's guess (`en`).
    language = job.language if stage != "transcript" or _declared_language(parent) else None
    return Clip(job.clip_id, samples, rate, language, job.corpus, style, job.transcript)


def _declared_language(corpus: str) -> str:
    reader = READERS.get(corpus)
    return reader.language if reader and reader.name == corpus else ""


@task(name="predict-batch", task_run_name="{stage}-batch-{batch_number}", persist_result=True,
      cache_key_fn=_cache_key)
def predict_batch(stage: str, jobs: list[ClipJob], options: dict, run_id: str, batch_number: int = 0,
                  contours: dict[str, Contours] | None = None) -> BatchResult:
    return predict(stage, jobs, options, run_id, contours)
