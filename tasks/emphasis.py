"""The emphasis stage: word spans and prosodic features for every clip with a transcript, a detector trained on
the regenerated stressed clips (their parents are the no-emphasis examples), and its answer for every clip.
Where a language has no stressed clips to train on (`emphasize` has not run), the detector shipped with the
package (models/data/emphasis_detector.npz) answers instead, so every clip with a transcript gets a word or none.
Either detector reads each clip's word features against its sentence and against every word of its voice in
the lakehouse (the corpus's speaker, else its voice cluster): a voice's new clips move those norms, and its
clips are answered again.

Held out of training, deterministically by hash: a share of the speakers and a share of the sentences. The
detector is validated on clips whose speaker AND sentence are both held out (stressed clips and their
parents), so the figure is on voices and sentences it has never seen.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
from prefect import task

from ..models.emphasis_detector import CLASSIFIER_PARAMS, DETECTOR_INPUT, FEATURE_SET, EmphasisClassifier, \
    PackagedDetector, detect_sentences, detector_input, norms_by_speaker, packaged_detectors, word_features
from ..models.keywords import split_words
from ..models.word_aligner import word_spans
from ..models.signal import Contours
from ..models.word_prosody import frames_from
from ..warehouse import Lakehouse
from .acoustics import clip_contours
from .clip_batches import BatchResult, ClipFailure, ClipJob, PendingWork, batch_cache_key, config_digest, \
    pending_jobs, stage_columns
from .lineage import SUFFIX, speaker_key
from .worker_pool import spread

STAGE = "emphasis"
FEATURES_VERSION = "1"
DETECTOR_VERSION = "4"          # 4: the sentence threshold weighs plain and stressed sentences alike
HELD_OUT_SHARE = 1 / 3          # of speakers, and of sentences; the test set is both (a ninth of the clips)
MIN_TRAINING_SENTENCES = 20
FEATURE_CONFIG = config_digest({"feature_set": FEATURE_SET, "aligner": "embedded:1"})


def pending(lake: Lakehouse, corpus: str | None) -> PendingWork:
    return pending_jobs(lake, "emphasis_features", FEATURES_VERSION, FEATURE_CONFIG, corpus,
                        where="transcript IS NOT NULL AND transcript != ''")


def whisper_stamps(lake: Lakehouse, jobs: list[ClipJob]) -> dict[str, list[dict]]:
    return {r["clip_id"]: r["words"] for r in
            lake.lookup("transcripts", [j.clip_id for j in jobs], ["clip_id", "words"]).to_pylist() if r["words"]}


def features(jobs: list[ClipJob], stamps: dict[str, list[dict]], run_id: str,
             contours: dict[str, Contours] | None = None, workers: int = 1) -> BatchResult:
    """Word spans and features per clip, from its contours: `contours` (the stored ones the flow found for the
    batch), else one analysis of the clip's audio; the clips spread over `workers` processes."""
    columns = stage_columns(f"embedded:{FEATURE_SET}", FEATURES_VERSION, FEATURE_CONFIG, run_id)
    result = BatchResult()
    found = clip_contours(jobs, stored=contours or {})
    for job, outcome in spread(clip_features, [(job, found[job.clip_id], stamps.get(job.clip_id)) for job in jobs],
                               workers):
        if isinstance(outcome, ClipFailure):
            result.failures.append(outcome)
            continue
        result.rows.append({"clip_id": job.clip_id, **outcome, **columns, "input_hash": job.input_hash()})
        result.audio_s += job.duration_s or 0.0
    return result


def clip_features(clips: list[tuple[ClipJob, Contours | ClipFailure, list[dict] | None]]) \
        -> list[tuple[ClipJob, dict | ClipFailure]]:
    """Each (clip, its contours, its Whisper word times or None): its words' spans and features, or why not."""
    out: list[tuple[ClipJob, dict | ClipFailure]] = []
    for job, contours, stamps in clips:
        if isinstance(contours, ClipFailure):
            out.append((job, contours))
            continue
        words = split_words(job.transcript or "", job.language)
        frames = frames_from(contours)
        spans, timing = word_spans(frames, words, job.language, stamps)
        if not spans:
            out.append((job, ClipFailure(job.clip_id, job.audio_path, "no_alignment",
                                         "no words in the transcript, or no speech in the audio")))
            continue
        out.append((job, {"words": [{"word": s.word, "start_s": s.start_s, "end_s": s.end_s} for s in spans],
                          "features": word_features(frames, spans, job.language).tolist(),
                          "feature_set": FEATURE_SET, "timing": timing}))
    return out


