"""Exports: only the clips the quality gate lets through, in the three formats, each loaded back with the
library that trains on it (datasets, lhotse) or read as SpeechCraft's JSON; the gate refuses to publish a
lakehouse whose latest check failed, is missing, or is older than the data."""
from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest

from speechcraft.flows.annotate import NothingIngestedError
from speechcraft.flows.export import AUDIO_MODES, EXPORT_FORMATS, export_flow, export_is_current
from speechcraft.tasks.exports import AUDIO_SOURCES, ExportBlockedError, ExportTargetError, NothingToExportError
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.runs import finish_run, start_run
from speechcraft.vocabulary import PARLER_BINS, PARLER_PITCH_LABELS
from speechcraft.warehouse.sql import query

# What Parler-TTS v1's training reads (dataspeech's columns, labels.md), then SpeechCraft's own beside them
PARLER_TTS_COLUMNS = {"utterance_pitch_mean", "utterance_pitch_std", "snr", "c50", "speech_duration", "speaking_rate",
                      "pitch", "noise", "reverberation", "speech_monotony", "text_description", "text", "audio",
                      "gender"}
PARLER_COLUMNS = PARLER_TTS_COLUMNS | {
    "speaker_id", "clip_id", "language", "age", "emotion", "pitch_label", "energy", "speed", "noise_label",
    "reverberation_label", "monotony_label", "emphasis", "instruction", "duration", "speech_rate", "speech_rate_unit",
    "corpus", "f0_std_semitones"}

# What an export should take, written independently of tasks/exports.py: measured, no hard acoustic flag,
# a transcript, gender and the three prosody labels, a published description and instruction, and not a copy
# of another clip (the fixtures hold three: a planted re-encoded copy, and two the corpora share).
PUBLISHABLE = """
    SELECT a.* FROM clip_annotations a
    WHERE a.clip_id IN (SELECT clip_id FROM acoustics)
      AND a.clip_id NOT IN (SELECT clip_id FROM duplicates)
      AND NOT list_has_any(a.flags, ['no_speech', 'too_short'])
      AND trim(coalesce(a.transcript, '')) <> ''
      AND a.gender IS NOT NULL AND a.pitch_label IS NOT NULL AND a.energy_label IS NOT NULL
      AND a.speed_label IS NOT NULL AND a.description IS NOT NULL AND a.instruction IS NOT NULL"""


def publishable(lake: str) -> list[dict]:
    return query(f"SELECT clip_id, corpus, audio_path, start_s, end_s, duration_s, snr_db FROM ({PUBLISHABLE})",
                 lake).to_pylist()


def copy_lake(source: str, tmp_path: Path) -> str:
    lake = str(tmp_path / "lake")
    shutil.copytree(source, lake)
    return lake


@pytest.fixture(scope="module")
def export_lake(checked_lake, tmp_path_factory) -> str:
    """A copy of the checked lakehouse: exports add `runs` rows, and checked_lake is shared with other tests."""
    return copy_lake(checked_lake, tmp_path_factory.mktemp("export-lake"))


