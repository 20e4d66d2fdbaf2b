"""How fast the dashboard's reports answer on a lakehouse of SpeechCraft's size (2.25 million clips).

    python bench/dashboard.py [--clips 2250000] [--lake bench-data/dashboard-lake] [--rebuild] [--repeat 3]

1. A synthetic lakehouse of --clips clips in SpeechCraft's corpus mix (README table) with every stage a
   page reads: clips, acoustics, labels, bin_edges, speakers, emotions, transcripts (ASR for the folder
   corpus), emphasis, stressed_clips, descriptions (a description and an instruction per clip, 5% of them
   after a failed first attempt), validations, quality_runs and runs. Rows are made with numpy and Arrow
   compute (no Python loop per row) and written straight to Lance. A lake at --lake built with the same
   number of clips is reused, so a re-run only measures; --rebuild builds it again.
2. Every `warehouse.reports` function a page calls, through DuckDB as the dashboard runs it: cold (the
   first call on a fresh `sql.connect` holding the per-clip facts: the dashboard holds one connection per
   lake version and builds `reports.clip_facts` and `reports.text_facts` on it once) and warm (the second call on that connection),
   medians of --repeat. Separately: `sql.connect`, the two facts builds (once per lake version, paid by
   the first page view after a write) and `reports.lake_version`, which every page run calls to key its
   caches. A page shown again before the lake changes is served from Streamlit's cache without a query.
3. The baseline for the main charts: the naive way, reading the columns a chart needs from the Lance
   tables whole into pandas and aggregating there (merge, groupby), timed end to end, one run each. Its
   numbers are checked against ours.

Target (the dashboard issue): every chart under 1 s cold at 2.25 million clips.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from speechcraft.vocabulary import AGE_GROUPS, EMOTIONS, GENDERS, LABEL_NAMES, LANGUAGES, RATE_UNITS, measure_unit
from speechcraft.warehouse import reports
from speechcraft.warehouse.lake import resolve_lake_uri
from speechcraft.warehouse.schema import TABLES
from speechcraft.warehouse.sql import connect

SEED = 0
TARGET_S = 1.0
BUILD_RECORD = "bench-build.json"   # written last: a build stopped half-way is never reused
WRITE_CHUNK = 500_000               # rows per Lance write (a fragment each), as a lake written in batches has
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
AGE_SHARES = [0.02, 0.08, 0.5, 0.3, 0.1]                    # of AGE_GROUPS
EMOTION_SHARES = [0.06, 0.03, 0.03, 0.15, 0.55, 0.12, 0.06]  # of EMOTIONS
FAILED_ATTEMPT_SHARE = 0.05         # texts whose first attempt the checker failed (an omission)
EMPHASIS_SHARE = 0.15               # clips the emphasis detector finds a stressed word in
EDGES_VERSION = "bench-2"           # the bin edges in force; "bench-1" is an older pin of every group
CLASSIFIER = "classifier:8f3a21c0"


@dataclass(frozen=True)
class Corpus:
    name: str
    clips: int            # in SpeechCraft's README table: the shares of the mix
    language: str
    speakers: int
    gender_known: bool    # the corpus ships speaker gender (meta_gender)
    age_known: bool       # ... and age group (meta_age_group)
    sample_rate: int
    audio_format: str
    mean_s: float         # mean clip duration
    transcribed: bool = True   # False: no corpus transcript, the ASR stage writes one


CORPORA = [
    Corpus("zhvoice", 1_020_427, "zh", 3_242, False, False, 16_000, "MP3", 4.0),
    Corpus("aishell3", 63_011, "zh", 218, True, True, 16_000, "WAV", 3.3),
    Corpus("gigaspeech", 670_070, "en", 20_000, False, False, 16_000, "OGG", 5.4),
    Corpus("libritts-r", 352_265, "en", 2_456, True, False, 24_000, "WAV", 5.8),
    Corpus("aishell3-stressed", 63_258, "zh", 218, True, True, 16_000, "WAV", 3.3),
    Corpus("libritts-r-stressed", 75_654, "en", 2_456, True, False, 24_000, "WAV", 5.8),
    Corpus("folder", 5_315, "en", 20, False, False, 16_000, "FLAC", 6.0, transcribed=False),
]
EXTENSIONS = {"WAV": ".wav", "MP3": ".mp3", "OGG": ".opus", "FLAC": ".flac"}

TRANSCRIPTS = {
    "zh": ["今天天气很好", "我们明天一起去公园散步吧", "这个问题需要再讨论一下", "请把门关上",
           "他昨天晚上很晚才回家", "会议推迟到下午三点", "这家餐厅的菜非常好吃", "你能帮我一个忙吗",
           "火车马上就要开了", "那个男人今天没有来上班", "孩子们在操场上踢足球", "我已经把报告发给你了"],
    "en": ["The weather is lovely today.", "We should take a walk in the park tomorrow.",
           "That question needs a little more thought.", "Please close the door behind you.",
           "He came home very late last night.", "The meeting has been moved to three o'clock.",
           "This restaurant serves the best noodles in town.", "Could you do me a small favour?",
           "The train is about to leave the station.", "That was the best story I have heard all year.",
           "The children are playing football outside.", "I have already sent you the report."],
}
KEYWORDS = {"zh": ["天气", "公园", "问题", "门", "晚上", "会议", "餐厅", "帮忙", "火车", "男人", "足球", "报告"],
            "en": ["weather", "park", "question", "door", "late", "meeting", "noodles", "favour", "train",
                   "story", "football", "report"]}

# The embedded generator's phrase bank, per language: a text is one phrase per attribute, three ways of
# saying each value (two for emotions), picked at random.
SUBJECT = {"zh": {"female": ["一位女性说话人", "这位女士", "一名女性"], "male": ["一位男性说话人", "这位男士", "一名男性"]},
           "en": {"female": ["A female speaker", "A woman", "The female voice"],
                  "male": ["A male speaker", "A man", "The male voice"]}}
PHRASES = {
    "zh": {"pitch": {"low": ["音调低沉", "声音低沉", "嗓音偏低"], "normal": ["音调适中", "音高平稳", "声音不高不低"],
                     "high": ["音调较高", "声音尖细", "嗓音高亢"]},
           "energy": {"low": ["音量很小", "轻声细语", "声音微弱"], "normal": ["音量适中", "音量正常", "音量平稳"],
                      "high": ["音量很大", "声音洪亮", "大声地"]},
           "speed": {"slow": ["语速缓慢", "说得很慢", "慢条斯理地"], "normal": ["语速正常", "语速适中", "不紧不慢地"],
                     "fast": ["语速很快", "说得飞快", "语速急促"]},
           "emotion": {"angry": ["语气愤怒", "带着怒气"], "disgusted": ["语气厌恶", "充满嫌弃"],
                       "fearful": ["语气害怕", "带着恐惧"], "happy": ["语气开心", "充满喜悦"],
                       "neutral": ["语气平静", "情绪平和"], "sad": ["语气悲伤", "显得难过"],
                       "surprised": ["语气惊讶", "充满惊奇"]}},
    "en": {"pitch": {"low": ["with a low-pitched voice", "with a deep voice", "in a low register"],
                     "normal": ["with a moderate pitch", "with an even pitch", "at a normal pitch"],
                     "high": ["with a high-pitched voice", "with a bright, high voice", "in a high register"]},
           "energy": {"low": ["speaks softly", "talks quietly", "speaks in a hushed voice"],
                      "normal": ["speaks at a normal volume", "talks at a moderate volume", "keeps an even volume"],
                      "high": ["speaks loudly", "talks at a high volume", "projects strongly"]},
           "speed": {"slow": ["at a slow pace", "slowly", "at an unhurried pace"],
                     "normal": ["at a normal pace", "at a steady pace", "at an ordinary speed"],
                     "fast": ["at a fast pace", "quickly", "rapidly"]},
           "emotion": {"angry": ["sounding angry", "with anger"], "disgusted": ["sounding disgusted", "with disgust"],
                       "fearful": ["sounding afraid", "with fear in the voice"],
                       "happy": ["sounding happy", "cheerfully"], "neutral": ["in a neutral tone", "calmly"],
                       "sad": ["sounding sad", "with sadness"], "surprised": ["sounding surprised", "with surprise"]}},
}
INSTRUCTION_OPENERS = {"zh": ["请用这样的方式说", "请模仿这种声音", "请这样朗读"],
                       "en": ["Say", "Read aloud", "Please say"]}
SEPARATOR = {"zh": "，", "en": " "}
FULL_STOP = {"zh": "。", "en": "."}
COLON = {"zh": "：", "en": ": "}


# -- building the lakehouse ------------------------------------------------------------------------------

def strings(choices: Sequence[str], index: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """choices[index] as an Arrow string array (null where not valid), made in Arrow without a Python
    string per row."""
    indices = pa.array(index.astype(np.int32), mask=None if valid is None else ~valid)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(choices), pa.string())).cast(pa.string())


def join(*parts, sep: str = "") -> pa.Array:
    """Row-wise concatenation; a null part is left out (a text without that attribute)."""
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def numbered(values: np.ndarray, width: int = 8) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")


def table(schema: pa.Schema, n: int, **columns) -> pa.Table:
    """A table with every column of the schema at its type: numpy arrays and Arrow arrays are cast,
    plain values repeated, and the columns not given are null."""
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise ValueError(f"not columns of the schema: {sorted(unknown)}")
    arrays = []
    for field in schema:
        value = columns.get(field.name)
        if value is None:
            arrays.append(pa.nulls(n, field.type))
        elif isinstance(value, np.ndarray):
            arrays.append(pa.array(value, type=field.type, from_pandas=True))   # NaN -> null
        elif isinstance(value, (pa.Array, pa.ChunkedArray)):
            arrays.append(value.cast(field.type))
        else:
            arrays.append(pa.repeat(pa.scalar(value, field.type), n))
    return pa.Table.from_arrays(arrays, schema=schema)


def stage(annotator: str, run_id: str, version: str = "1") -> dict:
    return {"annotator": annotator, "annotator_version": version, "config_hash": "c0ffee12", "run_id": run_id,
            "computed_at": NOW}


class Population:
    """The per-clip facts every table is drawn from (corpus, language, speaker, gender, labels...), as
    numpy arrays aligned by clip, so the tables agree with each other."""

    def __init__(self, n_clips: int, rng: np.random.Generator):
        weights = np.array([c.clips for c in CORPORA], dtype=float)
        counts = np.floor(n_clips * weights / weights.sum()).astype(np.int64)
        counts[np.argmax(counts)] += n_clips - counts.sum()
        self.n = n_clips
        self.rng = rng
        self.corpus = np.repeat(np.arange(len(CORPORA)), counts)
        self.native = np.concatenate([np.arange(k) for k in counts])
        self.language = np.array([LANGUAGES.index(c.language) for c in CORPORA])[self.corpus]
        self.corpus_names = strings([c.name for c in CORPORA], self.corpus)
        self.clip_id = join(self.corpus_names, numbered(self.native), sep="/")
        self.counts = dict(zip([c.name for c in CORPORA], counts.tolist()))

        def corpus_flag(attribute: str) -> np.ndarray:
            return np.array([getattr(c, attribute) for c in CORPORA])[self.corpus]

        # Speakers keep their gender and age group across their clips.
        max_speakers = max(c.speakers for c in CORPORA)
        self.speaker = (rng.random(n_clips) * np.array([c.speakers for c in CORPORA])[self.corpus]).astype(np.int64)
        speaker_gender = (rng.random((len(CORPORA), max_speakers)) < 0.45).astype(np.int64)   # 1: male
        speaker_age = rng.choice(len(AGE_GROUPS), size=(len(CORPORA), max_speakers), p=AGE_SHARES)
        self.gender = speaker_gender[self.corpus, self.speaker]
        self.age = speaker_age[self.corpus, self.speaker]
        self.gender_known = corpus_flag("gender_known")
        self.age_known = corpus_flag("age_known")
        self.transcribed = corpus_flag("transcribed")
        self.duration = rng.gamma(4.0, corpus_flag("mean_s") / 4.0)
        self.sentence = rng.integers(0, len(TRANSCRIPTS["zh"]), n_clips)
        self.transcript = self.per_language(TRANSCRIPTS, self.sentence)
        self.emotion = rng.choice(len(EMOTIONS), n_clips, p=EMOTION_SHARES)
        self.emotion_known = rng.random(n_clips) > 0.01   # too short or silent: no emotion

        # Acoustic measures, realistic per gender and language.
        male = self.gender == 1
        zh = self.language == 0
        self.f0 = np.where(male, rng.normal(125, 20, n_clips), rng.normal(215, 30, n_clips))
        self.f0[rng.random(n_clips) < 0.003] = np.nan   # no voiced frame
        self.energy = rng.normal(np.where(zh, -26.0, -22.0), 5.0)
        self.rate = np.clip(rng.normal(np.where(zh, 4.8, 4.0), np.where(zh, 0.9, 0.7)), 0.8, None)
        self.edges = self.percentile_edges()
        self.levels = {attribute: self.cut(attribute) for attribute in LABEL_NAMES}

    def per_language(self, bank: dict[str, list[str]], index: np.ndarray) -> pa.Array:
        """bank[language of the clip][index]: one dictionary holding both languages' entries."""
        offset = np.array([0, len(bank["zh"])])[self.language]
        return strings(bank["zh"] + bank["en"], offset + index)

    def groups(self, attribute: str):
        """(language, gender or None, mask of its clips) for each group labels are binned in."""
        for language in range(len(LANGUAGES)):
            in_language = self.language == language
            if attribute == "pitch":
                for gender in range(len(GENDERS)):
                    yield language, gender, in_language & (self.gender == gender)
            else:
                yield language, None, in_language

    def measure(self, attribute: str) -> np.ndarray:
        return {"pitch": self.f0, "energy": self.energy, "speed": self.rate}[attribute]

    def percentile_edges(self) -> list[dict]:
        """The edges in force, at SpeechCraft's percentiles (pitch: within gender)."""
        percentiles = {"pitch": {0: (10.0, 60.0), 1: (40.0, 90.0)}, "energy": {None: (100 / 3, 200 / 3)},
                       "speed": {None: (100 / 3, 200 / 3)}}
        edges = []
        for attribute in LABEL_NAMES:
            for language, gender, mask in self.groups(attribute):
                cut_at = percentiles[attribute][gender]
                low, high = np.nanpercentile(self.measure(attribute)[mask], cut_at)
                edges.append({"language": language, "gender": gender, "attribute": attribute, "low_edge": low,
                              "high_edge": high, "percentiles": list(cut_at), "population": int(mask.sum())})
        return edges

    def cut(self, attribute: str) -> np.ndarray:
        """Level index per clip (0 low/slow, 1 normal, 2 high/fast); -1 where unmeasured."""
        values = self.measure(attribute)
        level = np.full(self.n, -1)
        for edge in (e for e in self.edges if e["attribute"] == attribute):
            _, _, mask = next(g for g in self.groups(attribute) if g[:2] == (edge["language"], edge["gender"]))
            x = values[mask]
            level[mask] = np.where(np.isnan(x), -1, (x >= edge["low_edge"]).astype(int) + (x >= edge["high_edge"]))
        return level


