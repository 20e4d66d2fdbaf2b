"""Benchmark of the acoustic stage (F0, energy, speech activity, speaking rate) against a librosa baseline.

    python bench/acoustics.py [--clips 400] [--baseline-clips 120] [--workers 2] [--workdir bench-data]

Both sides measure the same clips of the generated bulk corpus (bench-data/bulk, built with
`build_bulk_folder` when missing or too small; 16 kHz espeak speech, English and Mandarin) with the same
number of spawned worker processes.

- Shipped: `measure_batch` (the acoustics stage's work, without Prefect or the lakehouse write) over
  `ClipJob`s in batches of 256, with its default `AcousticConfig` (Praat pitch at 16 kHz, 60-600 Hz; energy VAD).
- Baseline: per clip, soundfile decode, `librosa.pyin` (fmin 65 Hz, fmax 600 Hz, default frames) for the
  mean F0 over voiced frames, and `librosa.feature.rms` for energy; spread over a ProcessPoolExecutor.
  pyin is slow, so it runs on the first --baseline-clips clips and the two sides are compared per second
  of audio (x real time).

Worker start-up is excluded on both sides: the stage's process pool is warmed with a tiny batch, and every
baseline worker runs pyin once (its numba compile takes many seconds) before the clock starts.
Prints throughput, the ratio, PASS/MISS against the targets (>= 20x the baseline, >= 1,000 audio-hours per
hour), the projection for SpeechCraft's 2,391 hours, and how closely the two F0 means agree.
"""
from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

SPEECHCRAFT_HOURS = 2391
BATCH = 256
PYIN = {"fmin": 65.0, "fmax": 600.0}
TARGET_RATIO, TARGET_HOURS_PER_HOUR = 20.0, 1000.0


def bulk_files(workdir: Path, n_clips: int) -> list[Path]:
    """The first `n_clips` clips of the bulk corpus by clip number (every unique utterance comes before its
    gain-shifted copies, so a prefix mixes languages and speakers)."""
    from speechcraft.tasks.demo_corpora import build_bulk_folder

    corpus = workdir / "bulk"
    files = sorted(corpus.rglob("*.wav"), key=lambda p: p.name)
    if not (workdir / "bulk.truth.json").exists() or len(files) < n_clips:
        shutil.rmtree(corpus, ignore_errors=True)
        t = time.perf_counter()
        build_bulk_folder(corpus, n_clips).save(workdir / "bulk.truth.json")
        print(f"built {n_clips} clips in {time.perf_counter() - t:.1f} s")
        files = sorted(corpus.rglob("*.wav"), key=lambda p: p.name)
    return files[:n_clips]


def clip_jobs(files: list[Path]) -> list:
    import soundfile as sf

    from speechcraft.tasks.clip_batches import ClipJob

    jobs = []
    for path in files:
        info = sf.info(path)
        jobs.append(ClipJob(clip_id=f"bulk/{path.parent.name}/{path.stem}", audio_path=str(path.resolve()),
                            start_s=None, end_s=None, transcript=path.with_suffix(".txt").read_text().strip(),
                            language="en", audio_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                            duration_s=info.frames / info.samplerate))
    return jobs


def run_shipped(jobs: list, workers: int) -> tuple[float, dict[str, float | None], int]:
    """Wall seconds for all batches, F0 mean per clip id, and the number of failed clips."""
    from speechcraft.tasks.acoustic_analysis import AcousticConfig
    from speechcraft.tasks.acoustics import measure_batch

    config = AcousticConfig()
    measure_batch(jobs[: workers * 4], config, "bench-warmup", workers)   # spawn and import in every worker
    f0, failures = {}, 0
    t = time.perf_counter()
    for start in range(0, len(jobs), BATCH):
        result = measure_batch(jobs[start:start + BATCH], config, "bench", workers)
        f0.update((row["clip_id"], row["f0_mean_hz"]) for row in result.rows)
        failures += len(result.failures)
    return time.perf_counter() - t, f0, failures


def pyin_clip(path: str) -> tuple[float | None, float]:
    """The baseline's measurements of one clip: mean F0 over pyin's voiced frames, mean RMS energy (dB)."""
    import librosa
    import soundfile as sf

    samples, rate = sf.read(path, dtype="float32")
    f0, voiced, _ = librosa.pyin(samples, sr=rate, **PYIN)
    rms = librosa.feature.rms(y=samples)[0]
    energy_db = float(20 * np.log10(max(float(rms.mean()), 1e-6)))
    return (float(f0[voiced].mean()) if voiced.any() else None), energy_db


