"""Exports that trainers read: the clips that pass the quality gate, as a Hugging Face / Parler-TTS parquet
dataset, lhotse manifests, or SpeechCraft's own JSON records.

What gets published, and when:

- **The gate** (`quality_gate`): the latest `speechcraft check` decides. No check yet, a critical expectation
  failed, the latest check ran only some suites (`--suite`), or a run that writes clips, measurements, labels
  or texts (ingest, emphasize, annotate, describe) was still going or finished after the check started (a
  completed one that added and updated nothing, such as a scheduled run with nothing new, does not count): the
  export is refused with `ExportBlockedError`, naming what failed and asking for `speechcraft check`. The
  `runs` table is the change log this reads (`bins freeze/use` relabels as a `bins` run, so it counts too;
  the per-clip `stale_texts` rule below catches texts a relabelling made wrong).
- **Per clip** (`EXCLUSIONS`, first rule that applies): measured by the acoustic stage, no hard acoustic flag
  (`no_speech`, `too_short`), a transcript, gender and the pitch/energy/speed labels, a published passing
  description and instruction, written from the labels the clip has now. Every excluded clip is counted
  under its reason; the counts go to the result, the `runs` row and `export.json`.
- **One snapshot**: the gate, the counts and the rows come through one DuckDB connection, whose Lance
  datasets are pinned at the version current when it opened, so a write meanwhile cannot mix in.

Writing goes through `pyarrow.fs` (a local folder, created as needed, or `s3://bucket/prefix` with the
lakehouse's AWS settings, `export_filesystem`): every file is written under `OUT/.staging-<id>/` first, then
moved into place, `export.json` last; then the files of the previous export (its `export.json` lists them)
that this one did not write again are deleted. An interrupted export leaves the previous one intact, and a
finished one never leaves a mix of two. One export at a time per OUT.

Rows stream from DuckDB in Arrow batches (a few hundred clips with embedded audio, thousands otherwise), each
batch one Prefect task (`build_records`); nothing holds the whole lakehouse in memory.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from prefect import task
from prefect.cache_policies import NO_CACHE

from ..warehouse.lake import resolve_lake_uri, sql_literal_list
from ..warehouse.sql import check_read_only, connect
from ..warehouse.storage import S3_SCHEMES, s3_endpoint
from ..warehouse.storage import scheme as uri_scheme
from .descriptions import LABEL_COLUMNS

FORMATS = ("parler-tts", "lhotse", "speechcraft")
AUDIO_MODES = ("embed", "reference")
MANIFEST = "export.json"
STAGING_PREFIX = ".staging-"
# Flows whose runs change what an export reads; a run of one after the latest check makes that check stale.
WRITING_FLOWS = ("ingest", "emphasize", "annotate", "bins", "describe")
HARD_FLAGS = ("no_speech", "too_short")
# reason -> why; checked in this order, a clip is counted under the first that applies
EXCLUSIONS = {
    "not_measured": "no acoustics row yet (run `speechcraft annotate`)",
    "no_speech": "the acoustic stage found no voiced speech",
    "too_short": "shorter than the acoustic stage's minimum",
    "no_transcript": "no transcript: a TTS trainer needs the text",
    "unlabelled": "gender or a pitch, energy or speed label is missing",
    "no_description": "no published description that passed the checker (run `speechcraft describe`)",
    "no_instruction": "no published instruction that passed the checker (run `speechcraft describe`)",
    "stale_texts": "the published texts were written from other labels than the clip has now "
                   "(run `speechcraft describe`)",
    "audio_unreadable": "the audio file could not be opened at export time (moved or deleted since ingest?)",
}
ROWS_PER_SHARD = {"embed": 2_000, "reference": 200_000}     # parquet shards: a few hundred MB with audio
ROWS_PER_GROUP = {"embed": 100, "reference": 10_000}        # parquet row groups (the Hub's 100 for audio)
BATCH_ROWS = {"embed": 256, "reference": 4_096}             # clips per Prefect task
# Our pitch labels as the dataspeech / Parler-TTS phrase (its 7 bins, of which we have 3)
PITCH_PHRASES = {"low": "low pitch", "normal": "moderate pitch", "high": "high pitch"}
HF_SPLITS = {"train": "train", "dev": "validation", "valid": "validation", "validation": "validation",
             "test": "test"}
_SHARD = re.compile(r"^[A-Za-z0-9_]+-\d{5}-of-\d{5}\.parquet$")


class ExportBlockedError(ValueError):
    """The quality gate refuses to publish: no check yet, a critical failure, or a check that is stale."""


class ExportTargetError(ValueError):
    """OUT cannot hold an export (an existing file)."""


class NothingToExportError(ValueError):
    """Every clip was excluded: nothing is written and the previous export stays."""


def check_request(fmt: str, audio: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; the formats are {', '.join(FORMATS)}")
    if audio not in AUDIO_MODES:
        raise ValueError(f"unknown audio mode {audio!r}; choose {' or '.join(AUDIO_MODES)}")


# -- where the files go --------------------------------------------------------------------------------------
@dataclass
class Target:
    """OUT on a pyarrow filesystem: a local folder or an object-store prefix (s3://bucket/prefix)."""
    fs: pafs.FileSystem
    root: str
    uri: str

    @property
    def local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    def exists(self, relative: str) -> bool:
        return self.fs.get_file_info(self.path(relative)).type == pafs.FileType.File

    def make_dirs(self, relative: str) -> None:
        if self.local:   # object stores have no folders
            self.fs.create_dir(self.path(relative), recursive=True)

    def open(self, relative: str, gzip: bool = False):
        self.make_dirs(relative.rpartition("/")[0])
        return self.fs.open_output_stream(self.path(relative), compression="gzip" if gzip else None)

    def write_text(self, relative: str, text: str) -> None:
        with self.open(relative) as stream:
            stream.write(text.encode("utf-8"))

    def read_text(self, relative: str) -> str | None:
        try:
            with self.fs.open_input_stream(self.path(relative), compression=None) as stream:
                return stream.read().decode("utf-8")
        except (FileNotFoundError, OSError):
            return None

    def move(self, source: str, dest: str) -> None:
        self.make_dirs(dest.rpartition("/")[0])
        self.fs.move(self.path(source), self.path(dest))

    def delete(self, relative: str) -> None:
        if self.exists(relative):
            self.fs.delete_file(self.path(relative))

    def delete_dir(self, relative: str) -> None:
        if self.fs.get_file_info(self.path(relative)).type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path(relative))

    def listing(self, relative: str = "") -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(self.path(relative), allow_not_found=True)
        return self.fs.get_file_info(selector)


