"""`speechcraft export parler-tts OUT`: a Hugging Face dataset in the Parler-TTS / dataspeech shape, parquet
shards per split (`data/<split>-<i>-of-<n>.parquet`) and a dataset card whose YAML header
`datasets.load_dataset(OUT)` reads. `--audio embed` puts each clip's FLAC bytes in the `audio` column (a span
cut out of its long file); `--audio reference` names the file, with `start_s`/`end_s` for a span.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from ....vocabulary import PHONEMES_PER_UNIT, parler_label, parler_pitch_label
from ...attributes import exported_columns, parler_names
from ..selection import EXCLUSIONS
from ..target import Target
from .audio import ClipAudio, flac_bytes, flac_file_name
from .base import ExportFormat, FormatWriter, Records
from .fields import finite, rate_unit

ROWS_PER_SHARD = {"embed": 2_000, "reference": 200_000}     # parquet shards: a few hundred MB with audio
ROWS_PER_GROUP = {"embed": 100, "reference": 10_000}        # parquet row groups (the Hub's 100 for audio)

# Parler-TTS v1's training columns first, under its names and in its words (dataspeech's output after its text
# step), then SpeechCraft's own. The attribute stages add theirs after these (snr, c50, noise, reverberation,
# speech_monotony, ...: tasks/attributes/, each under its `export_names`).
PARLER_FIELDS = [
    ("text", pa.string()), ("text_description", pa.string()),
    ("utterance_pitch_mean", pa.float64()), ("utterance_pitch_std", pa.float64()),
    ("speech_duration", pa.float64()),      # seconds of speech (pauses out)
    ("speaking_rate", pa.string()),         # Parler-TTS's label of the phonemes/s
    ("pitch", pa.string()),                 # Parler-TTS's label of the speaker's mean F0 within gender
    ("gender", pa.string()), ("speaker_id", pa.string()),
    ("speech_rate", pa.float64()), ("speech_rate_unit", pa.string()),   # SpeechCraft's measured rate
    ("clip_id", pa.string()), ("corpus", pa.string()), ("language", pa.string()), ("age", pa.string()),
    ("emotion", pa.string()), ("pitch_label", pa.string()), ("energy", pa.string()), ("speed", pa.string()),
    ("noise_label", pa.string()), ("reverberation_label", pa.string()), ("monotony_label", pa.string()),
    ("emphasis", pa.string()), ("instruction", pa.string()), ("duration", pa.float64()),
]
AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def parler_schema(audio: str) -> pa.Schema:
    # then the columns attribute stages export (tasks/attributes/), under their own names
    names = parler_names()
    fields = [("audio", AUDIO_TYPE), *PARLER_FIELDS, *((names[c], kind) for c, kind in exported_columns().items())]
    if audio == "reference":      # the audio column names the whole file; these say where the clip is in it
        fields += [("start_s", pa.float64()), ("end_s", pa.float64())]
    return pa.schema(fields)


def parler_speaking_rate(r: dict) -> str | None:
    """Parler-TTS's speaking-rate label: our syllables/s (characters/s) as phonemes/s, in its frozen bins."""
    if r["speech_rate"] is None or r["language"] not in PHONEMES_PER_UNIT:
        return None
    return parler_label("speaking_rate", r["speech_rate"] * PHONEMES_PER_UNIT[r["language"]])


def hf_features(schema: pa.Schema) -> dict:
    """The `datasets` Features of a parler schema: `audio` typed Audio, the rest plain values."""
    names = {pa.string(): "string", pa.float64(): "float64", pa.int64(): "int64"}
    return {f.name: {"_type": "Audio"} if f.name == "audio" else {"dtype": names[f.type], "_type": "Value"}
            for f in schema}


@dataclass
class ParlerRecords(Records):
    """A batch as parquet rows, with the split of each (the rows come sorted by split)."""
    table: pa.Table | None = None
    splits: list[str] = field(default_factory=list)


