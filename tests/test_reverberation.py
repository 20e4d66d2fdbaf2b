"""The blind C50 estimate (models/reverberation.py): its contract, and its ordering on rooms simulated here."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from speechcraft.models import reverberation as rv

RATE = 16000


def test_labels_follow_parler_bins():
    assert rv.reverberation_label(60.0) == "very close-sounding"
    assert rv.reverberation_label(59.5) == "very close-sounding"
    assert rv.reverberation_label(57.0) == "slightly close-sounding"
    assert rv.reverberation_label(50.0) == "slightly distant-sounding"
    assert rv.reverberation_label(40.0) == "distant-sounding"
    assert rv.reverberation_label(20.0) == "very distant-sounding"
    assert rv.reverberation_label(-5.0) == "very distant-sounding"      # below the edges: the end bin
    assert rv.reverberation_label(75.0) == "very close-sounding"


def test_c50_of_rir():
    delta = np.zeros(4000)
    delta[10] = 1.0
    assert rv.c50_of_rir(delta, RATE) == 60.0
    t = np.arange(RATE) / RATE
    rt60 = 0.5
    h = 10 ** (-3 * t / rt60)                                   # energy decays 60 dB per RT60
    expected = 10 * np.log10((1 - 10 ** (-6 * 0.05 / rt60)) / 10 ** (-6 * 0.05 / rt60))
    assert rv.c50_of_rir(h, RATE, onset=0) == pytest.approx(expected, abs=0.2)


def test_bad_input_raises():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="too short"):
        rv.estimate_c50(rng.normal(size=int(0.3 * RATE)).astype(np.float32) * 0.1, RATE)
    with pytest.raises(ValueError, match="silent"):
        rv.estimate_c50(np.zeros(RATE, np.float32), RATE)
    with pytest.raises(ValueError, match="mono"):
        rv.estimate_c50(np.zeros((RATE, 2), np.float32), RATE)


def test_model_ships_and_is_numpy_only():
    model = rv.load_model()
    assert model.feature.shape[0] >= 100 and (model.low, model.high) == (-10.0, 60.0)
    assert int(model.feature.max()) < len(rv.feature_names())


@pytest.fixture(scope="module")
def speech():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    import soxr

    from speechcraft.tasks.demo_corpora.speech import ESPEAK_RATE, Voice, render
    x = render("The children laughed as the boat rocked on the waves. We walked home.",
               Voice("en-us+m2", 50, 160), ESPEAK_RATE)
    x = soxr.resample(x, ESPEAK_RATE, RATE)
    return np.concatenate([np.zeros(RATE // 4), x, np.zeros(RATE // 4)]).astype(np.float64)


def room_clip(speech, dims, rt60, distance, seed=7):
    pra = pytest.importorskip("pyroomacoustics")
    from scipy.signal import fftconvolve
    rng = np.random.default_rng(seed)
    absorption, order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=RATE, materials=pra.Material(absorption), max_order=min(order, 30))
    source = np.array([1.0, dims[1] / 2, 1.5])
    room.add_source(source)
    room.add_microphone(source + [distance, 0.0, -0.3 * rng.random()])
    room.compute_rir()
    wet = fftconvolve(speech, room.rir[0][0])[: len(speech)]
    return (wet / np.abs(wet).max() * 0.5).astype(np.float32)


def test_dry_beats_a_big_reverberant_room(speech):
    dry = rv.estimate_c50((speech / np.abs(speech).max() * 0.5).astype(np.float32), RATE)
    wet = rv.estimate_c50(room_clip(speech, [15.0, 10.0, 5.0], 1.2, 4.0), RATE)
    assert dry > 40 and wet < 15 and dry - wet > 30


# Beyond the critical distance (about 0.6 m in the small room) C50 hardly changes, true or estimated.
@pytest.mark.parametrize("dims, rt60, distances", [([6.0, 5.0, 3.0], 0.4, (0.2, 0.5, 1.0)),
                                                   ([12.0, 8.0, 4.0], 0.9, (0.2, 1.0, 4.0))])
def test_monotone_in_distance(speech, dims, rt60, distances):
    estimates = [rv.estimate_c50(room_clip(speech, dims, rt60, d), RATE) for d in distances]
    assert estimates[0] > estimates[1] + 1 > estimates[2] + 2, estimates


def test_any_rate(speech):
    import soxr
    x = (speech / np.abs(speech).max() * 0.5).astype(np.float32)
    at16 = rv.estimate_c50(x, RATE)
    at44 = rv.estimate_c50(soxr.resample(x, RATE, 44100), 44100)
    assert abs(at16 - at44) < 5
