"""The emphasize stage: regenerate clips with their keyword stressed, as new clips of corpus "<corpus>-stressed".

For each parent clip: its keyword (models/keywords.py, fitted on the parent corpus's transcripts), where the
keyword lies (Whisper's word timestamps from the transcript stage, else the embedded aligner), then a
synthesizer backend (models/stress_synthesis.py) makes the stressed audio, written as FLAC under the
lakehouse's audio/ folder. The new clip copies its parent's `clips` row (speaker, transcript, metadata) with its
own id, audio and hash; `stressed_clips` records the parent, the keyword and every word's span in the new
audio. One stressed clip per parent: a re-run with other settings replaces it, never adds a second.

A parent is not regenerated (it is skipped, with the reason in `rejects`) when its transcript has no content
word, when it has no speech or is too short (the acoustic stage's flags: its row when it has run, else the same
measurement here), or when its keyword cannot be placed in speech (no alignment confidence). Each reason is a
property of the parent's inputs, so its reject names them (their hash) and, while they are unchanged, the
parent counts as done: later runs neither read its audio again nor take another parent in its place.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
from prefect import task

from ..models.keywords import Keyword, KeywordScorer, split_words
from ..models.stress_synthesis import StressError, StressRequest, StressSettings, StressSynthesizer, WorldStressor
from ..models.vad import EnergyVAD
from ..models.word_aligner import WordSpan, word_spans
from ..models.signal import analyse_signal
from ..models.word_prosody import frames_from
from ..vocabulary import Flag
from ..warehouse import Lakehouse
from ..warehouse.lake import sql_literal_list
from .acoustic_analysis import MIN_DURATION_S, AcousticConfig, measure
from .clip_batches import BatchResult, ClipFailure, ClipJob, config_digest, decode_clips, pending_jobs, \
    stage_columns, store_batch
from .ingest import clip_schema
from .lineage import is_stressed, stressed_corpus

STAGE = "emphasize"
STRESS_VERSION = "1"
PARENT_CHECKS = "1"       # bump when the checks that skip a parent change: a cached batch holds their verdicts
SYNTHESIZERS = ("world", "tts")
MODEL_OPTIONS = ("model", "device", "allow_download", "speaker_id")      # the tts backend's

# Why a parent is skipped: each a property of its inputs (audio, span, transcript, language), final for them.
NO_KEYWORD, NO_ALIGNMENT, NO_CONFIDENCE = "no_keyword", "no_alignment", "no_alignment_confidence"
# (a clip too short to measure usually has no voiced frame either: the first flag here names it)
UNUSABLE = {Flag.TOO_SHORT: f"shorter than {MIN_DURATION_S} s", Flag.NO_SPEECH: "no voiced speech"}
SKIPS = (NO_KEYWORD, *UNUSABLE, NO_ALIGNMENT, NO_CONFIDENCE)
# The share of the keyword's span the acoustic stage's voice activity detector calls speech, under which the
# keyword's place is not trusted. Right placements on the fixture sentences: 0.37 and up (embedded aligner),
# 0.50 and up (espeak-ng's own word times, whose last word takes the trailing silence); a keyword placed in
# silence: 0.
MIN_KEYWORD_SPEECH = 0.25


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
    measured: bool = False            # the acoustic stage measured these inputs and flagged nothing unusable


@dataclass
class StressPlan:
    jobs: list[StressJob] = field(default_factory=list)
    up_to_date: int = 0               # stressed with these settings, or skipped for these inputs before
    failures: list[ClipFailure] = field(default_factory=list)   # parents turned down now, without their audio
    skipped: Counter = field(default_factory=Counter)           # reason -> parents skipped before (up to date)


def skip(job: ClipJob, reason: str, why: str) -> ClipFailure:
    """A parent turned down for what its inputs are: the reject names them, so it stands while they do."""
    return ClipFailure(job.clip_id, job.audio_path, reason, f"{why} {_inputs(job)}")


def _inputs(job: ClipJob) -> str:
    return f"(input {job.input_hash()})"


def known_skips(lake: Lakehouse, corpus: str, jobs: list[ClipJob]) -> dict[str, str]:
    """clip id -> reason, for the parents among `jobs` skipped before with the inputs they have now."""
    if not jobs:
        return {}
    rows = lake.read("rejects", ["clip_id", "reason", "detail"],
                     where=f"stage = '{STAGE}' AND reason IN {sql_literal_list(SKIPS)} "
                           f"AND corpus = {sql_literal_list([corpus])[1:-1]}").to_pylist()
    inputs = {job.clip_id: _inputs(job) for job in jobs}
    return {r["clip_id"]: r["reason"] for r in rows
            if r["clip_id"] in inputs and (r["detail"] or "").endswith(inputs[r["clip_id"]])}


def acoustic_flags(lake: Lakehouse, jobs: list[ClipJob]) -> dict[str, list[str]]:
    """The acoustic stage's flags of the jobs it measured with their present inputs."""
    inputs = {job.clip_id: job.input_hash() for job in jobs}
    return {r["clip_id"]: list(r["flags"] or []) for r in
            lake.lookup("acoustics", list(inputs), ["clip_id", "flags", "input_hash"]).to_pylist()
            if r["input_hash"] == inputs[r["clip_id"]]}


