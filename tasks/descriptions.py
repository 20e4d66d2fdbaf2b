"""Descriptions and instructions: which clips need texts, writing a batch of them, and the write.

A clip's inputs are its published labels (clip_annotations), topic and transcript, in its language. A
generator writes each text; every text is judged by the checker, and every attempt is stored with its
verdict (rejected LLM attempts included, so each generator's omission and distortion rates can be read
from the table). An LLM's failure is retried up to `retries` times, then the embedded generator writes the
text; only a passing text is ever published. A clip with no labels gets no description, and one with an
empty transcript no instruction, each with the reason recorded.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from prefect import task

from ..models.describer import EmbeddedDescriber
from ..models.llm_describer import TextRequest, screen
from ..models.registry import load_backend
from ..models.text_checker import check
from ..vocabulary import CONDITION_LABEL_NAMES, VOLUME
from ..warehouse import Lakehouse
from ..warehouse.lake import sql_literal_list
from ..warehouse.sql import query
from .clip_batches import config_digest, stage_columns

STAGE = "describe"
DESCRIBE_VERSION = "1"
DEFAULT_RETRIES = 2
KINDS = ("description", "instruction")
# clip_annotations column -> label key of docs/annotation-contract.md (vocabulary.TEXT_LABELS)
LABEL_COLUMNS = {"gender": "gender", "age_group": "age", "pitch_label": "pitch", "energy_label": VOLUME,
                 "speed_label": "speed", "emotion": "emotion", "emphasis": "emphasis", "topic": "topic"}
# ... and the recording conditions, which texts state only with the `conditions` option ([stages.describe]
# conditions = true, `describe --conditions`: Parler-TTS-style texts; off, SpeechCraft's, by default)
CONDITION_COLUMNS = {f"{attribute}_label": attribute for attribute in CONDITION_LABEL_NAMES}


@dataclass(frozen=True)
class ClipText:
    clip_id: str
    language: str
    labels: dict
    transcript: str | None
    duration_s: float = 0.0         # not part of the text's inputs: for the stage's audio-hours per hour

    def input_hash(self) -> str:
        key = json.dumps([self.language, sorted(self.labels.items()), self.transcript], ensure_ascii=False)
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class TextBatch:
    rows: list[dict] = field(default_factory=list)


def clip_texts(lake_uri: str | None, corpus: str | None = None, conditions: bool = False) -> list[ClipText]:
    """Every clip (of `corpus`) with the labels its texts are written from; with `conditions`, its noise,
    reverberation and monotony labels among them."""
    where = f"WHERE a.corpus = {sql_literal_list([corpus])[1:-1]}" if corpus else ""
    columns = {**LABEL_COLUMNS, **(CONDITION_COLUMNS if conditions else {})}
    rows = query(f"""SELECT a.clip_id, a.language, a.transcript, a.duration_s, a.gender, a.age_group, a.pitch_label,
                            a.energy_label, a.speed_label, a.emotion, c.meta_topic AS topic,
                            {"".join(f"a.{column}, " for column in CONDITION_COLUMNS if conditions)}
                            -- a text states only a known stressed word (a regenerated clip's keyword): a
                            -- detector's guess on natural speech would put unverified claims into training text
                            CASE WHEN a.emphasis_source = 'regenerated' THEN a.emphasis END AS emphasis
                     FROM clip_annotations a JOIN clips c USING (clip_id) {where}
                     ORDER BY a.clip_id""", lake_uri).to_pylist()
    return [ClipText(r["clip_id"], r["language"] or "en",
                     {key: r[column] for column, key in columns.items() if r[column]},
                     (r["transcript"] or "").strip() or None, r["duration_s"] or 0.0) for r in rows]


def describe_config(options: dict) -> tuple[str, str]:
    """(annotator, config hash) of the generator options; the checker's version is part of it, and the
    `conditions` option when it is on (so that switching it rewrites every text, and texts written without it
    keep the hash they always had)."""
    info = load_backend(STAGE, options).describe()
    retries = options.get("retries", DEFAULT_RETRIES)
    conditions = {"conditions": True} if options.get("conditions") else {}
    return f"{info.backend}:{info.model}", config_digest({"version": info.version, "retries": retries,
                                                           "checker": DESCRIBE_VERSION, **conditions})


@dataclass
class PendingTexts:
    todo: list[ClipText]
    up_to_date: int
    stored: set[str]        # clips of `todo` that have rows already (of an earlier configuration or inputs)


def pending(lake: Lakehouse, lake_uri: str | None, options: dict, corpus: str | None) -> PendingTexts:
    _, config_hash = describe_config(options)
    rows = lake.read("descriptions", ["clip_id", "kind", "config_hash", "input_hash", "published", "attempt"]).to_pylist()
    done = {(r["clip_id"], r["kind"]): (r["config_hash"], r["input_hash"]) for r in rows
            if r["published"] or r["attempt"] == 0}     # published, or none possible (reason)
    texts = clip_texts(lake_uri, corpus, bool(options.get("conditions")))
    todo = [t for t in texts if any(done.get((t.clip_id, k)) != (config_hash, t.input_hash()) for k in KINDS)]
    stored = {r["clip_id"] for r in rows} & {t.clip_id for t in todo}
    return PendingTexts(todo, len(texts) - len(todo), stored)


def write_texts(clips: list[ClipText], options: dict, run_id: str) -> TextBatch:
    generator = load_backend(STAGE, options)
    annotator, config_hash = describe_config(options)
    info = generator.describe()
    embedded = generator if isinstance(generator, EmbeddedDescriber) else EmbeddedDescriber()
    retries = options.get("retries", DEFAULT_RETRIES)
    batch = TextBatch()

    def row(clip: ClipText, kind: str, attempt: int, text: str | None, who, passed_reason=None, verdict=None,
            published=False, attempts=None) -> dict:
        return {"text_id": f"{clip.clip_id}/{kind}/{attempt}", "clip_id": clip.clip_id, "kind": kind, "text": text,
                "language": clip.language, "generator": who.name if who else None,
                "model": getattr(who, "model", None) if who is embedded else (info.model if who else None),
                "attempt": attempt, "attempts": attempts,
                "omissions": len(verdict.omitted) if verdict else None,
                "distortions": len(verdict.distorted) if verdict else None,
                "omitted": verdict.omitted if verdict else [], "distorted": verdict.distorted if verdict else [],
                "transcript_problem": verdict.transcript_problem if verdict else None,
                "invented": verdict.invented if verdict else [], "passed": bool(verdict and verdict.passed),
                "published": published, "reason": passed_reason, "labels": json.dumps(clip.labels, ensure_ascii=False),
                **stage_columns(annotator, DESCRIBE_VERSION, config_hash, run_id), "input_hash": clip.input_hash()}

    for kind in KINDS:
        wanted = []
        for clip in clips:
            if not clip.labels:
                batch.rows.append(row(clip, kind, 0, None, None, "no labels: run `speechcraft annotate` first"))
            elif kind == "instruction" and clip.transcript is None:
                batch.rows.append(row(clip, kind, 0, None, None, "empty transcript: no instruction"))
            else:
                wanted.append(clip)
        attempt = 0
        if generator is not embedded:                                  # an LLM first, checked, retried
            for attempt in range(1, retries + 2):
                if not wanted:
                    break
                requests = [TextRequest(c.clip_id, c.labels, c.language, c.transcript if kind == "instruction"
                                        else None) for c in wanted]
                still = []
                for clip, request, text in zip(wanted, requests, generator.generate(requests, attempt), strict=True):
                    problem = screen(text, clip.language)
                    verdict = None if problem else check(text, clip.labels, clip.language, request.transcript)
                    ok = verdict is not None and verdict.passed
                    batch.rows.append(row(clip, kind, attempt, text, generator, problem or
                                          (None if ok else "; ".join(verdict.reasons())), verdict,
                                          published=ok, attempts=attempt if ok else None))
                    if not ok:
                        still.append(clip)
                wanted = still
        for clip in wanted:                                              # the embedded generator: always passes
            transcript = clip.transcript if kind == "instruction" else None
            text, tries, verdict = embedded.write_judged(clip.clip_id, clip.labels, clip.language, transcript)
            batch.rows.append(row(clip, kind, attempt + 1, text, embedded, None if attempt == 0 else
                                  "fallback after the LLM's attempts failed", verdict, published=True,
                                  attempts=attempt + tries))
    return batch


def _cache_key(_context, parameters: dict) -> str:
    _, config_hash = describe_config(parameters["options"])
    digest = hashlib.sha256(f"{STAGE}:{DESCRIBE_VERSION}:{config_hash}".encode())
    for clip in sorted(parameters["clips"], key=lambda c: c.clip_id):
        digest.update(f"\x1f{clip.clip_id}\x1e{clip.input_hash()}".encode())
    return f"{STAGE}-{digest.hexdigest()}"


@task(name="describe-batch", task_run_name="describe-batch-{batch_number}", persist_result=True,
      cache_key_fn=_cache_key)
def describe_batch(clips: list[ClipText], options: dict, run_id: str, batch_number: int = 0) -> TextBatch:
    return write_texts(clips, options, run_id)


def store_texts(lake: Lakehouse, batch: TextBatch, stored: set[str] | None = None) -> None:
    """A clip's texts are replaced whole: the attempts of an earlier configuration go. `stored`: the clips that
    have rows at all (PendingTexts.stored), whose rows are deleted first; None: every clip of the batch. A
    delete is a Lance commit of its own, as dear as the write, and a first describe has nothing to delete."""
    clip_ids = sorted({r["clip_id"] for r in batch.rows})
    replaced = [clip_id for clip_id in clip_ids if stored is None or clip_id in stored]
    if replaced:
        lake.delete_where("descriptions", f"clip_id IN {sql_literal_list(replaced)}")
    if clip_ids:
        lake.upsert("descriptions", batch.rows)
