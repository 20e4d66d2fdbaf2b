"""Train the blind C50 regressor shipped as models/data/c50_regressor.npz, and print its held-out figures.

    .venv/bin/python scripts/train_c50.py [--workers 2] [--out models/data/c50_regressor.npz]

Everything is generated here from fixed seeds, nothing is downloaded:

- speech: espeak-ng sentences (tasks/demo_corpora/speech.py `render`), one or two sentences per clip with
  pauses; training voices and sentences (stress_texts.EN) are disjoint from the held-out ones (texts.EN and
  other espeak voices), and the Debian flite voices (slt, rms, awb, kal) when `flite` is installed;
- rooms: pyroomacoustics shoebox rooms of random size (3-18 x 2.5-14 x 2.4-5 m), RT60 0.15-1.5 s
  (log-uniform; absorption from Sabine's formula), source-mic distance 0.2-6 m; the true C50 of every RIR is
  computed from the RIR (`c50_of_rir`, onset at the geometric direct-path delay). A clip takes either the
  room as is, the room with its reflections scaled down to a C50 drawn up to 62 dB (a closer microphone or
  a deader room: fills the 30-60 dB range natural rooms rarely reach), or no room at all (dry, C50 = 60 dB);
- noise: none, or white/pink noise 30-80 dB below the speech.

Training rooms come from seed 11, validation rooms (model choice) from seed 12, held-out rooms from seed 13.
The held-out figures come from the same sets `bench/reverberation.py` prints.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scipy.signal import fftconvolve  # noqa: E402

from speechcraft.models import reverberation as rv  # noqa: E402

RATE = rv.RATE
CACHE = ROOT / "build" / "c50-cache"
C50_CAP = 60.0
C50_FLOOR = -10.0
SPEED_OF_SOUND = 343.0
DELAY = 40                        # pyroomacoustics' fractional-delay filter puts the direct sound 40 samples late
MAX_ORDER = 40

TRAIN_VOICES = ["en-us+m1", "en-us+m3", "en-us+m5", "en-us+m7", "en-us+f1", "en-us+f3", "en-us+f5",
                "en-gb+m2", "en-gb+f2", "en-gb-x-rp+m6"]
HELD_OUT_VOICES = ["en-us+m2", "en-us+m4", "en-us+m6", "en-us+f2", "en-us+f4", "en-gb-scotland+m1",
                   "en-029+f1", "en-gb-x-gbcwmd+m3"]
FLITE_VOICES = ["slt", "rms", "awb", "kal"]


@dataclass(frozen=True)
class SetSpec:
    name: str
    room_seed: int
    n_rooms: int
    n_clips: int
    voices: tuple
    sentences: tuple
    engine: str = "espeak"
    smear: float = 0.7            # share of clips whose source gets a short (< 50 ms) random decay, see `smear`


def sentences():
    from speechcraft.tasks.demo_corpora import stress_texts, texts
    bank = list(stress_texts.EN)
    return tuple(bank[:-12]), tuple(bank[-12:]), tuple(texts.EN)


def set_specs() -> dict[str, SetSpec]:
    train_s, val_s, test_s = sentences()
    specs = {
        "train": SetSpec("train", 11, 240, 2400, tuple(TRAIN_VOICES), train_s),
        "val": SetSpec("val", 12, 60, 500, tuple(TRAIN_VOICES), val_s),
        "heldout": SetSpec("heldout", 13, 80, 600, tuple(HELD_OUT_VOICES), test_s),
    }
    if shutil.which("flite"):
        # kal (diphones) guided development choices; slt, rms and awb are only ever evaluated
        specs["flite-dev"] = SetSpec("flite-dev", 13, 80, 150, ("kal",), test_s, engine="flite", smear=0.0)
        specs["flite"] = SetSpec("flite", 13, 80, 400, tuple(FLITE_VOICES[:3]), test_s, engine="flite", smear=0.0)
    return specs


# ---------------------------------------------------------------------------------------------- rooms

def simulate_room(seed: int) -> tuple[np.ndarray, int, dict]:
    """One random shoebox room's RIR at 16 kHz, the direct sound's sample and the room's parameters."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    while True:
        length = rng.uniform(3, 18)
        dims = np.array([length, rng.uniform(2.5, min(length, 14)), rng.uniform(2.4, 5)])
        rt60 = float(np.exp(rng.uniform(np.log(0.15), np.log(1.5))))
        try:
            absorption, order = pra.inverse_sabine(rt60, dims)
        except ValueError:
            continue
        if not 0 < absorption < 1:
            continue
        source = rng.uniform(0.5, dims - 0.5)
        want = float(np.exp(rng.uniform(np.log(0.2), np.log(6.0))))
        mic = None
        for _ in range(200):
            v = rng.normal(size=3)
            v[2] *= 0.2
            cand = source + want * v / np.linalg.norm(v)
            if np.all(cand > 0.3) and np.all(cand < dims - 0.3):
                mic = cand
                break
            want *= 0.97
        if mic is None:
            continue
        room = pra.ShoeBox(dims, fs=RATE, materials=pra.Material(absorption), max_order=min(order, MAX_ORDER))
        room.add_source(source)
        room.add_microphone(mic)
        room.compute_rir()
        rir = np.asarray(room.rir[0][0], dtype=np.float64)
        dist = float(np.linalg.norm(mic - source))
        onset = DELAY + int(round(dist / SPEED_OF_SOUND * RATE))
        info = {"dims": dims.round(2).tolist(), "rt60": round(rt60, 3), "distance": round(dist, 2)}
        return rir, onset, info


