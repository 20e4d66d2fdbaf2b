"""How right the speaker predictions are, wherever there is something to compare them with.

- Corpus metadata: the backend's own predictions (`predicted_*`) against the corpus labels. For the embedded
  classifier only on its held-out speakers (voices it never trained on); for model backends on every labelled
  speaker (they trained elsewhere).
- A reference file (`--reference FILE`, TSV with a header): `clip_id` or `speaker_id` (with an optional
  `corpus` column), and `gender` and/or `age_group`. It is compared with the published values, so that
  clips without metadata (where predictions are all there is) can be checked against hand labels.
Each comparison is one row of `validations` per (attribute, reference, corpus and "all"), kept per run.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from ..warehouse import Lakehouse
from .corpora._common import normalise_gender
from .speakers import ATTRIBUTES, held_out_speakers, speaker_clips

REFERENCE_ATTRIBUTES = ("gender", "age_group")


class ReferenceFileError(ValueError):
    pass


def metrics(truth: list[str], predicted: list[str | None]) -> dict:
    """Accuracy (a missing prediction counts as wrong), precision and recall per class, confusion counts."""
    confusion: dict[str, Counter] = {}
    for t, p in zip(truth, predicted, strict=True):
        confusion.setdefault(t, Counter())[p or "none"] += 1
    classes = sorted(set(truth) | {p for p in predicted if p})
    per_class = {}
    for c in classes:
        true_positive = confusion.get(c, Counter())[c]
        predicted_c = sum(row[c] for row in confusion.values())
        support = sum(confusion.get(c, Counter()).values())
        per_class[c] = {"precision": true_positive / predicted_c if predicted_c else None,
                        "recall": true_positive / support if support else None, "support": support}
    correct = sum(t == p for t, p in zip(truth, predicted))
    return {"accuracy": correct / len(truth) if truth else None, "per_class": per_class,
            "confusion": {t: dict(row) for t, row in sorted(confusion.items())}}


def against_metadata(lake: Lakehouse) -> list[dict]:
    clips = speaker_clips(lake)
    speakers = pl.from_arrow(lake.read("speakers", ["clip_id", "predicted_gender", "predicted_age_group",
                                                    "backend", "model"]))
    data = clips.join(speakers, on="clip_id", how="inner")
    held = held_out_speakers(clips)
    rows = []
    for (backend, model), group in data.group_by("backend", "model"):
        if backend == "embedded":
            group, reference = group.filter(pl.col("speaker").is_in(sorted(held))), "metadata:held_out_speakers"
        else:
            reference = "metadata:all_speakers"
        for attribute, (meta, predicted, _) in ATTRIBUTES.items():
            labelled = group.filter(pl.col(meta).is_not_null()).rename({meta: "truth", predicted: "prediction"})
            rows += _rows(labelled, attribute, reference, f"{backend}:{model}")
    return rows


def against_reference(lake: Lakehouse, path: Path) -> list[dict]:
    reference = read_reference(path)
    clips = speaker_clips(lake)
    speakers = pl.from_arrow(lake.read("speakers", ["clip_id", "gender", "age_group", "backend", "model"]))
    key = ["clip_id"] if "clip_id" in reference.columns else [c for c in ("corpus", "speaker_id") if c in reference.columns]
    data = clips.join(speakers, on="clip_id", how="inner").join(reference, on=key, how="inner", suffix="_reference")
    rows = []
    for attribute in REFERENCE_ATTRIBUTES:
        if f"{attribute}_reference" not in data.columns:
            continue
        labelled = (data.filter(pl.col(f"{attribute}_reference").is_not_null())
                    .rename({f"{attribute}_reference": "truth", attribute: "prediction"}))
        predictors = sorted({f"{b}:{m}" for b, m in labelled.select("backend", "model").iter_rows()})
        rows += _rows(labelled, attribute, f"file:{path.name}", "; ".join(predictors))
    return rows


def read_reference(path: Path) -> pl.DataFrame:
    """The reference TSV, checked: a key column, at least one attribute column, known values only."""
    if not path.is_file():
        raise ReferenceFileError(f"reference file {path} does not exist")
    with path.open(encoding="utf-8", newline="") as f:
        lines = [row for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]
    if not lines:
        raise ReferenceFileError(f"{path} is empty: expected a header such as clip_id<TAB>gender")
    header = [h.strip() for h in lines[0]]
    if "clip_id" not in header and "speaker_id" not in header:
        raise ReferenceFileError(f"{path}: the header {header} needs a clip_id or speaker_id column")
    attributes = [a for a in REFERENCE_ATTRIBUTES if a in header]
    if not attributes:
        raise ReferenceFileError(f"{path}: the header {header} needs a gender and/or age_group column")
    records = []
    for number, fields in enumerate(lines[1:], start=2):
        record = dict(zip(header, (f.strip() or None for f in fields)))
        if "gender" in record and record["gender"] is not None:
            gender = normalise_gender(record["gender"])
            if gender is None:
                raise ReferenceFileError(f"{path}:{number}: unknown gender {record['gender']!r} (female/male, f/m)")
            record["gender"] = gender
        records.append({k: record.get(k) for k in header})
    return pl.DataFrame(records, schema={h: pl.String for h in header})


def _rows(labelled: pl.DataFrame, attribute: str, reference: str, predictor: str) -> list[dict]:
    rows = []
    groups = [("all", labelled)] + sorted(labelled.partition_by("corpus", as_dict=True).items())
    for corpus, group in groups:
        corpus = corpus if isinstance(corpus, str) else corpus[0]
        if group.is_empty() or (corpus != "all" and len(groups) == 2):
            continue                 # one corpus only: its row would repeat "all"
        m = metrics(group["truth"].to_list(), group["prediction"].to_list())
        rows.append({"attribute": attribute, "corpus": corpus, "reference": reference, "predictor": predictor,
                     "n_clips": group.height, "n_speakers": group["speaker"].n_unique(),
                     "accuracy": m["accuracy"], "per_class": json.dumps(m["per_class"]),
                     "confusion": json.dumps(m["confusion"])})
    return rows


def store(lake: Lakehouse, rows: list[dict], run_id: str) -> list[dict]:
    now = datetime.now(timezone.utc)
    rows = [{**r, "run_id": run_id, "validated_at": now,
             "validation_id": f"{run_id}/{r['attribute']}/{r['reference']}/{r['corpus']}"} for r in rows]
    lake.upsert("validations", rows)
    return rows
