"""`speechcraft export lhotse OUT`: lhotse manifests, `recordings.jsonl.gz` and `supervisions.jsonl.gz`, in
lhotse's own schema (lhotse is not imported): a Recording per audio file, a SupervisionSegment per clip with
every SpeechCraft annotation in its `custom`. Audio is referenced by path."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..target import Target
from .base import ExportFormat
from .fields import annotations, finite
from .jsonl import JsonLinesFiles, LineRecords, json_line


def span_recording_id(r: dict) -> str:
    return f"{r['corpus']}/{Path(r['audio_path']).stem}"


@dataclass
class LhotseRecords(LineRecords):
    """The batch's lines, and the Recording of each long file its spans come from (None: unreadable), which
    the writer gives an id unique in the export: a long file's spans may fall in several batches."""
    span_recordings: dict[str, dict | None] = field(default_factory=dict)      # audio path -> recording


def lhotse_records(rows: list[dict]) -> LhotseRecords:
    """A Recording per audio file (a whole-file clip's from what ingest measured; a long file's from its
    header, once), a SupervisionSegment per clip."""
    import soundfile as sf

    out = LhotseRecords()
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
            if r["audio_path"] not in out.span_recordings:
                try:
                    info = sf.info(r["audio_path"])
                except Exception:
                    out.span_recordings[r["audio_path"]] = None
                else:
                    file_channels = list(range(info.channels))
                    out.span_recordings[r["audio_path"]] = {
                        "id": span_recording_id(r),
                        "sources": [{"type": "file", "channels": file_channels, "source": r["audio_path"]}],
                        "sampling_rate": info.samplerate, "num_samples": info.frames,
                        "duration": info.frames / info.samplerate, "channel_ids": file_channels}
            if out.span_recordings[r["audio_path"]] is None:
                out.unreadable.append(r["clip_id"])
                continue
            recording_id = out.span_recordings[r["audio_path"]]["id"]
            start = r["start_s"] or 0.0
            duration = (r["end_s"] - start) if r["end_s"] is not None else r["duration_s"]
        supervision = {"id": r["clip_id"], "recording_id": recording_id, "start": start, "duration": duration,
                       "channel": channels[0] if len(channels) == 1 else channels,
                       "text": r["transcript"].strip(), "language": r["language"], "speaker": r["speaker_id"],
                       "gender": r["gender"],
                       "custom": {k: finite(v) for k, v in annotations(r).items() if v is not None},
                       "_audio_path": r["audio_path"]}       # the writer's key to the recording's final id
        out.lines.append(("supervisions", {k: v for k, v in supervision.items() if v is not None}))
        out.took(r)
    return out


class LhotseManifests(JsonLinesFiles):
    """recordings.jsonl.gz and supervisions.jsonl.gz (both written, in this order, even when one is empty);
    each long file's Recording written once, under an id no other file of the export has."""

    def __init__(self, staged: Target):
        super().__init__(staged, lambda key: f"{key}.jsonl.gz")
        self._recording_ids: dict[str, str] = {}        # long file's path -> its recording id
        self._used_ids: set[str] = set()

    def write(self, records: LhotseRecords) -> None:
        self.stream("recordings"), self.stream("supervisions")
        for path, recording in records.span_recordings.items():
            if recording is None or path in self._recording_ids:
                continue
            recording_id, n = recording["id"], 1
            while recording_id in self._used_ids:      # two long files with one name in a corpus
                n += 1
                recording_id = f"{recording['id']}-{n}"
            self._used_ids.add(recording_id)
            self._recording_ids[path] = recording_id
            self.stream("recordings").write((json_line({**recording, "id": recording_id}) + "\n").encode())
        for key, record in records.lines:
            if key == "supervisions":
                path = record.pop("_audio_path")
                if path in self._recording_ids:
                    record["recording_id"] = self._recording_ids[path]
        super().write(records)


class Lhotse(ExportFormat):
    name = "lhotse"
    row_order = ""              # by file: the spans of one long file together

    def records(self, rows: list[dict], audio: str | None) -> LhotseRecords:
        return lhotse_records(rows)

    def writer(self, staged: Target, audio: str | None, rows_per_shard: int | None) -> LhotseManifests:
        return LhotseManifests(staged)
