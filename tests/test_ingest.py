"""Ingesting the fixture corpora through the real flow: every clip the truth lists lands with the right
columns, every bad input lands in rejects with its reason, and re-runs change nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import FIXTURE_CORPORA
from speechcraft.cli import main
from speechcraft.tasks.corpora import READERS, extra_columns
from speechcraft.tasks.corpora.base import CorpusLayoutError
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query

pytestmark = pytest.mark.slow

COMPARED = ["speaker_id", "subset", "split", "language", "transcript", "transcript_raw", "start_s", "end_s",
            "meta_gender", "meta_age_group", "meta_accent", "meta_topic"]
EXTRA_COLUMNS = list(extra_columns())     # every reader's own columns


def _clips_under(lake: str, root: Path) -> dict[str, dict]:
    rows = query(f"SELECT * FROM clips WHERE starts_with(audio_path, '{root}/')", lake).to_pylist()
    return {r["clip_id"]: r for r in rows}


@pytest.mark.parametrize("folder", [f for _, f in FIXTURE_CORPORA])
def test_every_expected_clip_lands_with_its_columns(ingested_lake, corpora, folder):
    _assert_clips_land(ingested_lake, corpora[folder])


@pytest.mark.parametrize("reader,folder", FIXTURE_CORPORA)
def test_each_clip_records_its_reader_and_speaking_style(ingested_lake, corpora, reader, folder):
    stored = _clips_under(ingested_lake, corpora[folder].root).values()
    assert {(r["reader"], r["speaking_style"]) for r in stored} == {(reader, READERS[reader].speaking_style or None)}


def test_a_lakehouse_from_before_the_reader_columns_gets_them_on_its_next_ingest(corpora, prefect_harness, tmp_path):
    """A clips table stored without `reader`, `speaking_style` and a reader's own column takes them (null) on
    the next write; the next ingest stores them for every clip it reads again."""
    import lancedb
    import pyarrow as pa

    from speechcraft.flows.ingest import ingest_flow
    from speechcraft.tasks.ingest import clip_schema

    lake, truth = str(tmp_path / "lake"), corpora["aishell3"]
    ingest_flow("aishell3", str(truth.root), lake_uri=lake, batch_size=4, show_progress=False)
    old_columns = [n for n in clip_schema().names if n not in ("reader", "speaking_style", "pinyin")]
    db = lancedb.connect(lake)
    old = db.open_table("clips").to_arrow().select(old_columns).replace_schema_metadata(None)
    old = old.set_column(old.schema.get_field_index("source_fingerprint"), "source_fingerprint",
                         pa.array(["written by an older version"] * old.num_rows))
    db.drop_table("clips")
    db.create_table("clips", old)

    ingest_flow("aishell3", str(truth.root), lake_uri=lake, batch_size=4, show_progress=False)
    rows = query("SELECT reader, speaking_style, pinyin FROM clips", lake).to_pylist()
    assert len(rows) == old.num_rows
    assert {(r["reader"], r["speaking_style"]) for r in rows} == {("aishell3", "read")}
    assert all(r["pinyin"] for r in rows)


def _assert_clips_land(lake: str, truth) -> None:
    """Exactly the truth's clips are stored from its root, each with the columns the truth gives."""
    stored = _clips_under(lake, truth.root)
    assert sorted(stored) == sorted(c.clip_id for c in truth.clips)
    for expected in truth.clips:
        row = stored[expected.clip_id]
        for column in COMPARED:
            assert row[column] == getattr(expected, column), (expected.clip_id, column)
        for column in EXTRA_COLUMNS:
            if column in expected.extras:
                assert row[column] == expected.extras[column], (expected.clip_id, column)
        assert row["native_id"] == expected.native_id
        assert row["corpus"] == truth.corpus
        assert row["audio_path"] == str(truth.root / expected.audio_relpath)
        assert row["duration_s"] == pytest.approx(expected.duration_s, abs=0.02)
        assert len(row["audio_sha256"]) == 64
        assert row["sample_rate"] > 0 and row["channels"] >= 1
        if expected.synth.get("silent"):
            assert row["peak_dbfs"] == float("-inf")   # kept, for the quality checks to flag
        else:
            assert row["peak_dbfs"] > -40