def _warm_worker() -> None:
    import librosa

    tone = np.sin(2 * np.pi * 150 * np.arange(16000) / 16000).astype(np.float32)
    librosa.pyin(tone, sr=16000, **PYIN)


def _pid(_: int) -> int:
    time.sleep(0.2)
    return os.getpid()


def run_baseline(paths: list[str], workers: int) -> tuple[float, list[float | None], float]:
    """Wall seconds, F0 mean per clip, and the warm-up seconds (not counted)."""
    t = time.perf_counter()
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm_worker)
    seen: set[int] = set()
    while len(seen) < workers:      # a pid answers only after its initializer (the pyin warm-up) has run
        seen |= set(pool.map(_pid, range(workers)))
    warm_s = time.perf_counter() - t
    t = time.perf_counter()
    results = list(pool.map(pyin_clip, paths, chunksize=4))
    wall = time.perf_counter() - t
    pool.shutdown()
    return wall, [f0 for f0, _ in results], warm_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--baseline-clips", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    every_job = clip_jobs(bulk_files(args.workdir, max(args.clips, args.baseline_clips)))
    jobs, base_jobs = every_job[: args.clips], every_job[: args.baseline_clips]
    ship_wall, ship_f0, failures = run_shipped(jobs, args.workers)
    base_wall, base_f0, warm_s = run_baseline([j.audio_path for j in base_jobs], args.workers)

    ship_audio = sum(j.duration_s for j in jobs)
    base_audio = sum(j.duration_s for j in base_jobs)
    ship_rt, base_rt = ship_audio / ship_wall, base_audio / base_wall
    print(f"\n== acoustic stage vs librosa.pyin baseline, workers: {args.workers} processes each ==")
    print(f"{'':38}{'clips':>6}{'audio s':>9}{'wall s':>8}{'clips/s':>9}{'x RT':>8}{'audio h/h':>10}"
          f"{'h for 2,391 h':>14}")
    for label, n, audio, wall in [("shipped: measure_batch (batches 256)", len(jobs), ship_audio, ship_wall),
                                  ("baseline: pyin + rms", len(base_jobs), base_audio, base_wall)]:
        rate = audio / wall
        print(f"{label:38}{n:6d}{audio:9.0f}{wall:8.2f}{n / wall:9.1f}{rate:8.0f}{rate:10.0f}"
              f"{SPEECHCRAFT_HOURS / rate:14.1f}")
    print(f"(x RT = audio seconds per wall second = audio hours per hour; warm-up excluded on both sides: "
          f"the stage ran a {args.workers * 4}-clip batch first (pool spawned, imports done), each baseline "
          f"worker ran pyin once ({warm_s:.1f} s); {failures} shipped clips failed)")

    ratio = ship_rt / base_rt
    print(f"\nshipped / baseline, per audio second: {ratio:.1f}x")
    print(f"target >= {TARGET_RATIO:.0f}x the baseline:      {'PASS' if ratio >= TARGET_RATIO else 'MISS'} "
          f"({ratio:.1f}x)")
    print(f"target >= {TARGET_HOURS_PER_HOUR:,.0f} audio-hours per hour: "
          f"{'PASS' if ship_rt >= TARGET_HOURS_PER_HOUR else 'MISS'} ({ship_rt:,.0f} h/h; "
          f"{ship_rt / args.workers:,.0f} per worker)")

    pairs = [(ship_f0[j.clip_id], b) for j, b in zip(base_jobs, base_f0) if j.clip_id in ship_f0]
    both = np.array([(s, b) for s, b in pairs if s is not None and b is not None])
    if len(both):
        rel = np.abs(both[:, 0] - both[:, 1]) / both[:, 1]
        print(f"\nF0 mean agreement on {len(both)} shared clips with F0 on both sides "
              f"({sum(s is None for s, _ in pairs)} without F0 shipped, {sum(b is None for _, b in pairs)} "
              f"without F0 in pyin): relative difference median {100 * np.median(rel):.1f}%, "
              f"95th percentile {100 * np.percentile(rel, 95):.1f}%, max {100 * rel.max():.1f}%; "
              f"{int(np.sum(rel > 0.2))} clips differ by more than 20% (octave-type errors on one side)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