def export_filesystem(out: str) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem and path of an OUT URI. S3 (and S3-compatible stores) take the lakehouse's own
    AWS settings (warehouse/storage.py: AWS_ENDPOINT_URL, AWS_REGION, AWS_ALLOW_HTTP; credentials from the
    environment), so an export reaches the store the lakehouse does."""
    if uri_scheme(out) in S3_SCHEMES:
        options = {}
        endpoint = s3_endpoint()
        if endpoint:
            parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
            plain = parsed.scheme == "http" or os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true"
            options.update(endpoint_override=parsed.netloc, scheme="http" if plain else "https")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        return pafs.S3FileSystem(**options), out.split("://", 1)[1]
    return pafs.FileSystem.from_uri(out)


def resolve_target(out: str | Path) -> Target:
    """OUT as a filesystem and root path; refused when it is an existing file. Creates nothing."""
    out = str(out)
    if "://" in out:
        fs, root = export_filesystem(out)
        uri = out.rstrip("/")
    else:
        path = Path(out).expanduser().resolve()
        fs, root, uri = pafs.LocalFileSystem(), path.as_posix(), str(path)
    target = Target(fs, root.rstrip("/") or root, uri)
    if fs.get_file_info(target.root).type == pafs.FileType.File:
        raise ExportTargetError(f"{uri} is a file: an export goes into a folder (new, or an earlier export's)")
    return target


def read_manifest(target: Target) -> dict | None:
    text = target.read_text(MANIFEST)
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


# -- the quality gate ------------------------------------------------------------------------------------------
def _rows(con, sql: str, params: list | None = None) -> list[dict]:
    check_read_only(con, sql)
    return con.sql(sql, params=params or None).to_arrow_table().to_pylist()


def quality_gate(con) -> dict:
    """The latest check, if it lets exports publish; else ExportBlockedError saying why and what to run.
    Returns {"run_id", "started_at", "checked_at", "expectations", "failed_warnings"}."""
    latest = _rows(con, "SELECT suite, expectation, severity, success, run_id, checked_at FROM latest_quality")
    if not latest:
        raise ExportBlockedError("no quality check has run on this lakehouse: run `speechcraft check` first "
                                 "(exports publish only what the latest check passed)")
    run_id, checked_at = latest[0]["run_id"], latest[0]["checked_at"]
    critical = [f"{r['suite']}.{r['expectation']}" for r in latest
                if r["severity"] == "critical" and not r["success"]]
    if critical:
        raise ExportBlockedError(
            f"the latest check (run {run_id}, {checked_at:%Y-%m-%d %H:%M:%S} UTC) failed {len(critical)} critical "
            f"expectation(s): {', '.join(critical)}. Fix the data, then run `speechcraft check` again "
            f"(details: speechcraft sql \"SELECT * FROM latest_quality WHERE NOT success\")")
    run = _rows(con, "SELECT started_at, params FROM runs WHERE run_id = ?", [run_id])
    started_at = run[0]["started_at"] if run else checked_at
    suites = json.loads((run[0]["params"] if run else None) or "{}").get("suites")
    if suites:
        raise ExportBlockedError(f"the latest check (run {run_id}) ran only the suite(s) {', '.join(suites)}: "
                                 "run `speechcraft check` with every suite before exporting")
    later = _rows(con, f"""
        SELECT flow, corpus, status, started_at, finished_at FROM runs
        WHERE flow IN {sql_literal_list(WRITING_FLOWS)}
          AND coalesce(finished_at, CASE WHEN status = 'running' THEN now() ELSE started_at END) > ?
          -- a run that finished having written nothing (a scheduled run with nothing new) changed nothing
          AND NOT (status = 'completed' AND coalesce(n_new, 0) + coalesce(n_updated, 0) = 0)
        ORDER BY started_at""", [started_at])
    if later:
        what = ", ".join(f"{r['flow']}{' ' + r['corpus'] if r['corpus'] else ''} ({r['status']}, "
                         f"{(r['finished_at'] or r['started_at']):%Y-%m-%d %H:%M:%S})" for r in later[:5])
        raise ExportBlockedError(
            f"the lakehouse changed after the latest check (run {run_id}, started "
            f"{started_at:%Y-%m-%d %H:%M:%S} UTC): {len(later)} later run(s): {what}. "
            "Run `speechcraft check` again before exporting")
    return {"run_id": run_id, "started_at": started_at, "checked_at": checked_at, "expectations": len(latest),
            "failed_warnings": [f"{r['suite']}.{r['expectation']}" for r in latest if not r["success"]]}


# -- which clips -----------------------------------------------------------------------------------------------
# The value a description's `labels` JSON holds for each key, as clip_annotations gives it now.
_CURRENT_LABEL = {"topic": "c.meta_topic",
                  "emphasis": "CASE WHEN a.emphasis_source = 'regenerated' THEN a.emphasis END"}


def _stale(alias: str) -> str:
    """SQL: the published text under `alias` was written from labels other than the clip's current ones."""
    differs = [f"json_extract_string({alias}.labels, '$.{key}') IS DISTINCT FROM "
               f"nullif(CAST({_CURRENT_LABEL.get(column, 'a.' + column)} AS VARCHAR), '')"
               for column, key in LABEL_COLUMNS.items()]
    return f"({alias}.labels IS NOT NULL AND ({' OR '.join(differs)}))"


