"""Noise, quality and enhancement: the estimators follow known SNRs, DNSMOS falls with noise, and the enhancement
stage writes a better copy into the lakehouse (the original untouched) that an export can take instead."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.stats import spearmanr

from speechcraft.models.snr import MAX_DB, estimate_snr
from speechcraft.models.speech_quality import dnsmos
from speechcraft.tasks.demo_corpora.speech import render_many, voice_for
from speechcraft.vocabulary import parler_label

RATE = 16_000
SENTENCE = "Please call Stella and ask her to bring these things with her from the store."


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """An espeak sentence with 0.3 s of silence either side (as recorded clips have)."""
    samples = render_many([(SENTENCE, voice_for(5, "female", "en"))], RATE)[0]
    pad = np.zeros(int(0.3 * RATE), dtype=np.float32)
    return np.concatenate([pad, samples, pad])


def with_noise(clean: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """`clean` plus white noise at `snr_db` below the speech's active level (frames within 40 dB of the loudest)."""
    frames = np.lib.stride_tricks.sliding_window_view(clean, 512)[::256]
    power = (frames ** 2).mean(axis=1)
    active = power[power > power.max() * 1e-4].mean()
    noise = np.random.default_rng(seed).standard_normal(len(clean))
    noise *= np.sqrt(active / 10 ** (snr_db / 10) / np.mean(noise ** 2))
    mixed = clean + noise
    return (mixed / max(1.0, np.abs(mixed).max())).astype(np.float32)


def test_the_snr_estimate_follows_the_true_snr(speech):
    truths = [0, 5, 10, 15, 20, 25, 30, 40]
    estimates = [estimate_snr(with_noise(speech, snr, seed), RATE) for seed, snr in enumerate(truths)]
    assert spearmanr(truths, estimates)[0] == 1.0
    assert all(abs(e - t) < 5 for e, t in zip(estimates, truths) if 5 <= t <= 30), estimates
    assert estimate_snr(speech, RATE) == MAX_DB                  # digital silence between words: no noise at all
    assert parler_label("noise", estimates[0]) == "very noisy"
    with pytest.raises(ValueError, match="too short"):
        estimate_snr(speech[:1000], RATE)


def test_dnsmos_falls_as_noise_rises(speech):
    scores = [dnsmos(with_noise(speech, snr), RATE) for snr in (40, 20, 5)]
    assert scores[0]["bak"] > scores[1]["bak"] > scores[2]["bak"]
    assert scores[0]["ovrl"] > scores[2]["ovrl"]
    assert all(1.0 <= s[k] <= 5.0 for s in scores for k in ("ovrl", "sig", "bak", "p808"))


@pytest.mark.slow
def test_enhancement_keeps_a_better_copy_that_an_export_can_take(speech, prefect_harness, tmp_path):
    from speechcraft.cli import main
    from speechcraft.tasks.exports.selection import Filters, clips_sql
    from speechcraft.warehouse.sql import connect, query

    corpus = tmp_path / "noisy"
    corpus.mkdir()
    for i, snr in enumerate((5, 10, 60)):
        sf.write(corpus / f"clip{i}.wav", with_noise(speech, snr, seed=i), RATE)
        (corpus / f"clip{i}.txt").write_text(SENTENCE)
    originals = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus.glob("*.wav")}
    lake = str(tmp_path / "lake")
    assert main(["ingest", "folder", str(corpus), "--lake", lake]) == 0
    assert main(["annotate", "--lake", lake, "--stage", "acoustics", "--stage", "noise", "--stage", "quality",
                 "--stage", "enhancement"]) == 0
    rows = {r["clip_id"]: r for r in query(
        "SELECT clip_id, snr_db, dnsmos_ovrl, enhanced_path, dnsmos_before, dnsmos_after FROM clip_annotations",
        lake).to_pylist()}
    noisy = rows["noisy/clip0"]
    assert noisy["snr_db"] < rows["noisy/clip2"]["snr_db"]
    assert noisy["dnsmos_before"] == pytest.approx(noisy["dnsmos_ovrl"], abs=1e-6)   # the same clip, scored twice
    assert noisy["dnsmos_after"] > noisy["dnsmos_before"] and Path(noisy["enhanced_path"]).is_file()
    assert Path(noisy["enhanced_path"]).is_relative_to(Path(lake) / "audio" / "enhancement")
    for row in rows.values():            # a copy is kept exactly where it scores higher
        assert (row["enhanced_path"] is not None) == (row["dnsmos_after"] > row["dnsmos_before"]), row
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in corpus.glob("*.wav")} == originals

    con = connect(lake)
    try:
        chosen = {r[0]: r[1] for r in con.sql(f"SELECT clip_id, audio_path FROM ({clips_sql(None, Filters(audio_source='enhanced'))})").fetchall()}
    finally:
        con.close()
    for clip_id, row in rows.items():
        assert chosen[clip_id] == (row["enhanced_path"] or str(corpus / f"{clip_id.split('/')[1]}.wav"))
    enhanced, rate = sf.read(noisy["enhanced_path"], dtype="float32")
    assert rate == RATE and len(enhanced) == len(speech)             # sample for sample the original's timeline

    assert main(["annotate", "--lake", lake, "--stage", "enhancement"]) == 0                 # a re-run: nothing
    assert query("SELECT count(*) AS n FROM attr_enhancement", lake).to_pylist() == [{"n": 3}]