def unusable_flag(flags: list[str]) -> str | None:
    return next((flag for flag in UNUSABLE if flag in flags), None)


def plan(lake: Lakehouse, corpora: list[str], limit: int | None, options: dict) -> StressPlan:
    """The parents to stress: per corpus, clips in a fixed hash order (so the same parents are chosen on every
    run and across speakers) until `limit` of them are stressed with these settings. A parent that cannot be
    regenerated is skipped with its reason and does not count: the next one in the order takes its place."""
    _, config_hash = stress_config(options)
    out = StressPlan()
    for corpus in corpora:
        if is_stressed(corpus):
            raise ValueError(f"{corpus!r} is itself a stressed set; name its parent corpus")
        work = pending_jobs(lake, "stressed_clips", STRESS_VERSION, config_hash, corpus, done_key="parent_clip_id")
        skipped = known_skips(lake, corpus, work.jobs)
        out.skipped.update(skipped.values())
        out.up_to_date += work.up_to_date + len(skipped)
        candidates = sorted((j for j in work.jobs if j.clip_id not in skipped),
                            key=lambda j: hashlib.sha256(j.clip_id.encode()).hexdigest())
        budget = len(candidates) if limit is None else max(0, limit - work.up_to_date)
        if not budget or not candidates:
            continue
        texts = lake.read("clips", ["transcript", "language"], where=f"corpus = {sql_literal_list([corpus])[1:-1]}").to_pylist()
        scorers = {language: KeywordScorer(language, [t["transcript"] or "" for t in texts if t["language"] == language])
                   for language in {t["language"] for t in texts}}
        accepted, size = 0, max(2 * budget, 64)
        # in windows, so that a small limit over a large corpus looks up a few parents, not all of them
        for start in range(0, len(candidates), size):
            accepted += _plan_window(lake, candidates[start:start + size], scorers, budget - accepted, out)
            if accepted >= budget:
                break
    return out


def _plan_window(lake: Lakehouse, window: list[ClipJob], scorers: dict[str, KeywordScorer], wanted: int,
                 out: StressPlan) -> int:
    """Take up to `wanted` parents of `window` (in its order) into `out.jobs`, each examined one recorded in
    `out.failures` when it cannot be regenerated; returns how many were taken."""
    parents = {r["clip_id"]: r for r in lake.lookup("clips", [j.clip_id for j in window], clip_schema().names).to_pylist()}
    stamps = {r["clip_id"]: r["words"] for r in
              lake.lookup("transcripts", [j.clip_id for j in window], ["clip_id", "words"]).to_pylist() if r["words"]}
    flags = acoustic_flags(lake, window)
    taken = 0
    for job in window:
        if taken >= wanted:
            break
        keyword = scorers[job.language].choose(job.transcript or "", salt=job.clip_id) if job.transcript else None
        flag = unusable_flag(flags.get(job.clip_id, []))
        if not job.transcript:      # not final: the transcript stage may give it one
            out.failures.append(ClipFailure(job.clip_id, job.audio_path, "no_transcript",
                                            "no transcript: run `speechcraft annotate --stage transcript`"))
        elif keyword is None:
            out.failures.append(skip(job, NO_KEYWORD, "the transcript has no content word to stress"))
        elif flag:
            out.failures.append(skip(job, flag, f"the acoustic stage flagged it {flag}: {UNUSABLE[flag]}"))
        else:
            out.jobs.append(StressJob(job, keyword, parents[job.clip_id], stamps.get(job.clip_id),
                                      measured=job.clip_id in flags))
            taken += 1
    return taken


