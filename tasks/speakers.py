"""Gender and age per clip: corpus metadata where the corpus has it, predictions elsewhere.

With the embedded backend the predictions come from classifiers trained here, on the features of the clips
whose corpus labels them (AISHELL-3, LibriTTS-R, folders with a speakers.tsv). A fifth of each corpus's
labelled speakers per class are held out of training, deterministically, so that validation always
measures the classifier on voices it has never heard. A trained classifier is stored in `classifiers` under
a version that hashes its training clips; the same clips give the same version and no retraining.

Where clips have a voice vector (the voice stage), a second classifier per attribute reads it beside the
F0/cepstral features (VOICE_FEATURE_SET) and answers for those clips; the others keep the first. A speaker is
the effective one (`clip_speakers`: the corpus's id, else the voice cluster), so a held-out voice cluster is
held out with all its clips.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import polars as pl

from ..models.speaker_classifier import CLASSIFIER_PARAMS, FEATURE_SET, VOICE_FEATURE_SET, SpeakerClassifier
from ..warehouse import Lakehouse
from ..warehouse.schema import VOICE_TABLE
from ..warehouse.sql import query
from .lineage import parent_corpus, speaker_key

# attribute -> (its metadata column, the prediction columns of `speakers`)
ATTRIBUTES = {"gender": ("meta_gender", "predicted_gender", "predicted_gender_prob"),
              "age_group": ("meta_age_group", "predicted_age_group", "predicted_age_prob")}
HELD_OUT_SHARE = 0.2
MIN_TRAINING_CLIPS = 10
SPEAKERS_VERSION = "1"         # of the rows this module writes (metadata first, then the classifiers)
SPEAKER_COLUMNS = ["gender", "gender_prob", "gender_source", "age_group", "age_years", "age_prob", "age_source",
                   "predicted_gender", "predicted_gender_prob", "predicted_age_group", "predicted_age_prob",
                   "backend", "model"]


@dataclass
class SpeakerStats:
    classifiers: dict[str, str | None] = field(default_factory=dict)   # attribute -> version in force
    voice_classifiers: dict[str, str | None] = field(default_factory=dict)   # the same, with the voice vector
    skipped: dict[str, str] = field(default_factory=dict)              # attribute -> why none was trained
    from_metadata: int = 0
    predicted: int = 0
    changed: int = 0


def held_out_speakers(clips: pl.DataFrame) -> set[str]:
    """Per corpus and metadata gender, a fifth of the labelled speakers (at least one when there are two or
    more), chosen by a hash of the speaker key so that the choice never depends on ingest order."""
    labelled = (clips.filter(pl.col("meta_gender").is_not_null())
                .select(pl.col("corpus").map_elements(parent_corpus, return_dtype=pl.String), "meta_gender", "speaker")
                .unique())
    held = set()
    for (_, _), group in labelled.group_by("corpus", "meta_gender"):
        speakers = sorted(group["speaker"], key=lambda s: hashlib.sha1(s.encode()).hexdigest())
        if len(speakers) >= 2:
            held.update(speakers[:max(1, math.floor(len(speakers) * HELD_OUT_SHARE))])
    return held


def speaker_clips(lake: Lakehouse) -> pl.DataFrame:
    """Every clip with its effective speaker id (the view clip_speakers) and its speaker key."""
    clips = pl.from_arrow(query("""SELECT c.clip_id, c.corpus, s.speaker_id, c.meta_gender, c.meta_age_group
                                   FROM clips c JOIN clip_speakers s USING (clip_id) ORDER BY c.clip_id""",
                                lake.uri))
    return clips.with_columns(speaker=pl.struct("corpus", "speaker_id", "clip_id").map_elements(
        lambda r: speaker_key(r["corpus"], r["speaker_id"], r["clip_id"]), return_dtype=pl.String))


def _features(lake: Lakehouse) -> pl.DataFrame:
    """clip_id, features (FEATURE_SET), voice_features (VOICE_FEATURE_SET: null without a voice vector)."""
    features = pl.from_arrow(lake.read("speaker_features", ["clip_id", "features", "input_hash"]))
    voices = pl.from_arrow(lake.read(VOICE_TABLE, ["clip_id", "voice_embedding", "has_voice"]))
    voices = voices.filter(pl.col("has_voice")).select(
        "clip_id", pl.col("voice_embedding").arr.to_list())
    return (features.join(voices, on="clip_id", how="left")
            .with_columns(voice_features=pl.when(pl.col("voice_embedding").is_not_null())
                          .then(pl.concat_list(pl.col("features").cast(pl.List(pl.Float32)),
                                               pl.col("voice_embedding").cast(pl.List(pl.Float32)))))
            .drop("voice_embedding"))


def _predict(lake: Lakehouse, data: pl.DataFrame, held: set[str], attribute: str, meta: str,
             stats: SpeakerStats) -> pl.DataFrame:
    """clip_id, predicted label, its probability and the classifier that made it, per clip with features:
    the voice classifier where the clip has a voice vector and one could be trained, the other elsewhere."""
    _, label_column, prob_column = ATTRIBUTES[attribute]
    done = pl.DataFrame(schema={"clip_id": pl.String, label_column: pl.String, prob_column: pl.Float64,
                                f"{attribute}_classifier": pl.String})
    for column, feature_set, versions in (("voice_features", VOICE_FEATURE_SET, stats.voice_classifiers),
                                          ("features", FEATURE_SET, stats.classifiers)):
        classifier, version = _classifier(lake, data, held, attribute, meta, stats, column, feature_set)
        versions[attribute] = version
        todo = data.filter(pl.col(column).is_not_null() & ~pl.col("clip_id").is_in(done["clip_id"].to_list()))
        if classifier is None or todo.is_empty():
            continue
        labels, probs = classifier.predict(np.array(todo[column].to_list(), dtype=np.float32))
        done = pl.concat([done, todo.select("clip_id").with_columns(
            pl.Series(label_column, labels, dtype=pl.String), pl.Series(prob_column, probs, dtype=pl.Float64),
            pl.lit(f"classifier:{version}", pl.String).alias(f"{attribute}_classifier"))])
    if stats.classifiers.get(attribute) or stats.voice_classifiers.get(attribute):
        stats.skipped.pop(attribute, None)      # one of the two was trained
    return done


def train_and_predict(lake: Lakehouse, run_id: str, annotator: str, config_hash: str) -> SpeakerStats:
    """Train (or reuse) the gender and age-group classifiers, then write every clip's speaker row."""
    clips = speaker_clips(lake)
    data = clips.join(_features(lake), on="clip_id", how="left")
    held = held_out_speakers(clips)
    stats = SpeakerStats()
    predictions = data.select("clip_id")
    for attribute, (meta, _, _) in ATTRIBUTES.items():
        predictions = predictions.join(_predict(lake, data, held, attribute, meta, stats), on="clip_id", how="left")
    models = {**{a: v for a, v in stats.classifiers.items() if v},
              **{f"{a}+voice": v for a, v in stats.voice_classifiers.items() if v}}
    rows = (data.select("clip_id", "meta_gender", "meta_age_group").join(predictions, on="clip_id")
            .with_columns(
                gender=pl.coalesce("meta_gender", "predicted_gender"),
                gender_prob=pl.when(pl.col("meta_gender").is_not_null()).then(1.0).otherwise("predicted_gender_prob"),
                gender_source=pl.when(pl.col("meta_gender").is_not_null()).then(pl.lit("corpus"))
                .otherwise("gender_classifier"),
                age_group=pl.coalesce("meta_age_group", "predicted_age_group"),
                age_prob=pl.when(pl.col("meta_age_group").is_not_null()).then(1.0).otherwise("predicted_age_prob"),
                age_source=pl.when(pl.col("meta_age_group").is_not_null()).then(pl.lit("corpus"))
                .otherwise("age_group_classifier"),
                age_years=pl.lit(None, pl.Float64),
                backend=pl.lit("embedded"),
                model=pl.lit(", ".join(f"{a}:{v}" for a, v in models.items()) or "corpus metadata"))
            .filter(pl.col("gender").is_not_null() | pl.col("age_group").is_not_null()))
    stats.from_metadata = rows.filter(pl.col("gender_source") == "corpus").height
    stats.predicted = rows.filter(pl.col("gender_source") != "corpus").height
    stats.changed = _upsert_changed(lake, rows.select("clip_id", *SPEAKER_COLUMNS), run_id, annotator, config_hash)
    return stats


