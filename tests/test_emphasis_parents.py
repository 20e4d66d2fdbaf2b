"""Which parents `emphasize` regenerates, and what a stressed clip keeps of its parent.

A parent without speech (the acoustic flag `no_speech`), too short (`too_short`), or whose keyword cannot be
placed in speech (no alignment confidence) is not regenerated: it is skipped with the reason, counted in the
run, and not tried again while its inputs are unchanged. A stressed clip of a read-speech corpus stays read
speech (emotion `neutral`, like its parent), and keeps every attribute a regeneration does not change.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from speechcraft.models.keywords import split_words
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query

READ_CORPORA = ["aishell3", "libritts-r"]
# clips columns a regeneration changes: its identity and its audio; every other one is the parent's
REGENERATED = {"clip_id", "corpus", "audio_path", "audio_format", "start_s", "end_s", "sample_rate", "channels",
               "duration_s", "peak_dbfs", "audio_sha256", "source_fingerprint"}


def silent_parents(corpora) -> set[str]:
    return {c.clip_id for name in READ_CORPORA for c in corpora[name].clips if c.synth.get("silent")}


def record_decoding(monkeypatch) -> list[str]:
    """The clip ids whose audio the emphasize stage decodes from now on (its batches run in this process)."""
    from speechcraft.tasks import stressing

    decoded: list[str] = []
    original = stressing.decode_clips
    monkeypatch.setattr(stressing, "decode_clips", lambda jobs: decoded.extend(j.clip_id for j in jobs) or original(jobs))
    return decoded


def emphasize_rejects(lake: str) -> dict[str, tuple[str, str]]:
    return {r["clip_id"]: (r["reason"], r["detail"])
            for r in Lakehouse(lake).read("rejects", where="stage = 'emphasize'").to_pylist()}


@pytest.fixture(scope="module")
def read_lake(ingested_lake, tmp_path_factory) -> tuple[str, dict]:
    """The fixture corpora with AISHELL-3 and LibriTTS-R stressed before any acoustics (the pipeline's order),
    then the emotion stage run; with the emphasize run's result."""
    from speechcraft.flows.annotate import annotate_flow
    from speechcraft.flows.emphasize import emphasize_flow

    lake = str(tmp_path_factory.mktemp("read") / "lake")
    shutil.copytree(ingested_lake, lake)
    result = emphasize_flow(lake, corpora=READ_CORPORA, show_progress=False)
    annotate_flow(lake, stages=["emotion"], show_progress=False)
    return lake, result


# -- item 4: parents that are not regenerated --------------------------------------------------------------------
def test_silent_parents_are_skipped_with_the_reason_and_counted_in_the_run(read_lake, corpora):
    lake, result = read_lake
    silent = silent_parents(corpora)
    assert "aishell3/SSB00090003" in silent and len(silent) == 2
    stressed = {r["parent_clip_id"] for r in Lakehouse(lake).read("stressed_clips").to_pylist()}
    assert not stressed & silent
    assert Lakehouse(lake).count("clips", "clip_id = 'aishell3-stressed/SSB00090003'") == 0
    rejects = emphasize_rejects(lake)
    assert {clip_id: rejects[clip_id][0] for clip_id in silent} == dict.fromkeys(silent, "no_speech")
    # every other parent with a keyword was regenerated
    parents = {c.clip_id for name in READ_CORPORA for c in corpora[name].clips}
    assert stressed == parents - set(rejects)
    assert all(reason == "no_keyword" for clip_id, (reason, _) in rejects.items() if clip_id not in silent)
    # the run's figures: the skipped parents by reason, and in the runs row
    assert result["skipped"] == {"no_speech": 2, "no_keyword": len(rejects) - 2}
    run = Lakehouse(lake).read("runs", where=f"run_id = '{result['run']['run_id']}'").to_pylist()[0]
    assert run["n_rejected"] == len(rejects) and run["n_new"] == len(stressed)


def test_a_skipped_parent_is_not_planned_again(read_lake, tmp_path, monkeypatch, capsys):
    from speechcraft.flows.emphasize import emphasize_flow

    lake = str(tmp_path / "lake")
    shutil.copytree(read_lake[0], lake)
    before = emphasize_rejects(lake)
    decoded = record_decoding(monkeypatch)
    again = emphasize_flow(lake, corpora=READ_CORPORA, show_progress=False)
    assert (again["todo"], again["computed"], again["rejected"]) == (0, 0, 0) and decoded == []
    assert again["up_to_date"] == sum(Lakehouse(lake).count("clips", f"corpus = '{c}'") for c in READ_CORPORA)
    assert again["skipped"] == read_lake[1]["skipped"]        # still reported, at no cost
    assert emphasize_rejects(lake) == before
    from speechcraft.cli import main

    assert main(["emphasize", "--lake", lake, "--corpus", READ_CORPORA[0], "--corpus", READ_CORPORA[1]]) == 0
    printed = capsys.readouterr().out
    assert "0 stressed clips made" in printed and "parents not regenerated: " in printed and "2 no_speech" in printed


def test_acoustic_flags_skip_a_parent_before_its_audio_is_read(ingested_lake, tmp_path, monkeypatch):
    from speechcraft.flows.annotate import annotate_flow
    from speechcraft.flows.emphasize import emphasize_flow

    lake = str(tmp_path / "lake")
    shutil.copytree(ingested_lake, lake)
    annotate_flow(lake, stages=["acoustics"], corpus="aishell3", show_progress=False)
    assert query("SELECT flags FROM acoustics WHERE clip_id = 'aishell3/SSB00090003'", lake).to_pylist() == [
        {"flags": ["no_speech"]}]
    decoded = record_decoding(monkeypatch)
    # settings of its own: no batch of another test comes from the cache, so the others are decoded here
    result = emphasize_flow(lake, corpora=["aishell3"], options={"pitch_scale": 1.31}, show_progress=False)
    assert decoded and "aishell3/SSB00090003" not in decoded
    reason, detail = emphasize_rejects(lake)["aishell3/SSB00090003"]
    assert reason == "no_speech" and detail.startswith("the acoustic stage flagged it no_speech")
    assert result["skipped"]["no_speech"] == 1


def test_a_keyword_placed_in_silence_or_a_too_short_parent_is_skipped(corpora, prefect_harness, tmp_path):
    """A parent whose word times (here Whisper's, from the transcript stage) put every word in a leading
    silence has no alignment confidence; a parent under the acoustic minimum is too short."""
    from speechcraft.flows.emphasize import emphasize_flow
    from speechcraft.flows.ingest import ingest_flow
    from speechcraft.tasks.audio import decode_audio

    truth = corpora["libritts-r"]
    speech = [c for c in truth.clips if not c.synth.get("silent") and c.transcript and len(c.transcript.split()) > 4]
    root = tmp_path / "parents"
    root.mkdir()
    for name, clip in zip(("late", "short", "plain"), speech):
        audio = decode_audio(truth.root / clip.audio_relpath)
        samples = audio.samples[:, 0]
        if name == "late":
            samples = np.concatenate([np.zeros(int(1.5 * audio.sample_rate), dtype=samples.dtype), samples])
        elif name == "short":
            samples = samples[: int(0.2 * audio.sample_rate)]
        sf.write(root / f"{name}.wav", samples, audio.sample_rate)
        (root / f"{name}.txt").write_text(clip.transcript, encoding="utf-8")
    lake = str(tmp_path / "lake")
    ingest_flow("folder", str(root), lake_uri=lake, options={"language": "en"}, show_progress=False)
    late = Lakehouse(lake).lookup("clips", ["parents/late"], ["clip_id", "transcript"]).to_pylist()[0]
    words = split_words(late["transcript"], "en")
    step = 1.4 / len(words)                                    # every word inside the 1.5 s of silence
    Lakehouse(lake).upsert("transcripts", [{
        "clip_id": "parents/late", "text": late["transcript"], "language": "en", "backend": "test", "model": "test",
        "words": [{"word": f" {w}", "start_s": i * step, "end_s": (i + 1) * step} for i, w in enumerate(words)]}])

    result = emphasize_flow(lake, corpora=["parents"], show_progress=False)
    rejects = emphasize_rejects(lake)
    assert {k: v[0] for k, v in rejects.items()} == {"parents/late": "no_alignment_confidence",
                                                     "parents/short": "too_short"}
    assert "speech" in rejects["parents/late"][1]
    assert result["skipped"] == {"no_alignment_confidence": 1, "too_short": 1}
    assert [r["parent_clip_id"] for r in Lakehouse(lake).read("stressed_clips").to_pylist()] == ["parents/plain"]
    again = emphasize_flow(lake, corpora=["parents"], show_progress=False)
    assert (again["todo"], again["up_to_date"]) == (0, 3)


# -- item 5: what a stressed clip inherits -----------------------------------------------------------------------
def test_stressed_clips_of_read_speech_keep_their_parents_style_and_attributes(read_lake):
    lake, _ = read_lake
    rows = query("""SELECT c.*, p.emotion AS p_emotion, p.emotion_source AS p_emotion_source,
                           p.subset AS p_subset, p.split AS p_split, p.language AS p_language,
                           p.speaker_id AS p_speaker_id, p.gender AS p_gender, p.age_group AS p_age_group,
                           p.transcript AS p_transcript
                    FROM clip_annotations c JOIN clip_annotations p ON p.clip_id = c.parent_clip_id""", lake).to_pylist()
    assert {r["corpus"] for r in rows} == {"aishell3-stressed", "libritts-r-stressed"}
    for row in rows:
        assert row["emotion"] == row["p_emotion"] == "neutral", row["clip_id"]
        assert row["emotion_source"] == row["p_emotion_source"]
        for column in ("subset", "split", "language", "speaker_id", "gender", "age_group", "transcript"):
            assert row[column] == row[f"p_{column}"], (row["clip_id"], column)
    clips = {r["clip_id"]: r for r in Lakehouse(lake).read("clips").to_pylist()}
    pairs = query("SELECT clip_id, parent_clip_id FROM stressed_clips", lake).to_pylist()
    for pair in pairs:
        child, parent = clips[pair["clip_id"]], clips[pair["parent_clip_id"]]
        assert {k: v for k, v in child.items() if k not in REGENERATED} == \
               {k: v for k, v in parent.items() if k not in REGENERATED}
    assert any(clips[p["clip_id"]]["meta_accent"] for p in pairs)      # AISHELL-3's accents came along


def test_a_stressed_clip_is_its_parents_speaker_and_held_out_with_it(read_lake):
    """The speaker classifiers hold a fifth of the speakers out of training to validate on voices never heard:
    a stressed copy of a held-out speaker's clip is that speaker, so it must not slip into training."""
    import polars as pl

    from speechcraft.tasks.speakers import held_out_speakers, speaker_clips

    lake, _ = read_lake
    clips = speaker_clips(Lakehouse(lake))
    speaker = dict(clips.select("clip_id", "speaker").iter_rows())
    pairs = query("SELECT clip_id, parent_clip_id FROM stressed_clips", lake).to_pylist()
    assert pairs and all(speaker[p["clip_id"]] == speaker[p["parent_clip_id"]] for p in pairs)
    held = held_out_speakers(clips)
    assert held and held == held_out_speakers(clips.filter(~pl.col("corpus").str.ends_with("-stressed")))


def test_a_lake_rebuilt_at_the_same_place_gets_its_stressed_audio_again(ingested_lake, tmp_path):
    """Stage results are cached outside the lakehouse, so that a lake rebuilt from scratch reuses them; the
    stressed audio lives inside the lakehouse, so a cached batch whose files are gone is made again."""
    from pathlib import Path

    from speechcraft.flows.emphasize import emphasize_flow

    lake = str(tmp_path / "lake")
    for attempt in range(2):       # its own settings: the first attempt fills the cache, the second finds it
        shutil.rmtree(lake, ignore_errors=True)
        shutil.copytree(ingested_lake, lake)
        result = emphasize_flow(lake, corpora=["libritts-r"], limit=3, options={"pitch_scale": 1.32},
                                show_progress=False)
        paths = [r["audio_path"] for r in Lakehouse(lake).read("clips", where="corpus = 'libritts-r-stressed'").to_pylist()]
        assert len(paths) == 3 and all(Path(p).is_file() for p in paths), attempt
    assert result["cached"] == 0


def test_a_limit_counts_clips_made_and_a_skipped_parent_gives_its_place_to_the_next(ingested_lake, tmp_path):
    """`stress = 3` means three stressed clips where three parents can be regenerated: the silent and
    keyword-less parents first in the order are skipped (and said why) without using up the limit."""
    from speechcraft.flows.emphasize import emphasize_flow

    lake = str(tmp_path / "lake")
    shutil.copytree(ingested_lake, lake)
    result = emphasize_flow(lake, corpora=["aishell3"], limit=3, show_progress=False)
    assert Lakehouse(lake).count("clips", "corpus = 'aishell3-stressed'") == 3
    assert result["skipped"]                      # parents before them in the order were turned down
    again = emphasize_flow(lake, corpora=["aishell3"], limit=3, show_progress=False)
    assert again["computed"] == 0 and again["run"]["n_new"] == 0
