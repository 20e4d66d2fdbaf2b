"""How varied the embedded generator's texts are, how fast it writes them, and how fast the describe step
writes them into a lakehouse, side by side with the generator alone.

    python bench/describe.py [--clips 1000] [--hours 1.0] [--workdir bench-data/describe] [--fresh]
                             [--lake LAKE] [--before DIR]

1. Diversity: for one fixed label set per language (every attribute known), --clips clips get a description
   and an instruction each; printed: the share of distinct texts, beside the baseline of fixed templates (one
   text per label set, as TextrolSpeech's 432 texts cover all its label combinations), texts per second, and
   the share that passed the checker at the first attempt.
2. The describe step on an annotated lakehouse: --lake, or one built once under --workdir (reused until
   --fresh or another --hours) from --hours of the bulk folder corpus of bench/pipeline.py beside the
   LibriTTS-R fixture (whose known genders give the bulk clips labels), by `speechcraft run` with the steps
   ingest and annotate. --hours 0 skips this part. Each side — this tree, and with --before DIR a checkout of
   the code before a change (`git clone . /tmp/describe-before`, run with this venv) — runs in a process of
   its own on its own copy of the lakehouse without texts, with a fresh task cache. After a warm-up (Prefect's
   ephemeral server, LanceDB: paid once per process, and in `speechcraft run` by the pipeline flow, not by
   its describe step) it measures, on the same clips: the generator alone (texts/s), `describe_flow`
   (clips/s, published texts/s) and the search index (texts/s). Code that builds the index inside describe
   (before `search_index_flow` existed) has it in its describe figure; the last column puts both sides on
   the footing of `speechcraft describe`, which does both. Then the two sides' `descriptions` (texts,
   verdicts, published flags, reasons) and `text_vectors` are compared.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

LABELS = {
    "en": {"gender": "female", "age": "young_adult", "pitch": "high", "volume": "normal", "speed": "fast",
           "emotion": "happy", "topic": "science and technology", "emphasis": "story"},
    "zh": {"gender": "male", "age": "middle_aged", "pitch": "low", "volume": "high", "speed": "slow",
           "emotion": "sad", "topic": "科技", "emphasis": "男人"},
}
TRANSCRIPTS = {"en": "That was the best story I have heard all year.", "zh": "那个男人今天没有来上班"}
SPEECHCRAFT = str(Path(sys.executable).with_name("speechcraft"))
TEXT_TABLES = ("descriptions.lance", "text_vectors.lance")        # left out of each side's copy: all work to do
# what a user reads of a stored text: everything but when and in which run it was written
COMPARED = """SELECT text_id, text, language, generator, model, attempt, attempts, omissions, distortions,
                     omitted, distorted, transcript_problem, invented, passed, published, reason, labels,
                     annotator, config_hash, input_hash FROM descriptions ORDER BY text_id"""


# -- 1. the generator's diversity ----------------------------------------------------------------------------

def diversity(clips: int) -> None:
    from speechcraft.models.describer import EmbeddedDescriber

    describer = EmbeddedDescriber()
    print(f"{'language':<9}{'kind':<13}{'texts':>7}{'distinct':>10}{'templates':>11}{'texts/s':>10}{'1st try':>9}")
    for language, labels in LABELS.items():
        for kind, transcript in (("description", None), ("instruction", TRANSCRIPTS[language])):
            started = time.perf_counter()
            written = [describer.write(f"bench/{language}/{i}", labels, language, transcript) for i in range(clips)]
            seconds = time.perf_counter() - started
            texts = [t for t, _ in written]
            first = sum(a == 1 for _, a in written) / len(written)
            print(f"{language:<9}{kind:<13}{len(texts):>7}{len(set(texts)) / len(texts):>10.1%}"
                  f"{1 / len(texts):>11.1%}{len(texts) / seconds:>10.0f}{first:>9.1%}")
    print("\nexamples:")
    for language, labels in LABELS.items():
        for i in range(3):
            print(" ", describer.write(f"example/{i}", labels, language)[0])
        print(" ", describer.write("example/i", labels, language, TRANSCRIPTS[language])[0])


# -- 2. the describe step, measured in a process of its own per side ------------------------------------------

def measure(lake: str) -> dict:
    """One side's figures on `lake` (a copy without texts), in this process: the generator alone over the
    lakehouse's clips, then describe_flow, then the search index where the code has it apart."""
    import inspect

    from prefect import flow
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from speechcraft.flows import describe
    from speechcraft.models.describer import EmbeddedDescriber
    from speechcraft.tasks.descriptions import clip_texts
    from speechcraft.warehouse import Lakehouse

    flow(name="bench-warm-up")(lambda: None)()
    Lakehouse(lake).exists("clips")
    # what describe writes: a description for each labelled clip, an instruction for each with a transcript
    clips = [c for c in clip_texts(lake) if c.labels]
    texts = [(c, None) for c in clips] + [(c, c.transcript) for c in clips if c.transcript is not None]
    describer = EmbeddedDescriber()
    started = time.perf_counter()
    for clip, transcript in texts:
        describer.write(clip.clip_id, clip.labels, clip.language, transcript)
    generator_s = time.perf_counter() - started
    apart = "search_index" in inspect.signature(describe.describe_flow.fn).parameters
    # as `speechcraft run` runs its steps: without a heartbeat thread of their own (joined on exit, it adds
    # about a third of a second to each flow, a cost of the command, not of the step)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        started = time.perf_counter()
        result = describe.describe_flow(lake, show_progress=False, **({"search_index": False} if apart else {}))
        describe_s = time.perf_counter() - started
        index_s = None
        if apart:
            started = time.perf_counter()
            describe.search_index_flow(lake)
            index_s = time.perf_counter() - started
    return {"generator_texts": len(texts), "generator_s": generator_s, "clips": result["clips"],
            "published": result["published"], "describe_s": describe_s, "index_s": index_s}


