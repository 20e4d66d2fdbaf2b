"""Emphasis: keyword choice, the word aligner against espeak-ng's own word times, the WORLD stress editor, the
emphasize flow (new clips, audio in the lakehouse, re-runs, rejects), the detector trained on the stressed
clips and measured on held-out ones and on espeak SSML stress, and the stressed word in the texts."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speechcraft.cli import main
from speechcraft.models.keywords import KeywordScorer, content_words, split_words
from speechcraft.models.stress_synthesis import StressRequest, StressSettings, WorldStressor
from speechcraft.models.word_aligner import EmbeddedAligner, WordSpan, from_timestamps
from speechcraft.models.word_prosody import analyse
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query


@pytest.fixture(scope="module")
def emphasis_lake(stress_corpora, prefect_harness, tmp_path_factory) -> str:
    """Both corpora ingested, every plain clip stressed, the emphasis stage run: all through the CLI."""
    lake = str(tmp_path_factory.mktemp("emphasis") / "lake")
    for truth in stress_corpora.values():
        assert main(["ingest", "folder", str(truth.root), "--lake", lake]) == 0
    assert main(["emphasize", "--corpus", "stress", "--lake", lake]) == 0
    assert main(["annotate", "--stage", "emphasis", "--lake", lake]) == 0
    return lake


# -- keywords --------------------------------------------------------------------------------------------------
def test_keywords_are_content_words_and_rarer_words_score_higher():
    english = ["The cat sat on the mat.", "The dog sat on the rug.", "A cat and a dog met a heron."]
    scorer = KeywordScorer("en", english)
    ranked = scorer.ranked("The cat sat on the mat.")
    assert {k.word for k in ranked} == {"cat", "sat", "mat"}              # stop words never
    assert ranked[0].word == "mat" and ranked[-1].word in {"cat", "sat"}  # seen once beats seen twice
    assert scorer.choose("The cat sat on the mat.", salt="a") == scorer.choose("The cat sat on the mat.", salt="a")
    assert scorer.choose("It is of the and.", salt="a") is None

    chinese = ["我们今天去公园散步", "我们明天去图书馆看书", "我们一起吃饭"]
    words = split_words(chinese[0], "zh")
    assert "".join(words) == chinese[0] and "公园" in words               # jieba words, not characters
    flags = dict(zip(words, content_words(chinese[0], "zh")))
    assert flags["公园"] and flags["散步"] and not flags["我们"]
    ranked = KeywordScorer("zh", chinese).ranked(chinese[0])
    assert "我们" not in {k.word for k in ranked}                          # a pronoun, in every sentence
    assert split_words("Don't stop, Mr. Brown!", "en") == ["Don't", "stop", "Mr", "Brown"]


# -- word timing -------------------------------------------------------------------------------------------------
def test_the_embedded_aligner_finds_word_boundaries_espeak_reports(stress_corpora):
    from speechcraft.tasks.audio import decode_audio

    truth = stress_corpora["stress"]
    for language in ("en", "zh"):
        clips = [c for c in truth.clips if c.language == language][::2]
        errors = []
        for clip in clips:
            audio = decode_audio(truth.root / clip.audio_relpath)
            words = clip.synth["words"]
            spans = EmbeddedAligner().align(analyse(audio.samples[:, 0], audio.sample_rate), [w[0] for w in words], language)
            assert [s.word for s in spans] == [w[0] for w in words]
            assert all(a.end_s == b.start_s for a, b in zip(spans, spans[1:]))
            errors += [abs(spans[i].start_s - words[i][1]) for i in range(1, len(words)) if words[i][3] and words[i - 1][3]]
        assert len(errors) > 40
        errors = np.array(errors)
        assert np.median(errors) < 0.06 and (errors <= 0.1).mean() > 0.75, (language, np.median(errors), errors.mean())


def test_whisper_word_timestamps_map_onto_the_transcripts_words():
    stamps = [{"word": " Hello,", "start_s": 0.0, "end_s": 0.5}, {"word": " world!", "start_s": 0.5, "end_s": 1.0}]
    spans = from_timestamps(stamps, ["Hello", "world"])
    assert [(s.word, s.start_s, s.end_s) for s in spans] == [("Hello", 0.0, 0.5), ("world", 0.5, 1.0)]
    chars = [{"word": ch, "start_s": i * 0.2, "end_s": (i + 1) * 0.2} for i, ch in enumerate("我们去公园")]
    spans = from_timestamps(chars, ["我们", "去", "公园"])
    assert [(s.word, round(s.start_s, 3), round(s.end_s, 3)) for s in spans] == [
        ("我们", 0.0, 0.4), ("去", 0.4, 0.6), ("公园", 0.6, 1.0)]
    assert from_timestamps(stamps, ["Goodbye", "world"]) is None          # another text: not used


# -- the stress editor -----------------------------------------------------------------------------------------
def test_world_stress_raises_pitch_and_energy_and_lengthens_only_the_keyword(stress_corpora):
    from speechcraft.tasks.audio import decode_audio

    clip = next(c for c in stress_corpora["stress"].clips if c.language == "en")
    audio = decode_audio(stress_corpora["stress"].root / clip.audio_relpath)
    samples, rate = audio.samples[:, 0], audio.sample_rate
    words = [WordSpan(w, start, end) for w, start, end, _ in clip.synth["words"]]
    word = clip.synth["words"][3]
    out = WorldStressor(StressSettings(pitch_scale=1.3, energy_db=6, duration_scale=1.4)).stress(
        StressRequest(samples, rate, words, 3, "en"))
    assert [w.word for w in out.words] == [w.word for w in words]
    before, after = analyse(samples, rate), analyse(out.samples, out.sample_rate)

    def inside(frames, start, end):
        m = (frames.times_s >= start + 0.03) & (frames.times_s < end - 0.03)
        return np.nanmedian(frames.f0_hz[m]), frames.energy_db[m].mean()

    f0_a, e_a = inside(before, word[1], word[2])
    f0_b, e_b = inside(after, out.words[3].start_s, out.words[3].end_s)
    assert 1.15 < f0_b / f0_a < 1.45 and 3.0 < e_b - e_a < 9.0
    assert (out.words[3].end_s - out.words[3].start_s) / (word[2] - word[1]) == pytest.approx(1.4, abs=0.05)
    assert out.words[1].end_s == pytest.approx(words[1].end_s, abs=0.01)                  # before: in place
    assert out.words[5].start_s - words[5].start_s == pytest.approx(0.4 * (word[2] - word[1]), abs=0.03)
    assert len(out.samples) / out.sample_rate - len(samples) / rate == pytest.approx(0.4 * (word[2] - word[1]), abs=0.03)
    f0_first, _ = inside(before, clip.synth["words"][0][1], clip.synth["words"][1][2])   # before the keyword
    f0_first_after, _ = inside(after, clip.synth["words"][0][1], clip.synth["words"][1][2])
    assert f0_first_after == pytest.approx(f0_first, rel=0.05)
    with pytest.raises(ValueError, match="out of range"):
        StressSettings(pitch_scale=3.0)



@pytest.mark.parametrize("language, text", [("en", "The big elephant walked slowly home today"),
                                            ("zh", "今天我们在公园里看见了一只大象")])
def test_ssml_prosody_renders_the_loudness_it_asks_for(language, text):
    """espeak-ng reads "+6dB" as +6 on its amplitude scale (+0.5 dB): the markup writes dB as a percentage."""
    from speechcraft.tasks.demo_corpora.espeak_words import prosody_markup, render_timed
    from speechcraft.tasks.demo_corpora.speech import Voice

    def word_level(volume_db: float) -> float:
        samples, words = render_timed(text, Voice("en-us" if language == "en" else "cmn-latn-pinyin", 50, 160),
                                      16000, stress=2, markup=prosody_markup("+0%", volume_db, "medium"))
        span = samples[int(words[2].start_s * 16000):int(words[2].end_s * 16000)]
        return 10 * np.log10(np.mean(span.astype(np.float64) ** 2))

    assert prosody_markup("+40%", 6.0, "slow")[0] == '<prosody pitch="+40%" volume="+100%" rate="slow">'
    assert word_level(6.0) - word_level(0.0) > 3.5

# -- the emphasize flow ----------------------------------------------------------------------------------------
def test_stressed_clips_are_clips_of_their_own_with_audio_in_the_lakehouse(emphasis_lake, stress_corpora):
    rows = query("""SELECT s.*, c.corpus, c.audio_path, c.duration_s, c.speaker_id, c.transcript, c.meta_gender,
                           p.duration_s AS parent_duration, p.speaker_id AS parent_speaker, p.transcript AS parent_text
                    FROM stressed_clips s JOIN clips c USING (clip_id) JOIN clips p ON p.clip_id = s.parent_clip_id""",
                 emphasis_lake).to_pylist()
    assert len(rows) == len(stress_corpora["stress"].clips)
    for row in rows:
        assert row["corpus"] == "stress-stressed" and row["parent_clip_id"].startswith("stress/")
        assert row["clip_id"] == "stress-stressed/" + row["parent_clip_id"].split("/", 1)[1]
        assert Path(row["audio_path"]).is_relative_to(Path(emphasis_lake) / "audio" / "stress-stressed")
        assert sf.info(row["audio_path"]).format == "FLAC"
        assert row["duration_s"] > row["parent_duration"]
        assert (row["speaker_id"], row["transcript"]) == (row["parent_speaker"], row["parent_text"])
        words = [w["word"] for w in row["words"]]
        assert words == split_words(row["transcript"], "zh" if row["clip_id"].split("/")[1].startswith("zh") else "en")
        assert words[row["keyword_index"]] == row["keyword"]
        assert row["keyword_start_s"] < row["keyword_end_s"] <= row["duration_s"] + 0.01
    positions = {r["keyword_index"] / len(r["words"]) for r in rows}
    assert min(positions) < 0.3 and max(positions) > 0.6                  # not always the same place
    view = query("SELECT emphasis, emphasis_source, parent_clip_id FROM clip_annotations WHERE corpus = 'stress-stressed'",
                 emphasis_lake).to_pylist()
    assert all(v["emphasis_source"] == "regenerated" and v["emphasis"] and v["parent_clip_id"] for v in view)


def test_a_rerun_stresses_nothing_and_a_limit_bounds_each_corpus(emphasis_lake, tmp_path, capsys):
    from speechcraft.flows.emphasize import emphasize_flow

    lake = str(tmp_path / "lake")
    shutil.copytree(emphasis_lake, lake)
    before = Lakehouse(lake).count("clips")
    again = emphasize_flow(lake, corpora=["stress"], show_progress=False)
    assert (again["todo"], again["computed"]) == (0, 0) and again["up_to_date"] == Lakehouse(lake).count("stressed_clips")
    assert Lakehouse(lake).count("clips") == before
    limited = emphasize_flow(lake, corpora=["stress-ssml"], limit=5, show_progress=False)
    assert limited["computed"] == 5
    assert emphasize_flow(lake, corpora=["stress-ssml"], limit=5, show_progress=False)["computed"] == 0
    assert Lakehouse(lake).count("clips", "corpus = 'stress-ssml-stressed'") == 5
    assert main(["emphasize", "--corpus", "stress-stressed", "--lake", lake]) == 2
    assert "itself a stressed set" in capsys.readouterr().err
    assert main(["emphasize", "--corpus", "stress", "--pitch-scale", "5", "--lake", lake]) == 2
    assert "out of range" in capsys.readouterr().err


def test_parents_without_a_keyword_or_readable_audio_are_rejected_and_the_rest_lands(stress_corpora, prefect_harness,
                                                                                     tmp_path):
    from speechcraft.flows.emphasize import emphasize_flow
    from speechcraft.flows.ingest import ingest_flow

    source = stress_corpora["stress"]
    root = tmp_path / "small"
    clips = [c for c in source.clips if c.language == "en"][:3]
    for clip in clips:
        target = root / clip.audio_relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source.root / clip.audio_relpath, target)
        target.with_suffix(".txt").write_text(clip.transcript, encoding="utf-8")
    (root / clips[1].audio_relpath).with_suffix(".txt").write_text("It is of the and.", encoding="utf-8")
    lake = str(tmp_path / "lake")
    ingest_flow("folder", str(root), lake_uri=lake, show_progress=False)
    (root / clips[2].audio_relpath).write_bytes(b"RIFF not audio any more")
    result = emphasize_flow(lake, corpora=["small"], show_progress=False)
    assert result["rejected"] == 2 and result["run"]["status"] == "completed"
    rejects = {r["clip_id"]: r["reason"] for r in Lakehouse(lake).read("rejects").to_pylist() if r["stage"] == "emphasize"}
    assert rejects[f"small/{clips[1].native_id}"] == "no_keyword"
    assert rejects[f"small/{clips[2].native_id}"] in {"undecodable_audio", "truncated_audio", "audio_changed"}
    assert len(rejects) == 2
    assert [r["parent_clip_id"] for r in Lakehouse(lake).read("stressed_clips").to_pylist()] == [f"small/{clips[0].native_id}"]
    # again: the unreadable file is tried (and rejected) again; the text without a content word counts as done
    again = emphasize_flow(lake, corpora=["small"], show_progress=False)
    assert (again["computed"], again["rejected"], again["up_to_date"]) == (1, 1, 2)
    assert Lakehouse(lake).count("rejects", "stage = 'emphasize'") == 2

    # the emphasis stage on the same clips: the changed file is rejected there too, the others get features
    from speechcraft.flows.annotate import annotate_flow

    for _ in range(2):
        annotate_flow(lake, stages=["emphasis"], show_progress=False)
    stage = {r["clip_id"]: r["reason"] for r in Lakehouse(lake).read("rejects").to_pylist() if r["stage"] == "emphasis"}
    assert list(stage) == [f"small/{clips[2].native_id}"]
    featured = sorted(r["clip_id"] for r in Lakehouse(lake).read("emphasis_features", ["clip_id"]).to_pylist())
    assert featured == sorted([f"small/{clips[0].native_id}", f"small/{clips[1].native_id}",
                               f"small-stressed/{clips[0].native_id}"])         # once each after two runs


# -- the detector ----------------------------------------------------------------------------------------------
def test_the_detector_finds_the_stressed_word_on_held_out_speakers_and_sentences(emphasis_lake):
    rows = {r["corpus"]: r for r in query("""SELECT * FROM latest_validations
                                             WHERE attribute = 'emphasis' AND reference = 'regenerated:held_out'""",
                                          emphasis_lake).to_pylist()}
    # a few dozen held-out sentences here; bench/emphasis.py measures hundreds (docs/benchmarks.md)
    # the figures move a few points between sessions (0.83 all, 0.81 en, 0.86 zh seen at the low end); chance is
    # about one word in seven
    assert rows["all"]["n_clips"] >= 40 and rows["all"]["accuracy"] >= 0.75, rows["all"]
    for language in ("zh", "en"):
        assert rows[f"language:{language}"]["n_clips"] >= 16
        assert rows[f"language:{language}"]["accuracy"] >= 0.7, rows[f"language:{language}"]
    lake = Lakehouse(emphasis_lake)
    detectors = [c for c in lake.read("classifiers").to_pylist() if c["attribute"] == "emphasis"]
    assert len(detectors) == 2
    assert lake.count("emphasis") == lake.count("emphasis_features") == lake.count("clips")
    # the lakehouse's own detectors answer every clip, the shipped one none (tests/test_emphasis_any_corpus.py)
    assert {r["detector"] for r in lake.read("emphasis", ["detector"]).to_pylist()} == {d["version"] for d in detectors}
    found = query("""SELECT e.word, s.keyword FROM emphasis e JOIN stressed_clips s USING (clip_id)""", emphasis_lake).to_pylist()
    assert np.mean([f["word"] == f["keyword"] for f in found]) > 0.75       # training clips included (0.80 seen)
    plain = query("SELECT count(*) AS n, count(word) AS flagged FROM emphasis WHERE clip_id LIKE 'stress/%'",
                  emphasis_lake).to_pylist()[0]
    assert plain["flagged"] < 0.2 * plain["n"]


def test_a_rerun_reuses_the_detector_and_answers_nothing_new(emphasis_lake, tmp_path):
    from speechcraft.flows.annotate import annotate_flow

    lake = str(tmp_path / "lake")
    shutil.copytree(emphasis_lake, lake)
    result = annotate_flow(lake, stages=["emphasis"], show_progress=False)
    assert result["emphasis"]["todo"] == 0 and result["emphasis_detector"]["predicted"] == 0
    assert len([c for c in Lakehouse(lake).read("classifiers").to_pylist() if c["attribute"] == "emphasis"]) == 2


def test_validate_emphasis_against_espeak_ssml_stress(emphasis_lake, stress_corpora, tmp_path, capsys):
    from speechcraft.tasks.demo_corpora.stress import reference_path

    lake = str(tmp_path / "lake")
    shutil.copytree(emphasis_lake, lake)
    reference = reference_path(stress_corpora["stress-ssml"].root)
    assert main(["validate", "--stage", "emphasis", "--reference", str(reference), "--lake", lake]) == 0
    assert "emphasis" in capsys.readouterr().out
    row = query(f"""SELECT * FROM latest_validations WHERE reference = 'file:{reference.name}' AND corpus = 'all'""",
                lake).to_pylist()[0]
    assert row["n_clips"] == len(stress_corpora["stress-ssml"].clips)
    assert row["accuracy"] > 0.5
    bad = tmp_path / "bad.tsv"
    bad.write_text("clip_id\tword\nonly-one-field\n", encoding="utf-8")
    assert main(["validate", "--stage", "emphasis", "--reference", str(bad), "--lake", lake]) == 2
    assert "expected clip_id<TAB>word" in capsys.readouterr().err


def test_instructions_of_stressed_clips_name_the_keyword(emphasis_lake, tmp_path):
    from speechcraft.flows.describe import describe_flow

    lake = str(tmp_path / "lake")
    shutil.copytree(emphasis_lake, lake)
    describe_flow(lake, corpus="stress-stressed", show_progress=False)
    rows = query("""SELECT d.text, d.kind, s.keyword FROM descriptions d JOIN stressed_clips s USING (clip_id)
                    WHERE d.published""", lake).to_pylist()
    assert len(rows) == 2 * Lakehouse(lake).count("stressed_clips")
    assert all(r["keyword"] in r["text"] for r in rows)


def test_the_tts_backend_scales_the_keyword_of_a_tiny_fastspeech2(emphasis_lake, tmp_path):
    """A tiny random FastSpeech2ConformerWithHifiGan built here: the keyword's durations double, the other
    words keep theirs; Chinese parents and words outside CMUdict are rejected with the reason."""
    from fixtures.tiny_models import fastspeech2
    from speechcraft.flows.emphasize import emphasize_flow
    from speechcraft.models.stress_synthesis import StressError
    from speechcraft.models.stress_tts import FastSpeech2Stressor

    folder = fastspeech2(tmp_path / "fs2")
    words = [WordSpan(w, 0.0, 0.0) for w in "the garden was full of roses".split()]
    request = StressRequest(np.zeros(160, dtype=np.float32), 16000, words, 3, "en", "corpus/speaker")
    plain = FastSpeech2Stressor(str(folder), StressSettings(1.0, 0.0, 1.0), device="cpu").stress(request)
    stressed = FastSpeech2Stressor(str(folder), StressSettings(1.3, 6.0, 2.0), device="cpu").stress(request)

    def lengths(out):
        return [w.end_s - w.start_s for w in out.words]

    assert lengths(stressed)[3] == pytest.approx(2 * lengths(plain)[3], abs=0.002)
    assert lengths(stressed)[:3] == pytest.approx(lengths(plain)[:3])
    assert len(stressed.samples) > len(plain.samples) and stressed.sample_rate == 16000
    with pytest.raises(StressError, match="English only"):
        FastSpeech2Stressor(str(folder), device="cpu").stress(StressRequest(request.samples, 16000, words, 3, "zh"))
    with pytest.raises(StressError, match="not in CMUdict"):
        FastSpeech2Stressor(str(folder), device="cpu").stress(
            StressRequest(request.samples, 16000, [WordSpan("qzxvw", 0, 0)], 0, "en"))

    lake = str(tmp_path / "lake")
    shutil.copytree(emphasis_lake, lake)
    result = emphasize_flow(lake, corpora=["stress-ssml"], limit=6, options={"backend": "tts", "model": str(folder),
                                                                             "device": "cpu"}, show_progress=False)
    made = Lakehouse(lake).read("stressed_clips", where="clip_id LIKE 'stress-ssml-stressed/%'").to_pylist()
    rejected = [r for r in Lakehouse(lake).read("rejects").to_pylist() if r["reason"] == "cannot_stress"]
    assert len(made) + len(rejected) == 6 == result["computed"]
    assert made and all(r["synthesizer"] == "tts:1" and r["clip_id"].split("/")[1].startswith("en") for r in made)
    assert rejected and all("English only" in r["detail"] for r in rejected)