def _cache_key(_context, parameters: dict) -> str:
    return batch_cache_key(STAGE, FEATURES_VERSION, FEATURE_CONFIG, parameters["jobs"])


@task(name="emphasis-features", task_run_name="emphasis-batch-{batch_number}", persist_result=True,
      cache_key_fn=_cache_key)
def features_batch(jobs: list[ClipJob], stamps: dict[str, list[dict]], run_id: str, batch_number: int = 0,
                   contours: dict[str, Contours] | None = None, workers: int = 1) -> BatchResult:
    return features(jobs, stamps, run_id, contours, workers)


# -- the detector ----------------------------------------------------------------------------------------------
def _held(key: str, salt: str) -> bool:
    return int(hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:8], 16) / 0x100000000 < HELD_OUT_SHARE


def emphasis_data(lake: Lakehouse) -> pl.DataFrame:
    """Every clip with features: its language, speaker and sentence keys, split, the voice its features are
    read against (`voice`: the corpus's speaker, else its voice cluster, else the clip and its regenerations),
    and the known stressed word index (stressed clips), -1 for the parents of stressed clips (known: none),
    null when unknown."""
    clips = pl.from_arrow(lake.read("clips", ["clip_id", "corpus", "language", "speaker_id", "transcript"]))
    if lake.exists("voice_clusters"):
        clusters = pl.from_arrow(lake.read("voice_clusters", ["clip_id", "voice_cluster"]))
        clips = clips.join(clusters.unique("clip_id"), on="clip_id", how="left")
    else:
        clips = clips.with_columns(voice_cluster=pl.lit(None, pl.Utf8))
    feats = pl.from_arrow(lake.read("emphasis_features", ["clip_id", "words", "features", "input_hash"]))
    stressed = pl.from_arrow(lake.read("stressed_clips", ["clip_id", "parent_clip_id", "keyword_index"]))
    known = pl.concat([stressed.select("clip_id", pl.col("keyword_index").alias("truth")),
                       stressed.select(pl.col("parent_clip_id").alias("clip_id"), pl.lit(-1, pl.Int64).alias("truth"))])
    data = (feats.join(clips, on="clip_id").join(known.unique("clip_id"), on="clip_id", how="left")
            .with_columns(base_corpus=pl.col("corpus").str.replace(f"{SUFFIX}$", "")))
    speaker = [speaker_key(*row) for row in data.select("corpus", "speaker_id", "clip_id").iter_rows()]
    voice = [speaker_key(corpus, speaker_id or cluster, clip_id) for corpus, speaker_id, cluster, clip_id
             in data.select("corpus", "speaker_id", "voice_cluster", "clip_id").iter_rows()]
    held_speaker = [_held(s, "speaker") for s in speaker]
    held_sentence = [_held(t or "", "sentence") for t in data["transcript"]]
    split = ["test" if a and b else ("train" if not a and not b else "excluded")
             for a, b in zip(held_speaker, held_sentence)]
    return data.with_columns(pl.Series("speaker", speaker), pl.Series("voice", voice), pl.Series("split", split))


@dataclass
class DetectorStats:
    detectors: dict[str, str | None] = field(default_factory=dict)   # language -> version in force
    skipped: dict[str, str] = field(default_factory=dict)
    predicted: int = 0
    stressed_found: int = 0


@dataclass
class DetectorInputs:
    """One language's clips as the detectors read them: clip_id -> the detector's input (`detector_input`: word
    features, the same against every word of the clip's voice in the lakehouse, its neighbours, its tones); and
    clip_id -> a digest of those voice norms (a voice's new clips move its norms, and its clips are answered
    again)."""
    features: dict[str, np.ndarray]
    norms: dict[str, str]

    @classmethod
    def of(cls, frame: pl.DataFrame) -> "DetectorInputs":
        clip_ids, voices = frame["clip_id"].to_list(), frame["voice"].to_list()
        sentences = [np.array(f, dtype=np.float32).reshape(len(f), -1) for f in frame["features"].to_list()]
        words = [[w["word"] for w in mine] for mine in frame["words"].to_list()]
        norms = norms_by_speaker(sentences, voices)
        digests = {voice: hashlib.sha256(np.round(n, 4).tobytes()).hexdigest()[:12] for voice, n in norms.items()}
        return cls({c: detector_input(f, norms[v], w, language)
                    for c, f, v, w, language in zip(clip_ids, sentences, voices, words, frame["language"].to_list())},
                   {c: digests[v] for c, v in zip(clip_ids, voices)})


