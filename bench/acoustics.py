"""Benchmark of the acoustic stage (F0, energy, speech activity, speaking rate, and the contours every later
stage reads) against a Praat-only pass and a librosa baseline, and of the annotate step before and after the
one pass over the signal.

    python bench/acoustics.py [--clips 400] [--baseline-clips 120] [--workers 2] [--workdir bench-data]
                              [--before /tmp/before] [--repeat 2]

Both sides measure the same clips of the generated bulk corpus (bench-data/bulk, built with
`build_bulk_folder` when missing or too small; 16 kHz espeak speech, English and Mandarin) with the same
number of spawned worker processes.

- Shipped: `measure_batch` (the acoustics stage's work, without Prefect or the lakehouse write) over
  `ClipJob`s in batches of 256, with its default `AcousticConfig` (the batched tracker of Praat's pitch method
  at 16 kHz, 60-600 Hz; energy VAD).
- Baseline: per clip, soundfile decode, `librosa.pyin` (fmin 65 Hz, fmax 600 Hz, default frames) for the
  mean F0 over voiced frames, and `librosa.feature.rms` for energy; spread over a ProcessPoolExecutor.
  pyin is slow, so it runs on the first --baseline-clips clips and the two sides are compared per second
  of audio (x real time).

- Praat-only: per clip, decode, resample to 16 kHz and Praat's pitch track (the stage's settings), nothing
  else, over the same clips with the same pool: the floor of any stage that tracks F0 (target: the stage at
  >= 85% of its throughput).
- The stage with `pitch = "praat-ac"` (Praat itself), the same clips and pool, alternated with the two above:
  the like-for-like check against the Praat-only pass; the default stage (models/pitch_batched.py) against
  the target for a faster tracker, >= 1,000 audio h/h.
- The annotate step (`--before CLONE`): `annotate_flow` with the acoustics, speaker and emphasis stages on a
  freshly ingested lakehouse of the same clips, private Prefect cache, `--workers` processes: this tree
  against CLONE, a checkout of the code before (run in a subprocess with CLONE's packages), alternated
  `--repeat` times so that both sides see the same machine load. Figure: audio hours per hour of the three
  stages' batch walls (target >= 250).

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
TARGET_OF_PRAAT, TARGET_ANNOTATE = 0.85, 250.0
ANNOTATE_STAGES = ["acoustics", "speaker", "emphasis"]


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


def run_shipped(jobs: list, workers: int, pitch: str | None = None) -> tuple[float, dict[str, float | None], int]:
    """Wall seconds for all batches, F0 mean per clip id, and the number of failed clips (`pitch`: a tracker
    other than the default)."""
    from speechcraft.tasks.acoustic_analysis import AcousticConfig
    from speechcraft.tasks.acoustics import measure_batch

    config = AcousticConfig.from_options({"pitch": pitch})
    measure_batch(jobs[: workers * 4], config, "bench-warmup", workers)   # spawn and import in every worker
    f0, failures = {}, 0
    t = time.perf_counter()
    for start in range(0, len(jobs), BATCH):
        result = measure_batch(jobs[start:start + BATCH], config, "bench", workers)
        f0.update((row["clip_id"], row["f0_mean_hz"]) for row in result.rows)
        failures += len(result.failures)
    return time.perf_counter() - t, f0, failures


def praat_clip(path: str) -> int:
    """The Praat-only pass over one clip: decode, resample to 16 kHz, track F0 (the stage's settings)."""
    import soundfile as sf

    from speechcraft.models.pitch import PraatPitch

    samples, rate = sf.read(path, dtype="float32")
    return len(PraatPitch().track(samples, rate).f0_hz)


def run_praat_only(paths: list[str], workers: int) -> float:
    """Wall seconds of the Praat-only pass, on the stage's own pool of worker processes (warm)."""
    from speechcraft.tasks.worker_pool import pool as worker_pool

    pool = worker_pool(workers)
    list(pool.map(praat_clip, paths[: workers * 4]))          # imports done in every worker
    t = time.perf_counter()
    list(pool.map(praat_clip, paths, chunksize=max(1, len(paths) // (workers * 16))))
    return time.perf_counter() - t


def annotate_once(lake: str, corpus: Path, workers: int) -> dict:
    """Ingest `corpus` into `lake` and run the annotate step's three stages on it: audio seconds and the
    stages' batch walls. Runs with whatever `speechcraft` package the interpreter imports."""
    from speechcraft.flows.annotate import annotate_flow
    from speechcraft.flows.ingest import ingest_flow

    ingest_flow("folder", str(corpus), lake_uri=lake, show_progress=False)
    result = annotate_flow(lake, stages=ANNOTATE_STAGES, workers=workers, show_progress=False)
    return {"audio_s": result["acoustics"]["audio_s"], "clips": result["acoustics"]["computed"],
            "wall_s": {stage: result[stage]["wall_s"] for stage in ANNOTATE_STAGES}}


def annotate_side(code: Path | None, corpus: Path, workers: int, scratch: Path) -> dict:
    """`annotate_once` in a fresh process with a fresh lakehouse and Prefect cache; `code`: a clone whose
    packages to use (its folders mapped to `speechcraft.*` the way the editable install maps this tree's)."""
    import json
    import subprocess
    import tempfile

    run = Path(tempfile.mkdtemp(dir=scratch))
    env = {**os.environ, "SPEECHCRAFT_CACHE": str(run / "cache"), "PREFECT_HOME": str(run / "prefect")}
    if code is not None:
        package = run / "pkg" / "speechcraft"
        shutil.copytree(code / "speechcraft", package)
        for layer in ("flows", "models", "tasks", "warehouse", "dashboards"):
            (package / layer).symlink_to(code.resolve() / layer)
        env["PYTHONPATH"] = str(run / "pkg")
    for attempt in range(2):      # Prefect's ephemeral SQLite can be "locked" at start-up on a loaded machine
        out = subprocess.run([sys.executable, __file__, "--annotate-once", str(run / f"lake{attempt}"), str(corpus),
                              str(workers)], env=env, capture_output=True, text=True)
        if out.returncode == 0:
            return json.loads(out.stdout.strip().splitlines()[-1])
    raise RuntimeError(f"the annotate step failed ({code or 'this tree'}):\n{out.stderr[-3000:]}")


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


def compare_annotate(args, jobs: list) -> None:
    """The annotate step, before (args.before) and after (this tree), alternated, on the same clips."""
    corpus = args.workdir / "annotate-corpus"
    if not corpus.exists() or len(list(corpus.rglob("*.wav"))) != len(jobs):
        shutil.rmtree(corpus, ignore_errors=True)
        for job in jobs:                          # the same clips, as a folder corpus of their own
            source = Path(job.audio_path)
            target = corpus / source.parent.name / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            shutil.copy2(source.with_suffix(".txt"), target.with_suffix(".txt"))
    scratch = args.workdir / "annotate-runs"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    sides: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        sides["before"].append(annotate_side(args.before, corpus, args.workers, scratch))
        sides["after"].append(annotate_side(None, corpus, args.workers, scratch))
    print(f"\n== annotate step (acoustics + speaker + emphasis features), {sides['after'][0]['clips']} clips, "
          f"{args.workers} processes, alternated {args.repeat}x; before = {args.before} ==")
    print(f"{'':8}{'acoustics s':>12}{'speaker s':>10}{'emphasis s':>11}{'total s':>9}{'audio h/h':>10}")
    best = {}
    for side, runs in sides.items():
        for run in runs:
            walls = run["wall_s"]
            total = sum(walls.values())
            rate = run["audio_s"] / total
            best[side] = max(best.get(side, 0.0), rate)
            print(f"{side:8}{walls['acoustics']:12.2f}{walls['speaker']:10.2f}{walls['emphasis']:11.2f}"
                  f"{total:9.2f}{rate:10.0f}")
    print(f"after / before (best runs): {best['after'] / best['before']:.2f}x; target >= {TARGET_ANNOTATE:.0f} "
          f"audio h/h: {'PASS' if best['after'] >= TARGET_ANNOTATE else 'MISS'} ({best['after']:.0f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--baseline-clips", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--before", type=Path, help="a checkout of the code before, for the annotate step")
    parser.add_argument("--repeat", type=int, default=2)
    if sys.argv[1:2] == ["--annotate-once"]:            # the child process of annotate_side
        import json

        print(json.dumps(annotate_once(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))))
        return 0
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    every_job = clip_jobs(bulk_files(args.workdir, max(args.clips, args.baseline_clips)))
    jobs, base_jobs = every_job[: args.clips], every_job[: args.baseline_clips]
    ship_walls, praat_walls, praat_stage_walls = [], [], []
    for _ in range(args.repeat):                        # alternated: all sides see the same machine load
        ship_wall, ship_f0, failures = run_shipped(jobs, args.workers)
        ship_walls.append(ship_wall)
        praat_walls.append(run_praat_only([j.audio_path for j in jobs], args.workers))
        praat_stage_walls.append(run_shipped(jobs, args.workers, "praat-ac")[0])
    ship_wall, praat_stage_wall = min(ship_walls), min(praat_stage_walls)
    audio_h = sum(j.duration_s for j in jobs) / 3600
    of_praat = min(praat_walls) / praat_stage_wall
    print(f"\n== acoustic stage vs a Praat-only pass (decode, 16 kHz, pitch track), {len(jobs)} clips, "
          f"{audio_h:.2f} h, {args.workers} processes, best of {args.repeat} ==")
    print(f"acoustic stage, pitch = praat-ac:              {audio_h * 3600 / praat_stage_wall:7.0f} audio h/h  "
          f"walls {', '.join(f'{w:.2f}' for w in praat_stage_walls)} s")
    print(f"Praat-only pass:                               {audio_h * 3600 / min(praat_walls):7.0f} audio h/h  "
          f"walls {', '.join(f'{w:.2f}' for w in praat_walls)} s")
    print(f"target: the stage at >= {TARGET_OF_PRAAT:.0%} of the Praat-only pass: "
          f"{'PASS' if of_praat >= TARGET_OF_PRAAT else 'MISS'} ({of_praat:.0%})")
    batched_rate = audio_h * 3600 / ship_wall
    print(f"acoustic stage, pitch = ac-batched (default):  {batched_rate:7.0f} audio h/h  "
          f"walls {', '.join(f'{w:.2f}' for w in ship_walls)} s  ({praat_stage_wall / ship_wall:.2f}x the "
          f"stage with Praat; target >= {TARGET_HOURS_PER_HOUR:,.0f} h/h with a faster tracker: "
          f"{'PASS' if batched_rate >= TARGET_HOURS_PER_HOUR else 'MISS'}; its F0: bench/pitch.py)")
    if args.before:
        compare_annotate(args, jobs)
    if not base_jobs:
        return 0
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
