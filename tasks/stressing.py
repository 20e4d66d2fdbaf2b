"""The emphasize stage: regenerate clips with their keyword stressed, as new clips of corpus "<corpus>-stressed".

For each parent clip: its keyword (models/keywords.py, fitted on the parent corpus's transcripts), where the
keyword lies (Whisper's word timestamps from the transcript stage, else the embedded aligner), then a
synthesizer backend (models/stress_synthesis.py) makes the stressed audio, written as FLAC under the
lakehouse's audio/ folder. The new clip copies its parent's `clips` row (speaker, transcript, metadata) with its
own id, audio and hash; `stressed_clips` records the parent, the keyword and every word's span in the new
audio. One stressed clip per parent: a re-run with other settings replaces it, never adds a second.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
from prefect import task

from ..models.keywords import Keyword, KeywordScorer, split_words
from ..models.stress_synthesis import StressError, StressRequest, StressSettings, StressSynthesizer, WorldStressor
from ..models.word_aligner import word_spans
from ..models.word_prosody import analyse
from ..warehouse import Lakehouse
from ..warehouse.lake import sql_literal_list
from ..warehouse.schema import CLIPS
from .clip_batches import BatchResult, ClipFailure, ClipJob, config_digest, decode_clips, pending_jobs, \
    stage_columns, store_batch

STAGE = "emphasize"
STRESS_VERSION = "1"
SUFFIX = "-stressed"
SYNTHESIZERS = ("world", "tts")
MODEL_OPTIONS = ("model", "device", "allow_download", "speaker_id")      # the tts backend's


def stressed_corpus(corpus: str) -> str:
    return corpus + SUFFIX


def is_stressed(corpus: str) -> bool:
    return corpus.endswith(SUFFIX)


def synthesizer(options: dict) -> StressSynthesizer:
    """The backend named by options["backend"] with the scaling factors in `options` (one per options: a
    model loads once per process)."""
    return _synthesizer(json.dumps(options, sort_keys=True))


@lru_cache(maxsize=4)
def _synthesizer(options_json: str) -> StressSynthesizer:
    options = json.loads(options_json)
    backend = options.get("backend", "world")
    if backend not in SYNTHESIZERS:
        raise ValueError(f"unknown stress backend {backend!r}; choose from {', '.join(SYNTHESIZERS)}")
    settings = StressSettings(**{k: float(v) for k, v in options.items() if k in StressSettings.__dataclass_fields__})
    if backend == "world":
        return WorldStressor(settings)
    from ..models.stress_tts import FastSpeech2Stressor

    if not options.get("model"):
        raise ValueError("the tts backend needs --model: a local folder with a FastSpeech2ConformerWithHifiGan "
                         "checkpoint and its vocab.json")
    return FastSpeech2Stressor(settings=settings, **{k: options[k] for k in MODEL_OPTIONS if options.get(k) is not None})


def stress_config(options: dict) -> tuple[str, str]:
    described = synthesizer(options).describe()
    return f"{described['backend']}:{described['version']}", config_digest(described)


@dataclass(frozen=True)
class StressJob:
    clip: ClipJob
    keyword: Keyword
    parent: dict                      # the parent's `clips` row
    stamps: list[dict] | None = None  # Whisper word timestamps, when the transcript stage has them


@dataclass
class StressPlan:
    jobs: list[StressJob] = field(default_factory=list)
    up_to_date: int = 0
    failures: list[ClipFailure] = field(default_factory=list)   # parents that have no keyword


def plan(lake: Lakehouse, corpora: list[str], limit: int | None, options: dict) -> StressPlan:
    """The parents to stress: per corpus, the first `limit` clips in a fixed hash order (so the same parents
    are chosen on every run and across speakers), less those already stressed with these settings."""
    _, config_hash = stress_config(options)
    out = StressPlan()
    for corpus in corpora:
        if is_stressed(corpus):
            raise ValueError(f"{corpus!r} is itself a stressed set; name its parent corpus")
        work = pending_jobs(lake, "stressed_clips", STRESS_VERSION, config_hash, corpus, done_key="parent_clip_id")
        # A parent whose transcript has no content word stays without one: once rejected for it, it counts
        # as done, so later runs neither try it again nor take another parent in its place.
        no_keyword = set(lake.read("rejects", ["clip_id"], where=f"stage = '{STAGE}' AND reason = 'no_keyword' "
                                   f"AND corpus = {sql_literal_list([corpus])[1:-1]}")["clip_id"].to_pylist())
        done = work.up_to_date + sum(j.clip_id in no_keyword for j in work.jobs)
        chosen = sorted((j for j in work.jobs if j.clip_id not in no_keyword),
                        key=lambda j: hashlib.sha256(j.clip_id.encode()).hexdigest())
        all_clips = work.up_to_date + len(work.jobs)
        budget = all_clips if limit is None else max(0, min(limit, all_clips) - done)
        out.up_to_date += done
        chosen = chosen[:budget]
        if not chosen:
            continue
        texts = lake.read("clips", ["transcript", "language"], where=f"corpus = {sql_literal_list([corpus])[1:-1]}").to_pylist()
        scorers = {language: KeywordScorer(language, [t["transcript"] or "" for t in texts if t["language"] == language])
                   for language in {t["language"] for t in texts}}
        parents = {r["clip_id"]: r for r in lake.lookup("clips", [j.clip_id for j in chosen], CLIPS.names).to_pylist()}
        stamps = {r["clip_id"]: r["words"] for r in
                  lake.lookup("transcripts", [j.clip_id for j in chosen], ["clip_id", "words"]).to_pylist() if r["words"]}
        for job in chosen:
            keyword = scorers[job.language].choose(job.transcript or "", salt=job.clip_id) if job.transcript else None
            if keyword is None:
                reason = "no_keyword" if job.transcript else "no_transcript"
                out.failures.append(ClipFailure(job.clip_id, job.audio_path, reason,
                                                "the transcript has no content word to stress" if job.transcript
                                                else "no transcript: run `speechcraft annotate --stage transcript`"))
                continue
            out.jobs.append(StressJob(job, keyword, parents[job.clip_id], stamps.get(job.clip_id)))
    return out


@dataclass
class StressResult(BatchResult):
    clips: list[dict] = field(default_factory=list)     # the new clips' `clips` rows


def stress(jobs: list[StressJob], options: dict, audio_root: str, run_id: str) -> StressResult:
    """Regenerate each parent with its keyword stressed; write the audio and both rows."""
    backend = synthesizer(options)
    annotator, config_hash = stress_config(options)
    columns = stage_columns(annotator, STRESS_VERSION, config_hash, run_id)
    result = StressResult()
    by_id = {job.clip.clip_id: job for job in jobs}
    for clip, audio in decode_clips([job.clip for job in jobs]):
        if isinstance(audio, ClipFailure):
            result.failures.append(audio)
            continue
        job, (samples, rate) = by_id[clip.clip_id], audio
        words = split_words(clip.transcript or "", clip.language)
        spans, timing = word_spans(analyse(samples, rate), words, clip.language, job.stamps)
        if len(spans) != len(words) or job.keyword.index >= len(spans):
            result.failures.append(ClipFailure(clip.clip_id, clip.audio_path, "no_alignment",
                                               "the words could not be placed in the audio (too short or silent)"))
            continue
        speaker = f"{clip.corpus}/{job.parent['speaker_id'] or clip.clip_id}"
        try:
            stressed = backend.stress(StressRequest(samples, rate, spans, job.keyword.index, clip.language, speaker))
        except StressError as err:
            result.failures.append(ClipFailure(clip.clip_id, clip.audio_path, "cannot_stress", str(err)))
            continue
        keyword = stressed.words[job.keyword.index]
        corpus = stressed_corpus(clip.corpus)
        native_id = job.parent["native_id"]
        path = Path(audio_root) / corpus / f"{native_id}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, np.clip(stressed.samples, -1, 1), stressed.sample_rate, format="FLAC", subtype="PCM_16")
        data = path.read_bytes()
        duration = len(stressed.samples) / stressed.sample_rate
        clip_id = f"{corpus}/{native_id}"
        result.clips.append({**job.parent, "clip_id": clip_id, "corpus": corpus, "audio_path": str(path),
                             "audio_format": "FLAC", "start_s": None, "end_s": None,
                             "sample_rate": stressed.sample_rate, "channels": 1, "duration_s": duration,
                             "peak_dbfs": float(20 * np.log10(max(np.max(np.abs(stressed.samples)), 1e-10))),
                             "audio_sha256": hashlib.sha256(data).hexdigest(),
                             "source_fingerprint": f"{STAGE}:{clip.input_hash()}:{config_hash}"})
        result.rows.append({
            "clip_id": clip_id, "parent_clip_id": clip.clip_id, "keyword": keyword.word,
            "keyword_index": job.keyword.index, "keyword_start_s": keyword.start_s,
            "keyword_end_s": keyword.end_s, "keyword_score": job.keyword.score,
            "words": [{"word": s.word, "start_s": s.start_s, "end_s": s.end_s} for s in stressed.words],
            "timing": timing, "synthesizer": annotator,
            "settings": json.dumps({k: v for k, v in backend.describe().items() if k not in ("backend", "version")}),
            **columns, "input_hash": clip.input_hash()})
        result.audio_s += clip.duration_s or 0.0
    return result


def _cache_key(_context, parameters: dict) -> str:
    _, config_hash = stress_config(parameters["options"])
    digest = hashlib.sha256(f"{STAGE}:{STRESS_VERSION}:{config_hash}:{parameters['audio_root']}".encode())
    for job in sorted(parameters["jobs"], key=lambda j: j.clip.clip_id):
        digest.update(f"\x1f{job.clip.clip_id}\x1e{job.clip.input_hash()}\x1e{job.keyword.index}".encode())
    return f"{STAGE}-{digest.hexdigest()}"


@task(name="stress-batch", task_run_name="stress-batch-{batch_number}", persist_result=True, cache_key_fn=_cache_key)
def stress_batch(jobs: list[StressJob], options: dict, audio_root: str, run_id: str, batch_number: int = 0) -> StressResult:
    return stress(jobs, options, audio_root, run_id)


def store_stressed(lake: Lakehouse, result: StressResult, run_id: str) -> None:
    """The new clips first, then their stressed_clips rows and the batch's rejects."""
    if result.clips:
        lake.upsert("clips", result.clips)
    store_batch(lake, STAGE, "stressed_clips", result, run_id)
