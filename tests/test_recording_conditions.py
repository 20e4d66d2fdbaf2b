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