def clips_sql(corpus: str | None = None) -> str:
    """Every clip (of `corpus`) with what the exports write and `excluded`: the reason it is left out, or null."""
    where = f"WHERE a.corpus = {sql_literal_list([corpus])[1:-1]}" if corpus else ""
    hard = " ".join(f"WHEN list_contains(a.flags, '{flag}') THEN '{flag}'" for flag in HARD_FLAGS)
    split = " ".join(f"WHEN '{name}' THEN '{hf}'" for name, hf in HF_SPLITS.items())
    return f"""
        SELECT a.clip_id, a.corpus, a.subset, a.split,
               CASE lower(trim(coalesce(a.split, ''))) {split} WHEN '' THEN 'train'
                    ELSE regexp_replace(lower(trim(a.split)), '[^a-z0-9_]', '_', 'g') END AS hf_split,
               a.language, a.speaker_id, a.duration_s, a.transcript, a.transcript_source,
               a.gender, a.gender_source, a.age_group, a.age_source,
               a.pitch_hz, a.pitch_std_hz, a.voiced_ratio, a.pitch_label, a.energy_db, a.energy_label,
               a.speech_rate, a.rate_unit, a.speed_label, a.speech_s, a.flags,
               a.emotion, a.emotion_source, a.emotion_caption,
               CASE WHEN a.emphasis_source = 'regenerated' THEN a.emphasis END AS emphasis,
               CASE WHEN a.emphasis_source LIKE 'detector:%' THEN a.emphasis END AS detected_emphasis,
               CASE WHEN a.emphasis_source LIKE 'detector:%' THEN a.emphasis_score END AS detected_emphasis_score,
               a.parent_clip_id, c.meta_topic AS topic, a.description, a.instruction,
               a.audio_path, a.start_s, a.end_s, c.sample_rate, c.channels,
               CASE WHEN m.measured_id IS NULL THEN 'not_measured'
                    {hard}
                    WHEN nullif(trim(a.transcript), '') IS NULL THEN 'no_transcript'
                    WHEN a.gender IS NULL OR a.pitch_label IS NULL OR a.energy_label IS NULL
                         OR a.speed_label IS NULL THEN 'unlabelled'
                    WHEN a.description IS NULL THEN 'no_description'
                    WHEN a.instruction IS NULL THEN 'no_instruction'
                    WHEN {_stale('dl')} OR {_stale('il')} THEN 'stale_texts'
               END AS excluded
        FROM clip_annotations a
        JOIN clips c USING (clip_id)
        LEFT JOIN (SELECT clip_id AS measured_id FROM acoustics) m ON m.measured_id = a.clip_id
        LEFT JOIN (SELECT clip_id, labels FROM descriptions
                   WHERE published AND passed AND kind = 'description') dl USING (clip_id)
        LEFT JOIN (SELECT clip_id, labels FROM descriptions
                   WHERE published AND passed AND kind = 'instruction') il USING (clip_id)
        {where}"""


