"""Benchmark of the blind C50 estimate (models/reverberation.py) on held-out simulated rooms.

    .venv/bin/python bench/reverberation.py [--workers 2]

The sets are the ones scripts/train_c50.py builds (and caches under build/c50-cache): `heldout` (espeak
voices and sentences never trained on, rooms from seed 13), `flite` (Debian flite voices slt, rms, awb in the
same held-out rooms, when `flite` is installed) and `flite-dev` (kal, which guided development choices).
Side by side for each set:

- shipped: `estimate_c50` on each clip (resampled from 22,050 Hz to time the whole path: soxr + features +
  trees), Spearman rank correlation with the true C50, median absolute error (dB), Parler-TTS label right and
  right-or-one-bin-off rates, and milliseconds per clip (per 4 s of audio, one core);
- decay-rate: a blind decay-rate method with no regressor: the 5th percentile of the broadband 100 ms
  energy-decay slope after loud frames (the steepest free decays), mapped to C50 by an isotonic fit on the
  training rooms.

Targets (issue 19): Spearman >= 0.9 and label right or one off >= 90% on held-out rooms.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import train_c50 as tc  # noqa: E402

from speechcraft.models import reverberation as rv  # noqa: E402

DECAY_FEATURE = "bb_slope100ms_p5"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    import soxr
    from sklearn.isotonic import IsotonicRegression

    specs = tc.set_specs()
    col = rv.feature_names().index(DECAY_FEATURE)
    train = tc.make_set(specs["train"], args.workers)
    xt = np.array([rv.features(c)[col] for c in train["clips"]])
    iso = IsotonicRegression(increasing=False, out_of_bounds="clip").fit(xt, train["c50"])

    rv.estimate_c50(np.zeros(8000, np.float32) + 0.01 * np.random.default_rng(0).normal(size=8000), 16000)  # warm
    print(f"{'set':>10} {'method':>11} {'n':>4} {'spearman':>9} {'med|err| dB':>11} {'label right':>11} "
          f"{'right/1 off':>11} {'ms / 4 s':>9}")
    for name in [n for n in ("heldout", "flite", "flite-dev") if n in specs]:
        s = tc.make_set(specs[name], args.workers)
        clips22 = [soxr.resample(c, rv.RATE, 22050) for c in s["clips"]]
        t0 = time.process_time()
        pred = np.array([rv.estimate_c50(c, 22050) for c in clips22])
        seconds = time.process_time() - t0
        audio = sum(len(c) for c in s["clips"]) / rv.RATE
        decay = iso.predict(np.array([rv.features(c)[col] for c in s["clips"]]))
        for method, p, ms in (("shipped", pred, 1000 * seconds / audio * 4), ("decay-rate", decay, None)):
            f = tc.figures(p, s["c50"])
            print(f"{name:>10} {method:>11} {f['n']:4d} {f['spearman']:9.3f} {f['median_abs_db']:11.2f} "
                  f"{f['label_right']:11.1%} {f['label_within_one']:11.1%} {'' if ms is None else f'{ms:9.1f}'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