def keyword_speech(samples: np.ndarray, rate: int, keyword: WordSpan) -> float:
    """The share of the keyword's span that the acoustic stage's voice activity detector calls speech: how
    far its placement can be trusted (0 for a keyword placed in silence)."""
    length = keyword.end_s - keyword.start_s
    if length <= 0:
        return 0.0
    segments = EnergyVAD().segments(samples, rate)
    inside = np.clip(np.minimum(segments[:, 1], keyword.end_s) - np.maximum(segments[:, 0], keyword.start_s), 0, None)
    return float(inside.sum() / length)


def place_words(job: StressJob, samples: np.ndarray, rate: int) -> tuple[list[WordSpan], str] | ClipFailure:
    """The decoded parent's word spans and their source, or why it cannot be regenerated: no speech or too
    short (measured as the acoustic stage does, unless it already has), its words not placeable in the audio,
    or its keyword placed outside speech."""
    clip = job.clip
    contours = analyse_signal(samples, rate)          # one analysis for the measure and the word frames
    if not job.measured:
        config = AcousticConfig()
        flag = unusable_flag(measure(samples, rate, clip.transcript, clip.language, config, contours)["flags"])
        if flag:
            return skip(clip, flag, f"{UNUSABLE[flag]}, as the acoustic stage measures it")
    words = split_words(clip.transcript or "", clip.language)
    spans, timing = word_spans(frames_from(contours), words, clip.language, job.stamps)
    if len(spans) != len(words) or job.keyword.index >= len(spans):
        return skip(clip, NO_ALIGNMENT, "the words could not be placed in the audio")
    keyword = spans[job.keyword.index]
    share = keyword_speech(samples, rate, keyword)
    if share < MIN_KEYWORD_SPEECH:
        return skip(clip, NO_CONFIDENCE, f"the keyword {keyword.word!r} was placed at {keyword.start_s:.2f}-"
                                         f"{keyword.end_s:.2f} s ({timing}), where {share:.0%} is speech")
    return spans, timing


def output_path(audio_root: str, job: StressJob) -> Path:
    """Where the stressed audio of `job`'s parent is written."""
    return Path(audio_root) / stressed_corpus(job.clip.corpus) / f"{job.parent['native_id']}.flac"


def outputs_exist(audio_root: str, jobs: list[StressJob]) -> bool:
    """Whether a cached batch's audio is still there: results are cached outside the lakehouse (a lake rebuilt
    from scratch reuses them), the stressed audio lives inside it."""
    return all(output_path(audio_root, job).is_file() for job in jobs)


@dataclass
class StressResult(BatchResult):
    clips: list[dict] = field(default_factory=list)     # the new clips' `clips` rows