@dataclass
class Selection:
    considered: int = 0
    exported: int = 0
    audio_hours: float = 0.0
    excluded: dict[str, int] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)
    corpora: dict[str, int] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)


def select_clips(con, corpus: str | None = None) -> Selection:
    """How many clips an export takes, per split and corpus, and how many it leaves out, per reason."""
    rows = _rows(con, f"""SELECT excluded, hf_split, corpus, language, count(*) AS clips,
                                 sum(duration_s) AS seconds
                          FROM ({clips_sql(corpus)}) GROUP BY ALL""")
    selection = Selection()
    languages = set()
    for r in rows:
        selection.considered += r["clips"]
        if r["excluded"]:
            selection.excluded[r["excluded"]] = selection.excluded.get(r["excluded"], 0) + r["clips"]
            continue
        selection.exported += r["clips"]
        selection.audio_hours += (r["seconds"] or 0.0) / 3600
        selection.splits[r["hf_split"]] = selection.splits.get(r["hf_split"], 0) + r["clips"]
        selection.corpora[r["corpus"]] = selection.corpora.get(r["corpus"], 0) + r["clips"]
        languages.add(r["language"])
    selection.languages = sorted(lang for lang in languages if lang)
    selection.excluded = {k: selection.excluded[k] for k in EXCLUSIONS if k in selection.excluded}
    return selection


def publishable_batches(con, fmt: str, corpus: str | None = None, batch_rows: int = 4_096):
    """The exported clips as Arrow record batches, in the order the format writes them (parler: by split;
    speechcraft: by corpus; lhotse: by file), spans of one file next to each other."""
    order = {"parler-tts": "hf_split, ", "speechcraft": "corpus, ", "lhotse": ""}[fmt]
    sql = (f"SELECT * EXCLUDE (excluded, flags) FROM ({clips_sql(corpus)}) WHERE excluded IS NULL "
           f"ORDER BY {order}audio_path, start_s NULLS FIRST, clip_id")
    check_read_only(con, sql)
    return con.sql(sql).to_arrow_reader(batch_rows)


# -- records -----------------------------------------------------------------------------------------------
def _finite(value):
    return value if not isinstance(value, float) or math.isfinite(value) else None


def _spoken(label: str | None) -> str | None:
    return label.replace("_", " ") if label else None


class ClipAudio:
    """Reads clips, keeping the last file open: the spans of one long file (GigaSpeech) come in a row, each
    read by seeking (exact for Opus, FLAC and WAV), never by decoding the whole file again."""

    def __init__(self):
        self._path, self._file = None, None

    def read(self, path: str, start_s: float | None, end_s: float | None):
        import soundfile as sf

        if path != self._path:
            self.close()
            self._file, self._path = sf.SoundFile(path), path
        f = self._file
        if start_s is None and end_s is None:
            f.seek(0)
            return f.read(dtype="float32", always_2d=True), f.samplerate
        first = int(round((start_s or 0.0) * f.samplerate))
        last = f.frames if end_s is None else int(round(end_s * f.samplerate))
        f.seek(first)
        return f.read(max(0, last - first), dtype="float32", always_2d=True), f.samplerate

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._path, self._file = None, None


def flac_bytes(samples, sample_rate: int) -> bytes:
    import numpy as np
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples, -1.0, 1.0 - 1 / 32768), sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def _file_name(clip_id: str) -> str:
    return re.sub(r"[^\w.-]+", "_", clip_id) + ".flac"


PARLER_FIELDS = [
    ("text", pa.string()), ("text_description", pa.string()),
    ("utterance_pitch_mean", pa.float64()), ("utterance_pitch_std", pa.float64()),
    ("speaking_rate", pa.float64()), ("speaking_rate_unit", pa.string()),
    ("gender", pa.string()), ("pitch", pa.string()), ("speaker_id", pa.string()),
    ("clip_id", pa.string()), ("corpus", pa.string()), ("language", pa.string()), ("age", pa.string()),
    ("emotion", pa.string()), ("energy", pa.string()), ("speed", pa.string()), ("emphasis", pa.string()),
    ("instruction", pa.string()), ("duration", pa.float64()),
]
AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def parler_schema(audio: str) -> pa.Schema:
    fields = [("audio", AUDIO_TYPE), *PARLER_FIELDS]
    if audio == "reference":      # the audio column names the whole file; these say where the clip is in it
        fields += [("start_s", pa.float64()), ("end_s", pa.float64())]
    return pa.schema(fields)