def clips_table(pop: Population) -> pa.Table:
    rng, n = pop.rng, pop.n
    formats = strings([c.audio_format for c in CORPORA], pop.corpus)
    extension = strings([EXTENSIONS[c.audio_format] for c in CORPORA], pop.corpus)
    spans = pop.corpus == [c.name for c in CORPORA].index("gigaspeech")   # GigaSpeech clips are spans of files
    start = np.where(spans, rng.uniform(0, 1800, n), np.nan)
    return table(
        TABLES["clips"][0], n, clip_id=pop.clip_id, corpus=pop.corpus_names,
        split=strings(["train", "test"], (rng.random(n) < 0.05).astype(int)),
        native_id=numbered(pop.native), language=strings(LANGUAGES, pop.language),
        speaker_id=join("spk", numbered(pop.speaker, width=5)),
        audio_path=join("/data/corpora/", pop.clip_id, extension), audio_format=formats,
        start_s=start, end_s=start + pop.duration,
        sample_rate=np.array([c.sample_rate for c in CORPORA])[pop.corpus], channels=1,
        duration_s=pop.duration, peak_dbfs=rng.normal(-3.0, 2.0, n),
        transcript=pc.if_else(pa.array(pop.transcribed), pop.transcript, pa.nulls(n, pa.string())),
        meta_gender=strings(GENDERS, pop.gender, pop.gender_known),
        meta_age_group=strings(AGE_GROUPS, pop.age, pop.age_known))