def _classifier(lake: Lakehouse, data: pl.DataFrame, held: set[str], attribute: str, meta: str,
                stats: SpeakerStats, column: str = "features",
                feature_set: str = FEATURE_SET) -> tuple[SpeakerClassifier | None, str | None]:
    train = data.filter(pl.col(meta).is_not_null() & pl.col(column).is_not_null()
                        & ~pl.col("speaker").is_in(sorted(held))).sort("clip_id")
    classes = sorted(set(train[meta]))
    if train.height < MIN_TRAINING_CLIPS or len(classes) < 2:
        stats.skipped[attribute] = (f"{train.height} labelled clips with {len(classes)} {attribute} class(es); "
                                    f"training needs {MIN_TRAINING_CLIPS}+ clips and 2+ classes")
        return None, None
    digest = hashlib.sha256(json.dumps([feature_set, CLASSIFIER_PARAMS, attribute]).encode())
    grouped = feature_set == VOICE_FEATURE_SET      # its reading is chosen by folds of speakers
    for clip_id, label, input_hash, speaker in train.select("clip_id", meta, "input_hash", "speaker").iter_rows():
        # with the speaker where folds read it: a new clustering retrains
        digest.update(f"\x1f{clip_id}\x1e{label}\x1e{input_hash}{chr(30) + speaker if grouped else ''}".encode())
    version = digest.hexdigest()[:12]
    stored = lake.lookup("classifiers", [f"{attribute}/{version}"], ["classes", "blob"])
    if stored.num_rows:
        row = stored.to_pylist()[0]
        return SpeakerClassifier.from_bytes(attribute, row["classes"], row["blob"]), version
    classifier = SpeakerClassifier.fit(attribute, np.array(train[column].to_list(), dtype=np.float32),
                                       train[meta].to_list(),
                                       groups=train["speaker"].to_list() if grouped else None)
    lake.upsert("classifiers", [{
        "classifier_id": f"{attribute}/{version}", "attribute": attribute, "version": version,
        "feature_set": feature_set, "classes": classifier.classes, "n_train": train.height,
        "train_speakers": train["speaker"].n_unique(), "train_corpora": sorted(set(train["corpus"])),
        "held_out_speakers": sorted(held), "params": json.dumps({**CLASSIFIER_PARAMS, "reading": getattr(
            classifier.pipeline, "reading", "features")}), "blob": classifier.to_bytes(),
        "created_at": datetime.now(timezone.utc)}])
    return classifier, version