@pytest.mark.slow
def test_silent_short_and_broken_clips_leave_the_rest_measured_and_a_rerun_adds_nothing(speech, prefect_harness,
                                                                                         tmp_path):
    """A silent and a too-short clip get null values (no retry every run), a corrupt file is rejected at ingest
    with its reason; the speech clip is measured; a re-run measures nothing and duplicates nothing."""
    from speechcraft.cli import main
    from speechcraft.warehouse.sql import query

    corpus = tmp_path / "mixed"
    corpus.mkdir()
    sf.write(corpus / "speech.wav", with_noise(speech, 20), RATE)
    sf.write(corpus / "silent.wav", np.zeros(RATE, dtype=np.float32), RATE)
    sf.write(corpus / "short.wav", with_noise(speech, 20)[: int(0.2 * RATE)], RATE)
    (corpus / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    for name in ("speech", "silent", "short", "broken"):
        (corpus / f"{name}.txt").write_text(SENTENCE)
    lake = str(tmp_path / "lake")
    assert main(["ingest", "folder", str(corpus), "--lake", lake]) == 0
    stages = ["--stage", "acoustics", "--stage", "noise", "--stage", "reverberation", "--stage", "monotony"]
    assert main(["annotate", "--lake", lake, *stages]) == 0
    rows = {r["clip_id"]: r for r in query("SELECT clip_id, snr_db, noise_parler, c50_db, f0_std_semitones "
                                           "FROM clip_annotations", lake).to_pylist()}
    assert set(rows) == {"mixed/speech", "mixed/silent", "mixed/short"}
    assert rows["mixed/speech"]["snr_db"] is not None and rows["mixed/speech"]["c50_db"] is not None
    assert rows["mixed/speech"]["f0_std_semitones"] > 0
    for clip in ("mixed/silent", "mixed/short"):
        assert rows[clip]["snr_db"] is None and rows[clip]["noise_parler"] is None and rows[clip]["c50_db"] is None
    rejects = query("SELECT source, reason FROM rejects", lake).to_pylist()
    assert rejects == [{"source": "broken.wav", "reason": "undecodable_audio"}]
    counts = {t: query(f"SELECT count(*) AS n FROM {t}", lake).to_pylist()[0]["n"]
              for t in ("attr_noise", "attr_reverberation", "attr_monotony", "rejects")}
    assert counts == {"attr_noise": 3, "attr_reverberation": 3, "attr_monotony": 3, "rejects": 1}

    assert main(["annotate", "--lake", lake, *stages]) == 0                # nothing is retried, nothing added
    assert {t: query(f"SELECT count(*) AS n FROM {t}", lake).to_pylist()[0]["n"] for t in counts} == counts
    last = query("SELECT computed_at FROM attr_noise ORDER BY computed_at DESC LIMIT 1", lake).to_pylist()
    first_run = query("SELECT min(started_at) AS t FROM runs WHERE flow = 'annotate'", lake).to_pylist()[0]["t"]
    second_run = query("SELECT max(started_at) AS t FROM runs WHERE flow = 'annotate'", lake).to_pylist()[0]["t"]
    assert first_run < last[0]["computed_at"] < second_run
