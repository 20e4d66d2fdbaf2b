"""One pass over the signal: each clip is decoded and pitch-tracked once across the acoustic, speaker and emphasis
stages; the stages after acoustics read the contours it stored; a stage run alone analyses what has none."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from speechcraft.models import pitch
from speechcraft.models.signal import Contours, analyse_signal
from speechcraft.tasks import clip_batches
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query

STAGES = ["acoustics", "speaker", "emphasis"]


def _tone_with_pauses(rate: int) -> np.ndarray:
    t = np.arange(int(2.0 * rate)) / rate
    voice = 0.3 * np.sin(2 * np.pi * 140 * t) * (1 + 0.2 * np.sin(2 * np.pi * 3 * t))
    voice[: rate // 4] = voice[-rate // 4:] = 0.0
    return (voice + 1e-4 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("rate", [16000, 24000, 44100])
def test_contours_keep_the_trackers_frames_and_compact_to_float32(rate):
    samples = _tone_with_pauses(rate)
    contours = analyse_signal(samples, rate)
    track = pitch.default_pitch_tracker().track(samples, rate)     # what each stage ran on its own before
    assert np.array_equal(contours.f0_times_s, track.times_s)
    assert np.array_equal(contours.f0_hz, track.f0_hz, equal_nan=True)
    assert len(contours.speech_segments) == 1 and abs(contours.speech_segments[0, 0] - 0.25) < 0.03
    assert len(contours.energy_db) == len(samples) * 100 // rate        # 10 ms frames of the 16 kHz signal
    compact = contours.compact()
    assert {a.dtype for a in (compact.f0_hz, compact.energy_db, compact.tilt_db)} == {np.dtype(np.float32)}
    voiced = np.isfinite(contours.f0_hz)
    assert np.isfinite(compact.f0_hz).tolist() == voiced.tolist()       # voicing survives the rounding
    assert np.max(np.abs(compact.f0_hz[voiced] - contours.f0_hz[voiced]) / contours.f0_hz[voiced]) < 1e-7
    every_10ms = contours.f0_at(np.arange(50, 150) / 100.0)              # F0 and voicing on any frame grid
    assert np.isfinite(every_10ms).mean() > 0.5 and abs(float(np.nanmedian(every_10ms)) - 140) < 5


def test_a_stored_row_reads_back_as_the_contours_it_was_written_from():
    from speechcraft.tasks.acoustics import _from_row, contours_row

    compact = analyse_signal(_tone_with_pauses(16000), 16000).compact()
    row = contours_row("c/1", compact)
    back = _from_row(row | {"speech_segments": [dict(s) for s in row["speech_segments"]]})
    for name in ("f0_hz", "energy_db", "speech_segments", "window_energy_db", "tilt_db", "spectral_envelope"):
        assert np.array_equal(getattr(back, name), getattr(compact, name), equal_nan=True), name
    assert (back.f0_start_s, back.f0_step_s) == (compact.f0_start_s, compact.f0_step_s)


@pytest.fixture
def counted(monkeypatch) -> Counter:
    """Counts every pitch track (by tracker name) and every audio file decoded, wherever a stage asks."""
    calls: Counter = Counter()
    decode = clip_batches.decode_audio

    def counting(tracker: type):
        track = tracker.track

        def counting_track(self, samples, sample_rate):
            calls[self.name] += 1
            return track(self, samples, sample_rate)
        return counting_track

    def counting_decode(path):
        calls["decode"] += 1
        return decode(path)

    for tracker in pitch.PITCH_TRACKERS.values():
        monkeypatch.setattr(tracker, "track", counting(tracker))
    monkeypatch.setattr(clip_batches, "decode_audio", counting_decode)
    return calls


def _annotate(lake: str, stages: list[str]) -> dict:
    from speechcraft.flows.annotate import annotate_flow

    return annotate_flow(lake, stages=stages, workers=1, clips_per_task=8, show_progress=False)


@pytest.fixture
def folder_lake(corpora, prefect_harness, tmp_path, monkeypatch) -> str:
    from speechcraft.flows.ingest import ingest_flow

    monkeypatch.setenv("SPEECHCRAFT_CACHE", str(tmp_path / "cache"))     # nothing from another test's batches
    lake = str(tmp_path / "lake")
    ingest_flow("folder", str(corpora["folder"].root), lake_uri=lake, show_progress=False)
    return lake


def test_one_annotate_run_tracks_pitch_and_decodes_once_per_clip(folder_lake, counted):
    result = _annotate(folder_lake, STAGES)
    measured = result["acoustics"]["computed"] - result["acoustics"]["rejected"]
    files = len({r["audio_path"] for r in Lakehouse(folder_lake).read("clips", ["audio_path"]).to_pylist()})
    assert measured >= 6 and result["speaker"]["computed"] >= measured and result["emphasis"]["computed"] >= 5
    assert counted[pitch.DEFAULT_PITCH] == measured                   # not 3x: speaker and emphasis read the contours
    assert counted["decode"] == files                      # the acoustic stage's decode only
    assert Lakehouse(folder_lake).count("signal_contours") == measured


def test_the_stages_after_acoustics_read_the_stored_contours(folder_lake, counted, monkeypatch):
    _annotate(folder_lake, ["acoustics"])
    lake = Lakehouse(folder_lake)
    stored = lake.read("signal_contours").to_pylist()
    for row in stored:                                     # an octave up, only in the stored contours
        row["f0_hz"] = [2 * f for f in row["f0_hz"]]
    lake.upsert("signal_contours", stored)
    counted.clear()
    from speechcraft.models import signal

    def no_analysis(*_args, **_kwargs):
        raise AssertionError("a stage analysed audio that has stored contours")

    for module in ("speechcraft.tasks.acoustics", "speechcraft.models.speaker_classifier"):
        monkeypatch.setattr(f"{module}.analyse_signal", no_analysis)
    monkeypatch.setattr(signal, "analyse_signal", no_analysis)
    _annotate(folder_lake, ["speaker", "emphasis"])
    assert counted == Counter()                            # no decode, no pitch track
    features = {r["clip_id"]: r["features"] for r in lake.read("speaker_features").to_pylist()}
    for row in stored:
        f0 = np.array(row["f0_hz"], dtype=np.float64)
        times = row["f0_start_s"] + row["f0_step_s"] * np.arange(len(f0))
        segments = np.array([[s["start_s"], s["end_s"]] for s in row["speech_segments"]]).reshape(-1, 2)
        track = pitch.PitchTrack(f0, times)
        voiced = (track.within(segments, margin_s=0.05) if len(segments) else track).voiced
        if len(voiced):                                    # the median F0 feature is the doubled contour's
            assert features[row["clip_id"]][13] == pytest.approx(np.log2(np.median(voiced)), abs=1e-5)


def test_a_stage_run_alone_analyses_clips_without_contours(folder_lake, counted):
    result = _annotate(folder_lake, ["speaker"])
    computed = result["speaker"]["computed"] - result["speaker"]["rejected"]
    assert computed >= 6 and counted[pitch.DEFAULT_PITCH] == computed
    assert Lakehouse(folder_lake).count("signal_contours") == 0          # only the acoustic stage writes them
    _annotate(folder_lake, ["acoustics"])
    assert query("SELECT count(*) FROM signal_contours", folder_lake).column(0)[0].as_py() == computed


def test_the_contours_a_stage_computes_for_itself_match_the_stored_ones(folder_lake):
    from speechcraft.tasks.acoustics import clip_contours, pending_clips
    from speechcraft.tasks.acoustic_analysis import AcousticConfig

    jobs = pending_clips(Lakehouse(folder_lake), AcousticConfig()).jobs
    computed = clip_contours(jobs)                                   # no lakehouse: analysed here
    _annotate(folder_lake, ["acoustics"])
    stored = clip_contours(jobs, Lakehouse(folder_lake))
    assert {k for k, v in stored.items() if isinstance(v, Contours)} == \
        {k for k, v in computed.items() if isinstance(v, Contours)}
    for clip_id, contours in stored.items():
        if isinstance(contours, Contours):
            assert np.array_equal(contours.f0_hz, computed[clip_id].f0_hz, equal_nan=True)
            assert np.array_equal(contours.tilt_db, computed[clip_id].tilt_db)


def _folder_clips(corpora, n: int) -> list[tuple[np.ndarray, int]]:
    from speechcraft.tasks.audio import AudioError, decode_audio

    clips = []
    for path in sorted(p for p in corpora["folder"].root.rglob("*") if p.suffix in {".wav", ".flac"}):
        try:
            audio = decode_audio(path)
        except AudioError:                # the corpus's planted bad files
            continue
        if audio.duration_s > 0.5:
            clips.append((audio.samples.mean(axis=1), audio.sample_rate))
    return clips[:n]


def test_the_batched_tracker_gives_praats_track(corpora):
    """Same frames, same voicing, the same F0 to well under a percent, on speech and on a tone at three rates."""
    from speechcraft.models.pitch_batched import BatchedAutocorrelationPitch

    batched, praat = BatchedAutocorrelationPitch(), pitch.PraatPitch()
    clips = _folder_clips(corpora, 8) + [(_tone_with_pauses(rate), rate) for rate in (16000, 24000, 44100)]
    differences, disagreements, frames = [], 0, 0
    for samples, rate in clips:
        ours, theirs = batched.track(samples, rate), praat.track(samples, rate)
        assert np.allclose(ours.times_s, theirs.times_s) and ours.step_s == pytest.approx(theirs.step_s)
        voiced, praat_voiced = np.isfinite(ours.f0_hz), np.isfinite(theirs.f0_hz)
        disagreements += int(np.sum(voiced != praat_voiced))
        frames += len(voiced)
        both = voiced & praat_voiced
        differences.append(np.abs(ours.f0_hz[both] / theirs.f0_hz[both] - 1))
    differences = np.concatenate(differences)
    assert len(differences) > 500
    assert np.median(differences) < 0.001 and np.percentile(differences, 95) < 0.01
    assert disagreements <= 0.01 * frames
    assert len(batched.track(np.zeros(400, np.float32), 16000).f0_hz) == 0        # shorter than one window
    assert not np.isfinite(batched.track(np.zeros(16000, np.float32), 16000).f0_hz).any()   # silence


def test_an_annotate_run_with_praat_itself_tracks_each_clip_once_with_it(folder_lake, counted):
    from speechcraft.flows.annotate import annotate_flow

    result = annotate_flow(folder_lake, stages=STAGES, workers=1, clips_per_task=8, show_progress=False,
                           acoustic_options={"pitch": "praat-ac"})
    measured = result["acoustics"]["computed"] - result["acoustics"]["rejected"]
    assert measured >= 6 and result["speaker"]["computed"] >= measured
    # the speaker and emphasis stages read the contours Praat made: no other tracker runs
    assert counted == Counter({"praat-ac": measured, "decode": counted["decode"]})
    for table in ("acoustics", "signal_contours"):
        names = query(f"SELECT annotator FROM {table}", folder_lake).column(0).to_pylist()
        assert names and all(name.startswith("praat-ac+") for name in names)