def parler_records(rows: list[dict], audio: str) -> ParlerRecords:
    out = ParlerRecords()
    columns: dict[str, list] = {name: [] for name in parler_schema(audio).names}
    attributes = parler_names()                     # attribute stages' columns (tasks/attributes/) -> names
    reader = ClipAudio()
    try:
        for r in rows:
            if audio == "embed":
                try:
                    samples, rate = reader.read(r["audio_path"], r["start_s"], r["end_s"])
                except Exception:       # soundfile's errors are RuntimeError, LibsndfileError, OSError
                    out.unreadable.append(r["clip_id"])
                    continue
                columns["audio"].append({"bytes": flac_bytes(samples, rate), "path": flac_file_name(r["clip_id"])})
            else:
                columns["audio"].append({"bytes": None, "path": r["audio_path"]})
                columns["start_s"].append(r["start_s"])
                columns["end_s"].append(r["end_s"])
            values = {"text": r["transcript"].strip(), "text_description": r["description"],
                      "utterance_pitch_mean": r["pitch_hz"], "utterance_pitch_std": r["pitch_std_hz"],
                      "speech_duration": r["speech_s"], "speaking_rate": parler_speaking_rate(r),
                      "pitch": parler_pitch_label(r["speaker_pitch_hz"], r["gender"]),
                      "gender": r["gender"], "speaker_id": r["speaker_id"],
                      "speech_rate": r["speech_rate"], "speech_rate_unit": rate_unit(r),
                      "clip_id": r["clip_id"], "corpus": r["corpus"],
                      "language": r["language"], "age": r["age_group"], "emotion": r["emotion"],
                      "pitch_label": r["pitch_label"], "energy": r["energy_label"], "speed": r["speed_label"],
                      "noise_label": r["noise_label"], "reverberation_label": r["reverberation_label"],
                      "monotony_label": r["monotony_label"], "emphasis": r["emphasis"],
                      "instruction": r["instruction"], "duration": r["duration_s"],
                      **{name: r[column] for column, name in attributes.items()}}
            for name, value in values.items():
                columns[name].append(finite(value))
            out.splits.append(r["hf_split"])
            out.took(r)
    finally:
        reader.close()
    out.table = pa.table(columns, schema=parler_schema(audio))
    return out


class ParquetShards(FormatWriter):
    """Parquet shards per split of at most `rows_per_shard` rows, staged as data/<split>-<i>.parquet and
    published as data/<split>-<i>-of-<n>.parquet once n is known; the dataset card at publish time."""

    def __init__(self, staged: Target, audio: str, rows_per_shard: int | None = None):
        self.staged, self.audio = staged, audio
        self.rows_per_shard = rows_per_shard or ROWS_PER_SHARD[audio]
        self.splits: Counter = Counter()
        self.split_bytes: Counter = Counter()         # Arrow bytes per split: the card's num_bytes
        self._shards: list[tuple[str, int, int]] = []     # (split, index, rows)
        self._writer: pq.ParquetWriter | None = None

    def _shard_name(self, split: str, index: int) -> str:
        return f"data/{split}-{index:05d}.parquet"        # staged; `-of-N` is added on publish

    def _next_shard(self, split: str) -> None:
        self.close()
        index = sum(s == split for s, _, _ in self._shards)
        self._shards.append((split, index, 0))
        schema = parler_schema(self.audio).with_metadata(
            {"huggingface": json.dumps({"info": {"features": hf_features(parler_schema(self.audio))}})})
        self.staged.make_dirs("data")
        self._writer = pq.ParquetWriter(self.staged.path(self._shard_name(split, index)), schema,
                                        filesystem=self.staged.fs)

    def write(self, records: ParlerRecords) -> None:
        table, splits = records.table, records.splits
        start = 0
        while start < len(splits):
            split = splits[start]
            end = start
            while end < len(splits) and splits[end] == split:
                end += 1
            while start < end:
                current = self._shards[-1] if self._shards else None
                if current is None or current[0] != split or current[2] >= self.rows_per_shard:
                    self._next_shard(split)
                    current = self._shards[-1]
                take = min(end - start, self.rows_per_shard - current[2])
                part = table.slice(start, take)
                self._writer.write_table(part, row_group_size=ROWS_PER_GROUP[self.audio])
                self._shards[-1] = (current[0], current[1], current[2] + take)
                self.splits[split] += take
                self.split_bytes[split] += part.nbytes
                start += take

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def shard_files(self) -> list[tuple[str, str, str]]:
        """(split, staged name, published name) of each parquet shard: data/<split>-<i>-of-<n>.parquet."""
        totals = Counter(split for split, _, _ in self._shards)
        return [(split, self._shard_name(split, index), f"data/{split}-{index:05d}-of-{totals[split]:05d}.parquet")
                for split, index, _ in self._shards]

    def staged_files(self) -> list[tuple[str, str]]:
        return [(staged, published) for _, staged, published in self.shard_files()]

    def publish_files(self, manifest: dict) -> dict[str, str]:
        return {"README.md": dataset_card(self, manifest)}