def hf_features(schema: pa.Schema) -> dict:
    """The `datasets` Features of a parler schema: `audio` typed Audio, the rest plain values."""
    names = {pa.string(): "string", pa.float64(): "float64", pa.int64(): "int64"}
    return {f.name: {"_type": "Audio"} if f.name == "audio" else {"dtype": names[f.type], "_type": "Value"}
            for f in schema}


@dataclass
class Records:
    """One batch's output: parquet rows (with their split), or JSON lines, and the clips that fell out."""
    table: pa.Table | None = None
    splits: list[str] = field(default_factory=list)
    lines: list[tuple[str, dict]] = field(default_factory=list)      # (file key, record)
    recordings: dict[str, dict] = field(default_factory=dict)       # lhotse span files: path -> recording
    unreadable: list[str] = field(default_factory=list)
    audio_s: float = 0.0


def parler_records(rows: list[dict], audio: str) -> Records:
    out = Records()
    columns: dict[str, list] = {name: [] for name in parler_schema(audio).names}
    reader = ClipAudio()
    try:
        for r in rows:
            if audio == "embed":
                try:
                    samples, rate = reader.read(r["audio_path"], r["start_s"], r["end_s"])
                except Exception:       # soundfile's errors are RuntimeError, LibsndfileError, OSError
                    out.unreadable.append(r["clip_id"])
                    continue
                columns["audio"].append({"bytes": flac_bytes(samples, rate), "path": _file_name(r["clip_id"])})
            else:
                columns["audio"].append({"bytes": None, "path": r["audio_path"]})
                columns["start_s"].append(r["start_s"])
                columns["end_s"].append(r["end_s"])
            values = {"text": r["transcript"].strip(), "text_description": r["description"],
                      "utterance_pitch_mean": r["pitch_hz"], "utterance_pitch_std": r["pitch_std_hz"],
                      "speaking_rate": r["speech_rate"], "speaking_rate_unit": _rate_unit(r),
                      "gender": r["gender"], "pitch": PITCH_PHRASES.get(r["pitch_label"]),
                      "speaker_id": r["speaker_id"], "clip_id": r["clip_id"], "corpus": r["corpus"],
                      "language": r["language"], "age": r["age_group"], "emotion": r["emotion"],
                      "energy": r["energy_label"], "speed": r["speed_label"], "emphasis": r["emphasis"],
                      "instruction": r["instruction"], "duration": r["duration_s"]}
            for name, value in values.items():
                columns[name].append(_finite(value))
            out.splits.append(r["hf_split"])
            out.audio_s += r["duration_s"] or 0.0
    finally:
        reader.close()
    out.table = pa.table(columns, schema=parler_schema(audio))
    return out


def _rate_unit(r: dict) -> str | None:
    return f"{r['rate_unit']}/s" if r["rate_unit"] else None


def _annotations(r: dict) -> dict:
    """Every SpeechCraft annotation of a clip, as lhotse's `custom` and SpeechCraft's records hold them."""
    return {"clip_id": r["clip_id"], "corpus": r["corpus"], "subset": r["subset"], "split": r["split"],
            "age": r["age_group"], "emotion": r["emotion"], "emotion_caption": r["emotion_caption"],
            "pitch": r["pitch_label"], "pitch_hz": r["pitch_hz"], "pitch_std_hz": r["pitch_std_hz"],
            "energy": r["energy_label"], "energy_db": r["energy_db"],
            "speed": r["speed_label"], "speech_rate": r["speech_rate"], "speech_rate_unit": _rate_unit(r),
            "emphasis": r["emphasis"], "detected_emphasis": r["detected_emphasis"],
            "detected_emphasis_score": r["detected_emphasis_score"], "topic": r["topic"],
            "parent_clip_id": r["parent_clip_id"], "description": r["description"],
            "instruction": r["instruction"], "gender_source": r["gender_source"], "age_source": r["age_source"],
            "transcript_source": r["transcript_source"]}


def span_recording_id(r: dict) -> str:
    return f"{r['corpus']}/{Path(r['audio_path']).stem}"