def acoustics_table(pop: Population) -> pa.Table:
    rng, n = pop.rng, pop.n
    speech_s = pop.duration * rng.uniform(0.7, 0.95, n)
    return table(
        TABLES["acoustics"][0], n, clip_id=pop.clip_id, f0_mean_hz=pop.f0,
        f0_std_hz=np.where(np.isnan(pop.f0), np.nan, np.abs(rng.normal(25, 8, n))),
        voiced_ratio=rng.beta(8, 3, n), energy_db=pop.energy, speech_s=speech_s,
        speech_start_s=(pop.duration - speech_s) / 2, speech_end_s=(pop.duration + speech_s) / 2,
        speech_units=np.round(pop.rate * speech_s).astype(np.int64),
        rate_unit=strings([RATE_UNITS[lang] for lang in LANGUAGES], pop.language), speech_rate=pop.rate,
        **stage("praat+silero", "run-annotate"))


def labels_table(pop: Population) -> pa.Table:
    level = {attribute: strings(names, np.maximum(pop.levels[attribute], 0), pop.levels[attribute] >= 0)
             for attribute, names in LABEL_NAMES.items()}
    return table(
        TABLES["labels"][0], pop.n, clip_id=pop.clip_id, gender=strings(GENDERS, pop.gender),
        gender_source=strings([CLASSIFIER, "corpus"], pop.gender_known.astype(int)),
        pitch_label=level["pitch"], energy_label=level["energy"], speed_label=level["speed"],
        pitch_edges=EDGES_VERSION, energy_edges=EDGES_VERSION, speed_edges=EDGES_VERSION, labelled_at=NOW)