def dataset_card(shards: ParquetShards, manifest: dict) -> str:
    """README.md of a parler export: the YAML header `datasets.load_dataset(OUT)` reads (splits and their
    files, features with `audio` typed Audio), then what the columns mean."""
    import yaml

    splits: dict[str, list[str]] = {}
    for split, _, dest in shards.shard_files():
        splits.setdefault(split, []).append(dest)
    order = sorted(splits, key=lambda s: (["train", "validation", "test"] + [s]).index(s))
    schema = parler_schema(shards.audio)
    header = {
        # `description` names this export: `datasets` keys its cache on the card, not on the files' times,
        # so a re-export into the same folder must change the card or load_dataset would serve the old rows
        "configs": [{"config_name": "default", "default": True,
                     "description": f"SpeechCraft lakehouse export {manifest['export_run_id']} "
                                    f"({manifest['created_at']})",
                     "data_files": [{"split": s, "path": splits[s]} for s in order]}],
        "dataset_info": {"features": [{"name": f.name, "dtype": "audio" if f.name == "audio" else
                                       hf_features(schema)[f.name]["dtype"]} for f in schema],
                         "splits": [{"name": s, "num_bytes": shards.split_bytes[s], "num_examples": shards.splits[s]}
                                    for s in order]},
        "language": sorted({lang for lang in manifest.get("languages", []) if lang}),
        "task_categories": ["text-to-speech"],
        "pretty_name": "SpeechCraft lakehouse export",
    }
    check = manifest["check"]
    audio_note = ("`audio` holds each clip's own audio as FLAC bytes (a GigaSpeech segment cut out of its long "
                  "file), so the dataset is self-contained." if shards.audio == "embed" else
                  "`audio` references the audio file by its path (nothing is copied). For a clip that is a span "
                  "of a long file (GigaSpeech), `audio` names the whole file and `start_s`/`end_s` (seconds) "
                  "say where the clip is in it; for whole-file clips they are null.")
    excluded = "\n".join(f"| {reason} | {n} | {EXCLUSIONS[reason]} |" for reason, n in manifest["excluded"].items())
    body = f"""
# SpeechCraft lakehouse export (Parler-TTS / dataspeech shape)

{manifest['clips']['exported']} clips ({manifest['audio_hours']:.3f} h) exported on {manifest['created_at']} from
`{manifest['lake']}`{f" (corpus {manifest['corpus']})" if manifest.get('corpus') else ''}, gated on quality check run
`{check['run_id']}` ({check['expectations']} expectations, no critical failure).

```python
from datasets import load_dataset
dataset = load_dataset("path/to/this/folder")
```

{audio_note}

| column | meaning |
|---|---|
| `text` | the transcript (the corpus's, else ASR) |
| `text_description` | the published description of the voice (no transcript), checked against the labels |
| `instruction` | the published instruction: the description plus the transcript, quoted |
| `utterance_pitch_mean`, `utterance_pitch_std` | F0 mean and standard deviation in Hz over voiced frames (Praat) |
| `speech_duration` | seconds of speech in the clip (pauses left out) |
| `speaking_rate` | Parler-TTS v1's words for the rate (very slowly ... very fast), from phonemes/s: 2.6 phonemes a syllable |
| `pitch` | Parler-TTS v1's words for the speaker's mean pitch within gender (very low-pitch ... very high-pitch) |
| `snr`, `noise` | the SNR in dB and Parler-TTS's noise words (very noisy ... very clean) |
| `c50`, `reverberation` | the C50 in dB and Parler-TTS's words (very distant-sounding ... very close-sounding) |
| `speech_monotony`, `f0_std_semitones` | Parler-TTS's monotony words (from the F0 std in Hz) and the F0 std in semitones |
| `dnsmos_*` | DNSMOS overall / signal / background / P.808 MOS, where the quality stage ran |
| `speech_rate`, `speech_rate_unit` | the measured rate: syllables/s (English), characters/s (Chinese) |
| `gender`, `age`, `emotion` | male/female; child, teenager, young_adult, middle_aged, elderly; one of seven emotions or null |
| `pitch_label`, `energy`, `speed` | SpeechCraft's three bins: low/normal/high pitch and volume; slow/normal/fast |
| `noise_label`, `reverberation_label`, `monotony_label` | SpeechCraft's three bins of the recording conditions |
| `emphasis` | the stressed word of a regenerated clip (null elsewhere) |
| `speaker_id`, `clip_id`, `corpus`, `language`, `duration` | provenance; duration in seconds |

Splits: the corpus's own (`dev` is named `validation`); clips without one are in `train`.

Clips left out (the first rule each failed):

| reason | clips | why |
|---|---|---|
{excluded or '| none | 0 | |'}
"""
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n" + body


class ParlerTTS(ExportFormat):
    name = "parler-tts"
    audio_modes = ("embed", "reference")
    row_order = "hf_split"        # one split's shards at a time

    def records(self, rows: list[dict], audio: str | None) -> ParlerRecords:
        return parler_records(rows, audio)

    def writer(self, staged: Target, audio: str | None, rows_per_shard: int | None) -> ParquetShards:
        return ParquetShards(staged, audio, rows_per_shard)