def site_for(tree: Path, workdir: Path) -> Path:
    """A folder to put on PYTHONPATH so that `speechcraft.*` imports from `tree`, a checkout of this repository
    (the editable install maps the package's subfolders to this checkout only)."""
    site = workdir / "before-site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(tree / "speechcraft", site / "speechcraft")
    for folder in ("flows", "tasks", "models", "warehouse", "dashboards"):
        (site / "speechcraft" / folder).symlink_to((tree / folder).resolve(), target_is_directory=True)
    return site


def run_side(name: str, lake: Path, workdir: Path, tree: Path | None) -> dict:
    side = workdir / name
    shutil.rmtree(side, ignore_errors=True)
    shutil.copytree(lake, side / "lake", ignore=shutil.ignore_patterns(*TEXT_TABLES))
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "SPEECHCRAFT_LAKE")}
    env.update(SPEECHCRAFT_CACHE=str(side / "cache"), PREFECT_HOME=str(workdir / "prefect"))
    if tree is not None:
        env["PYTHONPATH"] = str(site_for(tree, workdir))
    out = subprocess.run([sys.executable, __file__, "--measure", str(side / "lake")], env=env, cwd=side,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{name}: the measuring process failed:\n{out.stderr[-3000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "lake": str(side / "lake")}


def annotated_lake(workdir: Path, hours: float, fresh: bool) -> Path:
    """The bench's annotated lakehouse: built once per --hours by `speechcraft run` (ingest, annotate)."""
    from pipeline import bulk_corpus, libritts_corpus       # bench/pipeline.py: the same corpora

    lake, meta = workdir / "annotated", workdir / "annotated.json"
    if not fresh and meta.exists() and json.loads(meta.read_text()) == {"hours": hours} and lake.is_dir():
        print(f"reusing the annotated lakehouse {lake}")
        return lake
    bulk, _, _ = bulk_corpus(workdir, hours, reuse=not fresh)
    libritts = libritts_corpus(workdir, reuse=not fresh)
    config = workdir / "speechcraft.toml"
    config.write_text("\n".join(["# written by bench/describe.py", "[pipeline]", 'steps = ["ingest", "annotate"]', "",
                                 "[[sources]]", 'corpus = "folder"', f"path = {json.dumps(str(bulk))}",
                                 'name = "bench"', "", "[[sources]]", 'corpus = "libritts-r"',
                                 f"path = {json.dumps(str(libritts))}", ""]), encoding="utf-8")
    shutil.rmtree(lake, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "SPEECHCRAFT_LAKE")}
    env.update(SPEECHCRAFT_CACHE=str(workdir / "build-cache"), PREFECT_HOME=str(workdir / "prefect"))
    print(f"building the annotated lakehouse ({hours} h of audio): speechcraft run, steps ingest and annotate ...",
          flush=True)
    started = time.perf_counter()
    with open(workdir / "build.log", "w") as log:
        subprocess.run([SPEECHCRAFT, "run", "--config", str(config), "--lake", str(lake), "--force"], env=env,
                       stdout=log, stderr=subprocess.STDOUT, check=True)
    meta.write_text(json.dumps({"hours": hours}))
    print(f"  built in {time.perf_counter() - started:.0f} s")
    return lake


def print_sides(sides: dict[str, dict]) -> None:
    print(f"\n{'':<8}{'generator':>11}{'describe':>10}{'describe':>10}{'generator':>11}{'index':>9}"
          f"{'describe+index':>16}\n{'side':<8}{'texts/s':>11}{'clips/s':>10}{'texts/s':>10}{'/describe':>11}"
          f"{'texts/s':>9}{'clips/s':>16}")
    for name, r in sides.items():
        generator = r["generator_texts"] / r["generator_s"]
        texts = r["published"] / r["describe_s"]
        index = f"{r['published'] / r['index_s']:.0f}" if r["index_s"] else "in desc."
        both = r["clips"] / (r["describe_s"] + (r["index_s"] or 0.0))
        print(f"{name:<8}{generator:>11.0f}{r['clips'] / r['describe_s']:>10.0f}{texts:>10.0f}"
              f"{generator / texts:>10.1f}x{index:>9}{both:>16.0f}")
    first = next(iter(sides.values()))
    print(f"({first['clips']} clips, {first['published']} texts published; the generator alone wrote "
          f"{first['generator_texts']} texts; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")


def compare_texts(before: str, after: str) -> None:
    """The two sides' stored texts and search vectors, compared (read with this tree's SQL)."""
    import numpy as np

    from speechcraft.warehouse.sql import query

    texts = [query(COMPARED, lake).to_pylist() for lake in (before, after)]
    differing = sum(a != b for a, b in zip(*texts)) + abs(len(texts[0]) - len(texts[1]))
    vectors = [query("SELECT vector_id, text, vector FROM text_vectors ORDER BY vector_id", lake).to_pylist()
               for lake in (before, after)]
    same_keys = [(v["vector_id"], v["text"]) for v in vectors[0]] == [(v["vector_id"], v["text"]) for v in vectors[1]]
    gap = max((float(np.abs(np.subtract(a["vector"], b["vector"])).max()) for a, b in zip(*vectors)), default=0.0)
    print(f"descriptions: {len(texts[1])} rows, {differing} differ (texts, verdicts, published flags, reasons); "
          f"text_vectors: {len(vectors[1])} rows, same texts: {same_keys}, largest vector difference {gap:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=1.0, help="audio of the built lakehouse; 0: skip part 2")
    parser.add_argument("--lake", help="an annotated lakehouse to measure on, instead of building one")
    parser.add_argument("--before", type=Path, help="a checkout of the code before a change, measured beside")
    parser.add_argument("--workdir", type=Path, default=Path("bench-data/describe"))
    parser.add_argument("--fresh", action="store_true", help="rebuild the corpora and the annotated lakehouse")
    parser.add_argument("--measure", help=argparse.SUPPRESS)     # a side's own process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    diversity(args.clips)
    if not args.lake and args.hours <= 0:
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    lake = Path(args.lake) if args.lake else annotated_lake(args.workdir.resolve(), args.hours, args.fresh)
    sides = {}
    if args.before:
        sides["before"] = run_side("before", lake, args.workdir.resolve(), args.before.resolve())
    sides["after" if args.before else "this"] = run_side("after", lake, args.workdir.resolve(), None)
    print_sides(sides)
    if args.before:
        compare_texts(sides["before"]["lake"], sides["after"]["lake"])


if __name__ == "__main__":
    main()