@pytest.fixture(scope="module")
def parler_embed(export_lake, prefect_harness, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports") / "parler"
    result = export_flow("parler-tts", str(out), lake_uri=export_lake, show_progress=False)
    return out, result


def load(out: Path, cache: Path):
    """datasets.load_dataset on the export, with a cache of the test's own (never the user's)."""
    from datasets import load_dataset

    return load_dataset(str(out), cache_dir=str(cache))


def test_parler_export_loads_with_datasets_and_holds_only_publishable_clips(parler_embed, export_lake, tmp_path):
    from datasets import Audio
    import soundfile as sf

    out, result = parler_embed
    expected = {r["clip_id"]: r for r in publishable(export_lake)}
    total = query("SELECT count(*) AS n FROM clips", export_lake).to_pylist()[0]["n"]
    assert result["clips"] == len(expected) > 0
    assert result["clips"] + sum(result["excluded"].values()) == total
    assert result["excluded"].get("no_speech", 0) > 0 and "stale_texts" not in result["excluded"]

    dataset = load(out, tmp_path / "hf")
    assert set(dataset) == {"train", "validation", "test"}          # the corpora's splits, dev as validation
    rows = [row for split in dataset.values() for row in split.cast_column("audio", Audio(decode=False))]
    assert PARLER_COLUMNS <= set(dataset["train"].column_names)
    assert dataset["train"].features["audio"] == Audio()
    assert sorted(r["clip_id"] for r in rows) == sorted(expected)
    assert all(r["text_description"].strip() and r["text"].strip() and r["instruction"] for r in rows)
    for column, attribute in (("speaking_rate", "speaking_rate"), ("noise", "noise"),
                              ("reverberation", "reverberation"), ("speech_monotony", "speech_monotony")):
        assert {r[column] for r in rows} <= set(PARLER_BINS[attribute][1]), column     # Parler-TTS's own words
    assert {r["pitch"] for r in rows} <= set(PARLER_PITCH_LABELS) and all(r["pitch"] for r in rows)
    assert all(r["snr"] is not None and r["c50"] is not None and r["speech_duration"] > 0 for r in rows)
    assert {r["gender"] for r in rows} <= {"male", "female"}

    # embedded audio: FLAC bytes of the clip itself, a GigaSpeech segment cut out of its long Opus file
    span = next(r for r in rows if r["corpus"] == "gigaspeech")
    samples, rate = sf.read(io.BytesIO(span["audio"]["bytes"]))
    clip = expected[span["clip_id"]]
    assert clip["start_s"] is not None and clip["start_s"] > 0
    assert abs(len(samples) / rate - clip["duration_s"]) <= 1 / rate
    original, file_rate = sf.read(clip["audio_path"], start=round(clip["start_s"] * rate),
                                  stop=round(clip["end_s"] * rate))
    assert file_rate == rate and abs(samples - original).max() < 1e-3
    whole = next(r for r in rows if r["corpus"] == "libritts-r")
    samples, rate = sf.read(io.BytesIO(whole["audio"]["bytes"]))
    assert abs(len(samples) / rate - expected[whole["clip_id"]]["duration_s"]) <= 1 / rate

    manifest = json.loads((out / "export.json").read_text())
    assert manifest["format"] == "parler-tts" and manifest["clips"]["exported"] == len(expected)
    assert manifest["check"]["run_id"] == query("SELECT DISTINCT run_id FROM latest_quality",
                                                export_lake).to_pylist()[0]["run_id"]
    assert manifest["excluded"] == result["excluded"]
    assert export_is_current(str(out), export_lake)
    run = query(f"SELECT flow, status, n_new FROM runs WHERE run_id = '{manifest['export_run_id']}'",
                export_lake).to_pylist()
    assert run == [{"flow": "export", "status": "completed", "n_new": len(expected)}]


def test_reference_export_and_a_rerun_replace_the_files_without_duplicates(export_lake, prefect_harness, tmp_path):
    from datasets import Audio
    import soundfile as sf

    out = tmp_path / "parler-ref"
    first = export_flow("parler-tts", str(out), lake_uri=export_lake, audio="reference", rows_per_shard=40,
                        show_progress=False)
    before = load(out, tmp_path / "hf")
    (out / "notes.txt").write_text("mine")                        # not the export's: must survive
    shards_before = sorted(p.name for p in (out / "data").iterdir())
    second = export_flow("parler-tts", str(out), lake_uri=export_lake, audio="reference", rows_per_shard=1000,
                         show_progress=False)
    shards_after = sorted(p.name for p in (out / "data").iterdir())
    assert len(shards_before) > len(shards_after) == 3            # 40 rows a shard, then one shard per split
    assert shards_after == sorted(f.split("/")[1] for f in second["files"] if f.startswith("data/"))
    assert (out / "notes.txt").read_text() == "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]

    dataset = load(out, tmp_path / "hf")          # the same cache: a re-export is never served from the old one
    assert dataset["train"].cache_files != before["train"].cache_files
    assert sum(d.num_rows for d in dataset.values()) == sum(d.num_rows for d in before.values())
    rows = [row for split in dataset.values() for row in split.cast_column("audio", Audio(decode=False))]
    ids = [r["clip_id"] for r in rows]
    assert len(ids) == len(set(ids)) == first["clips"] == second["clips"] == len(publishable(export_lake))
    assert {"start_s", "end_s"} <= set(dataset["train"].column_names)
    span = next(r for r in rows if r["corpus"] == "gigaspeech")
    assert span["audio"]["bytes"] is None and span["audio"]["path"].endswith(".opus")
    info = sf.info(span["audio"]["path"])
    assert span["end_s"] - span["start_s"] == pytest.approx(span["duration"]) and span["end_s"] <= info.duration
    whole = next(r for r in rows if r["corpus"] == "aishell3")
    assert whole["start_s"] is None and Path(whole["audio"]["path"]).is_file()


def test_lhotse_manifests_load_into_cuts_with_spans_annotations_and_audio(export_lake, prefect_harness, tmp_path):
    pytest.importorskip("urllib3")                 # lhotse imports it without declaring it (docs/corpora.md §0)
    lhotse = pytest.importorskip("lhotse")
    import soundfile as sf

    out = tmp_path / "lhotse"
    result = export_flow("lhotse", str(out), lake_uri=export_lake, show_progress=False)
    expected = {r["clip_id"]: r for r in publishable(export_lake)}
    assert result["clips"] == len(expected)
    recordings = lhotse.load_manifest(out / "recordings.jsonl.gz")
    supervisions = lhotse.load_manifest(out / "supervisions.jsonl.gz")
    assert isinstance(recordings, lhotse.RecordingSet) and isinstance(supervisions, lhotse.SupervisionSet)
    assert len(supervisions) == len(expected)
    assert len(recordings) == len({r["audio_path"] for r in expected.values()})   # a long file once

    cuts = lhotse.CutSet.from_manifests(recordings=recordings, supervisions=supervisions)
    assert len(cuts) == len(recordings)
    cuts = cuts.trim_to_supervisions().to_eager()
    assert sorted(c.supervisions[0].id for c in cuts) == sorted(expected)

    span = next(c for c in cuts if c.supervisions[0].custom["corpus"] == "gigaspeech")
    clip = expected[span.supervisions[0].id]
    assert span.start == pytest.approx(clip["start_s"]) and span.duration == pytest.approx(clip["duration_s"])
    info = sf.info(clip["audio_path"])
    assert span.recording.num_samples == info.frames and span.recording.sampling_rate == info.samplerate
    gigaspeech_files = {r["audio_path"] for r in expected.values() if r["corpus"] == "gigaspeech"}
    assert len([r for r in recordings if r.sources[0].source in gigaspeech_files]) == len(gigaspeech_files)
    audio = span.load_audio()
    assert abs(audio.shape[1] - clip["duration_s"] * span.sampling_rate) <= 1

    custom = span.supervisions[0].custom
    assert {"pitch", "pitch_hz", "energy", "energy_db", "speed", "speech_rate", "age", "description",
            "instruction", "clip_id", "corpus"} <= set(custom)
    assert custom["pitch"] in ("low", "normal", "high") and custom["description"]
    supervision = span.supervisions[0]
    assert supervision.text and supervision.language == "en" and supervision.gender in ("male", "female")

    whole = next(c for c in cuts if c.supervisions[0].custom["corpus"] == "aishell3")
    assert whole.start == 0 and whole.supervisions[0].speaker
    assert abs(whole.load_audio().shape[1] - whole.duration * whole.sampling_rate) <= 1
    with gzip.open(out / "supervisions.jsonl.gz", "rt") as f:     # plain JSON lines, one per clip
        assert len(f.read().splitlines()) == len(expected)


def test_speechcraft_records_one_file_per_corpus(export_lake, prefect_harness, tmp_path):
    out = tmp_path / "speechcraft"
    result = export_flow("speechcraft", out.as_uri(), lake_uri=export_lake, show_progress=False)   # a URI: pyarrow.fs
    expected = publishable(export_lake)
    corpora = sorted({r["corpus"] for r in expected})
    assert sorted(p.name for p in out.glob("*.jsonl")) == sorted(f"{c}.jsonl" for c in corpora)
    records = [json.loads(line) for c in corpora for line in (out / f"{c}.jsonl").read_text().splitlines()]
    assert len(records) == result["clips"] == len(expected)
    assert sorted(r["key"] for r in records) == sorted(r["clip_id"] for r in expected)
    for record in records:
        assert {"transcription", "pitch", "volume", "speed", "gender", "age", "emotion", "emphasis",
                "description", "instruction", "audio_path", "labels"} <= set(record)
        assert record["labels"].startswith(("age:", "gender:"))
        assert f"pitch:{record['pitch']}\tvolume:{record['volume']}\tspeed:{record['speed']}" in record["labels"]
        assert record["labels"].endswith(f"transcription:{record['transcription']}")
    span = next(r for r in records if r["corpus"] == "gigaspeech")
    assert span["start_s"] is not None and span["topic"] and f"topic:{span['topic']}" in span["labels"]


def test_snr_and_quality_floors_leave_clips_out_counted_per_reason(export_lake, prefect_harness, tmp_path):
    """--min-snr leaves out the clips under it (and only those), counted as low_snr in export.json; a floor no
    clip's quality was measured against (the quality stage is opt-in) leaves every clip out as low_quality."""
    expected = publishable(export_lake)
    snrs = sorted(r["snr_db"] for r in expected)
    floor = snrs[len(snrs) // 2]                        # about half the clips are under it
    out = tmp_path / "floors"
    result = export_flow("speechcraft", str(out), lake_uri=export_lake, show_progress=False,
                         filters={"min_snr": floor})
    kept = sorted(r["clip_id"] for r in expected if r["snr_db"] >= floor)
    assert result["clips"] == len(kept) and result["excluded"]["low_snr"] == len(expected) - len(kept) > 0
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["filters"] == {"min_snr": floor} and manifest["excluded"]["low_snr"] == len(expected) - len(kept)
    assert export_is_current(str(out), export_lake, "speechcraft", filters={"min_snr": floor})
    assert not export_is_current(str(out), export_lake, "speechcraft")      # another request: made again
    with pytest.raises(NothingToExportError, match="low_quality"):
        export_flow("speechcraft", str(tmp_path / "none"), lake_uri=export_lake, show_progress=False,
                    filters={"min_quality": 3.0})


def test_a_critical_failure_blocks_every_export(checked_lake, prefect_harness, tmp_path):
    from speechcraft.flows.check import check_flow

    lake_uri = copy_lake(checked_lake, tmp_path)
    lake = Lakehouse(lake_uri)
    label = lake.read("labels").to_pylist()[0]
    lake.upsert("labels", [{**label, "pitch_label": "very_high"}])
    assert check_flow(lake_uri)["critical_failures"]
    runs = lake.count("runs")
    for fmt in EXPORT_FORMATS:
        with pytest.raises(ExportBlockedError) as blocked:
            export_flow(fmt, str(tmp_path / fmt), lake_uri=lake_uri, show_progress=False)
        assert "speechcraft check" in str(blocked.value)
        assert "labels.expect_column_values_to_be_in_set(pitch_label)" in str(blocked.value)
        assert not (tmp_path / fmt).exists()
    assert lake.count("runs") == runs                  # refused before any work: no run, no files


def test_no_check_a_stale_check_or_a_partial_check_blocks(described_lake, checked_lake, prefect_harness, tmp_path):
    from speechcraft.flows.check import check_flow

    unchecked = copy_lake(described_lake, tmp_path / "a")
    with pytest.raises(ExportBlockedError, match="no quality check has run.*speechcraft check"):
        export_flow("speechcraft", str(tmp_path / "out"), lake_uri=unchecked, show_progress=False)

    lake_uri = copy_lake(checked_lake, tmp_path / "b")
    lake = Lakehouse(lake_uri)
    nothing_new = {"n_new": 0, "n_updated": 0, "n_unchanged": 13}
    finish_run(lake, start_run(lake, "ingest", "aishell3", {}), "completed", nothing_new)   # changed nothing
    assert export_flow("speechcraft", str(tmp_path / "out"), lake_uri=lake_uri, show_progress=False)["clips"]
    assert export_is_current(str(tmp_path / "out"), lake_uri)
    finish_run(lake, start_run(lake, "ingest", "aishell3", {}), "completed", {"n_new": 2})  # new data since the check
    with pytest.raises(ExportBlockedError, match="changed after the latest check.*ingest aishell3.*speechcraft check"):
        export_flow("speechcraft", str(tmp_path / "out"), lake_uri=lake_uri, show_progress=False)
    assert not export_is_current(str(tmp_path / "out"), lake_uri)

    check_flow(lake_uri, suites=["clips"])
    with pytest.raises(ExportBlockedError, match="ran only the suite.*clips"):
        export_flow("speechcraft", str(tmp_path / "out"), lake_uri=lake_uri, show_progress=False)


def test_stale_texts_and_unreadable_audio_are_left_out_and_counted(checked_lake, prefect_harness, tmp_path):
    """A relabel without a describe (bins freeze writes no run) makes a clip's published texts wrong, and audio
    can vanish after ingest: those clips are left out under their reason, the others go (the run is partial)."""
    import pyarrow.parquet as pq

    lake_uri = copy_lake(checked_lake, tmp_path)
    lake = Lakehouse(lake_uri)
    relabelled, gone = [c for c in publishable(lake_uri) if c["corpus"] == "libritts-r"][:2]
    label = lake.read("labels", where=f"clip_id = '{relabelled['clip_id']}'").to_pylist()[0]
    lake.upsert("labels", [{**label, "speed_label": "fast" if label["speed_label"] != "fast" else "slow"}])
    clip = lake.read("clips", where=f"clip_id = '{gone['clip_id']}'").to_pylist()[0]
    lake.upsert("clips", [{**clip, "audio_path": str(tmp_path / "moved-away.wav")}])

    out = tmp_path / "out"
    result = export_flow("parler-tts", str(out), lake_uri=lake_uri, corpus="libritts-r", show_progress=False)
    assert result["excluded"]["stale_texts"] == 1 and result["excluded"]["audio_unreadable"] == 1
    assert result["corpora"] == {"libritts-r": result["clips"]}                       # --corpus
    assert result["run"]["status"] == "partial" and "could not be read" in result["run"]["error"]
    ids = pq.read_table(out / "data", columns=["clip_id"]).column("clip_id").to_pylist()
    assert len(ids) == result["clips"] == sum(c["corpus"] == "libritts-r" for c in publishable(lake_uri)) - 2
    assert relabelled["clip_id"] not in ids and gone["clip_id"] not in ids
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["unreadable_clips"] == [gone["clip_id"]] and manifest["excluded"] == result["excluded"]


def test_bad_export_requests_are_refused_with_a_reason(export_lake, prefect_harness, tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'csv'.*parler-tts, lhotse, speechcraft"):
        export_flow("csv", str(tmp_path / "out"), lake_uri=export_lake, show_progress=False)
    with pytest.raises(ValueError, match="unknown audio mode"):
        export_flow("parler-tts", str(tmp_path / "out"), lake_uri=export_lake, audio="copy", show_progress=False)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ExportTargetError, match="is a file"):
        export_flow("lhotse", str(a_file), lake_uri=export_lake, show_progress=False)
    with pytest.raises(NothingToExportError, match="no clip of corpus 'nope' qualifies"):
        export_flow("lhotse", str(tmp_path / "out"), lake_uri=export_lake, corpus="nope", show_progress=False)
    assert not (tmp_path / "out").exists()
    with pytest.raises(NothingIngestedError, match="nothing is ingested"):
        export_flow("lhotse", str(tmp_path / "out"), lake_uri=str(tmp_path / "empty"), show_progress=False)


def test_an_s3_target_uses_the_lakehouse_s3_settings(monkeypatch):
    """OUT on S3 (or MinIO) reaches the store the lakehouse does: the endpoint and region of its AWS settings."""
    import pyarrow.fs as pafs

    from speechcraft.tasks.exports import export_filesystem

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio.local:9000")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    fs, root = export_filesystem("s3://bucket/exports/parler")
    assert root == "bucket/exports/parler"
    assert fs.equals(pafs.S3FileSystem(endpoint_override="minio.local:9000", scheme="http", region="eu-west-1"))
    fs, root = export_filesystem("file:///tmp/somewhere")
    assert isinstance(fs, pafs.LocalFileSystem) and root == "/tmp/somewhere"


def test_a_new_format_is_one_class_and_one_registry_line(export_lake, prefect_harness, tmp_path, monkeypatch):
    """The format interface is all a format needs: a toy one, registered from here, gets the gate, the
    selection, the staging and the manifest, and is offered where the real ones are."""
    from speechcraft.tasks.exports import formats
    from speechcraft.tasks.exports.formats.base import ExportFormat
    from speechcraft.tasks.exports.formats.jsonl import JsonLinesFiles, LineRecords

    class Transcripts(ExportFormat):
        name = "transcripts"

        def records(self, rows, audio):
            out = LineRecords()
            for r in rows:
                out.lines.append(("transcripts", {"id": r["clip_id"], "text": r["transcript"].strip()}))
                out.took(r)
            return out

        def writer(self, staged, audio, rows_per_shard):
            return JsonLinesFiles(staged, lambda key: f"{key}.jsonl")

    # what the one registry line in formats/__init__.py does (FORMATS is derived from it at import)
    monkeypatch.setattr(formats, "REGISTERED", (*formats.REGISTERED, Transcripts()))
    monkeypatch.setattr(formats, "FORMATS", tuple(f.name for f in formats.REGISTERED))
    result = export_flow("transcripts", str(tmp_path / "out"), lake_uri=export_lake, show_progress=False)
    lines = [json.loads(line) for line in (tmp_path / "out" / "transcripts.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in lines) == sorted(r["clip_id"] for r in publishable(export_lake))
    manifest = json.loads((tmp_path / "out" / "export.json").read_text())
    assert manifest["files"] == ["transcripts.jsonl", "export.json"] and manifest["audio"] is None
    assert result["clips"] == len(lines) == sum(manifest["corpora"].values())


def test_the_cli_offers_the_registered_formats():
    from speechcraft.cli import build_parser

    export = build_parser()._subparsers._group_actions[0].choices["export"]
    choices = {a.dest: a.choices for a in export._actions}
    assert tuple(choices["format"]) == EXPORT_FORMATS
    assert tuple(choices["audio"]) == AUDIO_MODES
    assert tuple(choices["audio_source"]) == AUDIO_SOURCES