def room_bank(seed: int, n: int, workers: int) -> list[tuple[np.ndarray, int, dict]]:
    """`n` rooms from `seed` (cached under build/c50-cache; each room has its own child seed)."""
    path = CACHE / f"rooms-{seed}-{n}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as d:
            infos = json.loads(str(d["infos"]))
            return [(d[f"rir{i}"], int(d["onsets"][i]), infos[i]) for i in range(n)]
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]
    with ProcessPoolExecutor(workers) as pool:
        rooms = list(pool.map(simulate_room, seeds, chunksize=4))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, onsets=np.array([r[1] for r in rooms]), infos=json.dumps([r[2] for r in rooms]),
                        **{f"rir{i}": r[0].astype(np.float32) for i, r in enumerate(rooms)})
    return rooms


def smear(rng: np.random.Generator) -> np.ndarray:
    """A short random decay (unit direct sample, exponentially decaying noise, cut before 50 ms).

    C50 counts everything within 50 ms of the direct sound as early, so this leaves a dry clip's C50 at the
    cap; it stands for the gentler offsets of natural speech and a talker's own near-field early reflections,
    so the model does not learn espeak's abrupt offsets as "dry".
    """
    n = int(rng.uniform(0.015, 0.048) * RATE)
    t60 = rng.uniform(0.03, 0.3)
    tail = rng.normal(size=n) * 10 ** (-3 * np.arange(n) / (t60 * RATE))
    tail[0] = 0.0
    tail *= np.sqrt(10 ** (rng.uniform(-15, 3) / 10) / (np.sum(tail ** 2) + 1e-20))
    tail[0] = 1.0
    return tail


def rescale_reflections(rir: np.ndarray, onset: int, target: float) -> np.ndarray | None:
    """The RIR with everything after the direct sound scaled so that its C50 is `target` dB (None: can't)."""
    split = onset + DELAY + 1
    cut = onset + int(round(0.05 * RATE))
    direct = np.sum(rir[:split] ** 2)
    early = np.sum(rir[split:cut] ** 2)
    late = np.sum(rir[cut:] ** 2)
    denom = late * 10 ** (target / 10) - early
    if late <= 0 or denom <= 0:
        return None
    out = rir.copy()
    out[split:] *= np.sqrt(direct / denom)
    return out


# --------------------------------------------------------------------------------------------- speech

def render_espeak(text: str, voice: str, seed: int) -> np.ndarray:
    import soxr
    from speechcraft.tasks.demo_corpora.speech import ESPEAK_RATE, Voice, render
    rng = np.random.default_rng(seed)
    v = Voice(voice, int(rng.integers(20, 90)), int(rng.integers(130, 190)))
    return soxr.resample(render(text, v, ESPEAK_RATE), ESPEAK_RATE, RATE).astype(np.float32)


def render_flite(text: str, voice: str, seed: int) -> np.ndarray:
    import subprocess
    import tempfile

    import soundfile as sf
    import soxr
    with tempfile.TemporaryDirectory(prefix="flite-") as tmp:
        wav = Path(tmp) / "out.wav"
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(wav)], check=True, capture_output=True)
        x, rate = sf.read(wav, dtype="float32")
    return soxr.resample(x, rate, RATE).astype(np.float32)


def _render_job(job):
    engine, text, voice, seed = job
    return (render_flite if engine == "flite" else render_espeak)(text, voice, seed)


