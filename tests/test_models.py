"""The transformers backends, on tiny randomly initialised models built from a config in the test: batching,
padding, resampling, windows for long clips, label mapping, out-of-memory halving, offline loading errors,
and the rows the stages write. Nothing is downloaded."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from fixtures import tiny_models  # noqa: E402
from speechcraft.models.annotators import EMOTIONS, Clip  # noqa: E402
from speechcraft.models.hf_audio import ModelLoadError, in_batches, resolve_model  # noqa: E402
from speechcraft.models.registry import load_backend  # noqa: E402

EMOTION2VEC_LABELS = ["生气/angry", "厌恶/disgusted", "恐惧/fearful", "开心/happy", "中立/neutral", "其他/other",
                      "难过/sad", "吃惊/surprised", "<unk>"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("tiny-models")
    torch.set_num_threads(1)
    return {"emotion": tiny_models.audio_classifier(base / "emotion", EMOTION2VEC_LABELS),
            "gender": tiny_models.audio_classifier(base / "gender", ["female", "male"]),
            "no-gender": tiny_models.audio_classifier(base / "no-gender", ["speech", "music"]),
            "age-gender": tiny_models.age_gender(base / "age-gender"),
            "whisper": tiny_models.whisper(base / "whisper")}


def _clip(name: str, seconds: float, rate: int = 16000, seed: int = 0) -> Clip:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    samples = 0.1 * np.sin(2 * np.pi * (150 + 50 * seed) * t) + 0.02 * rng.standard_normal(len(t))
    return Clip(name, samples.astype(np.float32), rate, "en")


def _backend(stage: str, folder, **options):
    return load_backend(stage, {"backend": "model", "model": str(folder), **options})


def test_a_clip_gets_the_same_scores_alone_and_padded_in_a_batch_of_other_lengths(tiny):
    backend = _backend("emotion", tiny["emotion"], batch_size=4)
    clips = [_clip("a", 1.0, seed=1), _clip("b", 2.7, seed=2), _clip("c", 0.6, seed=3)]
    together = backend.outputs(clips)
    alone = np.stack([backend.outputs([c])[0] for c in clips])
    assert np.allclose(together, alone, atol=1e-5)
    assert not np.allclose(together[0], together[1], atol=1e-4)      # different audio, different scores


def test_audio_is_resampled_to_the_models_rate(tiny):
    backend = _backend("emotion", tiny["emotion"])
    native = _clip("a", 2.0, rate=16000, seed=4)
    import soxr

    upsampled = Clip("a", soxr.resample(native.samples, 16000, 44100).astype(np.float32), 44100, "en")
    assert np.allclose(backend.outputs([native]), backend.outputs([upsampled]), atol=2e-3)


def test_a_clip_longer_than_the_window_is_used_whole(tiny):
    backend = _backend("emotion", tiny["emotion"], window_s=4.0)
    long = _clip("long", 10.0, seed=5)
    changed_tail = Clip("long", long.samples.copy(), 16000, "en")
    changed_tail.samples[-16000 * 3:] = _clip("x", 3.0, seed=9).samples      # only the last window differs
    assert not np.allclose(backend.outputs([long]), backend.outputs([changed_tail]), atol=1e-6)
    windows = [Clip("w", long.samples[i:i + 64000], 16000) for i in range(0, 160000, 64000)]
    per_window = np.stack([backend.outputs([w])[0] for w in windows])
    weights = np.array([len(w.samples) for w in windows], dtype=float)
    assert np.allclose(backend.outputs([long])[0], weights @ per_window / weights.sum(), atol=1e-5)


def test_emotion2vec_labels_map_onto_the_seven_emotions(tiny):
    predictions = _backend("emotion", tiny["emotion"]).predict([_clip("a", 1.5, seed=1), _clip("b", 2.0, seed=2)])
    for p in predictions:
        assert set(p.scores) == set(EMOTIONS)                              # other / <unk> dropped
        assert abs(sum(p.scores.values()) - 1) < 1e-4
        assert p.emotion == max(p.scores, key=p.scores.get) and p.prob == p.scores[p.emotion]


def test_a_classifier_without_gender_labels_is_refused_at_load(tiny):
    backend = _backend("speaker", tiny["no-gender"])
    with pytest.raises(ModelLoadError, match="do not name both genders"):
        backend.load()


def test_age_gender_checkpoints_load_their_heads_and_map_age_and_gender(tiny):
    backend = _backend("speaker", tiny["age-gender"])
    assert backend.age_gender                                   # detected from its weights, not its config
    clips = [_clip("a", 1.0, seed=1), _clip("b", 3.0, seed=2)]
    outputs = backend.outputs(clips)                            # female, male, child, age/100
    for row, p in zip(outputs, backend.predict(clips)):
        assert p.gender == ("female" if row[0] >= row[1] else "male")
        assert p.gender_prob == pytest.approx(max(row[0], row[1]) / (row[0] + row[1]))
        assert p.age_years == pytest.approx(float(np.clip(row[3], 0, 1.2)) * 100, abs=1e-4)
        assert p.age_group == "child" if row[2] > max(row[0], row[1]) else p.age_group is not None


def test_a_generic_gender_classifier_maps_its_labels(tiny):
    backend = _backend("speaker", tiny["gender"])
    clips = [_clip("a", 1.0, seed=1)]
    row, p = backend.outputs(clips)[0], backend.predict(clips)[0]
    assert p.gender == ("female" if row[0] >= row[1] else "male") and p.age_group is None


def test_out_of_memory_halves_the_batch_and_keeps_going():
    sizes = []

    def run(batch):
        sizes.append(len(batch))
        if len(batch) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return [x * 10 for x in batch]

    assert in_batches(list(range(7)), 8, run) == [x * 10 for x in range(7)]
    assert sizes == [7, 4, 2, 2, 2, 1]

    def broken(batch):
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        in_batches([1, 2], 2, broken)


def test_a_model_that_is_not_on_this_machine_fails_naming_it_and_how_to_supply_it(tmp_path):
    with pytest.raises(ModelLoadError) as err:
        resolve_model("nobody-here/no-such-model-xyz")
    assert "nobody-here/no-such-model-xyz" in str(err.value) and "--model DIR" in str(err.value)
    with pytest.raises(ModelLoadError, match="has no config.json"):
        resolve_model(str(tmp_path))


def test_whisper_transcribes_a_batch_of_mixed_lengths_whole_with_word_times(tiny):
    backend = _backend("transcript", tiny["whisper"], batch_size=3, max_new_tokens=12)
    clips = [_clip("short", 1.0, seed=1), _clip("mid", 3.0, rate=22050, seed=2), _clip("long", 45.0, seed=3)]
    results = backend.predict(clips)
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    for clip, result in zip(clips, results):
        assert result.text and result.words and result.language in LANGUAGES
        starts = [w.start_s for w in result.words]
        assert starts == sorted(starts) and all(w.end_s >= w.start_s for w in result.words)
        assert result.words[-1].end_s <= clip.duration_s + 0.05
        assert "".join(w.word for w in result.words) == result.text.replace(" ", "")
    assert results[2].words[-1].end_s > 30.0                  # the second window was decoded too
    forced = _backend("transcript", tiny["whisper"], language="zh", max_new_tokens=4).predict(clips[:1])
    assert forced[0].language == "zh"


def test_speaker_emotion_and_transcript_stages_write_rows_from_model_backends(tiny, ingested_lake, tmp_path, capsys):
    """Through the CLI, as a user runs it: the rows say which backend and model made them; corpus
    metadata stays the published gender; the transcript stage only takes clips without a transcript."""
    import shutil

    from speechcraft.cli import main
    from speechcraft.warehouse.sql import query

    lake = str(tmp_path / "lake")
    shutil.copytree(ingested_lake, lake)
    corpus = ["--corpus", "folder", "--lake", lake]
    for labelled in ("folder", "prosody"):          # prosody's speakers.tsv gives gender: validated against it
        assert main(["annotate", "--stage", "speaker", "--model", str(tiny["age-gender"]), "--batch-size", "3",
                     "--corpus", labelled, "--lake", lake]) == 0
    assert "accuracy" in capsys.readouterr().out                 # the validation was printed
    assert main(["annotate", "--stage", "emotion", "--model", str(tiny["emotion"]), *corpus]) == 0
    capsys.readouterr()
    assert main(["annotate", "--stage", "emotion", "--model", str(tiny["emotion"]), *corpus]) == 0
    assert "emotion: 0 done, 0 from cache" in capsys.readouterr().out     # a re-run has nothing to do
    config = tmp_path / "speechcraft.toml"
    config.write_text(f'[stages.transcript]\nbackend = "model"\nmodel = "{tiny["whisper"]}"\n')
    assert main(["annotate", "--stage", "transcript", "--config", str(config), *corpus]) == 0
    validated = query("SELECT * FROM validations WHERE corpus = 'all' ORDER BY attribute", lake).to_pylist()
    assert [(r["attribute"], r["reference"], r["n_clips"]) for r in validated] == [
        ("age_group", "metadata:all_speakers", 96), ("gender", "metadata:all_speakers", 96)]

    speakers = query("SELECT s.*, c.meta_gender FROM speakers s JOIN clips c USING (clip_id)", lake).to_pylist()
    assert speakers and all(r["backend"] == "model" and r["model"] == str(tiny["age-gender"]) for r in speakers)
    for r in speakers:
        assert r["predicted_gender"] in ("female", "male")
        assert r["gender"] == (r["meta_gender"] or r["predicted_gender"])
        assert r["gender_source"] == ("corpus" if r["meta_gender"] else str(tiny["age-gender"]))
    emotions = query("SELECT * FROM emotions", lake).to_pylist()
    assert emotions and all(set(json.loads(r["emotion_scores"])) == set(EMOTIONS) for r in emotions)
    transcripts = query("SELECT clip_id, text, words FROM transcripts", lake).to_pylist()
    no_text = {r["clip_id"] for r in query("SELECT clip_id FROM clips WHERE corpus = 'folder' AND "
                                           "coalesce(transcript, '') = ''", lake).to_pylist()}
    assert {r["clip_id"] for r in transcripts} <= no_text and transcripts
    view = query("SELECT clip_id, transcript, transcript_source, emotion FROM clip_annotations "
                 "WHERE corpus = 'folder'", lake).to_pylist()
    for r in view:
        if r["clip_id"] in {t["clip_id"] for t in transcripts if t["text"]}:
            assert r["transcript_source"] == str(tiny["whisper"])
        elif r["transcript"]:
            assert r["transcript_source"] == "corpus"


def test_a_model_that_cannot_load_fails_before_any_work(ingested_lake, tmp_path, capsys):
    import shutil

    from speechcraft.cli import main
    from speechcraft.warehouse.sql import query

    lake = str(tmp_path / "lake")
    shutil.copytree(ingested_lake, lake)
    runs_before = query("SELECT count(*) AS n FROM runs", lake).to_pylist()[0]["n"]
    assert main(["annotate", "--stage", "emotion", "--model", "nobody-here/emotion-xyz", "--lake", lake]) == 2
    err = capsys.readouterr().err
    assert "nobody-here/emotion-xyz" in err and "--model DIR" in err
    assert query("SELECT count(*) AS n FROM runs", lake).to_pylist()[0]["n"] == runs_before
    assert query("SELECT count(*) AS n FROM emotions", lake).to_pylist()[0]["n"] == 0


def test_models_command_lists_each_stage_backend_and_its_weights(tiny, tmp_path, capsys):
    from speechcraft.cli import main

    config = tmp_path / "speechcraft.toml"
    config.write_text(f'[stages.emotion]\nbackend = "model"\nmodel = "{tiny["emotion"]}"\n'
                      f'[stages.transcript]\nbackend = "model"\nmodel = "nobody-here/whisper-xyz"\n')
    assert main(["models", "--config", str(config), "--format", "json"]) == 0
    rows = {r["stage"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["speaker"]["backend"] == "embedded" and "classifiers" in rows["speaker"]["weights"]
    assert rows["emotion"]["weights"] == f"local folder {tiny['emotion']}"
    assert rows["transcript"]["weights"].startswith("unavailable: cannot load model 'nobody-here/whisper-xyz'")
