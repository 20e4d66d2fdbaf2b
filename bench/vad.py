"""Benchmark of the voice-activity detectors on fixture-like speech whose speech span is known.

    python bench/vad.py [--per-voice 10] [--noise-clips 10] [--seed 0]

40 espeak clips (English and Mandarin sentence banks, voices en-us+m3, en-us+f2, cmn-latn-pinyin+m3,
cmn-latn-pinyin+f1, 16 kHz). The truth onset/offset is the first/last 10 ms frame of the clean rendering
above -50 dBFS (frame RMS). Each clip is padded with 0.5-1.0 s of silence on both sides, then measured
clean and with white noise at 30, 20 and 10 dB SNR (speech power over the truth span; fixed seed).

For each condition and each detector (`EnergyVAD`, the shipped default, and `SileroVAD`): mean absolute
onset and offset error (first segment start, last segment end; signed mean in brackets, + = late),
clips where no speech was found, detected speech time as a share of the truth span, false alarms on
noise-only clips at the condition's noise level (any segment = a false alarm), and speed in x real
time on one core (the process is pinned to one CPU; Silero's model load and first call are excluded).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

import numpy as np

RATE = 16000
VOICES = [("en-us+m3", "en"), ("en-us+f2", "en"), ("cmn-latn-pinyin+m3", "zh"), ("cmn-latn-pinyin+f1", "zh")]
CONDITIONS = [("clean", None), ("30 dB", 30.0), ("20 dB", 20.0), ("10 dB", 10.0)]
TRUTH_DBFS = -50.0


def speech_clips(per_voice: int) -> list[np.ndarray]:
    from speechcraft.tasks.demo_corpora.speech import Voice, render_many
    from speechcraft.tasks.demo_corpora.texts import EN, ZH

    items = []
    for v, (name, language) in enumerate(VOICES):
        bank = EN if language == "en" else ZH
        for k in range(per_voice):
            text = bank[(k + per_voice * (v % 2)) % len(bank)]     # the two voices of a language split the bank
            items.append((text, Voice(name, pitch=30 + 20 * (k % 3), rate=140 + 10 * (k % 4))))
    return render_many(items, RATE)


def truth_span(clean: np.ndarray) -> tuple[float, float]:
    from speechcraft.models.vad import FRAME_S, frame_power, power_db

    loud = np.flatnonzero(power_db(frame_power(clean, RATE)) > TRUTH_DBFS)
    return loud[0] * FRAME_S, (loud[-1] + 1) * FRAME_S


def build_set(per_voice: int, n_noise: int, seed: int) -> tuple[list[dict], list[np.ndarray]]:
    """Padded clean clips with their truth spans and unit-variance noise of the same length, and noise-only
    clips; scaling the same noise per condition keeps the conditions comparable."""
    rng = np.random.default_rng(seed)
    clips = []
    for clean in speech_clips(per_voice):
        onset, offset = truth_span(clean)
        power = float(np.mean(clean[int(onset * RATE):int(offset * RATE)] ** 2))
        before, after = rng.uniform(0.5, 1.0, 2)
        padded = np.concatenate([np.zeros(int(before * RATE)), clean, np.zeros(int(after * RATE))])
        clips.append({"samples": padded.astype(np.float32), "noise": rng.standard_normal(len(padded)),
                      "power": power, "onset": onset + int(before * RATE) / RATE,
                      "offset": offset + int(before * RATE) / RATE})
    noise_only = [rng.standard_normal(int(rng.uniform(2.0, 4.0) * RATE)) for _ in range(n_noise)]
    return clips, noise_only


def noisy(samples: np.ndarray, noise: np.ndarray, power: float, snr_db: float | None) -> np.ndarray:
    if snr_db is None:
        return samples
    return (samples + noise * np.sqrt(power / 10 ** (snr_db / 10))).astype(np.float32)


def evaluate(vad, clips: list[dict], noise_only: list[np.ndarray], snr_db: float | None) -> dict:
    onset, offset, share, missed, elapsed, audio_s = [], [], [], 0, 0.0, 0.0
    typical = float(np.median([c["power"] for c in clips]))
    for clip in clips:
        x = noisy(clip["samples"], clip["noise"], clip["power"], snr_db)
        t = time.perf_counter()
        segments = vad.segments(x, RATE)
        elapsed += time.perf_counter() - t
        audio_s += len(x) / RATE
        if len(segments) == 0:
            missed += 1
            continue
        onset.append(segments[0, 0] - clip["onset"])
        offset.append(segments[-1, 1] - clip["offset"])
        share.append(float(np.sum(segments[:, 1] - segments[:, 0])) / (clip["offset"] - clip["onset"]))
    alarms = 0
    for noise in noise_only:
        x = noisy(np.zeros(len(noise), dtype=np.float32), noise, typical, snr_db)
        t = time.perf_counter()
        alarms += len(vad.segments(x, RATE)) > 0
        elapsed += time.perf_counter() - t
        audio_s += len(x) / RATE
    return {"onset": _ms(onset), "offset": _ms(offset), "missed": missed, "share": np.mean(share) if share else np.nan,
            "alarms": alarms, "x_rt": audio_s / elapsed}


def _ms(seconds: list[float]) -> np.ndarray:
    return 1000 * np.array(seconds) if seconds else np.array([np.nan])


def detectors() -> list:
    from speechcraft.models.vad import EnergyVAD, SileroVAD

    try:
        for module in ("torch", "silero_vad"):
            importlib.import_module(module)
    except ImportError as err:
        print(f"SileroVAD unavailable ({err}); measuring the energy VAD only")
        return [EnergyVAD()]
    silero = SileroVAD()
    silero.segments(np.zeros(RATE, dtype=np.float32), RATE)          # model load and first call: not timed
    return [EnergyVAD(), silero]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-voice", type=int, default=10, help="clips per voice (4 voices)")
    parser.add_argument("--noise-clips", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})      # speed on one core

    t = time.perf_counter()
    clips, noise_only = build_set(args.per_voice, args.noise_clips, args.seed)
    spans = [c["offset"] - c["onset"] for c in clips]
    print(f"{len(clips)} speech clips (truth span {min(spans):.1f}-{max(spans):.1f} s, padded with 0.5-1.0 s "
          f"silence each side) + {len(noise_only)} noise-only clips, built in {time.perf_counter() - t:.1f} s")
    vads = detectors()

    n = len(clips)
    print(f"\n{'condition':10}{'VAD':8}{'onset |err| ms':>18}{'offset |err| ms':>18}{'no speech':>11}"
          f"{'speech/span':>13}{'false alarms':>14}{'x RT':>8}")
    errors = {vad.name: {} for vad in vads}           # condition -> mean of onset and offset |error|, ms
    misses = {vad.name: 0 for vad in vads}           # clips without speech found + false alarms
    for label, snr_db in CONDITIONS:
        for vad in vads:
            r = evaluate(vad, clips, noise_only, snr_db)
            errors[vad.name][label] = (np.nanmean(np.abs(r["onset"])) + np.nanmean(np.abs(r["offset"]))) / 2
            misses[vad.name] += r["missed"] + r["alarms"]
            onset = f"{np.nanmean(np.abs(r['onset'])):.0f} ({np.nanmean(r['onset']):+.0f})"
            offset = f"{np.nanmean(np.abs(r['offset'])):.0f} ({np.nanmean(r['offset']):+.0f})"
            print(f"{label:10}{vad.name:8}{onset:>18}{offset:>18}{r['missed']:>6d} / {n:<2d}"
                  f"{100 * r['share']:12.0f}%{r['alarms']:>8d} / {len(noise_only):<3d}{r['x_rt']:8.0f}")

    if len(vads) > 1:
        score = {name: float(np.mean(list(e.values()))) for name, e in errors.items()}
        best, other = sorted(score, key=score.get)
        per_condition = ", ".join(f"{label} {min(errors, key=lambda name: errors[name][label])}"
                                  for label, _ in CONDITIONS)
        print(f"\nverdict: {best} is more accurate, mean boundary error {score[best]:.0f} ms vs {score[other]:.0f} ms "
              f"over all conditions (better per condition: {per_condition}); clips missed + false alarms "
              f"{misses[best]} vs {misses[other]} of {(n + len(noise_only)) * len(CONDITIONS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