def _sentences(frame: pl.DataFrame, inputs: DetectorInputs) -> list[tuple[np.ndarray, int | None]]:
    return [(inputs.features[c], None if t < 0 else int(t)) for c, t in frame.select("clip_id", "truth").iter_rows()]


def _detector(lake: Lakehouse, train: pl.DataFrame, inputs: DetectorInputs, language: str,
              stats: DetectorStats) -> tuple[EmphasisClassifier | None, str | None]:
    train = train.sort("clip_id")
    if train.height < MIN_TRAINING_SENTENCES or train.filter(pl.col("truth") >= 0).is_empty():
        stats.skipped[language] = (f"{train.height} training sentences; the detector needs "
                                   f"{MIN_TRAINING_SENTENCES}+ with stressed clips among them: run `speechcraft emphasize`")
        return None, None
    digest = hashlib.sha256(json.dumps([DETECTOR_INPUT, CLASSIFIER_PARAMS, DETECTOR_VERSION, language]).encode())
    for clip_id, truth, input_hash in train.select("clip_id", "truth", "input_hash").iter_rows():
        digest.update(f"\x1f{clip_id}\x1e{truth}\x1e{input_hash}\x1e{inputs.norms[clip_id]}".encode())
    version = digest.hexdigest()[:12]
    stats.detectors[language] = version
    stored = lake.lookup("classifiers", [f"emphasis/{version}"], ["blob"])
    if stored.num_rows:
        return EmphasisClassifier.from_bytes(stored["blob"][0].as_py()), version
    detector = EmphasisClassifier().fit(_sentences(train, inputs), train["speaker"].to_list())
    lake.upsert("classifiers", [{
        "classifier_id": f"emphasis/{version}", "attribute": "emphasis", "version": version,
        "feature_set": DETECTOR_INPUT, "classes": ["stressed", "plain"], "n_train": train.height,
        "train_speakers": train["speaker"].n_unique(), "train_corpora": sorted(set(train["corpus"])),
        "held_out_speakers": [], "params": json.dumps({**CLASSIFIER_PARAMS, "language": language,
                                                       "threshold": detector.threshold,
                                                       "held_out_share": HELD_OUT_SHARE}),
        "blob": detector.to_bytes(), "created_at": datetime.now(timezone.utc)}])
    return detector, version


def _packaged(language: str, stats: DetectorStats) -> tuple[PackagedDetector | None, str | None]:
    """The shipped detector, where the lakehouse has none of its own for `language`."""
    detector = packaged_detectors().get(language)
    if detector is None:
        return None, None
    stats.skipped[language] = (f"{stats.skipped[language]}; meanwhile the shipped detector "
                               f"({detector.version}) answers")
    stats.detectors[language] = detector.version
    return detector, detector.version


def train_and_detect(lake: Lakehouse, run_id: str) -> DetectorStats:
    """Train (or reuse) one detector per language on the training split, then write every clip's answer."""
    data = emphasis_data(lake)
    stats = DetectorStats()
    train = data.filter((pl.col("split") == "train") & pl.col("truth").is_not_null())
    rows, now = [], datetime.now(timezone.utc)
    stored = {r["clip_id"]: (r["config_hash"], r["input_hash"]) for r in lake.read(
        "emphasis", ["clip_id", "config_hash", "input_hash"]).to_pylist()}
    for language in sorted(set(data["language"])):
        frame = data.filter(pl.col("language") == language)
        inputs = DetectorInputs.of(frame)
        detector, version = _detector(lake, train.filter(pl.col("language") == language), inputs, language, stats)
        if detector is None:
            detector, version = _packaged(language, stats)
        if detector is None:
            continue
        todo = []
        for clip_id, words, input_hash in frame.select("clip_id", "words", "input_hash").iter_rows():
            config_hash = config_digest({"detector": version, "voice_norms": inputs.norms[clip_id]})
            if stored.get(clip_id) != (config_hash, input_hash):
                todo.append((clip_id, words, input_hash, config_hash))
        found_all = detect_sentences(detector, [inputs.features[clip_id] for clip_id, *_ in todo])
        for (clip_id, words, input_hash, config_hash), found in zip(todo, found_all):
            word = words[found.word_index] if found.word_index is not None else None
            top = words[found.top_index]["word"] if found.top_index is not None else None
            rows.append({"clip_id": clip_id, "word": word["word"] if word else None, "word_index": found.word_index,
                         "start_s": word["start_s"] if word else None, "end_s": word["end_s"] if word else None,
                         "score": found.score, "top_word": top, "threshold": detector.threshold, "detector": version,
                         "annotator": f"embedded:{DETECTOR_INPUT}", "annotator_version": DETECTOR_VERSION,
                         "config_hash": config_hash, "input_hash": input_hash, "run_id": run_id, "computed_at": now})
            stats.stressed_found += word is not None
    lake.upsert("emphasis", rows)
    stats.predicted = len(rows)
    return stats