def speakers_table(pop: Population) -> pa.Table:
    rng, n = pop.rng, pop.n
    return table(
        TABLES["speakers"][0], n, clip_id=pop.clip_id, gender=strings(GENDERS, pop.gender),
        gender_prob=np.where(pop.gender_known, 1.0, rng.uniform(0.6, 1.0, n)),
        gender_source=strings([CLASSIFIER, "corpus"], pop.gender_known.astype(int)),
        age_group=strings(AGE_GROUPS, pop.age), age_prob=np.where(pop.age_known, 1.0, rng.uniform(0.4, 1.0, n)),
        age_source=strings([CLASSIFIER, "corpus"], pop.age_known.astype(int)),
        predicted_gender=strings(GENDERS, pop.gender), predicted_age_group=strings(AGE_GROUPS, pop.age),
        backend="embedded", model="gender/8f3a21c0,age_group/41b7d9e2", **stage("embedded", "run-annotate"))


def emotions_table(pop: Population) -> pa.Table:
    rng, n = pop.rng, pop.n
    return table(
        TABLES["emotions"][0], n, clip_id=pop.clip_id, emotion=strings(EMOTIONS, pop.emotion, pop.emotion_known),
        emotion_prob=np.where(pop.emotion_known, rng.uniform(0.35, 1.0, n), np.nan),
        emotion_source="emotion2vec/emotion2vec_plus_large",
        reason=strings(["too_short"], np.zeros(n, dtype=int), ~pop.emotion_known),
        backend="model", model="emotion2vec/emotion2vec_plus_large", **stage("model", "run-annotate"))


def transcripts_table(pop: Population) -> pa.Table:
    """ASR text for the clips whose corpus has none (the folder corpus)."""
    rows = np.flatnonzero(~pop.transcribed)
    return table(
        TABLES["transcripts"][0], len(rows), clip_id=pop.clip_id.take(rows), text=pop.transcript.take(rows),
        language=strings(LANGUAGES, pop.language[rows]), backend="model", model="openai/whisper-large-v3",
        **stage("whisper", "run-annotate"))


def emphasis_table(pop: Population) -> pa.Table:
    """The detector's answer for every clip with a transcript: a stressed word for a share of them."""
    rng, n = pop.rng, pop.n
    score = rng.beta(2, 5, n)
    threshold = float(np.quantile(score, 1 - EMPHASIS_SHARE))
    word = pop.per_language(KEYWORDS, pop.sentence)
    return table(
        TABLES["emphasis"][0], n, clip_id=pop.clip_id,
        word=pc.if_else(pa.array(score >= threshold), word, pa.nulls(n, pa.string())),
        word_index=rng.integers(0, 6, n), score=score, top_word=word, threshold=threshold,
        detector="1", **stage("embedded:prosody-1", "run-annotate"))


def stressed_clips_table(pop: Population) -> pa.Table:
    """The regenerated clips (the "-stressed" corpora) and the parent each was made from."""
    names = [c.name for c in CORPORA]
    parts = []
    for corpus in CORPORA:
        if not corpus.name.endswith("-stressed"):
            continue
        rows = np.flatnonzero(pop.corpus == names.index(corpus.name))
        parents = pop.native[rows] % pop.counts[corpus.name.removesuffix("-stressed")]
        parts.append(table(
            TABLES["stressed_clips"][0], len(rows), clip_id=pop.clip_id.take(rows),
            parent_clip_id=join(corpus.name.removesuffix("-stressed"), numbered(parents), sep="/"),
            keyword=pop.per_language(KEYWORDS, pop.sentence).take(rows),
            keyword_index=pop.rng.integers(0, 6, len(rows)),
            timing="embedded", synthesizer="world", **stage("world", "run-emphasize")))
    return pa.concat_tables(parts)


