"""Voices as vectors (docs/voices.md): the voice stage, speaker clusters, voice search, duplicates, the speaker
classifier reading the vectors, and the encoder's backend slot. Small corpora of two or three espeak voices,
built here; Resemblyzer's packaged encoder does the embedding."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from speechcraft.tasks.demo_corpora.speech import Voice, render, write_audio

pytest.importorskip("resemblyzer")

SENTENCES = ["The quick brown fox jumps over the lazy dog near the river bank.",
             "She sells sea shells by the sea shore every summer morning.",
             "A small dog ran across the empty square at noon today.",
             "We will meet again at the old station when the evening train arrives."]
ANNA, BORIS, CLARA = Voice("en-us+f2", 70, 150), Voice("en-us+m3", 25, 165), Voice("en-us+f4", 40, 135)


def speak(root: Path, name: str, voice: Voice, text: str, rate: int = 16000, fmt: str = "wav") -> Path:
    path = root / f"{name}.{fmt}"
    write_audio(path, render(text, voice, rate), rate, fmt)
    path.with_suffix(".txt").write_text(text, encoding="utf-8")
    return path


def run(lake: str, *roots: Path, stages=("voice",)) -> dict:
    from speechcraft.flows.annotate import annotate_flow
    from speechcraft.flows.ingest import ingest_flow

    for root in roots:
        ingest_flow("folder", str(root), lake_uri=lake, show_progress=False)
    return annotate_flow(lake, stages=list(stages), show_progress=False)


def rows(lake: str, sql: str) -> list[dict]:
    from speechcraft.warehouse.sql import query

    return query(sql, lake).to_pylist()


@pytest.fixture(scope="module")
def voices_lake(prefect_harness, tmp_path_factory):
    """A folder corpus without speaker ids: Anna says three sentences, Boris three."""
    base = tmp_path_factory.mktemp("voices")
    root = base / "podcasts"
    for k, text in enumerate(SENTENCES[:3]):
        speak(root, f"anna{k}", ANNA, text)
        speak(root, f"boris{k}", BORIS, text)
    lake = str(base / "lake")
    result = run(lake, root)
    return {"lake": lake, "root": root, "base": base, "first": result}


def test_one_vector_per_clip_and_a_rerun_adds_none(voices_lake):
    lake = voices_lake["lake"]
    stored = rows(lake, "SELECT clip_id, len(voice_embedding) AS dim FROM attr_voice")
    assert len(stored) == 6 and {r["dim"] for r in stored} == {256}
    again = run(lake)
    assert again["voice"]["computed"] == 0 and again["voice"]["up_to_date"] == 6
    assert len(rows(lake, "SELECT clip_id FROM attr_voice")) == 6
    assert again["voice_clusters"]["clustered"] == 0
    # the vector is not copied into the one-row-per-clip view; the voices view carries it
    assert "voice_embedding" not in rows(lake, "SELECT * FROM clip_annotations LIMIT 1")[0]
    assert len(rows(lake, "SELECT * FROM voices")) == 6


def test_two_espeak_voices_make_two_clusters_used_as_speaker_ids(voices_lake):
    lake = voices_lake["lake"]
    clusters = {r["clip_id"].split("/")[1]: r["voice_cluster"]
                for r in rows(lake, "SELECT clip_id, voice_cluster FROM voice_clusters")}
    assert {clusters[f"anna{k}"] for k in range(3)} == {"podcasts/voice-0001"}
    assert {clusters[f"boris{k}"] for k in range(3)} == {"podcasts/voice-0002"}
    speakers = rows(lake, "SELECT clip_id, speaker_id, speaker_source FROM clip_annotations")
    assert all(r["speaker_id"] == clusters[r["clip_id"].split("/")[1]] for r in speakers)
    assert all(r["speaker_source"].startswith("voice_cluster:") for r in speakers)


def test_voice_search_finds_the_same_voice_first(voices_lake):
    from speechcraft.warehouse.voices import UnknownVoiceError, similar_voices

    found = similar_voices(voices_lake["lake"], "podcasts/anna0", limit=5).to_pylist()
    assert [r["clip_id"] for r in found[:2]] == ["podcasts/anna1", "podcasts/anna2"] or \
        {r["clip_id"] for r in found[:2]} == {"podcasts/anna1", "podcasts/anna2"}
    assert "podcasts/anna0" not in [r["clip_id"] for r in found]
    assert found[0]["similarity"] > found[-1]["similarity"]
    with pytest.raises(UnknownVoiceError, match="no voice vector"):
        similar_voices(voices_lake["lake"], "podcasts/nobody")
    # the same question in SQL, over the voices view
    sql = rows(voices_lake["lake"], """SELECT clip_id FROM voices WHERE clip_id != 'podcasts/anna0'
        ORDER BY array_cosine_similarity(voice_embedding, (SELECT voice_embedding FROM voices
                                                            WHERE clip_id = 'podcasts/anna0')) DESC LIMIT 2""")
    assert {r["clip_id"] for r in sql} == {"podcasts/anna1", "podcasts/anna2"}


def test_the_cli_answers_voice_search_and_figures(voices_lake, capsys):
    import json

    from speechcraft.cli import main

    assert main(["voices", "similar", "podcasts/boris0", "--limit", "2", "--lake", voices_lake["lake"],
                 "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {r["clip_id"] for r in found} == {"podcasts/boris1", "podcasts/boris2"}
    assert main(["voices", "clusters", "--lake", voices_lake["lake"], "--format", "json"]) == 0
    figures = {r["corpus"]: r for r in json.loads(capsys.readouterr().out)}
    assert figures["podcasts"]["clusters"] == 2 and figures["podcasts"]["clustered"] == 6
    assert main(["voices", "similar", "podcasts/nobody", "--lake", voices_lake["lake"]]) == 2
    assert "no voice vector" in capsys.readouterr().err


def test_a_duplicate_planted_in_two_corpora_is_flagged(voices_lake, tmp_path):
    from speechcraft.tasks.exports.selection import clips_sql
    from speechcraft.warehouse.sql import connect

    lake = str(tmp_path / "lake")
    shutil.copytree(voices_lake["lake"], lake)
    copies = tmp_path / "reuploads"
    # the same recording, re-encoded: MP3 at another rate (near), and the very bytes (exact)
    write_audio(copies / "anna0-again.mp3", render(SENTENCES[0], ANNA, 22050), 22050, "mp3")
    (copies / "anna0-again.txt").write_text(SENTENCES[0], encoding="utf-8")
    shutil.copy(voices_lake["root"] / "boris1.wav", copies / "boris1.wav")
    (copies / "boris1.txt").write_text(SENTENCES[1], encoding="utf-8")
    speak(copies, "clara-other", CLARA, SENTENCES[2])              # same text, another voice: no duplicate
    run(lake, copies)
    found = {r["clip_id"]: r for r in rows(lake, "SELECT * FROM duplicates")}
    assert set(found) == {"reuploads/anna0-again", "reuploads/boris1"}
    assert found["reuploads/anna0-again"]["duplicate_of"] == "podcasts/anna0"
    assert found["reuploads/anna0-again"]["kind"] == "near" and found["reuploads/anna0-again"]["score"] > 0.95
    assert found["reuploads/boris1"] == {**found["reuploads/boris1"], "duplicate_of": "podcasts/boris1",
                                         "kind": "exact", "score": 1.0}
    excluded = {r["clip_id"]: r["excluded"] for r in connect(lake).sql(clips_sql()).to_arrow_table().to_pylist()}
    assert excluded["reuploads/anna0-again"] == excluded["reuploads/boris1"] == "duplicate"
    assert excluded["podcasts/anna0"] != "duplicate" and excluded["reuploads/clara-other"] != "duplicate"
    assert run(lake)["duplicates"]["changed"] == 0                     # a re-run writes nothing


def test_the_speaker_classifier_reads_the_voice_vector_when_there_is_one():
    from speechcraft.models.speaker_classifier import BASE_WIDTH, SpeakerClassifier

    rng = np.random.default_rng(0)
    speakers = [f"s{i}" for i in range(12) for _ in range(3)]
    genders = ["female" if int(s[1:]) % 2 else "male" for s in speakers]
    base = rng.normal(size=(len(speakers), BASE_WIDTH))             # F0/cepstra that say nothing here
    voice = rng.normal(size=(len(speakers), 256)) * 0.1
    voice[:, 0] += [1.0 if g == "female" else -1.0 for g in genders]   # the vector knows the gender
    with_voice = SpeakerClassifier.fit("gender", np.hstack([base, voice]), genders, groups=speakers)
    assert with_voice.pipeline.reading in ("voice", "both")
    predicted, _ = with_voice.predict(np.hstack([base, voice]))
    assert predicted == genders
    without = SpeakerClassifier.fit("gender", base, genders)       # no vectors: today's classifier
    assert without.predict(base)[0] and not hasattr(without.pipeline, "reading")


def test_the_lakehouse_trains_a_voice_classifier_where_clips_have_vectors(voices_lake, tmp_path):
    from speechcraft.models.speaker_classifier import VOICE_FEATURE_SET

    lake = str(tmp_path / "lake")
    root = tmp_path / "labelled"
    for i, voice in enumerate([Voice("en-us+f1", 75, 150), Voice("en-us+m1", 30, 150), Voice("en-us+f3", 65, 170),
                               Voice("en-us+m2", 35, 160), Voice("en-us+f5", 80, 140), Voice("en-us+m6", 20, 175)]):
        for k, text in enumerate(SENTENCES[:3]):      # a fifth of the speakers held out: 12 clips train
            speak(root / f"spk{i}", f"t{k}", voice, text)
    (root / "speakers.tsv").write_text("".join(f"spk{i}\t{'F' if i % 2 == 0 else 'M'}\n" for i in range(6)))
    result = run(lake, root, voices_lake["root"], stages=("acoustics", "speaker", "voice"))
    assert result["speaker_training"]["voice_classifiers"]["gender"]
    stored = rows(lake, "SELECT feature_set FROM classifiers WHERE attribute = 'gender'")
    assert VOICE_FEATURE_SET in {r["feature_set"] for r in stored}
    predicted = rows(lake, "SELECT s.gender_source FROM speakers s WHERE s.clip_id LIKE 'podcasts/%'")
    voice_version = result["speaker_training"]["voice_classifiers"]["gender"]
    assert {r["gender_source"] for r in predicted} == {f"classifier:{voice_version}"}


def test_silence_has_no_voice_vector_and_raises_no_warning():
    import warnings

    from speechcraft.models.voice_encoder import load_encoder

    encoder = load_encoder("resemblyzer")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert encoder.embed(np.zeros(3 * 16000, dtype=np.float32), 16000) is None
    assert encoder.embed(render(SENTENCES[0], ANNA, 16000), 16000).shape == (256,)


def test_the_encoder_slot_takes_a_torchscript_model(tmp_path):
    import torch

    from speechcraft.models.voice_encoder import load_encoder

    class Tiny(torch.nn.Module):          # a randomly initialised stand-in for an ECAPA-class encoder
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(1, 256, 400, stride=160)

        def forward(self, wav):
            return self.conv(wav[:, None, :]).mean(dim=-1)

    torch.manual_seed(0)
    path = tmp_path / "tiny.pt"
    torch.jit.script(Tiny()).save(str(path))
    encoder = load_encoder("torchscript", str(path))
    vector = encoder.embed(render(SENTENCES[0], ANNA, 16000), 16000)
    assert vector.shape == (256,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert "tiny.pt" in encoder.describe()


def test_a_missing_encoder_model_is_one_line(monkeypatch, tmp_path, capsys):
    from speechcraft.cli import main
    from speechcraft.models import packaged, voice_encoder

    def missing(name):
        raise packaged.ModelNotInstalled(f"the {name} model is not installed: pip install "
                                         f"'speechcraft-lakehouse[voices]' (package resemblyzer)")
    monkeypatch.setattr(voice_encoder, "find", missing)
    voice_encoder.load_encoder.cache_clear()
    root = tmp_path / "one"
    speak(root, "a", ANNA, SENTENCES[0])
    lake = str(tmp_path / "lake")
    assert main(["ingest", "folder", str(root), "--lake", lake]) == 0
    capsys.readouterr()
    code = main(["annotate", "--stage", "voice", "--lake", lake])
    voice_encoder.load_encoder.cache_clear()
    err = capsys.readouterr()
    text = err.out + err.err
    assert code != 0 and "Traceback" not in text
    assert "pip install 'speechcraft-lakehouse[voices]'" in text


def test_clusters_stay_put_when_clips_are_added(voices_lake, tmp_path):
    lake = str(tmp_path / "lake")
    shutil.copytree(voices_lake["lake"], lake)
    root = voices_lake["root"]          # the corpus grows where it lies (this test runs last: it adds clips)
    before = {r["clip_id"]: r["voice_cluster"] for r in rows(lake, "SELECT * FROM voice_clusters")}
    speak(root, "anna3", ANNA, SENTENCES[3])
    speak(root, "clara0", CLARA, SENTENCES[0])
    speak(root, "clara1", CLARA, SENTENCES[1])
    result = run(lake, root)
    after = {r["clip_id"]: r["voice_cluster"] for r in rows(lake, "SELECT * FROM voice_clusters")}
    assert {k: after[k] for k in before} == before                 # nobody renumbered
    assert after["podcasts/anna3"] == "podcasts/voice-0001"          # a known voice joins its cluster
    assert after["podcasts/clara0"] == after["podcasts/clara1"] == "podcasts/voice-0003"
    assert result["voice_clusters"]["clustered"] == 3 and result["voice_clusters"]["new_clusters"] == 1