# corpus names as stored: both zhvoice layouts land in `zhvoice`; folder corpora are named after their folder
@pytest.mark.parametrize("name", ["aishell3", "libritts-r", "gigaspeech", "zhvoice", "folder", "prosody"])
def test_every_bad_input_is_rejected_with_its_reason(ingested_lake, corpora, name):
    truths = [truth for truth in corpora.values() if truth.corpus == name]
    expected = _expected_rejects(truths)
    assert _stored_rejects(ingested_lake, name) == expected
    assert expected, f"the {name} fixture has no bad inputs"


def _expected_rejects(truths) -> Counter:
    return Counter((r.source, r.reason, f"{t.corpus}/{r.native_id}" if r.native_id else None)
                   for t in truths for r in t.rejects)


def _stored_rejects(lake: str, corpus: str) -> Counter:
    stored = query(f"SELECT source, reason, clip_id FROM rejects WHERE corpus = '{corpus}'", lake).to_pylist()
    return Counter((r["source"], r["reason"], r["clip_id"]) for r in stored)


def test_span_clips_are_spans_of_one_file(ingested_lake, corpora):
    rows = query("SELECT audio_path, count(*) AS n, min(start_s) AS first, bool_and(end_s > start_s) AS ok "
                 "FROM clips WHERE corpus = 'gigaspeech' GROUP BY audio_path", ingested_lake).to_pylist()
    assert any(r["n"] > 1 for r in rows), "GigaSpeech fixture should put several segments in one file"
    assert all(r["ok"] for r in rows)


def _table(lake: str, name: str) -> list[dict]:
    return sorted(Lakehouse(lake).read(name).to_pylist(), key=lambda r: str(r.get("clip_id") or r.get("reject_id")))


def test_rerun_adds_nothing_and_changes_nothing(ingested_lake, corpora):
    from speechcraft.flows.ingest import ingest_flow

    before_clips, before_rejects = _table(ingested_lake, "clips"), _table(ingested_lake, "rejects")
    for reader, folder in FIXTURE_CORPORA:
        run = ingest_flow(reader, str(corpora[folder].root), lake_uri=ingested_lake, batch_size=4,
                          show_progress=False)
        assert (run["n_new"], run["n_updated"]) == (0, 0)
        assert run["n_unchanged"] == len(corpora[folder].clips)
        assert run["status"] == "completed"
    assert _table(ingested_lake, "clips") == before_clips
    assert _table(ingested_lake, "rejects") == before_rejects


def test_a_changed_transcript_updates_only_its_clip(corpora, prefect_harness, tmp_path):
    import shutil

    from speechcraft.flows.ingest import ingest_flow

    root = tmp_path / "folder"
    shutil.copytree(corpora["folder"].root, root)
    lake = str(tmp_path / "lake")
    ingest_flow("folder", str(root), lake_uri=lake, show_progress=False)
    transcript = next(p for p in sorted(root.rglob("*.txt")) if p.read_bytes().isascii())
    transcript.write_text("a corrected transcript", encoding="utf-8")
    run = ingest_flow("folder", str(root), lake_uri=lake, show_progress=False)
    assert (run["n_new"], run["n_updated"]) == (0, 1)
    rows = query("SELECT transcript FROM clips WHERE transcript = 'a corrected transcript'", lake)
    assert rows.num_rows == 1


def test_a_root_that_is_not_the_corpus_fails_fast_naming_the_file(corpora, prefect_harness, tmp_path, capsys):
    from speechcraft.flows.ingest import ingest_flow

    lake = str(tmp_path / "lake")
    with pytest.raises(CorpusLayoutError, match="spk-info.txt"):
        ingest_flow("aishell3", str(corpora["libritts-r"].root), lake_uri=lake, show_progress=False)
    assert main(["ingest", "gigaspeech", str(corpora["aishell3"].root), "--lake", lake]) == 2
    assert "GigaSpeech.json" in capsys.readouterr().err
    runs = query("SELECT corpus, status, error FROM runs", lake).to_pylist()
    assert {r["status"] for r in runs} == {"failed"} and len(runs) == 2
    assert Lakehouse(lake).count("clips") == 0