def description_texts(pop: Population, with_emotion: bool) -> dict[str, pa.Array]:
    """A description and an instruction per clip from the phrase bank (the emotion left out of the texts
    of failed attempts: the checker's omission)."""
    rng = pop.rng

    def phrase(attribute: str, level: np.ndarray, names: list[str]) -> pa.Array:
        # flattened bank: [language][value][variant] -> one dictionary, indexed per clip
        bank = [PHRASES[lang][attribute][name] for lang in LANGUAGES for name in names]
        variants = len(bank[0])
        flat = [p for variants_of_value in bank for p in variants_of_value]
        index = (pop.language * len(names) + np.maximum(level, 0)) * variants + rng.integers(0, variants, pop.n)
        return strings(flat, index, level >= 0)

    subject = pop.per_language({lang: SUBJECT[lang]["female"] + SUBJECT[lang]["male"] for lang in LANGUAGES},
                               pop.gender * 3 + rng.integers(0, 3, pop.n))
    pitch = phrase("pitch", pop.levels["pitch"], LABEL_NAMES["pitch"])
    energy = phrase("energy", pop.levels["energy"], LABEL_NAMES["energy"])
    speed = phrase("speed", pop.levels["speed"], LABEL_NAMES["speed"])
    emotion = phrase("emotion", np.where(pop.emotion_known & with_emotion, pop.emotion, -1), EMOTIONS)
    separator = strings([SEPARATOR[lang] for lang in LANGUAGES], pop.language)
    full_stop = strings([FULL_STOP[lang] for lang in LANGUAGES], pop.language)
    description = join(join(subject, pitch, energy, speed, emotion, separator), full_stop)
    opener = pop.per_language(INSTRUCTION_OPENERS, rng.integers(0, 3, pop.n))
    colon = strings([COLON[lang] for lang in LANGUAGES], pop.language)
    quoted = join("\u201c", pop.transcript, "\u201d")
    instruction = join(join(opener, speed, emotion, separator), colon, quoted)
    return {"description": description, "instruction": instruction}


def descriptions_table(pop: Population) -> pa.Table:
    published = description_texts(pop, with_emotion=True)
    omitted = description_texts(pop, with_emotion=False)
    schema, parts = TABLES["descriptions"][0], []
    for kind in ("description", "instruction"):
        failed_first = pop.rng.random(pop.n) < FAILED_ATTEMPT_SHARE
        attempt = 1 + failed_first.astype(np.int64)
        common = {"kind": kind, "language": strings(LANGUAGES, pop.language), "generator": "embedded",
                  "model": "embedded:templates-1", **stage("embedded", "run-describe")}
        parts.append(table(
            schema, pop.n, text_id=join(pop.clip_id, kind, pc.cast(pa.array(attempt), pa.string()), sep="/"),
            clip_id=pop.clip_id, text=published[kind], attempt=attempt, attempts=attempt, omissions=0, distortions=0,
            passed=True, published=True, **common))
        rows = np.flatnonzero(failed_first)
        common["language"] = common["language"].take(rows)
        parts.append(table(
            schema, len(rows), text_id=join(pop.clip_id.take(rows), kind, "1", sep="/"),
            clip_id=pop.clip_id.take(rows), text=omitted[kind].take(rows), attempt=1, attempts=1, omissions=1,
            distortions=0, omitted=pa.repeat(pa.scalar(["emotion"], pa.list_(pa.string())), len(rows)),
            passed=False, published=False, reason="omitted: emotion", **common))
    return pa.concat_tables(parts)


def bin_edges_table(pop: Population) -> pa.Table:
    """The edges in force, and an older version pinned before them (so "latest pin" has work to do)."""
    rows = []
    for version, pinned, scale in (("bench-1", NOW - timedelta(days=30), 0.97), (EDGES_VERSION, NOW, 1.0)):
        for edge in pop.edges:
            language = LANGUAGES[edge["language"]]
            gender = None if edge["gender"] is None else GENDERS[edge["gender"]]
            rows.append({**edge, "edge_id": f"{version}/{language}/{edge['attribute']}/{gender or 'all'}",
                         "version": version, "mode": "percentile", "language": language, "gender": gender,
                         "low_edge": edge["low_edge"] * scale, "high_edge": edge["high_edge"] * scale,
                         "population_corpora": [c.name for c in CORPORA if c.language == language],
                         "unit": measure_unit(edge["attribute"], language), "source": "acoustics praat+silero:1",
                         "created_at": pinned, "pinned_at": pinned})
    return pa.Table.from_pylist(rows, schema=TABLES["bin_edges"][0])


def validations_table(pop: Population) -> pa.Table:
    rows = []
    for run, when in (("run-validate-1", NOW - timedelta(days=7)), ("run-validate-2", NOW)):
        for attribute, corpora in (("gender", ["aishell3", "libritts-r", "all"]), ("age_group", ["aishell3", "all"])):
            for corpus in corpora:
                accuracy = float(pop.rng.uniform(0.6, 0.98))
                rows.append({"validation_id": f"{run}/{attribute}/metadata:held_out_speakers/{corpus}", "run_id": run,
                             "attribute": attribute, "corpus": corpus, "reference": "metadata:held_out_speakers",
                             "predictor": f"embedded {CLASSIFIER}", "n_clips": 4000, "n_speakers": 40,
                             "accuracy": accuracy, "per_class": "{}", "confusion": "{}", "validated_at": when})
    return pa.Table.from_pylist(rows, schema=TABLES["validations"][0])


def quality_runs_table(pop: Population) -> pa.Table:
    """Five `speechcraft check` runs of 60 expectations each; a few fail in the older runs."""
    checks = [(suite, column) for suite in ("clips", "acoustics", "labels", "speakers", "emotions", "descriptions")
              for column in TABLES[suite][0].names[:10]]
    rows = []
    for run_number in range(5):
        run_id, checked_at = f"run-check-{run_number + 1}", NOW - timedelta(days=4 - run_number)
        for position, (suite, column) in enumerate(checks):
            success = not (position % 17 == 0 and run_number < 3)
            expectation = f"expect_column_values_to_not_be_null({column})"
            rows.append({"result_id": f"{run_id}/{suite}/{expectation}", "run_id": run_id, "suite": suite,
                         "expectation": expectation, "expectation_type": "expect_column_values_to_not_be_null",
                         "kwargs": json.dumps({"column": column}),
                         "severity": "critical" if position % 3 == 0 else "warning", "why": "every row is measured",
                         "success": success, "element_count": pop.n, "unexpected_count": 0 if success else 12,
                         "unexpected_percent": 0.0 if success else 12 / pop.n, "observed": "{}",
                         "docs_path": "/data/docs/index.html", "checked_at": checked_at})
    return pa.Table.from_pylist(rows, schema=TABLES["quality_runs"][0])


