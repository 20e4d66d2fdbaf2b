"""Recording conditions: how right the noise estimate is against known SNRs, whether DNSMOS follows noise and
reverberation, whether enhancement raises DNSMOS, and what each new stage costs a clip.

    python bench/conditions.py [--voices 8] [--out bench-data/conditions.json]

Speech: espeak-ng sentences by voices and sentences none of the estimators' code was written or tuned against
(voice indices 40.. and the sentences below; models/snr.py's constants were fixed before this bench existed),
0.3 s of silence either side as recorded clips have. Noise: white, pink, brown and mains hum (50 Hz and its
harmonics over white), mixed at 0-40 dB below the active speech level (frames within 40 dB of the loudest,
ITU-T P.56's convention). Rooms: pyroomacoustics shoeboxes from a seed of their own (never the reverberation
estimator's training seeds), true C50 from each room's impulse response.

Figures, per voice and overall:
1. SNR: Spearman rank correlation with the true SNR over 0-40 dB, median absolute error between 5 and 30 dB
   (targets: >= 0.95 and < 3 dB).
2. DNSMOS OVRL and BAK on each voice at 40 / 20 / 10 / 0 dB and in rooms of falling C50: it must fall on
   every voice (the count of voices where it does is printed).
3. Enhancement: the median DNSMOS OVRL of the noisy clips (0-20 dB) before and after each enhancer.
4. Cost: each new stage's measure over the clean clips, in audio-hours per hour on one core.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT.parent))

from speechcraft.models.enhancer import ENHANCERS, EnhancerMissing, enhancer  # noqa: E402
from speechcraft.models.snr import estimate_snr  # noqa: E402
from speechcraft.models.speech_quality import dnsmos  # noqa: E402
from speechcraft.tasks.demo_corpora.speech import render_many, voice_for  # noqa: E402

RATE = 16_000
SENTENCES = {"en": ["Our neighbours painted the fence a bright shade of green last weekend.",
                    "Could you tell me which platform the evening train leaves from?"],
             "zh": ["我们明天早上八点在图书馆门口见面。", "这家小店的面条味道非常好，价格也不贵。"]}
SNRS = (0, 5, 10, 15, 20, 25, 30, 35, 40)
NOISES = ("white", "pink", "brown", "hum")


def voices(count: int) -> list[tuple[str, object]]:
    out = []
    for i in range(count):
        language = "en" if i % 2 == 0 else "zh"
        gender = "female" if (i // 2) % 2 == 0 else "male"
        out.append((SENTENCES[language][i % 2], voice_for(40 + i, gender, language)))
    return out


def active_power(clean: np.ndarray) -> float:
    frames = np.lib.stride_tricks.sliding_window_view(clean, 512)[::256]
    power = (frames ** 2).mean(axis=1)
    return float(power[power > power.max() * 1e-4].mean())


def noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal(n)
    if kind in ("pink", "brown"):
        spectrum = np.fft.rfft(x)
        f = np.arange(len(spectrum), dtype=float)
        f[0] = 1.0
        x = np.fft.irfft(spectrum / (np.sqrt(f) if kind == "pink" else f), n)
    if kind == "hum":
        t = np.arange(n) / RATE
        x = 0.3 * x + sum(np.sin(2 * np.pi * 50 * k * t + k) / k for k in range(1, 6))
    return x


def mix(clean: np.ndarray, kind: str, snr: float, rng: np.random.Generator) -> np.ndarray:
    n = noise(kind, len(clean), rng)
    n *= np.sqrt(active_power(clean) / 10 ** (snr / 10) / np.mean(n ** 2))
    mixed = clean + n
    return (mixed / max(1.0, np.abs(mixed).max())).astype(np.float32)


def rooms(clean: np.ndarray, rng: np.random.Generator, count: int = 4) -> list[tuple[float, np.ndarray]]:
    """(true C50, reverberant clip) for rooms from small and dry to large and live."""
    import pyroomacoustics as pra

    from speechcraft.models.reverberation import c50_of_rir

    out = []
    for i, rt60 in enumerate(np.linspace(0.2, 1.2, count)):
        size = np.array([4 + 3 * i, 3 + 2 * i, 2.7 + 0.3 * i]) * rng.uniform(0.9, 1.1, 3)
        absorption, order = pra.inverse_sabine(rt60, size)
        room = pra.ShoeBox(size, fs=RATE, materials=pra.Material(absorption), max_order=min(order, 30))
        room.add_source(size * [0.3, 0.5, 0.5])
        room.add_microphone(size * [0.3 + 0.1 * (i + 1), 0.5, 0.45])
        room.compute_rir()
        rir = np.asarray(room.rir[0][0])
        wet = np.convolve(clean, rir)[: len(clean)]
        out.append((c50_of_rir(rir, RATE), (wet / max(1.0, np.abs(wet).max())).astype(np.float32)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-data" / "conditions.json")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    pad = np.zeros(int(0.3 * RATE), dtype=np.float32)
    clips = [np.concatenate([pad, c, pad]) for c in render_many(voices(args.voices), RATE)]
    report: dict = {"voices": args.voices}

    truth, estimate = [], []
    for clip in clips:
        for kind in NOISES:
            for snr in SNRS:
                truth.append(snr)
                estimate.append(estimate_snr(mix(clip, kind, snr, rng), RATE))
    truth, estimate = np.array(truth), np.array(estimate)
    middle = (truth >= 5) & (truth <= 30)
    report["snr"] = {"spearman": float(spearmanr(truth, estimate)[0]),
                     "median_abs_error_5_30_db": float(np.median(np.abs(estimate - truth)[middle])),
                     "median_by_true_snr": {int(s): float(np.median(estimate[truth == s])) for s in SNRS}}
    print(f"SNR: Spearman {report['snr']['spearman']:.3f} (target >= 0.95), median |error| 5-30 dB "
          f"{report['snr']['median_abs_error_5_30_db']:.2f} dB (target < 3) over {len(truth)} mixtures")

    falls_noise = falls_room = 0
    per_voice = []
    for clip in clips:
        by_snr = [dnsmos(mix(clip, "white", snr, rng), RATE) for snr in (40, 20, 10, 0)]
        by_room = [(c50, dnsmos(wet, RATE)) for c50, wet in rooms(clip, rng)]
        by_room.sort(key=lambda r: -r[0])
        ovrl_noise = [s["ovrl"] for s in by_snr]
        ovrl_room = [s["ovrl"] for _, s in by_room]
        falls_noise += ovrl_noise[0] > ovrl_noise[-1] and all(a >= b - 0.05 for a, b in zip(ovrl_noise, ovrl_noise[1:]))
        falls_room += ovrl_room[0] > ovrl_room[-1]
        per_voice.append({"ovrl_by_snr_40_20_10_0": ovrl_noise,
                          "ovrl_by_c50": [(round(c, 1), s["ovrl"]) for c, s in by_room]})
    report["dnsmos"] = {"falls_with_noise": falls_noise, "falls_with_reverberation": falls_room, "per_voice": per_voice}
    print(f"DNSMOS OVRL falls with noise on {falls_noise}/{len(clips)} voices, with reverberation (C50 falling) on "
          f"{falls_room}/{len(clips)}")

    noisy = [mix(clip, "white", snr, rng) for clip in clips for snr in (0, 5, 10, 20)]
    before = [dnsmos(x, RATE)["ovrl"] for x in noisy]
    report["enhancement"] = {"median_ovrl_before": float(np.median(before))}
    print(f"enhancement: median DNSMOS OVRL of {len(noisy)} noisy clips before {np.median(before):.2f}")
    for name in ENHANCERS:
        try:
            backend = enhancer(name)
            after = [dnsmos(backend.enhance(x, RATE), RATE)["ovrl"] for x in noisy]
        except EnhancerMissing as missing:
            print(f"  {name}: not installed ({missing})")
            continue
        report["enhancement"][f"median_ovrl_after_{name}"] = float(np.median(after))
        print(f"  after {name}: {np.median(after):.2f} (raised on {sum(a > b for a, b in zip(after, before))}"
              f"/{len(noisy)} clips)")

    audio_h = sum(len(c) for c in clips) / RATE / 3600
    from speechcraft.models.reverberation import estimate_c50
    from speechcraft.models.signal import analyse_signal
    from speechcraft.tasks.attributes.monotony import measure as monotony

    contours = {id(c): analyse_signal(c, RATE).compact() for c in clips}     # what the acoustic stage stores
    costs = {"noise (SNR)": lambda c: estimate_snr(c, RATE), "reverberation (C50)": lambda c: estimate_c50(c, RATE),
             "monotony (from the stored contours)": lambda c: monotony(contours[id(c)], None),
             "quality (DNSMOS)": lambda c: dnsmos(c, RATE)}
    for name in ENHANCERS:
        try:
            backend = enhancer(name)
            backend.load()
            costs[f"enhancement ({name})"] = lambda c, b=backend: b.enhance(c, RATE)
        except EnhancerMissing:
            pass
    report["audio_hours_per_hour_one_core"] = {}
    for name, work in costs.items():
        work(clips[0])                               # first call: loads and compiles
        start = time.perf_counter()
        for clip in clips:
            work(clip)
        rate = audio_h / ((time.perf_counter() - start) / 3600)
        report["audio_hours_per_hour_one_core"][name] = rate
        print(f"cost: {name}: {rate:,.0f} audio-h/h on one core")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