def stress(jobs: list[StressJob], options: dict, audio_root: str, run_id: str) -> StressResult:
    """Regenerate each parent with its keyword stressed; write the audio and both rows. WORLD (and numpy's
    FFTs around it) release the GIL for most of a clip's work, so with WORLD the clips of a batch are
    regenerated on threads side by side (1.6x faster on two cores); the FastSpeech2 backend changes its
    model's state per clip, so it takes them one at a time."""
    backend = synthesizer(options)
    annotator, config_hash = stress_config(options)
    columns = stage_columns(annotator, STRESS_VERSION, config_hash, run_id)
    settings = json.dumps({k: v for k, v in backend.describe().items() if k not in ("backend", "version")})
    by_id = {job.clip.clip_id: job for job in jobs}

    def one(decoded: tuple[ClipJob, tuple[np.ndarray, int] | ClipFailure]) -> ClipFailure | tuple[dict, dict]:
        clip, audio = decoded
        if isinstance(audio, ClipFailure):
            return audio
        job, (samples, rate) = by_id[clip.clip_id], audio
        placed = place_words(job, samples, rate)
        if isinstance(placed, ClipFailure):
            return placed
        spans, timing = placed
        speaker = f"{clip.corpus}/{job.parent['speaker_id'] or clip.clip_id}"
        try:
            stressed = backend.stress(StressRequest(samples, rate, spans, job.keyword.index, clip.language, speaker))
        except StressError as err:
            return ClipFailure(clip.clip_id, clip.audio_path, "cannot_stress", str(err))
        keyword = stressed.words[job.keyword.index]
        corpus = stressed_corpus(clip.corpus)
        native_id = job.parent["native_id"]
        path = output_path(audio_root, job)
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, np.clip(stressed.samples, -1, 1), stressed.sample_rate, format="FLAC", subtype="PCM_16")
        data = path.read_bytes()
        duration = len(stressed.samples) / stressed.sample_rate
        clip_id = f"{corpus}/{native_id}"
        clip_row = {**job.parent, "clip_id": clip_id, "corpus": corpus, "audio_path": str(path),
                    "audio_format": "FLAC", "start_s": None, "end_s": None,
                    "sample_rate": stressed.sample_rate, "channels": 1, "duration_s": duration,
                    "peak_dbfs": float(20 * np.log10(max(np.max(np.abs(stressed.samples)), 1e-10))),
                    "audio_sha256": hashlib.sha256(data).hexdigest(),
                    "source_fingerprint": f"{STAGE}:{clip.input_hash()}:{config_hash}"}
        return clip_row, {
            "clip_id": clip_id, "parent_clip_id": clip.clip_id, "keyword": keyword.word,
            "keyword_index": job.keyword.index, "keyword_start_s": keyword.start_s,
            "keyword_end_s": keyword.end_s, "keyword_score": job.keyword.score,
            "words": [{"word": s.word, "start_s": s.start_s, "end_s": s.end_s} for s in stressed.words],
            "timing": timing, "synthesizer": annotator, "settings": settings, **columns,
            "input_hash": clip.input_hash()}

    result = StressResult()
    threads = (os.cpu_count() or 1) if isinstance(backend, WorldStressor) else 1
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for outcome in pool.map(one, decode_clips([job.clip for job in jobs])):
            if isinstance(outcome, ClipFailure):
                result.failures.append(outcome)
                continue
            clip_row, stressed_row = outcome
            result.clips.append(clip_row)
            result.rows.append(stressed_row)
            result.audio_s += by_id[stressed_row["parent_clip_id"]].clip.duration_s or 0.0
    return result


def _cache_key(_context, parameters: dict) -> str:
    _, config_hash = stress_config(parameters["options"])
    digest = hashlib.sha256(f"{STAGE}:{STRESS_VERSION}:{PARENT_CHECKS}:{config_hash}:{parameters['audio_root']}".encode())
    for job in sorted(parameters["jobs"], key=lambda j: j.clip.clip_id):
        digest.update(f"\x1f{job.clip.clip_id}\x1e{job.clip.input_hash()}\x1e{job.keyword.index}".encode())
    return f"{STAGE}-{digest.hexdigest()}"


@task(name="stress-batch", task_run_name="stress-batch-{batch_number}", persist_result=True, cache_key_fn=_cache_key)
def stress_batch(jobs: list[StressJob], options: dict, audio_root: str, run_id: str, batch_number: int = 0) -> StressResult:
    return stress(jobs, options, audio_root, run_id)


def store_stressed(lake: Lakehouse, result: StressResult, run_id: str) -> None:
    """The new clips first, then their stressed_clips rows and the batch's rejects. A parent stressed or
    skipped now is decided anew: what earlier runs said of it (a fault since fixed, a skip for inputs it no
    longer has) is history."""
    if result.clips:
        clip_schema()      # the parents' own columns are copied: this process writes every reader's
        lake.upsert("clips", result.clips)
    decided = [r["parent_clip_id"] for r in result.rows] + [f.clip_id for f in result.failures if f.reason in SKIPS]
    if decided:
        lake.delete_where("rejects", f"stage = '{STAGE}' AND clip_id IN {sql_literal_list(decided)}")
    store_batch(lake, STAGE, "stressed_clips", result, run_id)