def runs_table(pop: Population) -> pa.Table:
    rows = []
    flows = [("ingest", c.name, pop.counts[c.name]) for c in CORPORA] + [
        ("annotate", None, 0), ("describe", None, 0)] + [("check", None, 0)] * 5
    for number, (flow, corpus, new) in enumerate(flows):
        started = NOW - timedelta(hours=len(flows) - number)
        rows.append({"run_id": f"run-{number:03d}", "flow": flow, "corpus": corpus, "params": "{}",
                     "status": "completed", "started_at": started, "finished_at": started + timedelta(minutes=20),
                     "wall_s": 1200.0, "n_scanned": new, "n_new": new, "n_updated": 0, "n_unchanged": 0,
                     "n_rejected": 0, "host": "bench", "pid": 1})
    return pa.Table.from_pylist(rows, schema=TABLES["runs"][0])


BUILDERS: dict[str, Callable[[Population], pa.Table]] = {
    "clips": clips_table, "acoustics": acoustics_table, "labels": labels_table, "speakers": speakers_table,
    "emotions": emotions_table, "transcripts": transcripts_table, "emphasis": emphasis_table,
    "stressed_clips": stressed_clips_table, "descriptions": descriptions_table, "bin_edges": bin_edges_table,
    "validations": validations_table, "quality_runs": quality_runs_table, "runs": runs_table,
}


def build_lake(lake: Path, n_clips: int) -> dict:
    import lancedb

    # never delete a folder this benchmark did not make (say, a real lakehouse given as --lake)
    if lake.exists() and any(lake.iterdir()) and not (lake / BUILD_RECORD).exists():
        raise SystemExit(f"{lake} is not empty and was not built by this benchmark; choose another --lake")
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir(parents=True)
    db = lancedb.connect(str(lake))
    started = time.perf_counter()
    pop = Population(n_clips, np.random.default_rng(SEED))
    print(f"building {lake} ({n_clips:,} clips): population drawn in {time.perf_counter() - started:.1f} s",
          flush=True)
    rows = {}
    for name, builder in BUILDERS.items():
        t = time.perf_counter()
        data = builder(pop)
        made_s = time.perf_counter() - t
        t = time.perf_counter()
        written = db.create_table(name, data=data.slice(0, WRITE_CHUNK))   # the lake was emptied above
        for start in range(WRITE_CHUNK, data.num_rows, WRITE_CHUNK):
            written.add(data.slice(start, WRITE_CHUNK))
        rows[name] = data.num_rows
        print(f"  {name:<16}{data.num_rows:>12,} rows   made {made_s:5.1f} s   "
              f"written {time.perf_counter() - t:5.1f} s", flush=True)
    record = {"clips": n_clips, "build_s": time.perf_counter() - started, "rows": rows}
    (lake / BUILD_RECORD).write_text(json.dumps(record, indent=1))
    return record