def apply_metadata(lake: Lakehouse) -> int:
    """Model backends: where the corpus labels a clip, its metadata is the published value and the model's
    prediction stays in predicted_*. Returns the rows changed."""
    stored = pl.from_arrow(lake.read("speakers"))
    if stored.is_empty():
        return 0
    clips = pl.from_arrow(lake.read("clips", ["clip_id", "meta_gender", "meta_age_group"]))
    rows = (stored.join(clips, on="clip_id", how="left").with_columns(
        gender=pl.coalesce("meta_gender", "predicted_gender"),
        gender_prob=pl.when(pl.col("meta_gender").is_not_null()).then(1.0).otherwise("predicted_gender_prob"),
        gender_source=pl.when(pl.col("meta_gender").is_not_null()).then(pl.lit("corpus"))
        .when(pl.col("predicted_gender").is_not_null()).then(pl.col("model")),
        age_group=pl.coalesce("meta_age_group", "predicted_age_group"),
        age_prob=pl.when(pl.col("meta_age_group").is_not_null()).then(1.0).otherwise("predicted_age_prob"),
        age_source=pl.when(pl.col("meta_age_group").is_not_null()).then(pl.lit("corpus"))
        .when(pl.col("predicted_age_group").is_not_null()).then(pl.col("model"))))
    changed = rows.join(stored, on=["clip_id", *SPEAKER_COLUMNS], how="anti", nulls_equal=True)
    if changed.height:
        lake.upsert("speakers", changed.drop("meta_gender", "meta_age_group").to_arrow())
    return changed.height


def _upsert_changed(lake: Lakehouse, rows: pl.DataFrame, run_id: str, annotator: str, config_hash: str) -> int:
    stored = pl.from_arrow(lake.read("speakers", ["clip_id", *SPEAKER_COLUMNS]))
    changed = rows.join(stored, on=["clip_id", *SPEAKER_COLUMNS], how="anti", nulls_equal=True)
    if changed.height:
        now = datetime.now(timezone.utc)
        lake.upsert("speakers", changed.with_columns(
            annotator=pl.lit(annotator), annotator_version=pl.lit(SPEAKERS_VERSION), config_hash=pl.lit(config_hash),
            input_hash=pl.lit(None, pl.String), run_id=pl.lit(run_id), computed_at=pl.lit(now)).to_arrow())
    return changed.height
