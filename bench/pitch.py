"""The batched F0 tracker against Praat itself: how closely it follows Praat's track and how fast it is.

    python bench/pitch.py [--clips 300] [--workdir bench-data] [--realspeech ../shared/data/realspeech]

Three sets, each clip tracked by both `PraatPitch` (parselmouth) and `BatchedAutocorrelationPitch`
(models/pitch_batched.py) with the project's settings (60-600 Hz, 16 kHz), one process, warm:
- espeak-ng speech: the first --clips clips of the generated bulk corpus (bench-data/bulk, as bench/acoustics.py);
- the LibriTTS-R fixture corpus (real recordings, 24 kHz; built by the demo's corpus builder when missing);
- the 42 real voices of ../shared/data/realspeech (English and Mandarin, 16-48 kHz): measured, never tuned on.
Per set: the frames voiced in both, the median and 95th percentile of |F0 batched / F0 Praat - 1| over them
(the issue's bar: 2% and 5%), frames voiced by one side only, frames that differ by more than 20% (an octave
or a fifth: which side is wrong is not known), and each tracker's octave jumps (adjacent voiced frames a
factor of 1.8 or more apart: a count of octave errors that needs no reference); then both trackers' speed in
audio seconds per second on one core (decoded audio in memory, resampling included, best of 3).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OCTAVE_JUMP = 1.8


def octave_jumps(f0: np.ndarray) -> int:
    voiced = f0[np.isfinite(f0)]
    ratio = voiced[1:] / voiced[:-1]
    return int(np.sum((ratio >= OCTAVE_JUMP) | (ratio <= 1 / OCTAVE_JUMP)))


def load(paths: list[Path]) -> list[tuple[np.ndarray, int]]:
    from speechcraft.tasks.audio import AudioError, decode_audio

    clips = []
    for path in paths:
        try:
            audio = decode_audio(path)
        except AudioError as exc:
            print(f"  skipped {path.name}: {exc}")
            continue
        clips.append((audio.samples.mean(axis=1), audio.sample_rate))
    return clips


def compare(name: str, clips: list[tuple[np.ndarray, int]]) -> None:
    from speechcraft.models.pitch import PraatPitch
    from speechcraft.models.pitch_batched import BatchedAutocorrelationPitch

    praat, batched = PraatPitch(), BatchedAutocorrelationPitch()
    batched.track(*clips[0])                                   # numba's compile (or cache load) excluded
    differences, one_side, frames, jumps = [], 0, 0, {"praat": 0, "batched": 0}
    for samples, rate in clips:
        theirs, ours = praat.track(samples, rate), batched.track(samples, rate)
        assert len(theirs.f0_hz) == len(ours.f0_hz), "the two trackers' frames differ"
        voiced_theirs, voiced_ours = np.isfinite(theirs.f0_hz), np.isfinite(ours.f0_hz)
        both = voiced_theirs & voiced_ours
        differences.append(np.abs(ours.f0_hz[both] / theirs.f0_hz[both] - 1))
        one_side += int(np.sum(voiced_theirs != voiced_ours))
        frames += len(both)
        jumps["praat"] += octave_jumps(theirs.f0_hz)
        jumps["batched"] += octave_jumps(ours.f0_hz)
    d = np.concatenate(differences)
    audio_s = sum(len(s) / r for s, r in clips)
    speed = {}
    for label, tracker in (("praat", praat), ("batched", batched)):
        walls = []
        for _ in range(3):
            t = time.perf_counter()
            for samples, rate in clips:
                tracker.track(samples, rate)
            walls.append(time.perf_counter() - t)
        speed[label] = audio_s / min(walls)
    print(f"\n== {name}: {len(clips)} clips, {audio_s / 60:.1f} min ==")
    print(f"frames voiced in both: {len(d)} of {frames}; voiced by one side only: {one_side} "
          f"({one_side / max(frames, 1):.2%})")
    print(f"|F0 batched / F0 Praat - 1|: median {np.median(d):.4%}, 95th percentile {np.percentile(d, 95):.4%} "
          f"(bar: 2% / 5%: {'PASS' if np.median(d) <= 0.02 and np.percentile(d, 95) <= 0.05 else 'MISS'}), "
          f"max {d.max():.1%}; frames > 20% apart: {int(np.sum(d > 0.2))}")
    print(f"octave jumps: Praat {jumps['praat']}, batched {jumps['batched']} "
          f"({'no more' if jumps['batched'] <= jumps['praat'] else 'MORE'} than Praat)")
    print(f"speed, one core: Praat {speed['praat']:.0f}x real time, batched {speed['batched']:.0f}x "
          f"({speed['batched'] / speed['praat']:.2f}x Praat)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--realspeech", type=Path, default=ROOT.parent / "shared" / "data" / "realspeech")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from acoustics import bulk_files

    from speechcraft.tasks.demo_corpora import libritts_r

    compare("espeak-ng speech (bulk corpus)", load(bulk_files(args.workdir, args.clips)[: args.clips]))
    fixture = args.workdir / "libritts-r"
    if not fixture.exists():
        libritts_r.build(fixture)
    compare("LibriTTS-R fixture corpus", load(sorted(fixture.rglob("*.wav"))))
    real = sorted((args.realspeech / "audio").glob("*"))
    if real:
        compare("real voices (../shared/data/realspeech)", load(real))
    else:
        print(f"\n(no real voices at {args.realspeech})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
