"""Where the CPU time of one `speechcraft run` goes: the run of bench/pipeline.py (same corpora, a fresh
lakehouse, cache and Prefect home), once, sampled by py-spy in every process it starts, each sample put in one
part of the run by what is on its stack.

    python bench/run_cpu.py [--hours 1.0] [--workdir bench-data/pipeline] [--stages ...] [--rate 50]

Prints CPU seconds per part (samples of running threads / rate: threads waiting are not sampled), their sum,
the run's user + system CPU measured by the kernel, and the most CPU time the 120 audio-h/h target leaves on
this machine's cores. py-spy samples without stopping the process (`--nonblocking`), so the run is timed
nearly as it runs unsampled; a sample's part is the first rule below whose pattern its stack matches.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline  # noqa: E402

# (part, pattern on the whole stack, frames joined by ";"): the first match wins, so the order matters
PARTS = [
    ("search index: imports of torch / sentence-transformers", r"import_library"),
    ("search index: embeddings (MiniLM)", r"tasks/search_index\.py|models/text_embedder\.py"),
    ("Prefect's server (its own process)", r"uvicorn|prefect/server/"),
    ("worker processes: imports", r"spawn_main.*_find_and_load"),
    ("worker processes: acoustics, speaker, emphasis features", r"spawn_main|worker_pool"),
    ("emphasize (keyword choice, WORLD, checks)", r"flows/emphasize|tasks/stressing|models/stress_|models/keywords"),
    ("annotate, in the main process", r"flows/annotate|tasks/emphasis|tasks/model_stages|tasks/acoustics|tasks/speakers"),
    ("check (great-expectations)", r"flows/check|tasks/quality|great_expectations"),
    ("exports", r"flows/export|tasks/exports"),
    ("describe", r"flows/describe|tasks/descriptions"),
    ("ingest", r"flows/ingest|tasks/ingest|tasks/corpora"),
    ("other imports", r"_find_and_load"),
    ("Prefect's client and flow engine", r"prefect/"),
]


def parts_of(raw: Path, rate: int) -> Counter:
    """CPU seconds per part from py-spy's raw output (one line per stack: frames;...;frames COUNT)."""
    cpu: Counter = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        part = next((name for name, pattern in PARTS if re.search(pattern, stack)), "other")
        cpu[part] += int(count) / rate
    return cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data/pipeline"))
    parser.add_argument("--stages", help="comma-separated annotate stages (default: a plain run's)")
    parser.add_argument("--rate", type=int, default=50, help="py-spy samples a second (default 50)")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed: pip install 'speechcraft-lakehouse[bench]'", file=sys.stderr)
        return 2
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    bulk, _, _ = pipeline.bulk_corpus(workdir, args.hours, reuse=True)
    libritts = pipeline.libritts_corpus(workdir, reuse=True)
    side = pipeline.Side(workdir, "cpu")
    config = pipeline.write_config(side.dir / "speechcraft.toml", bulk, libritts, side.exports,
                                   args.stages.split(",") if args.stages else None)
    side.prepare_prefect()
    raw = side.logs / "run.pyspy.txt"
    command = [spy, "record", "--nonblocking", "--subprocesses", "-r", str(args.rate), "-f", "raw", "-o", str(raw),
               "--", pipeline.SPEECHCRAFT, "run", "--config", str(config), "--lake", str(side.lake)]
    t, before = time.perf_counter(), pipeline._children_cpu_s()
    with open(side.logs / "run.log", "w") as out:
        code = subprocess.run(command, env=side.env, cwd=side.dir, stdout=out, stderr=subprocess.STDOUT).returncode
    wall, kernel_cpu = time.perf_counter() - t, pipeline._children_cpu_s() - before
    if code != 0 or not raw.exists():
        print(f"the run failed (exit {code}): see {side.logs / 'run.log'}", file=sys.stderr)
        return 1
    from speechcraft.tasks.stressing import is_stressed

    # the sources' audio (the stressed clips are the run's own output), as bench/pipeline.py counts it
    audio_h = sum(r["hours"] for r in pipeline.source_audio(side.lake) if not is_stressed(r["corpus"]))
    cpu = parts_of(raw, args.rate)
    cores = os.cpu_count() or 1
    budget = audio_h / pipeline.WHOLE_RUN_TARGET_HH * 3600 * cores
    print(f"\n== one `speechcraft run` of {audio_h:.3f} h of audio: {wall:.1f} s wall (sampled), "
          f"{kernel_cpu:.1f} CPU-s by the kernel (user + system, every process) ==")
    for part, seconds in cpu.most_common():
        print(f"{seconds:8.1f} CPU-s  {seconds / sum(cpu.values()):6.1%}  {part}")
    print(f"{sum(cpu.values()):8.1f} CPU-s  sampled in all")
    print(f"{pipeline.WHOLE_RUN_TARGET_HH} audio h/h on {cores} cores leaves at most {budget:.1f} CPU-s for this "
          f"audio; the run used {kernel_cpu / budget:.2f}x that")
    return 0


if __name__ == "__main__":
    sys.exit(main())
