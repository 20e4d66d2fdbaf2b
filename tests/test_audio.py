"""Opening audio: every way a file can be broken gets its own reason, and good files decode in full."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from speechcraft.tasks.audio import AudioError, decode_audio

FORMATS = {"wav": {"subtype": "PCM_16"}, "flac": {}, "mp3": {"format": "MP3"},
           "opus": {"format": "OGG", "subtype": "OPUS"}, "ogg": {"format": "OGG", "subtype": "VORBIS"}}


def _tone(path, **kwargs):
    t = np.arange(3 * 16000) / 16000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype("float32"), 16000, **kwargs)
    return path


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_intact_files_decode_whole(tmp_path, ext):
    audio = decode_audio(_tone(tmp_path / f"a.{ext}", **FORMATS[ext]))
    assert audio.duration_s == pytest.approx(3.0, abs=0.06)
    assert audio.sample_rate == 16000 and len(audio.sha256) == 64


@pytest.mark.parametrize("ext,reasons", [
    ("wav", {"truncated_audio"}), ("mp3", {"truncated_audio"}), ("opus", {"truncated_audio"}),
    # a cut Vorbis stream may already fail inside the codec; either way it never lands as a shorter clip
    ("ogg", {"truncated_audio", "undecodable_audio"}),
])
def test_a_file_cut_in_half_is_rejected(tmp_path, ext, reasons):
    path = _tone(tmp_path / f"a.{ext}", **FORMATS[ext])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(AudioError) as error:
        decode_audio(path)
    assert error.value.reason in reasons


@pytest.mark.parametrize("content,reason", [(b"", "empty_audio"), (b"not audio at all" * 64, "undecodable_audio")])
def test_empty_and_garbage_files(tmp_path, content, reason):
    path = tmp_path / "x.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as error:
        decode_audio(path)
    assert error.value.reason == reason


def test_missing_file(tmp_path):
    with pytest.raises(AudioError) as error:
        decode_audio(tmp_path / "nope.flac")
    assert error.value.reason == "missing_audio"