def make_set(spec: SetSpec, workers: int = 2) -> dict:
    """The clips of one set: reverberant 16 kHz speech, its true C50, and what made it."""
    path = CACHE / f"set-{spec.name}-{spec.room_seed}-{spec.n_clips}-{spec.smear}.npz"
    rooms = room_bank(spec.room_seed, spec.n_rooms, workers)
    rng = np.random.default_rng(1000 + spec.room_seed * 7 + len(spec.name))
    plan = []
    for i in range(spec.n_clips):
        n_sent = 1 + int(rng.random() < 0.5)
        plan.append({
            "voice": spec.voices[int(rng.integers(len(spec.voices)))],
            "texts": [spec.sentences[int(rng.integers(len(spec.sentences)))] for _ in range(n_sent)],
            "pauses": rng.uniform(0.15, 0.6, size=n_sent + 1).tolist(),
            "mode": ["room", "rescaled", "dry"][int(rng.choice(3, p=[0.45, 0.4, 0.15]))],
            "room": int(rng.integers(len(rooms))),
            "target": float(rng.uniform(0, 62)),
            "noise": ["none", "white", "pink"][int(rng.choice(3, p=[0.15, 0.425, 0.425]))],
            "snr": float(rng.uniform(30, 80)),
            "gain": float(10 ** rng.uniform(-1.5, -0.2)),
            "seed": int(rng.integers(2**31)),
            "smear": bool(rng.random() < spec.smear),
        })
    if path.exists():
        with np.load(path, allow_pickle=False) as d:
            clips = [d[f"clip{i}"] for i in range(spec.n_clips)]
            return {"clips": clips, "c50": d["c50"], "plan": plan, "rooms": rooms}
    jobs = sorted({(spec.engine, t, p["voice"]) for p in plan for t in p["texts"]})
    jobs = [(e, t, v, int(np.frombuffer(f"{t}|{v}".encode(), np.uint8).sum())) for e, t, v in jobs]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        rendered = dict(zip([(t, v) for _, t, v, _ in jobs], pool.map(_render_job, jobs)))
    clips, c50 = [], []
    for p in plan:
        crng = np.random.default_rng(p["seed"])
        parts = [np.zeros(int(p["pauses"][0] * RATE), np.float32)]
        for t, pause in zip(p["texts"], p["pauses"][1:]):
            parts += [rendered[(t, p["voice"])], np.zeros(int(pause * RATE), np.float32)]
        dry = np.concatenate(parts).astype(np.float64)
        rir, onset, _ = rooms[p["room"]]
        rir = np.asarray(rir, dtype=np.float64)
        if p["mode"] == "rescaled":
            rir = rescale_reflections(rir, onset, max(p["target"], rv.c50_of_rir(rir, RATE, onset)))
        if p["mode"] == "dry" or rir is None:
            rir, onset = np.ones(1), 0
        if p["smear"]:
            rir = np.convolve(rir, smear(crng))
        wet = fftconvolve(dry, rir)[onset: onset + len(dry)]
        truth = rv.c50_of_rir(rir, RATE, onset, cap=C50_CAP)
        wet = wet / (np.max(np.abs(wet)) + 1e-12)
        if p["noise"] != "none":
            noise = crng.normal(size=len(wet))
            if p["noise"] == "pink":
                spec_ = np.fft.rfft(noise)
                spec_ /= np.sqrt(np.maximum(np.fft.rfftfreq(len(noise), 1 / RATE), 20.0))
                noise = np.fft.irfft(spec_, len(noise))
            speech_power = np.mean(wet[np.abs(wet) > 1e-4] ** 2)
            noise *= np.sqrt(speech_power / np.mean(noise ** 2) * 10 ** (-p["snr"] / 10))
            wet = wet + noise
        wet = wet / (np.max(np.abs(wet)) + 1e-12) * p["gain"]
        clips.append(wet.astype(np.float32))
        c50.append(max(C50_FLOOR, truth))
    c50 = np.asarray(c50)
    np.savez_compressed(path, c50=c50, **{f"clip{i}": c for i, c in enumerate(clips)})
    return {"clips": clips, "c50": c50, "plan": plan, "rooms": rooms}


def feature_matrix(clips: list[np.ndarray]) -> np.ndarray:
    return np.stack([rv.features(c) for c in clips])


# ------------------------------------------------------------------------------------------ figures

