"""End-to-end benchmark of `speechcraft run`: ingest → emphasize → annotate → describe → check → export.

    python bench/pipeline.py [--hours 1.0] [--workdir bench-data/pipeline] [--reuse | --fresh]
                             [--baseline | --no-baseline]

The corpus: a generated `folder` corpus of espeak-ng speech (`build_bulk_folder`, spkNN/uttNNNNN.wav + .txt,
2-6 s a clip, English and Mandarin) of at least --hours of audio, source "bench" with `stress = 20` (20 clips
regenerated with a stressed keyword, so the emphasize step has work), beside the LibriTTS-R fixture corpus,
whose speakers' genders are known: the embedded speaker classifier learns from it, so the bench clips get a
gender, hence labels (percentile groups of >= 20 clips per language and gender), hence exports. Both are built
once under --workdir and reused by later invocations (--fresh rebuilds them; a different --hours rebuilds the
bulk corpus). Every invocation starts from a fresh lakehouse and a fresh SPEECHCRAFT_CACHE (so no Prefect task
cache from an earlier invocation helps) and its own PREFECT_HOME (initialised before the clock starts: the
database is created once per installation, not per run); PREFECT_API_URL is dropped, so every command runs
on Prefect's ephemeral server as a user's plain command does.

1. First run: `speechcraft run --config CFG --lake LAKE` in a subprocess. Measured: the wall time of the
   whole process (start-up, imports and Prefect's server included), and the pipeline's own figures from the
   lakehouse afterwards (`run_stages` of the run: clips, audio hours, wall s, audio h/h per step, and its
   `runs` row). End-to-end audio-hours per hour = the audio hours of both sources / the process's wall hours.
   Also its CPU time (user + system of every process it started), beside the most CPU time the 120 audio h/h
   target leaves on this machine's cores: a run cannot take less wall time than its CPU time / cores.
2. Second run, nothing new (the same command again): its wall time, and its ratio to the first (target
   < 5%: PASS/FAIL). Then the same no-op run against a running Prefect server (run 3), as scheduled runs
   are (`speechcraft serve`, workers), and the pipeline flow's own wall time in both runs (their `runs`
   rows): a plain command in Prefect's ephemeral mode pays about 9 s before any work (an empty flow alone,
   measured here), which no corpus-side saving can remove. At a small --hours the fixed costs dominate
   both runs, so the target only means something at the default size and above.
3. Baseline (--no-baseline skips it; it roughly doubles the bench's time): the same work as the separate
   commands a user without `run` types, each a subprocess, into a second fresh lakehouse with its own fresh
   cache: `ingest` of both sources, `emphasize --corpus bench --limit 20`, `annotate`, `describe`, `check`,
   and `export` in each of the three formats. Total wall time and `run`'s ratio to it; then every command
   once more with nothing new (standalone `check` and `export` redo their work: only `run` knows that
   nothing changed since the last ones).

The exports must be non-empty: clips exported per format are read from each export's `export.json`.
Progress is shown while it runs (the step a run is in, read from the lakehouse every few seconds); each
command's own output goes to a log under --workdir (printed when a command fails).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

SECOND_RUN_TARGET = 0.05
WHOLE_RUN_TARGET_HH = 120      # issue 18: a whole run at 120 audio hours per hour or more
STRESS = 20
BULK_NAME = "bench"
LIBRITTS = "libritts-r"
EXPORTS = ("parler-tts", "lhotse", "speechcraft")
MEAN_CLIP_S = 3.2          # first guess of the bulk corpus's mean clip duration; the build corrects it
SPEECHCRAFT = str(Path(sys.executable).with_name("speechcraft"))
LATEST_PIPELINE = "(SELECT arg_max(run_id, started_at) FROM runs WHERE flow = 'pipeline')"


# -- the corpus ---------------------------------------------------------------------------------------------

def wav_seconds(root: Path) -> tuple[int, float]:
    import soundfile as sf

    files = sorted(root.rglob("*.wav"))
    return len(files), sum(sf.info(p).duration for p in files)


def bulk_corpus(workdir: Path, hours: float, reuse: bool) -> tuple[Path, int, float]:
    """The bulk folder corpus with at least `hours` of audio: (root, clips, audio seconds)."""
    from speechcraft.tasks.demo_corpora import build_bulk_folder

    root, meta_path = workdir / "bulk", workdir / "bulk.meta.json"
    if reuse and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta["hours_requested"] == hours and len(list(root.rglob("*.wav"))) == meta["clips"]:
            print(f"reusing the bulk corpus: {meta['clips']} clips, {meta['audio_s'] / 3600:.3f} h ({root})")
            return root, meta["clips"], meta["audio_s"]
    target_s = hours * 3600
    n_clips = max(1, math.ceil(target_s / MEAN_CLIP_S))
    while True:
        shutil.rmtree(root, ignore_errors=True)
        meta_path.unlink(missing_ok=True)
        print(f"building the bulk corpus: {n_clips} clips of espeak-ng speech ...", flush=True)
        t = time.perf_counter()
        build_bulk_folder(root, n_clips).save(workdir / "bulk.truth.json")
        clips, audio_s = wav_seconds(root)
        print(f"  built {clips} clips, {audio_s / 3600:.3f} h in {time.perf_counter() - t:.1f} s", flush=True)
        if audio_s >= target_s:
            break
        n_clips = math.ceil(n_clips * target_s / audio_s * 1.02) + 1       # short: rebuild a little bigger
    meta_path.write_text(json.dumps({"hours_requested": hours, "clips": clips, "audio_s": audio_s}))
    return root, clips, audio_s


def libritts_corpus(workdir: Path, reuse: bool) -> Path:
    """The LibriTTS-R fixture (speakers with known genders: what the speaker classifier learns from)."""
    from speechcraft.tasks.demo_corpora import libritts_r

    root, truth = workdir / LIBRITTS, workdir / f"{LIBRITTS}.truth.json"
    if reuse and truth.exists() and root.is_dir():
        return root
    shutil.rmtree(root, ignore_errors=True)
    t = time.perf_counter()
    libritts_r.build(root).save(truth)
    print(f"built the LibriTTS-R fixture in {time.perf_counter() - t:.1f} s", flush=True)
    return root


def write_config(path: Path, bulk: Path, libritts: Path, export_dir: Path, stages: list[str] | None = None) -> Path:
    path.write_text("\n".join([
        "# written by bench/pipeline.py",
        "[pipeline]", f"export_dir = {json.dumps(str(export_dir))}", "",
        "[annotate]", *([f"stages = {json.dumps(stages)}"] if stages else []), "",
        "[[sources]]", 'corpus = "folder"', f"path = {json.dumps(str(bulk))}", f'name = "{BULK_NAME}"',
        f"stress = {STRESS}", "",
        "[[sources]]", f'corpus = "{LIBRITTS}"', f"path = {json.dumps(str(libritts))}", ""]), encoding="utf-8")
    return path


# -- running commands ---------------------------------------------------------------------------------------

class Side:
    """One side of the comparison: a folder with its lakehouse, cache, Prefect home, exports and logs."""

    def __init__(self, workdir: Path, name: str):
        self.dir = workdir / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.lake, self.exports, self.logs = self.dir / "lake", self.dir / "exports", self.dir / "logs"
        self.logs.mkdir()
        env = {k: v for k, v in os.environ.items()
               if k not in ("PREFECT_API_URL", "SPEECHCRAFT_CONFIG", "SPEECHCRAFT_LAKE")}
        self.env = {**env, "SPEECHCRAFT_CACHE": str(self.dir / "cache"), "PREFECT_HOME": str(self.dir / "prefect"),
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                    "GX_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
        self._logged = 0
        self.cpu_s: dict[str, float] = {}      # each command's CPU, its processes' user + system

    def prepare_prefect(self) -> float:
        """Create the Prefect database (a one-time cost of an installation) before any clock starts."""
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from prefect import flow\nflow(name='bench-warm-up')(lambda: None)()"],
                       env=self.env, cwd=self.dir, check=True, capture_output=True)
        return time.perf_counter() - t

    def command(self, label: str, args: list[str], api_url: str | None = None) -> tuple[float, int]:
        """Run `speechcraft ARGS` (output to a log), showing progress; (wall seconds, exit code). `api_url`: a
        running Prefect server to report to, instead of the ephemeral one each process starts."""
        self._logged += 1
        log = self.logs / f"{self._logged:02d}-{label.replace(' ', '-').replace(':', '-')}.log"
        with open(log, "w") as out, Watch(label, self.lake):
            t, cpu = time.perf_counter(), _children_cpu_s()
            env = {**self.env, "PREFECT_API_URL": api_url} if api_url else self.env
            code = subprocess.run([SPEECHCRAFT, *args, "--lake", str(self.lake)], env=env, cwd=self.dir,
                                  stdout=out, stderr=subprocess.STDOUT).returncode
            wall = time.perf_counter() - t
            self.cpu_s[label] = _children_cpu_s() - cpu
        status = "" if code == 0 else f"  [exit {code}: see {log}]"
        print(f"  {label:<34}{wall:9.1f} s{status}", flush=True)
        if code != 0:
            print("    " + "\n    ".join(log.read_text(errors="replace").splitlines()[-25:]), flush=True)
        return wall, code


def _children_cpu_s() -> float:
    """User + system CPU seconds of every finished child process and of what each one waited for (its
    worker processes, Prefect's server)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Watch:
    """Progress while a command runs: elapsed time and the flow(s) running in its lakehouse (read-only Lance
    reads every few seconds); a live line on a terminal, else a line when the step changes or each minute."""

    EVERY_S = 3.0

    def __init__(self, label: str, lake: Path):
        self.label, self.lake = label, lake
        self.tty = sys.stdout.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "Watch":
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        if self.tty:
            print("\r\033[K", end="", flush=True)

    def _loop(self) -> None:
        shown, shown_at = None, time.perf_counter()
        while not self._stop.wait(self.EVERY_S):
            now = self._running()
            elapsed = time.perf_counter() - self.started
            line = f"  {self.label}: {elapsed:5.0f} s" + (f" · {now}" if now else "")
            if self.tty:
                print("\r\033[K" + line[:150], end="", flush=True)
            elif now != shown or time.perf_counter() - shown_at >= 60:
                print(line, flush=True)
                shown, shown_at = now, time.perf_counter()

    def _running(self) -> str:
        import lance

        try:
            runs_uri = self.lake / "runs.lance"
            if not runs_uri.exists():
                return "starting"
            running = lance.dataset(str(runs_uri)).to_table(columns=["run_id", "flow", "corpus"],
                                                           filter="status = 'running'").to_pylist()
            flows = [f"{r['flow']}" + (f" {r['corpus']}" if r["corpus"] and r["flow"] != "pipeline" else "")
                     for r in running]
            done = ""
            pipeline = [r["run_id"] for r in running if r["flow"] == "pipeline"]
            stages_uri = self.lake / "run_stages.lance"
            if pipeline and stages_uri.exists():
                steps = lance.dataset(str(stages_uri)).to_table(
                    columns=["step"], filter=f"run_id = '{pipeline[0]}'")["step"].to_pylist()
                done = f" · {len(steps)} steps done" + (f" (last: {steps[-1]})" if steps else "")
            if not running:
                return "no flow running (process start-up or shut-down)"
            return ("now: " + ", ".join(f for f in flows if f != "pipeline") if len(flows) > len(pipeline)
                    else "between steps") + done
        except Exception as exc:     # a table being rewritten under us: try again next time
            return f"({type(exc).__name__})"


# -- figures ------------------------------------------------------------------------------------------------

def pipeline_figures(lake: Path) -> tuple[dict, list[dict]]:
    """The latest pipeline run's `runs` row and its `run_stages` rows (in step order)."""
    from speechcraft.warehouse.sql import query

    run = query(f"SELECT * FROM runs WHERE run_id = {LATEST_PIPELINE}", str(lake)).to_pylist()[0]
    steps = query(f"SELECT * FROM run_stages WHERE run_id = {LATEST_PIPELINE} ORDER BY finished_at",
                  str(lake)).to_pylist()
    return run, steps


def source_audio(lake: Path) -> list[dict]:
    from speechcraft.warehouse.sql import query

    return query("SELECT corpus, count(*) AS clips, sum(duration_s) / 3600 AS hours FROM clips "
                 "GROUP BY corpus ORDER BY corpus", str(lake)).to_pylist()


def exported(export_dir: Path) -> dict[str, int | None]:
    """Clips exported per format, from each export's export.json (None: no export there)."""
    counts = {}
    for fmt in EXPORTS:
        manifest = export_dir / fmt / "export.json"
        counts[fmt] = json.loads(manifest.read_text())["clips"]["exported"] if manifest.exists() else None
    return counts


def flow_walls(lake: Path) -> list[dict]:
    """Every stage command's `runs` row in the baseline lakehouse, in order."""
    from speechcraft.warehouse.sql import query

    return query("SELECT flow, corpus, status, wall_s, n_new, audio_hours FROM runs ORDER BY started_at",
                 str(lake)).to_pylist()


def _n(value, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


# -- the bench ----------------------------------------------------------------------------------------------

def bench_run(workdir: Path, bulk: Path, libritts: Path, stages: list[str] | None = None) -> dict:
    side = Side(workdir, "run")
    config = write_config(side.dir / "speechcraft.toml", bulk, libritts, side.exports, stages)
    print(f"\n== speechcraft run (lake {side.lake}) ==")
    print(f"  (Prefect home initialised in {side.prepare_prefect():.1f} s, not counted)", flush=True)
    args = ["run", "--config", str(config)]
    first_s, first_code = side.command("run 1: fresh lakehouse", args)
    first_run, first_steps = pipeline_figures(side.lake)
    first_exports = exported(side.exports)
    second_s, second_code = side.command("run 2: nothing new", args)
    second_run, second_steps = pipeline_figures(side.lake)
    if second_run["run_id"] == first_run["run_id"]:     # answered "nothing new" before any flow started
        second_run, second_steps = {**second_run, "n_new": 0, "wall_s": 0.0, "answered": True}, []
    # As scheduled runs are (`speechcraft serve`, workers): against a running Prefect server, so the process
    # does not start Prefect's ephemeral server (about 6 s of every plain command's start-up).
    served_s, served_code = _against_a_server(side, args)
    served_run, _ = pipeline_figures(side.lake)
    return {"side": side, "config": config, "first_s": first_s, "second_s": second_s,
            "served_s": served_s, "served_run": served_run,
            "codes": (first_code, second_code, served_code), "first_run": first_run, "first_steps": first_steps,
            "second_run": second_run, "second_steps": second_steps, "exports": first_exports,
            "sources": source_audio(side.lake)}


def _against_a_server(side: "Side", args: list[str]) -> tuple[float, int]:
    from speechcraft.flows.schedules import start_local_server

    saved = os.environ.get("PREFECT_HOME")
    os.environ["PREFECT_HOME"] = side.env["PREFECT_HOME"]        # the server's SQLite: this side's Prefect home
    try:
        server = start_local_server("127.0.0.1", _free_port(), str(side.logs / "prefect-server.log"))
    finally:
        if saved is None:
            os.environ.pop("PREFECT_HOME")
        else:
            os.environ["PREFECT_HOME"] = saved
    try:
        return side.command("run 3: nothing new, server up", args, api_url=server.url)
    finally:
        server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_baseline(workdir: Path, bulk: Path, libritts: Path, config: Path) -> dict:
    side = Side(workdir, "baseline")
    print(f"\n== baseline: the stage commands one by one (lake {side.lake}) ==")
    print(f"  (Prefect home initialised in {side.prepare_prefect():.1f} s, not counted)", flush=True)
    commands = [("ingest folder", ["ingest", "folder", str(bulk), "--name", BULK_NAME]),
                (f"ingest {LIBRITTS}", ["ingest", LIBRITTS, str(libritts)]),
                ("emphasize", ["emphasize", "--corpus", BULK_NAME, "--limit", str(STRESS)]),
                ("annotate", ["annotate", "--config", str(config)]),
                ("describe", ["describe", "--config", str(config)]),
                ("check", ["check"]),
                *((f"export {fmt}", ["export", fmt, str(side.exports / fmt)]) for fmt in EXPORTS)]
    first, second = {}, {}
    for label, args in commands:
        first[label] = side.command(label, args)
    exports = exported(side.exports)
    walls = flow_walls(side.lake)
    print("  -- the same commands again, nothing new --", flush=True)
    for label, args in commands:
        second[label] = side.command(f"again: {label}", args)
    return {"side": side, "first": first, "second": second, "exports": exports, "walls": walls}


def report(hours_arg: float, run: dict, base: dict | None) -> int:
    first_run, steps = run["first_run"], run["first_steps"]
    second_by_step = {s["step"]: s for s in run["second_steps"]}
    from speechcraft.tasks.stressing import is_stressed

    # the corpus: what the sources hold (the stressed clips are the pipeline's own output, not its input)
    audio_h = sum(r["hours"] for r in run["sources"] if not is_stressed(r["corpus"]))
    sources = ", ".join(f"{r['corpus']}: {r['clips']} clips {r['hours']:.3f} h" for r in run["sources"])
    print(f"\n== speechcraft run: end to end over {audio_h:.3f} h of source audio (in the lakehouse after run 1: "
          f"{sources}) ==")
    head = f"{'step':<22}{'status':<11}{'clips':>7}{'audio h':>9}{'wall s':>9}{'audio h/h':>11}"
    print(head + f"{'| run 2:':>10}{'clips':>6}{'wall s':>8}")
    for s in steps:
        again = second_by_step.get(s["step"], {})
        print(f"{s['step']:<22}{s['status']:<11}{s['clips']:7d}{_n(s['audio_hours'], '9.3f'):>9}"
              f"{s['wall_s']:9.1f}{_n(s['audio_hours_per_hour'], '11.0f'):>11}"
              f"{'|':>4}{' ' * 6}{_n(again.get('clips'), '6d'):>6}{_n(again.get('wall_s'), '8.1f'):>8}")
    pipeline_hh = first_run["audio_hours_per_hour"]
    print(f"{'pipeline (runs row)':<22}{first_run['status']:<11}{first_run['n_new']:7d}"
          f"{first_run['audio_hours']:9.3f}{first_run['wall_s']:9.1f}{_n(pipeline_hh, '11.0f'):>11}"
          f"{'|':>4}{' ' * 6}{run['second_run']['n_new']:6d}{run['second_run']['wall_s']:8.1f}")
    print("(clips: the clips a step worked on (check: the expectations it evaluated); the annotation stages follow"
          " the `annotate` step that ran them; the runs row: clips new to the lakehouse, the widest step's audio h)")

    first_s, second_s = run["first_s"], run["second_s"]
    failed = [c for c in run["codes"] if c != 0]
    exports_ok = all(n for n in run["exports"].values())
    if base:
        print("\n== baseline: the separate commands, each a whole process ==")
        print(f"{'command':<24}{'wall s':>9}{'flow s':>9}{'| again s':>11}")
        walls: dict[str, list[dict]] = {}
        for row in base["walls"]:
            walls.setdefault(row["flow"], []).append(row)
        for label, (wall, code) in base["first"].items():
            row = (walls.get(label.split()[0]) or [None]).pop(0)
            print(f"{label:<24}{wall:9.1f}{_n(row and row['wall_s'], '9.1f'):>9}{'|':>3}"
                  f"{base['second'][label][0]:8.1f}" + ("" if code == 0 else f"  exit {code}"))
        print("(flow s: the command's own `runs` row: its work without process start-up and Prefect's server; "
              "again s: the same command once more, nothing new)")
        failed += [c for _, c in [*base["first"].values(), *base["second"].values()] if c != 0]

    def verdict(ratio: float) -> str:
        return f"target < {SECOND_RUN_TARGET:.0%}: {'PASS' if ratio < SECOND_RUN_TARGET else 'FAIL'}"

    served_s = run["served_s"]
    flow_first, flow_second = first_run["wall_s"], run["second_run"]["wall_s"]
    rows = [("run 1: fresh lakehouse", first_s, None, audio_h / (first_s / 3600), ""),
            ("run 2: nothing new", second_s, second_s / first_s, None, f"(of run 1)  {verdict(second_s / first_s)}"),
            ("run 3: nothing new, server up", served_s, served_s / first_s, None,
             f"(of run 1)  {verdict(served_s / first_s)}"),
            ("run 1, the pipeline flow only", flow_first, None, audio_h / (flow_first / 3600), "(its runs row)"),
            ("run 2, the pipeline flow only", flow_second, flow_second / flow_first, None,
             "(no flow started: answered before Prefect)" if run["second_run"].get("answered")
             else f"(of run 1's flow)  {verdict(flow_second / flow_first)}")]
    if base:
        base_s = sum(w for w, _ in base["first"].values())
        again_s = sum(w for w, _ in base["second"].values())
        rows += [("baseline: separate commands", base_s, None, audio_h / (base_s / 3600), ""),
                 ("run 1 / baseline", None, first_s / base_s, None, ""),
                 ("baseline again: nothing new", again_s, again_s / base_s, None, "(of the baseline)"),
                 ("run 2 / baseline again", None, second_s / again_s, None, "")]
    print(f"\n== summary: whole processes, {audio_h:.3f} h of source audio ==")
    cpu_s = run["side"].cpu_s.get("run 1: fresh lakehouse")
    print(f"{'':32}{'wall s':>9}{'ratio':>9}{'audio h/h':>11}")
    for label, wall, share, rate, note in rows:
        print(f"{label:32}{_n(wall, '9.1f'):>9}{_n(share, '9.1%'):>9}{_n(rate, '11.1f'):>11}  {note}".rstrip())
    if cpu_s:
        # on N cores a run can take no less wall time than its CPU time / N: what the target leaves is a budget
        cores = os.cpu_count() or 1
        budget_s = audio_h / WHOLE_RUN_TARGET_HH * 3600 * cores
        print(f"run 1 used {cpu_s:.1f} CPU-s (user + system, every process) over {first_s:.1f} s: "
              f"{cpu_s / first_s:.2f} of {cores} cores busy on average; {WHOLE_RUN_TARGET_HH} audio h/h on "
              f"{cores} cores allows at most {budget_s:.1f} CPU-s for this audio ({cpu_s / budget_s:.2f}x that)")
    for name, counts in [("run 1", run["exports"])] + ([("the baseline", base["exports"])] if base else []):
        print(f"exported by {name}: " + ", ".join(f"{fmt} {n if n is not None else 'NONE'} clips"
                                                 for fmt, n in counts.items()))
        exports_ok &= all(n for n in counts.values())
    if not exports_ok:
        print("  an export is missing or empty: no clip got labels? (see the logs)")
    if hours_arg < 0.5:
        print(f"\n(--hours {hours_arg}: fixed costs dominate at this size; the 5% target is meant for >= 1 h)")
    return 0 if not failed and exports_ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0, help="audio in the bulk corpus, at least (default 1.0)")
    parser.add_argument("--workdir", type=Path, default=Path("bench-data/pipeline"))
    corpus = parser.add_mutually_exclusive_group()
    corpus.add_argument("--reuse", dest="reuse", action="store_true", default=True,
                        help="reuse the corpora an earlier invocation built (default)")
    corpus.add_argument("--fresh", dest="reuse", action="store_false", help="rebuild the corpora")
    parser.add_argument("--stages", help="comma-separated annotate stages (default: a plain run's), e.g. the "
                                         "stages an older version had, to compare like with like")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the separate stage commands (default on; about doubles the time)")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    bulk, _, _ = bulk_corpus(workdir, args.hours, args.reuse)
    libritts = libritts_corpus(workdir, args.reuse)
    t = time.perf_counter()
    run = bench_run(workdir, bulk, libritts, args.stages.split(",") if args.stages else None)
    base = bench_baseline(workdir, bulk, libritts, run["config"]) if args.baseline else None
    print(f"\n(bench took {time.perf_counter() - t:.0f} s; logs under {workdir}/run/logs"
          + (f" and {workdir}/baseline/logs)" if base else ")"))
    return report(args.hours, run, base)


if __name__ == "__main__":
    sys.exit(main())