def lhotse_records(rows: list[dict]) -> Records:
    """A Recording per audio file (a whole-file clip's from what ingest measured; a long file's from its
    header, once), a SupervisionSegment per clip, in lhotse's manifest schema (lhotse is not imported)."""
    import soundfile as sf

    out = Records()
    for r in rows:
        channels = list(range(r["channels"] or 1))
        if r["start_s"] is None and r["end_s"] is None:
            num_samples = int(round(r["duration_s"] * r["sample_rate"]))
            recording_id, start, duration = r["clip_id"], 0.0, num_samples / r["sample_rate"]
            out.lines.append(("recordings", {
                "id": recording_id, "sources": [{"type": "file", "channels": channels, "source": r["audio_path"]}],
                "sampling_rate": r["sample_rate"], "num_samples": num_samples, "duration": duration,
                "channel_ids": channels}))
        else:
            if r["audio_path"] not in out.recordings:
                try:
                    info = sf.info(r["audio_path"])
                except Exception:
                    out.recordings[r["audio_path"]] = None
                else:
                    file_channels = list(range(info.channels))
                    out.recordings[r["audio_path"]] = {
                        "id": span_recording_id(r),
                        "sources": [{"type": "file", "channels": file_channels, "source": r["audio_path"]}],
                        "sampling_rate": info.samplerate, "num_samples": info.frames,
                        "duration": info.frames / info.samplerate, "channel_ids": file_channels}
            if out.recordings[r["audio_path"]] is None:
                out.unreadable.append(r["clip_id"])
                continue
            recording_id = out.recordings[r["audio_path"]]["id"]
            start = r["start_s"] or 0.0
            duration = (r["end_s"] - start) if r["end_s"] is not None else r["duration_s"]
        supervision = {"id": r["clip_id"], "recording_id": recording_id, "start": start, "duration": duration,
                       "channel": channels[0] if len(channels) == 1 else channels,
                       "text": r["transcript"].strip(), "language": r["language"], "speaker": r["speaker_id"],
                       "gender": r["gender"],
                       "custom": {k: _finite(v) for k, v in _annotations(r).items() if v is not None},
                       "_audio_path": r["audio_path"]}
        out.lines.append(("supervisions", {k: v for k, v in supervision.items() if v is not None}))
        out.audio_s += r["duration_s"] or 0.0
    return out


def speechcraft_labels(r: dict) -> str:
    """SpeechCraft's tab-separated label line: what its generator was given, transcript last."""
    parts = [("age", _spoken(r["age_group"])), ("gender", r["gender"]), ("pitch", r["pitch_label"]),
             ("volume", r["energy_label"]), ("speed", r["speed_label"]), ("emotion", r["emotion"]),
             ("emphasis", r["emphasis"]), ("topic", r["topic"]), ("transcription", r["transcript"].strip())]
    return "\t".join(f"{key}:{value}" for key, value in parts if value)


def speechcraft_records(rows: list[dict]) -> Records:
    out = Records()
    for r in rows:
        record = {"key": r["clip_id"], "corpus": r["corpus"], "language": r["language"],
                  "speaker_id": r["speaker_id"], "audio_path": r["audio_path"], "start_s": r["start_s"],
                  "end_s": r["end_s"], "duration": r["duration_s"], "transcription": r["transcript"].strip(),
                  "gender": r["gender"], "age": r["age_group"], "pitch": r["pitch_label"],
                  "volume": r["energy_label"], "speed": r["speed_label"], "emotion": r["emotion"],
                  "emphasis": r["emphasis"], "topic": r["topic"], "labels": speechcraft_labels(r),
                  "description": r["description"], "instruction": r["instruction"],
                  "annotations": {k: _finite(v) for k, v in _annotations(r).items()}}
        out.lines.append((r["corpus"], {k: _finite(v) for k, v in record.items()}))
        out.audio_s += r["duration_s"] or 0.0
    return out


@task(name="export-batch", task_run_name="export-{fmt}-batch-{batch_number}", cache_policy=NO_CACHE)
def build_records(fmt: str, batch: pa.RecordBatch, audio: str = "embed", batch_number: int = 0) -> Records:
    """One batch of exported clips as the format's records (parler with embedded audio: decoded, span cut,
    FLAC-encoded here)."""
    rows = batch.to_pylist()
    if fmt == "parler-tts":
        return parler_records(rows, audio)
    if fmt == "lhotse":
        return lhotse_records(rows)
    return speechcraft_records(rows)


# -- writing ---------------------------------------------------------------------------------------------------
def _json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, allow_nan=False, default=str)


