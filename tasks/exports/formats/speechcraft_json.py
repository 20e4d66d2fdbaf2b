"""`speechcraft export speechcraft OUT`: SpeechCraft's own JSON records, one `<corpus>.jsonl` per corpus, each
clip with its labels, the tab-separated label line SpeechCraft's generator is given, its texts and every
annotation. Audio is referenced by path (with the span of a long file)."""
from __future__ import annotations

import re

from ....vocabulary import VOLUME
from ..target import Target
from .base import ExportFormat
from .fields import annotations, finite, spoken
from .jsonl import JsonLinesFiles, LineRecords


def speechcraft_labels(r: dict) -> str:
    """SpeechCraft's tab-separated label line: what its generator was given, transcript last."""
    parts = [("age", spoken(r["age_group"])), ("gender", r["gender"]), ("pitch", r["pitch_label"]),
             (VOLUME, r["energy_label"]), ("speed", r["speed_label"]), ("emotion", r["emotion"]),
             ("emphasis", r["emphasis"]), ("topic", r["topic"]), ("transcription", r["transcript"].strip())]
    return "\t".join(f"{key}:{value}" for key, value in parts if value)


def speechcraft_records(rows: list[dict]) -> LineRecords:
    out = LineRecords()
    for r in rows:
        record = {"key": r["clip_id"], "corpus": r["corpus"], "language": r["language"],
                  "speaker_id": r["speaker_id"], "audio_path": r["audio_path"], "start_s": r["start_s"],
                  "end_s": r["end_s"], "duration": r["duration_s"], "transcription": r["transcript"].strip(),
                  "gender": r["gender"], "age": r["age_group"], "pitch": r["pitch_label"],
                  VOLUME: r["energy_label"], "speed": r["speed_label"], "emotion": r["emotion"],
                  "emphasis": r["emphasis"], "topic": r["topic"], "labels": speechcraft_labels(r),
                  "description": r["description"], "instruction": r["instruction"],
                  "annotations": {k: finite(v) for k, v in annotations(r).items()}}
        out.lines.append((r["corpus"], {k: finite(v) for k, v in record.items()}))
        out.took(r)
    return out


def corpus_file_name(corpus: str) -> str:
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', corpus)}.jsonl"


class SpeechCraftJSON(ExportFormat):
    name = "speechcraft"
    row_order = "corpus"          # one corpus file at a time

    def records(self, rows: list[dict], audio: str | None) -> LineRecords:
        return speechcraft_records(rows)

    def writer(self, staged: Target, audio: str | None, rows_per_shard: int | None) -> JsonLinesFiles:
        return JsonLinesFiles(staged, corpus_file_name, one_open=True)