# -- validation -------------------------------------------------------------------------------------------------
def _validation_rows(frame: pl.DataFrame, reference: str, predictor: str) -> list[dict]:
    """Sentence-level accuracy (a none sentence is right only when no word is flagged) per corpus, language
    and all; per_class holds the stressed and none sentences apart."""
    rows = []
    groups = [("all", frame)] + [(f"language:{lang}", g) for (lang,), g in frame.group_by("language")] + \
             [(c, g) for (c,), g in frame.group_by("base_corpus")]
    for name, group in groups:
        right = (group["predicted"] == group["truth"]).to_list()
        stressed = group["truth"] >= 0
        per_class = {}
        for label, mask in (("stressed", stressed), ("none", ~stressed)):
            part = group.filter(mask)
            per_class[label] = {"accuracy": float((part["predicted"] == part["truth"]).mean()) if part.height else None,
                                "support": part.height}
        confusion = {"right": sum(right),
                     "wrong_word": group.filter(stressed & (group["predicted"] >= 0) & (group["predicted"] != group["truth"])).height,
                     "missed": group.filter(stressed & (group["predicted"] < 0)).height,
                     "false_alarm": group.filter(~stressed & (group["predicted"] >= 0)).height}
        rows.append({"attribute": "emphasis", "corpus": name, "reference": reference, "predictor": predictor,
                     "n_clips": group.height, "n_speakers": group["speaker"].n_unique(),
                     "accuracy": sum(right) / group.height, "per_class": json.dumps(per_class),
                     "confusion": json.dumps(confusion)})
    return rows


def _with_predictions(lake: Lakehouse, frame: pl.DataFrame) -> pl.DataFrame:
    found = pl.from_arrow(lake.read("emphasis", ["clip_id", "word_index", "detector"]))
    return (frame.join(found, on="clip_id", how="inner")
            .with_columns(predicted=pl.col("word_index").fill_null(-1)))


def against_held_out(lake: Lakehouse) -> list[dict]:
    """The detector on held-out regenerated clips and their parents (speakers and sentences never trained on)."""
    data = emphasis_data(lake).filter((pl.col("split") == "test") & pl.col("truth").is_not_null())
    data = _with_predictions(lake, data)
    if data.is_empty():
        return []
    predictor = "emphasis:" + ",".join(sorted(set(data["detector"])))
    return _validation_rows(data, "regenerated:held_out", predictor)


def against_reference(lake: Lakehouse, path: Path) -> list[dict]:
    """The detector against a TSV of clip_id<TAB>stressed word (or `none`), e.g. espeak SSML with <emphasis>."""
    truth = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#") or line.startswith("clip_id\t"):
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected clip_id<TAB>word (or none), got {line!r}")
        truth[fields[0]] = fields[1].strip()
    data = emphasis_data(lake).filter(pl.col("clip_id").is_in(list(truth)))
    index = [next((i for i, w in enumerate(words) if w["word"] == truth[c]), -1) if truth[c].lower() != "none" else -1
             for c, words in data.select("clip_id", "words").iter_rows()]
    data = _with_predictions(lake, data.with_columns(pl.Series("truth", index, dtype=pl.Int64)))
    if data.is_empty():
        raise ValueError(f"no clip of {path} has an emphasis answer: run `speechcraft annotate --stage emphasis`")
    predictor = "emphasis:" + ",".join(sorted(set(data["detector"])))
    return _validation_rows(data, f"file:{Path(path).name}", predictor)