class Export:
    """One export into a staging folder of OUT; `publish` moves it into place and deletes the stale files."""

    def __init__(self, target: Target, fmt: str, audio: str = "embed", rows_per_shard: int | None = None):
        self.target, self.fmt, self.audio = target, fmt, audio
        self.staging = f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        self.rows_per_shard = rows_per_shard or ROWS_PER_SHARD[audio]
        self.files: list[str] = []              # relative to OUT, as published
        self.written = 0
        self.audio_s = 0.0
        self.unreadable: list[str] = []
        self.splits: Counter = Counter()
        self.split_bytes: Counter = Counter()         # Arrow bytes per split: the card's num_bytes
        self.corpora: Counter = Counter()
        self._shards: list[tuple[str, int, int]] = []     # (split, index, rows)
        self._writer: pq.ParquetWriter | None = None
        self._streams: dict[str, object] = {}
        self._recording_ids: dict[str, str] = {}          # lhotse span files: path -> recording id
        self._used_ids: set[str] = set()
        target.make_dirs(self.staging)

    def _stage(self, relative: str) -> str:
        return f"{self.staging}/{relative}"

    # parquet ------------------------------------------------------------------------------------------
    def _shard_name(self, split: str, index: int) -> str:
        return f"data/{split}-{index:05d}.parquet"        # staged; `-of-N` is added on publish

    def _next_shard(self, split: str) -> None:
        self._close_shard()
        index = sum(s == split for s, _, _ in self._shards)
        self._shards.append((split, index, 0))
        schema = parler_schema(self.audio).with_metadata(
            {"huggingface": json.dumps({"info": {"features": hf_features(parler_schema(self.audio))}})})
        self.target.make_dirs(self._stage("data"))
        self._writer = pq.ParquetWriter(self.target.path(self._stage(self._shard_name(split, index))), schema,
                                        filesystem=self.target.fs)

    def _close_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _write_parquet(self, records: Records) -> None:
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
        self.corpora.update(table.column("corpus").to_pylist())

    # json lines ---------------------------------------------------------------------------------------
    def _line_file(self, key: str) -> str:
        if self.fmt == "lhotse":
            return f"{key}.jsonl.gz"
        return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', key)}.jsonl"

    def _stream(self, key: str):
        if key not in self._streams:
            if self.fmt == "speechcraft":      # one corpus at a time (the rows come by corpus)
                for other in list(self._streams):
                    self._streams.pop(other).close()
            relative = self._line_file(key)
            if relative in self.files:
                raise RuntimeError(f"{relative} was already written by this export")
            self.files.append(relative)
            self._streams[key] = self.target.open(self._stage(relative), gzip=relative.endswith(".gz"))
        return self._streams[key]

    def _write_lines(self, records: Records) -> None:
        if self.fmt == "lhotse":
            self._stream("recordings"), self._stream("supervisions")   # both files exist, in this order
            for path, recording in records.recordings.items():
                if recording is None or path in self._recording_ids:
                    continue
                recording_id, n = recording["id"], 1
                while recording_id in self._used_ids:      # two long files with one name in a corpus
                    n += 1
                    recording_id = f"{recording['id']}-{n}"
                self._used_ids.add(recording_id)
                self._recording_ids[path] = recording_id
                self._stream("recordings").write((_json_line({**recording, "id": recording_id}) + "\n").encode())
        chunks: dict[str, list[str]] = {}
        for key, record in records.lines:
            if key == "supervisions":
                path = record.pop("_audio_path")
                if path in self._recording_ids:
                    record["recording_id"] = self._recording_ids[path]
                self.corpora[record["custom"]["corpus"]] += 1
            elif key != "recordings":
                self.corpora[key] += 1
            chunks.setdefault(key, []).append(_json_line(record))
        for key, lines in chunks.items():
            self._stream(key).write(("\n".join(lines) + "\n").encode("utf-8"))

    def write(self, records: Records) -> int:
        """Append one batch; returns the clips it added."""
        self.unreadable += records.unreadable
        if self.fmt == "parler-tts":
            self._write_parquet(records)
            added = records.table.num_rows
        else:
            self._write_lines(records)
            added = sum(key != "recordings" for key, _ in records.lines)
        self.written += added
        self.audio_s += records.audio_s
        return added

    def close(self) -> None:
        self._close_shard()
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()

    def abort(self) -> None:
        """Drop what was staged: the previous export stays as it was."""
        try:
            self.close()
        finally:
            self.target.delete_dir(self.staging)

    # publishing -----------------------------------------------------------------------------------------
    def shard_files(self) -> list[tuple[str, str, str]]:
        """(split, staged name, published name) of each parquet shard: data/<split>-<i>-of-<n>.parquet."""
        totals = Counter(split for split, _, _ in self._shards)
        return [(split, self._shard_name(split, index), f"data/{split}-{index:05d}-of-{totals[split]:05d}.parquet")
                for split, index, _ in self._shards]

    def publish(self, manifest: dict) -> dict:
        """Write README (parler) and export.json, move everything into OUT, delete the previous export's
        files this one did not replace, and the staging folder. Returns the manifest written."""
        self.close()
        moves = [(staged, dest) for _, staged, dest in self.shard_files()] + [(f, f) for f in self.files]
        if self.fmt == "parler-tts":
            self.target.write_text(self._stage("README.md"), dataset_card(self, manifest))
            moves.append(("README.md", "README.md"))
        files = [dest for _, dest in moves] + [MANIFEST]
        manifest = {**manifest, "files": files}
        self.target.write_text(self._stage(MANIFEST), json.dumps(manifest, indent=1, ensure_ascii=False,
                                                                 default=str) + "\n")
        previous = read_manifest(self.target) or {}
        for source, dest in moves + [(MANIFEST, MANIFEST)]:       # the manifest last: it marks a whole export
            self.target.move(self._stage(source), dest)
        stale = set(previous.get("files") or [])
        stale |= {f"data/{info.base_name}" for info in self.target.listing("data") if _SHARD.match(info.base_name)}
        for relative in sorted(stale - set(files)):
            if not relative.startswith(("/", "..")) and ".." not in relative.split("/"):
                self.target.delete(relative)
        for info in self.target.listing():
            if info.type == pafs.FileType.Directory and info.base_name.startswith(STAGING_PREFIX):
                self.target.delete_dir(info.base_name)        # this one, and any an interrupted export left
        return manifest


