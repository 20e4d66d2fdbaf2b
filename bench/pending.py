"""What a stage with nothing to do costs: finding its pending clips, at 2 thousand and at 2.25 million clips.

    python bench/pending.py [--clips 2250000] [--small 2000] [--python-clips 200000] [--workdir bench-data/pending]

For each size it builds (once; reused by later invocations) a lakehouse of synthetic clips (GigaSpeech-like:
spans of long files, Mandarin and English transcripts, a few without one and with an ASR text instead) and
an `acoustics` table with a current row for every clip, written with Arrow in large batches. Then, each in
its own subprocess so that peak resident memory is the check's alone:

1. the first check (`pending_jobs`) on a lakehouse written before the input-hash cache: every clip is
   hashed in Python once and cached; none is found pending (a lakehouse from before this change redoes
   nothing). A one-off cost, shown for information.
2. the check with nothing to do, as every later run pays it: wall time and peak RSS, PASS/FAIL against
   5 s and 1 GB at the large size.
3. the old Python path (read `clips` and the stage table into Python, hash every clip), at --python-clips,
   beside the new one at the same size.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 5.0
TARGET_RSS_MB = 1024
VERSION, CONFIG = "1", "bench-config"
SPANS_PER_FILE = 200


def python_pending_jobs(lake, table: str, version: str, config_hash: str, corpus: str | None = None,
                        where: str | None = None, asr_transcripts: bool = True, done_key: str = "clip_id"):
    """The path this change replaced, kept as the baseline here and as the tests' oracle
    (tests/test_pending.py): every clip and every stage row read into Python, every clip hashed."""
    from speechcraft.tasks.clip_batches import CLIP_COLUMNS, ClipJob, PendingWork
    from speechcraft.warehouse.lake import sql_literal_list

    conditions = [c for c in (f"corpus = {sql_literal_list([corpus])[1:-1]}" if corpus else None, where) if c]
    clips = lake.read("clips", CLIP_COLUMNS, where=" AND ".join(conditions) or None).to_pylist()
    missing = [r["clip_id"] for r in clips if not (r["transcript"] or "").strip()]
    if asr_transcripts and missing:
        asr = {r["clip_id"]: r["text"] for r in lake.lookup("transcripts", missing, ["clip_id", "text"]).to_pylist()}
        for row in clips:
            row["transcript"] = row["transcript"] or asr.get(row["clip_id"])
    done = {r[done_key]: (r["annotator_version"], r["config_hash"], r["input_hash"])
            for r in lake.read(table, [done_key, "annotator_version", "config_hash", "input_hash"]).to_pylist()}
    jobs = [job for job in map(lambda row: ClipJob(**row), clips)
            if done.get(job.clip_id) != (version, config_hash, job.input_hash())]
    jobs.sort(key=lambda j: (j.audio_path, j.start_s or 0.0))
    return PendingWork(jobs, len(clips) - len(jobs))


def build(lake_uri: str, n: int) -> None:
    """`n` clips and a current acoustics row for each; every 500th clip has no transcript and an ASR text."""
    import numpy as np
    import pyarrow as pa

    from speechcraft.tasks.clip_batches import ClipJob
    from speechcraft.warehouse import Lakehouse
    from speechcraft.warehouse.schema import TABLES

    lake = Lakehouse(lake_uri)
    step = 250_000
    for first in range(0, n, step):
        idx = np.arange(first, min(n, first + step))
        start = np.round((idx % SPANS_PER_FILE) * 4.0 + 0.125, 3)
        english = idx % 2 == 0
        transcript = [None if i % 500 == 0 else (f"clip {i} says something rather ordinary" if i % 2 == 0
                                                 else f"第{i}句话说得很平常") for i in idx.tolist()]
        asr = {int(i): f"asr text of clip {i}" for i in idx.tolist() if i % 500 == 0}
        columns = {
            "clip_id": [f"bench/{i:08d}" for i in idx.tolist()], "corpus": ["bench"] * len(idx),
            "audio_path": [f"/audio/bench/{i // SPANS_PER_FILE:06d}.opus" for i in idx.tolist()],
            "start_s": start, "end_s": start + 3.5, "duration_s": np.full(len(idx), 3.5),
            "transcript": transcript, "language": np.where(english, "en", "zh").tolist(),
            "audio_sha256": [f"{i // SPANS_PER_FILE:064x}" for i in idx.tolist()]}
        clips = pa.table({f.name: pa.array(columns[f.name], f.type) if f.name in columns else pa.nulls(len(idx), f.type)
                          for f in TABLES["clips"][0]})
        lake.table("clips").add(clips)
        effective = [t if t else asr.get(int(i)) for i, t in zip(idx.tolist(), transcript)]
        hashes = [ClipJob(c, "", s, e, t, lang, sha).input_hash() for c, s, e, t, lang, sha in zip(
            columns["clip_id"], start.tolist(), (start + 3.5).tolist(), effective, columns["language"],
            columns["audio_sha256"])]
        done = {"clip_id": columns["clip_id"], "annotator": ["bench"] * len(idx),
                "annotator_version": [VERSION] * len(idx), "config_hash": [CONFIG] * len(idx), "input_hash": hashes}
        lake.table("acoustics").add(pa.table({f.name: pa.array(done[f.name], f.type) if f.name in done
                                              else pa.nulls(len(idx), f.type) for f in TABLES["acoustics"][0]}))
        if asr:
            lake.upsert("transcripts", [{"clip_id": f"bench/{i:08d}", "text": text} for i, text in asr.items()])
    for name in ("clips", "acoustics"):
        lake.compact(name)


def measure(lake_uri: str, path: str) -> dict:
    """One pending check, in this process: {"s", "rss_mb", "pending", "up_to_date"}."""
    from speechcraft.tasks.clip_batches import pending_jobs
    from speechcraft.warehouse import Lakehouse

    check = python_pending_jobs if path == "python" else pending_jobs
    lake = Lakehouse(lake_uri)
    started = time.perf_counter()
    work = check(lake, "acoustics", VERSION, CONFIG)
    return {"s": time.perf_counter() - started, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "pending": len(work.jobs), "up_to_date": work.up_to_date}


def in_subprocess(lake_uri: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", lake_uri, path], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the measurement failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def lakehouse(workdir: Path, n: int) -> str:
    uri = workdir / f"lake-{n}"
    if not (uri / ".built").exists():
        import shutil

        shutil.rmtree(uri, ignore_errors=True)
        started = time.perf_counter()
        build(str(uri), n)
        (uri / ".built").touch()
        print(f"built {n:,} clips and their acoustics rows in {time.perf_counter() - started:.1f} s ({uri})")
    return str(uri)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=2_250_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--python-clips", type=int, default=200_000, help="size for the old path, side by side")
    parser.add_argument("--workdir", default="bench-data/pending")
    parser.add_argument("--measure", nargs=2, metavar=("LAKE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    line = "{:>10,} clips  {:<34} {:7.2f} s  {:7.0f} MB peak RSS  pending {:,}, up to date {:,}"
    verdict = True
    for n in sorted({args.small, args.python_clips, args.clips}):
        uri = lakehouse(workdir, n)
        if not (Path(uri) / "clip_inputs.lance").exists():
            r = in_subprocess(uri, "sql")
            print(line.format(n, "first check (hashes every clip once)", r["s"], r["rss_mb"], r["pending"],
                              r["up_to_date"]))
        r = in_subprocess(uri, "sql")
        ok = r["pending"] == 0 and (n != args.clips or (r["s"] < TARGET_S and r["rss_mb"] < TARGET_RSS_MB))
        verdict &= ok
        target = f"  {'PASS' if ok else 'FAIL'} (< {TARGET_S:g} s, < {TARGET_RSS_MB} MB)" if n == args.clips else ""
        print(line.format(n, "nothing to do: DuckDB anti-join", r["s"], r["rss_mb"], r["pending"],
                          r["up_to_date"]) + target)
        if n == args.python_clips:
            r = in_subprocess(uri, "python")
            print(line.format(n, "nothing to do: old Python path", r["s"], r["rss_mb"], r["pending"],
                              r["up_to_date"]))
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