def figures(pred: np.ndarray, truth: np.ndarray) -> dict:
    from scipy.stats import spearmanr
    pb = np.array([rv.reverberation_bin(v) for v in pred])
    tb = np.array([rv.reverberation_bin(v) for v in truth])
    return {
        "n": int(len(truth)),
        "spearman": float(spearmanr(pred, truth).statistic),
        "median_abs_db": float(np.median(np.abs(pred - truth))),
        "label_right": float(np.mean(pb == tb)),
        "label_within_one": float(np.mean(np.abs(pb - tb) <= 1)),
    }


def print_figures(name: str, f: dict) -> None:
    print(f"{name:>10}: n={f['n']:4d}  spearman={f['spearman']:.3f}  median|err|={f['median_abs_db']:5.2f} dB  "
          f"label right={f['label_right']:.1%}  right or one off={f['label_within_one']:.1%}")


# --------------------------------------------------------------------------------------------- model

def export_gbr(model, low: float, high: float) -> dict:
    trees = [e[0].tree_ for e in model.estimators_]
    n = max(t.node_count for t in trees)
    pad = lambda arrs, fill, dt: np.stack([np.pad(a, (0, n - len(a)), constant_values=fill) for a in arrs]).astype(dt)  # noqa: E731
    return {
        "feature": pad([np.where(t.children_left < 0, -1, t.feature) for t in trees], -1, np.int16),
        "threshold": pad([t.threshold for t in trees], 0.0, np.float64),
        "left": pad([np.maximum(t.children_left, 0) for t in trees], 0, np.int16),
        "right": pad([np.maximum(t.children_right, 0) for t in trees], 0, np.int16),
        "value": pad([t.value[:, 0, 0] for t in trees], 0.0, np.float64),
        "base": np.float64(model.init_.constant_.ravel()[0]),
        "rate": np.float64(model.learning_rate),
        "depth": np.int64(max(t.max_depth for t in trees)),
        "target_range": np.array([low, high]),
    }


CANDIDATES = {
    "gbr-d3-400": dict(max_depth=3, n_estimators=400, learning_rate=0.05),
    "gbr-d4-400": dict(max_depth=4, n_estimators=400, learning_rate=0.05),
    "gbr-d5-300": dict(max_depth=5, n_estimators=300, learning_rate=0.05),
}


def fit_gbr(x, y, params):
    from sklearn.ensemble import GradientBoostingRegressor
    return GradientBoostingRegressor(loss="huber", subsample=0.8, min_samples_leaf=5, random_state=0,
                                     **params).fit(x, y)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=rv.MODEL_PATH)
    args = ap.parse_args(argv)
    t0 = time.time()
    specs = set_specs()
    sets = {name: make_set(spec, args.workers) for name, spec in specs.items()}
    print(f"sets built in {time.time() - t0:.0f} s: " + ", ".join(f"{k} {len(v['clips'])}" for k, v in sets.items()))
    feats = {name: feature_matrix(s["clips"]) for name, s in sets.items()}
    y = sets["train"]["c50"]
    low, high = float(C50_FLOOR), float(C50_CAP)

    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 11))).fit(feats["train"], y)
    print_figures("val ridge", figures(np.clip(ridge.predict(feats["val"]), low, high), sets["val"]["c50"]))
    dev_sets = [n for n in ("val", "flite-dev") if n in sets]
    best, best_score = None, -np.inf
    for name, params in CANDIDATES.items():
        fitted = fit_gbr(feats["train"], y, params)
        score = 0.0
        for dev in dev_sets:
            f = figures(np.clip(fitted.predict(feats[dev]), low, high), sets[dev]["c50"])
            print_figures(f"{dev} {name}", f)
            score += f["label_within_one"] + f["spearman"] - f["median_abs_db"] / 100
        if score > best_score:
            best, best_score = name, score
    print(f"chosen on {' + '.join(dev_sets)}: {best}")
    # refit the chosen configuration on train + validation, export, and reload through the shipped code path
    x_all = np.concatenate([feats["train"], feats["val"]])
    y_all = np.concatenate([y, sets["val"]["c50"]])
    model = fit_gbr(x_all, y_all, CANDIDATES[best])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **export_gbr(model, low, high))
    rv.load_model.cache_clear()
    shipped = rv.load_model(str(args.out))
    check = shipped.predict(feats["val"][:50])
    assert np.allclose(check, np.clip(model.predict(feats["val"][:50]), low, high), atol=1e-6), "export mismatch"
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB, {best}, {len(feats['train'][0])} features)")
    for name in [n for n in sets if n not in ("train", "val", "flite-dev")]:
        print_figures(name, figures(shipped.predict(feats[name]), sets[name]["c50"]))
    print(f"total {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