def existing_build(lake: Path, n_clips: int) -> dict | None:
    try:
        record = json.loads((lake / BUILD_RECORD).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return record if record.get("clips") == n_clips else None


# -- the baseline: columns into pandas, aggregated there ---------------------------------------------------

def read(lake: str, name: str, columns: list[str]) -> pd.DataFrame:
    import lance

    return lance.dataset(f"{lake}/{name}.lance").to_table(columns=columns).to_pandas()


def base_totals(lake: str) -> dict:
    clips = read(lake, "clips", ["corpus", "speaker_id", "duration_s"])
    return {"clips": len(clips), "hours": float(clips.duration_s.sum()) / 3600,
            "speakers": len(clips[["corpus", "speaker_id"]].drop_duplicates()), "corpora": clips.corpus.nunique()}


def base_corpora(lake: str) -> pd.DataFrame:
    clips = read(lake, "clips", ["corpus", "language", "speaker_id", "duration_s"])
    summary = clips.groupby(["corpus", "language"], as_index=False).agg(
        clips=("speaker_id", "size"), speakers=("speaker_id", "nunique"), hours=("duration_s", "sum"))
    summary["hours"] = (summary.hours / 3600).round(3)
    return summary


def base_stage_coverage(lake: str) -> pd.DataFrame:
    n_clips = len(read(lake, "clips", ["clip_id"]))
    parts = []
    for stage_name, (name, annotator, version) in reports.STAGE_TABLES.items():
        name = "descriptions" if name.startswith("(") else name
        if not Path(lake, f"{name}.lance").exists():
            continue
        columns = {"clip_id"} | {c for c in (annotator, version) if not c.startswith("'")} | (
            {"published"} if name == "descriptions" else set())
        rows = read(lake, name, sorted(columns))
        if name == "descriptions":
            rows = rows[rows.published]
        rows["annotator"] = annotator.strip("'") if annotator.startswith("'") else rows[annotator]
        rows["version"] = version.strip("'") if version.startswith("'") else rows[version]
        counts = rows.groupby(["annotator", "version"], as_index=False, dropna=False).clip_id.nunique()
        parts.append(counts.rename(columns={"clip_id": "clips"}).assign(stage=stage_name))
    coverage = pd.concat(parts, ignore_index=True)
    coverage["share"] = coverage.clips / max(n_clips, 1)
    return coverage


def annotated_labels(lake: str) -> pd.DataFrame:
    """clip_annotations' label columns, by merging the stage tables in pandas."""
    clips = read(lake, "clips", ["clip_id", "corpus", "language", "meta_gender", "meta_age_group"])
    speakers = read(lake, "speakers", ["clip_id", "gender", "age_group"])
    labels = read(lake, "labels", ["clip_id", "gender", "pitch_label", "energy_label", "speed_label"])
    emotions = read(lake, "emotions", ["clip_id", "emotion"])
    merged = (clips.merge(speakers, on="clip_id", how="left")
              .merge(labels.rename(columns={"gender": "label_gender"}), on="clip_id", how="left")
              .merge(emotions, on="clip_id", how="left"))
    merged["gender"] = merged.gender.fillna(merged.label_gender).fillna(merged.meta_gender)
    merged["age_group"] = merged.age_group.fillna(merged.meta_age_group)
    return merged


def base_label_counts(lake: str) -> pd.DataFrame:
    merged = annotated_labels(lake).rename(columns={column: name for name, column in reports.LABEL_COLUMNS.items()})
    long = merged.melt(id_vars=["corpus", "language"], value_vars=list(reports.LABEL_COLUMNS),
                       var_name="attribute", value_name="label").dropna(subset=["label"])
    return long.groupby(["corpus", "language", "attribute", "label"], as_index=False).size().rename(
        columns={"size": "clips"})


def base_histogram_pitch(lake: str, bins: int = 40) -> pd.DataFrame:
    acoustics = read(lake, "acoustics", ["clip_id", "f0_mean_hz"])
    clips = read(lake, "clips", ["clip_id", "language", "meta_gender"])
    speakers = read(lake, "speakers", ["clip_id", "gender"])
    values = acoustics.merge(clips, on="clip_id").merge(speakers, on="clip_id", how="left")
    values = values[np.isfinite(values.f0_mean_hz)]
    values["gender"] = values.gender.fillna(values.meta_gender).fillna("unknown")
    bounds = values.groupby(["language", "gender"]).f0_mean_hz.quantile([0.005, 0.995]).unstack()
    bounds.columns = ["lo", "hi"]
    values = values.join(bounds, on=["language", "gender"])
    width = (values.hi - values.lo) / bins
    values["bin"] = np.clip(np.floor((values.f0_mean_hz - values.lo) / width), 0, bins - 1)
    return values.groupby(["language", "gender", "bin"], as_index=False).size().rename(columns={"size": "clips"})


def base_description_lengths(lake: str) -> pd.DataFrame:
    texts = read(lake, "descriptions", ["language", "kind", "text", "published"])
    texts = texts[texts.published & texts.text.notna()].copy()
    zh = texts.language == "zh"
    texts["length"] = pd.concat([texts.text[zh].str.len(), texts.text[~zh].str.count(" ") + 1])
    texts["unit"] = np.where(zh, "characters", "words")
    return texts.groupby(["language", "kind", "length", "unit"], as_index=False).size().rename(
        columns={"size": "texts"})


def base_checker_rates(lake: str) -> pd.DataFrame:
    texts = read(lake, "descriptions", ["generator", "language", "kind", "text", "omissions", "distortions", "passed"])
    texts = texts[texts.text.notna()]
    return texts.assign(omission=texts.omissions > 0, distortion=texts.distortions > 0).groupby(
        ["generator", "language", "kind"], as_index=False).agg(
        texts=("passed", "size"), omission_rate=("omission", "mean"), distortion_rate=("distortion", "mean"),
        pass_rate=("passed", "mean"))


# -- checks: the baseline's numbers against ours ---------------------------------------------------------

def same_frame(ours: pd.DataFrame, base: pd.DataFrame, keys: list[str], values: list[str]) -> None:
    """Equal rows, counts exactly and fractions to 1e-3 (hours are rounded to 3 decimals in SQL)."""
    def norm(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[keys + values].copy()
        for key in keys:
            frame[key] = frame[key].astype(str)
        return frame.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(norm(ours), norm(base), check_dtype=False, rtol=0, atol=1.5e-3)


def check_totals(ours: dict, base: dict) -> None:
    assert {k: v for k, v in ours.items() if k != "hours"} == {k: v for k, v in base.items() if k != "hours"}, \
        (ours, base)
    assert abs(ours["hours"] - base["hours"]) < 1e-6 * max(base["hours"], 1), (ours, base)


def check_histogram(ours: pd.DataFrame, base: pd.DataFrame) -> None:
    # Bin borders may differ in the last float digit; the clips per (language, gender) may not.
    same_frame(ours.groupby(["language", "gender"], as_index=False).clips.sum(),
               base.groupby(["language", "gender"], as_index=False).clips.sum(), ["language", "gender"], ["clips"])


@dataclass
class Report:
    name: str
    call: Callable                          # (connection) -> the report's answer
    baseline: Callable | None = None        # (lake) -> the same numbers through pandas
    check: Callable | None = None           # (ours, baseline) -> raises when they differ


def dashboard_reports(clip_id: str) -> list[Report]:
    label_keys = ["corpus", "language", "attribute", "label"]
    return [
        Report("totals", reports.totals, base_totals, check_totals),
        Report("corpora", reports.corpora, base_corpora,
               lambda o, b: same_frame(o, b, ["corpus", "language"], ["clips", "speakers", "hours"])),
        Report("stage_coverage", reports.stage_coverage, base_stage_coverage,
               lambda o, b: same_frame(o, b, ["stage", "annotator", "version"], ["clips", "share"])),
        Report("recent_runs", reports.recent_runs),
        Report("label_counts", reports.label_counts, base_label_counts,
               lambda o, b: same_frame(o, b, label_keys, ["clips"])),
        Report("histogram(pitch)", lambda con: reports.histogram(con, "pitch"), base_histogram_pitch, check_histogram),
        Report("histogram(energy)", lambda con: reports.histogram(con, "energy")),
        Report("histogram(speed)", lambda con: reports.histogram(con, "speed")),
        Report("edges_in_force(pitch)", lambda con: reports.edges_in_force(con, "pitch")),
        Report("description_lengths", reports.description_lengths, base_description_lengths,
               lambda o, b: same_frame(o, b, ["language", "kind", "length", "unit"], ["texts"])),
        Report("description_sample(en)", lambda con: reports.description_sample(con, "en")),
        Report("validations", reports.validations),
        Report("checker_rates", reports.checker_rates, base_checker_rates,
               lambda o, b: same_frame(o, b, ["generator", "language", "kind"],
                                       ["texts", "omission_rate", "distortion_rate", "pass_rate"])),
        Report("quality_history", reports.quality_history),
        Report("latest_quality", reports.latest_quality),
        Report("filter_options", reports.filter_options),
        Report("browse()", lambda con: reports.browse(con, {}, None)),
        Report("browse(female, happy)",
               lambda con: reports.browse(con, {"gender": ["female"], "emotion": ["happy"]}, None)),
        Report("count_matching(female)", lambda con: reports.count_matching(con, {"gender": ["female"]})),
        Report("clip_detail", lambda con: reports.clip_detail(con, clip_id)),
    ]


# -- measuring -------------------------------------------------------------------------------------------

def n_rows(answer) -> int:
    if answer is None:
        return 0
    if isinstance(answer, (pd.DataFrame, list)):
        return len(answer)
    return 1   # a dict of totals, one clip's detail, a count; filter_options: one row of lists


def timed(call: Callable, *args):
    started = time.perf_counter()
    answer = call(*args)
    return answer, time.perf_counter() - started


def measure(lake: str, call: Callable, repeat: int) -> tuple[object, float, float]:
    """(answer, median cold s, median warm s): cold is the first call on a fresh connection holding the
    per-clip facts, as the dashboard's connection for a lake version does (built once, timed on its own)."""
    cold, warm = [], []
    for _ in range(repeat):
        con = connect(lake)
        reports.clip_facts(con)
        reports.text_facts(con)
        answer, seconds = timed(call, con)
        cold.append(seconds)
        answer, seconds = timed(call, con)
        warm.append(seconds)
        con.close()
    return answer, statistics.median(cold), statistics.median(warm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=2_250_000)
    parser.add_argument("--lake", type=Path, default=Path("bench-data/dashboard-lake"))
    parser.add_argument("--rebuild", action="store_true", help="build the lake again even if it can be reused")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each report (medians printed)")
    args = parser.parse_args()

    record = None if args.rebuild else existing_build(args.lake, args.clips)
    if record:
        print(f"reusing {args.lake} ({args.clips:,} clips, built in {record['build_s']:.1f} s); "
              "--rebuild to build it again")
    else:
        record = build_lake(args.lake, args.clips)
    lake = resolve_lake_uri(args.lake)

    import lance

    clips = lance.dataset(f"{lake}/clips.lance")
    clip_id = clips.take([clips.count_rows() // 2], columns=["clip_id"]).column("clip_id")[0].as_py()

    load_before = os.getloadavg()[0]
    connects = []
    for _ in range(args.repeat):
        con, seconds = timed(connect, lake)
        connects.append(seconds)
        con.close()
    versions = [timed(reports.lake_version, lake)[1] for _ in range(2 * args.repeat)]
    facts, texts = [], []
    for _ in range(args.repeat):
        con = connect(lake)
        facts.append(timed(reports.clip_facts, con)[1])
        texts.append(timed(reports.text_facts, con)[1])
        con.close()

    print(f"\n== dashboard reports: {args.clips:,} clips, {sum(record['rows'].values()):,} rows in "
          f"{len(record['rows'])} tables; medians of {args.repeat}, baseline one run ==")
    header = f"{'report':<26}{'rows':>7}{'ours cold s':>13}{'ours warm s':>13}{'baseline s':>12}{'base/ours':>11}"
    print(header)
    print("-" * len(header))
    print(f"{'sql.connect':<26}{'-':>7}{statistics.median(connects):>13.3f}{'-':>13}{'-':>12}{'-':>11}")
    print(f"{'lake_version':<26}{'-':>7}{statistics.median(versions):>13.4f}{'-':>13}{'-':>12}{'-':>11}")
    print(f"{'clip_facts (per version)':<26}{'-':>7}{statistics.median(facts):>13.3f}{'-':>13}{'-':>12}{'-':>11}")
    print(f"{'text_facts (per version)':<26}{'-':>7}{statistics.median(texts):>13.3f}{'-':>13}{'-':>12}{'-':>11}",
          flush=True)
    agreed, under, timings = [], 0, {}
    for report in dashboard_reports(clip_id):
        answer, cold, warm = measure(lake, report.call, args.repeat)
        timings[report.name] = cold
        under += cold < TARGET_S
        base_cell, ratio_cell = "-", "-"
        if report.baseline:
            base_answer, base_s = timed(report.baseline, lake)
            base_cell, ratio_cell = f"{base_s:.3f}", f"{base_s / cold:.1f}x"
            report.check(answer, base_answer)   # AssertionError: the numbers differ
            agreed.append(report.name)
            del base_answer
        print(f"{report.name:<26}{n_rows(answer):>7}{cold:>13.3f}{warm:>13.3f}{base_cell:>12}{ratio_cell:>11}",
              flush=True)

    print(f"\nnumbers agree (ours = baseline): {', '.join(agreed)}")
    # other work on the machine slows every figure: say how busy it was
    print(f"lake built in {record['build_s']:.1f} s; {os.cpu_count()} CPUs, load average {load_before:.1f} "
          f"before measuring, {os.getloadavg()[0]:.1f} after")
    slow = [f"{name} {seconds:.2f} s" for name, seconds in timings.items() if seconds >= TARGET_S]
    print(f"reports under {TARGET_S:g} s cold: {under} of {len(timings)}"
          + (f" (slower: {', '.join(slow)})" if slow else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