def dataset_card(export: Export, manifest: dict) -> str:
    """README.md of a parler export: the YAML header `datasets.load_dataset(OUT)` reads (splits and their
    files, features with `audio` typed Audio), then what the columns mean."""
    import yaml

    splits: dict[str, list[str]] = {}
    for split, _, dest in export.shard_files():
        splits.setdefault(split, []).append(dest)
    order = sorted(splits, key=lambda s: (["train", "validation", "test"] + [s]).index(s))
    schema = parler_schema(export.audio)
    header = {
        # `description` names this export: `datasets` keys its cache on the card, not on the files' times,
        # so a re-export into the same folder must change the card or load_dataset would serve the old rows
        "configs": [{"config_name": "default", "default": True,
                     "description": f"SpeechCraft lakehouse export {manifest['export_run_id']} "
                                    f"({manifest['created_at']})",
                     "data_files": [{"split": s, "path": splits[s]} for s in order]}],
        "dataset_info": {"features": [{"name": f.name, "dtype": "audio" if f.name == "audio" else
                                       hf_features(schema)[f.name]["dtype"]} for f in schema],
                         "splits": [{"name": s, "num_bytes": export.split_bytes[s], "num_examples": export.splits[s]}
                                    for s in order]},
        "language": sorted({lang for lang in manifest.get("languages", []) if lang}),
        "task_categories": ["text-to-speech"],
        "pretty_name": "SpeechCraft lakehouse export",
    }
    check = manifest["check"]
    audio_note = ("`audio` holds each clip's own audio as FLAC bytes (a GigaSpeech segment cut out of its long "
                  "file), so the dataset is self-contained." if export.audio == "embed" else
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
| `speaking_rate`, `speaking_rate_unit` | speech units per second of speech: syllables/s (English), characters/s (Chinese) |
| `pitch` | the pitch label (binned within gender) as dataspeech words: low pitch / moderate pitch / high pitch |
| `gender`, `age`, `emotion` | male/female; child, teenager, young_adult, middle_aged, elderly; one of seven emotions or null |
| `energy`, `speed` | low/normal/high volume; slow/normal/fast |
| `emphasis` | the stressed word of a regenerated clip (null elsewhere) |
| `speaker_id`, `clip_id`, `corpus`, `language`, `duration` | provenance; duration in seconds |

Splits: the corpus's own (`dev` is named `validation`); clips without one are in `train`.

Clips left out (the first rule each failed):

| reason | clips | why |
|---|---|---|
{excluded or '| none | 0 | |'}
"""
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n" + body


def make_manifest(fmt: str, audio: str, lake_uri: str, corpus: str | None, gate: dict, selection: Selection,
                  export: Export, run_id: str) -> dict:
    excluded = dict(selection.excluded)
    if export.unreadable:
        excluded["audio_unreadable"] = len(export.unreadable)
    return {
        "format": fmt, "audio": audio if fmt == "parler-tts" else None,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "lake": lake_uri, "corpus": corpus, "export_run_id": run_id,
        "check": {"run_id": gate["run_id"], "started_at": str(gate["started_at"]),
                  "checked_at": str(gate["checked_at"]), "expectations": gate["expectations"],
                  "failed_warnings": gate["failed_warnings"]},
        "clips": {"considered": selection.considered, "exported": export.written,
                  "excluded": sum(excluded.values())},
        "excluded": excluded, "splits": dict(export.splits) if fmt == "parler-tts" else None,
        "corpora": dict(sorted(export.corpora.items())), "languages": selection.languages,
        "audio_hours": round(export.audio_s / 3600, 6),
        "unreadable_clips": export.unreadable[:100],
    }


def export_is_current(out: str, lake_uri: str | None = None, fmt: str | None = None, audio: str | None = None,
                      corpus: str | None = None) -> bool:
    """Whether OUT holds a whole export of this lakehouse made under the check that is still the latest and
    still valid (no writing run since it), with the same format (and audio mode, corpus) when given."""
    try:
        target = resolve_target(out)
    except (ExportTargetError, OSError, pa.ArrowException):
        return False
    manifest = read_manifest(target)
    uri = resolve_lake_uri(lake_uri)
    if not manifest or manifest.get("lake") != uri:
        return False
    if (fmt and manifest.get("format") != fmt) or (audio and manifest.get("format") == "parler-tts"
                                                    and manifest.get("audio") != audio):
        return False
    if corpus is not None and manifest.get("corpus") != corpus:
        return False
    if not all(target.exists(f) for f in manifest.get("files") or []):
        return False
    con = connect(uri)
    try:
        gate = quality_gate(con)
    except ExportBlockedError:
        return False
    finally:
        con.close()
    return gate["run_id"] == (manifest.get("check") or {}).get("run_id")