def test_ingest_command_exits_zero_and_counts_rejects(corpora, prefect_harness, tmp_path, capsys):
    truth = corpora["folder"]
    lake = str(tmp_path / "lake")
    assert main(["ingest", "folder", str(truth.root), "--lake", lake, "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert f"{len(truth.clips)} new" in out
    assert f"{len(truth.rejects)} rejected" in out


def test_kill_9_mid_ingest_then_rerun_equals_an_uninterrupted_run(tmp_path, prefect_harness):
    from speechcraft.tasks.demo_corpora import build_bulk_folder
    from speechcraft.flows.ingest import ingest_flow

    corpus = tmp_path / "bulk"
    truth = build_bulk_folder(corpus, 240)
    killed_lake, clean_lake = tmp_path / "killed", tmp_path / "clean"
    command = [sys.executable, "-m", "speechcraft.cli", "ingest", "folder", str(corpus),
               "--lake", str(killed_lake), "--batch-size", "4"]
    proc = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    landed = 0
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if (killed_lake / "clips.lance").exists():
            landed = Lakehouse(killed_lake).count("clips")
            if landed >= 40:
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < landed < len(truth.clips), f"the kill should land mid-way ({landed} of {len(truth.clips)})"

    assert main(["ingest", "folder", str(corpus), "--lake", str(killed_lake)]) == 0
    ingest_flow("folder", str(corpus), lake_uri=str(clean_lake), show_progress=False)
    assert _table(str(killed_lake), "clips") == _table(str(clean_lake), "clips")
    statuses = Counter(r["status"] for r in Lakehouse(killed_lake).read("runs").to_pylist())
    assert statuses == Counter({"interrupted": 1, "completed": 1})


def test_two_folders_with_one_name_never_overwrite_each_other(corpora, prefect_harness, tmp_path, capsys):
    import shutil

    first, second = tmp_path / "a" / "wavs", tmp_path / "b" / "wavs"
    shutil.copytree(corpora["folder"].root, first)
    shutil.copytree(corpora["folder"].root, second)
    lake = str(tmp_path / "lake")
    assert main(["ingest", "folder", str(first), "--lake", lake]) == 0
    before = _table(lake, "clips")
    assert main(["ingest", "folder", str(second), "--lake", lake]) == 2
    assert "--name" in capsys.readouterr().err
    assert _table(lake, "clips") == before
    assert main(["ingest", "folder", str(second), "--lake", lake, "--name", "wavs-b"]) == 0
    counts = query("SELECT corpus, count(*) AS n FROM clips GROUP BY corpus ORDER BY corpus", lake).to_pylist()
    assert counts == [{"corpus": "wavs", "n": len(before)}, {"corpus": "wavs-b", "n": len(before)}]


# -- zhvoice layouts and metadata lines that are not UTF-8, through the real ingest -----------------------------
@pytest.fixture(scope="module")
def hybrid(tmp_path_factory):
    from speechcraft.tasks.demo_corpora import zhvoice

    return zhvoice.build_hybrid(tmp_path_factory.mktemp("hybrid") / "zhvoice")


def test_hybrid_zhvoice_layout_lands_every_clip(hybrid, prefect_harness, tmp_path, capsys):
    from speechcraft.flows.ingest import ingest_flow

    lake = str(tmp_path / "lake")
    assert main(["ingest", "zhvoice", str(hybrid.root), "--lake", lake, "--batch-size", "3"]) == 0
    _assert_clips_land(lake, hybrid)
    assert _stored_rejects(lake, "zhvoice") == _expected_rejects([hybrid])
    # a recovered line's warning row is not a reject: the summary counts only the real ones
    warnings = [r for r in hybrid.rejects if r.reason == "recovered_encoding"]
    printed = capsys.readouterr().out
    assert warnings and f"{len(hybrid.rejects) - len(warnings)} rejected" in printed
    assert "layout zhthchs30: zhthchs30/metadata.csv" in printed                 # the user sees what was found
    assert f"{len(warnings)} warning(s), clips kept" in printed

    before = _table(lake, "rejects")
    rerun = ingest_flow("zhvoice", str(hybrid.root), lake_uri=lake, batch_size=3, show_progress=False)
    assert (rerun["n_new"], rerun["n_updated"], rerun["n_unchanged"]) == (0, 0, len(hybrid.clips))
    assert (rerun["n_rejected"], rerun["n_warnings"]) == (len(hybrid.rejects) - len(warnings), len(warnings))
    assert _table(lake, "rejects") == before
    layout = {line.split(":")[0]: line for line in rerun["layout"]}
    assert set(layout) == {"zhaishell", "zhprimewords", "zhmagicdata", "zhthchs30"}
    assert "zhthchs30/metadata.csv" in layout["zhthchs30"] and "the corpus root" in layout["zhthchs30"]


def test_a_zhvoice_subset_found_nowhere_fails_the_ingest_naming_what_was_tried(prefect_harness, tmp_path, capsys):
    root = tmp_path / "zhvoice"
    (root / "zhthchs30" / "A11").mkdir(parents=True)
    (root / "zhthchs30" / "metadata.csv").write_text("index\tsentence\nzhthchs30/A11/A11_0.mp3\t绿是阳春烟景\n",
                                                     encoding="utf-8")
    lake = str(tmp_path / "lake")
    assert main(["ingest", "zhvoice", str(root), "--lake", lake]) == 2
    err = capsys.readouterr().err
    assert "zhthchs30/metadata.csv" in err and f"{root}/zhthchs30/" in err
    assert [r["status"] for r in query("SELECT status FROM runs", lake).to_pylist()] == ["failed"]
    assert Lakehouse(lake).count("clips") == 0


def test_a_recovered_line_keeps_its_warning_across_reruns_until_the_line_is_fixed(corpora, prefect_harness,
                                                                                   tmp_path):
    from fixtures.encodings import RECIPES, with_encoded_lines
    from speechcraft.flows.ingest import ingest_flow

    copy = with_encoded_lines(corpora["aishell3"], tmp_path / "aishell3")
    lake = str(tmp_path / "lake")
    warning_rows = ("SELECT source, clip_id, run_id FROM rejects WHERE reason = 'recovered_encoding' "
                    "AND stage = 'ingest'")
    first = ingest_flow("aishell3", str(copy.root), lake_uri=lake, show_progress=False)
    clip_id = f"aishell3/{copy.recovered}"
    landed = query(f"SELECT transcript FROM clips WHERE clip_id = '{clip_id}'", lake).to_pylist()
    assert landed == [{"transcript": copy.transcript}]
    assert query(warning_rows, lake).to_pylist() == [
        {"source": copy.recovered_source, "clip_id": clip_id, "run_id": first["run_id"]}]
    assert first["n_warnings"] == 1
    assert first["n_rejected"] == len(corpora["aishell3"].rejects) + 1      # + the undecodable line
    unreadable = query(f"SELECT reason, clip_id FROM rejects WHERE source = '{copy.unreadable_source}'",
                       lake).to_pylist()
    assert unreadable == [{"reason": "bad_encoding", "clip_id": f"aishell3/{copy.unreadable}"}]

    again = ingest_flow("aishell3", str(copy.root), lake_uri=lake, show_progress=False)
    assert (again["n_new"], again["n_updated"]) == (0, 0)
    assert query(warning_rows, lake).num_rows == 1                       # kept, not repeated

    # the user re-saves the file as UTF-8: the clip is read again and its warning is history
    content = copy.root / RECIPES["aishell3"].metadata
    lines = content.read_bytes().split(b"\n")
    number = int(copy.recovered_source.rsplit(":", 1)[1])
    lines[number - 1] = lines[number - 1].decode("gb18030").encode("utf-8")
    content.write_bytes(b"\n".join(lines))
    fixed = ingest_flow("aishell3", str(copy.root), lake_uri=lake, show_progress=False)
    assert (fixed["n_updated"], fixed["n_warnings"]) == (1, 0)
    assert query(warning_rows, lake).num_rows == 0
