"""Benchmark of the emphasis side branch: the word aligner, the stressed regeneration and the detector.

    python bench/emphasis.py [--speakers 10] [--sentences 54] [--ssml-speakers 3] [--workdir bench-data]
                             [--sweep] [--plot bench-data/emphasis.png] [--shipped-only] [--workers 2]

0. The shipped detector (models/data/emphasis_detector.npz, what answers on a lakehouse where `emphasize` has
   not run): its figures on its own training clips (in sample and out of fold, reported as such) beside
   held-out espeak-ng voices AND sentences stressed by SSML, by WORLD and by Praat PSOLA, the SSML set again in
   eight named voices heard once (by the detector before) and in eight drawn voices first heard once every
   choice of this detector was made (the final figure), English flite
   voices (recordings of real people) stressed by PSOLA, and a detector trained on WORLD alone judged on SSML
   (scripts/train_emphasis.py makes the same sets; features are cached under build/emphasis-cache).

1. Aligner: word-boundary error of the embedded aligner on espeak-ng speech whose word times espeak itself
   reports (internal boundaries whose truth is exact), per language; the baseline splits the same speech by
   each word's expected share (no acoustic evidence).
2. Regeneration and detection through the real flows: ingest the plain corpus (--speakers per language, all
   reading the same --sentences), `emphasize` every clip, `annotate --stage emphasis`. Sentence-level accuracy
   (no-emphasis parents included) on held-out clips, speakers AND sentences never trained on, per language,
   against the paper's 88.55% (AISHELL-3-stressed) and 85.60% (LibriTTS-R-stressed); the baseline is a
   one-feature detector (the word whose F0 peak stands highest above the others', threshold tuned on the same
   training clips). Then the detector on espeak-ng SSML stress it never saw (<emphasis>, <prosody>).
3. Naturalness proxies of the stressed clips: the keyword's F0 rise, energy gain and lengthening, and the
   largest F0 step at the joins against the parent's own largest step.
4. --sweep: held-out accuracy at weaker and stronger settings (how the defaults were chosen).
5. --plot: a stressed clip and its parent, F0 and energy over time, keyword shaded.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from speechcraft.vocabulary import LANGUAGES

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

PAPER = {"zh": 0.8855, "en": 0.8560}
ROOT = Path(__file__).resolve().parents[1]


def bench_shipped(workers: int) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import train_emphasis as te

    from speechcraft.models.emphasis_detector import packaged_detectors

    print("\n== the shipped detector: tuning figures, then voices AND sentences it never trained on ==")
    te.print_rows(te.tuning_rows() + te.figures(packaged_detectors(), workers), PAPER)
    print("(paper: 88.55% AISHELL-3-stressed, 85.60% LibriTTS-R-stressed, their own regenerations)")
    print("\n== what espeak-ng's SSML marks do to the stressed word, against its voice's plain take ==")
    te.mark_sizes(workers)


def bench_aligner(truth) -> None:
    from speechcraft.models.word_aligner import EmbeddedAligner, WordSpan, expected_units
    from speechcraft.models.word_prosody import analyse
    from speechcraft.tasks.audio import decode_audio

    errors: dict[tuple[str, str], list[float]] = {}
    aligner = EmbeddedAligner()
    for clip in truth.clips:
        audio = decode_audio(truth.root / clip.audio_relpath)
        frames = analyse(audio.samples[:, 0], audio.sample_rate)
        words = [w[0] for w in clip.synth["words"]]
        found = aligner.align(frames, words, clip.language)
        # the baseline: the same speech start and end, words placed by their expected share only
        weights = np.array([expected_units(w, clip.language)[0] for w in words])
        edges = found[0].start_s + np.concatenate([[0], np.cumsum(weights)]) / weights.sum() * (found[-1].end_s - found[0].start_s)
        uniform = [WordSpan(w, edges[i], edges[i + 1]) for i, w in enumerate(words)]
        for name, spans in (("embedded aligner", found), ("baseline: expected shares", uniform)):
            errors.setdefault((name, clip.language), []).extend(boundary_errors(clip, spans))
    print_boundary_errors(errors)


def boundary_errors(clip, spans) -> list[float]:
    """Seconds between each internal word boundary of `spans` and espeak-ng's word event, where espeak's is
    exact on both sides (bench/asr.py reuses this for Whisper's word times)."""
    truth = clip.synth["words"]
    return [abs(spans[i].start_s - truth[i][1]) for i in range(1, len(truth)) if truth[i][3] and truth[i - 1][3]]


def print_boundary_errors(errors: dict[tuple[str, str], list[float]]) -> None:
    """One row per (aligner, language): the boundaries, mean and median error, shares within 50 and 100 ms."""
    print("\n== word aligner: internal word boundaries against espeak-ng's word events ==")
    print(f"{'':28}{'lang':>5}{'bounds':>8}{'mean ms':>9}{'median':>8}{'<=50 ms':>9}{'<=100 ms':>10}")
    for (name, language), values in sorted(errors.items(), key=lambda kv: (kv[0][1], kv[0][0] != "embedded aligner")):
        e = np.array(values) * 1000
        print(f"{name:28}{language:>5}{len(e):8d}{e.mean():9.0f}{np.median(e):8.0f}{(e <= 50).mean():9.1%}{(e <= 100).mean():10.1%}")


def run_pipeline(workdir: Path, corpus: Path, ssml: Path, options: dict) -> tuple[dict, dict, float, float]:
    from speechcraft.flows.annotate import annotate_flow
    from speechcraft.flows.emphasize import emphasize_flow
    from speechcraft.flows.ingest import ingest_flow

    lake = workdir / "lake-emphasis"
    shutil.rmtree(lake, ignore_errors=True)
    for root in (corpus, ssml):
        ingest_flow("folder", str(root), lake_uri=str(lake), show_progress=False)
    t = time.perf_counter()
    stressed = emphasize_flow(str(lake), corpora=[corpus.name], options=options, show_progress=False)
    stress_s = time.perf_counter() - t
    t = time.perf_counter()
    annotated = annotate_flow(str(lake), stages=["emphasis"], show_progress=False)
    detect_s = time.perf_counter() - t
    return stressed, annotated, stress_s, detect_s


def held_out_table(lake: Path, ssml_reference: Path) -> dict:
    from speechcraft.tasks import emphasis
    from speechcraft.warehouse import Lakehouse

    rows = emphasis.against_held_out(Lakehouse(lake)) + emphasis.against_reference(Lakehouse(lake), ssml_reference)
    return {(r["reference"], r["corpus"]): r for r in rows}


def baseline_accuracy(lake: Path) -> dict[str, float]:
    """One feature (F0 peak over the other words') as the word score, threshold tuned on the training split."""
    import polars as pl

    from speechcraft.models.emphasis_detector import FEATURE_NAMES, best_threshold, sentence_accuracy
    from speechcraft.tasks.emphasis import emphasis_data
    from speechcraft.warehouse import Lakehouse

    column = FEATURE_NAMES.index("f0_peak_over_others_st")
    data = emphasis_data(Lakehouse(lake)).filter(pl.col("truth").is_not_null())
    out = {}
    for language in sorted(set(data["language"])):
        def sentences(split):
            part = data.filter((pl.col("split") == split) & (pl.col("language") == language))
            return [(np.nan_to_num(np.array(f, dtype=np.float32).reshape(len(f), -1)[:, column], nan=-99.0),
                     None if t < 0 else t) for f, t in part.select("features", "truth").iter_rows()]
        out[language] = sentence_accuracy(sentences("test"), best_threshold(sentences("train")))
    return out


def naturalness(lake: Path, limit: int = 60) -> None:
    from speechcraft.models.word_prosody import analyse
    from speechcraft.tasks.audio import decode_audio
    from speechcraft.warehouse.sql import query

    pairs = query(f"""SELECT s.clip_id, s.keyword_start_s, s.keyword_end_s, p.audio_path AS parent_path,
                             c.audio_path, w.words AS parent_words, s.keyword_index
                      FROM stressed_clips s JOIN clips c USING (clip_id) JOIN clips p ON p.clip_id = s.parent_clip_id
                      JOIN emphasis_features w ON w.clip_id = s.parent_clip_id
                      ORDER BY s.clip_id LIMIT {limit}""", str(lake)).to_pylist()
    rise, gain, stretch, join_steps, own_steps = [], [], [], [], []
    for p in pairs:
        parent, child = decode_audio(Path(p["parent_path"])), decode_audio(Path(p["audio_path"]))
        a, b = analyse(parent.samples[:, 0], parent.sample_rate), analyse(child.samples[:, 0], child.sample_rate)
        word = p["parent_words"][p["keyword_index"]]

        def stats(frames, start, end):
            inside = (frames.times_s >= start) & (frames.times_s < end)
            f0 = frames.f0_hz[inside]
            return np.nanmedian(f0) if np.isfinite(f0).any() else np.nan, frames.energy_db[inside].mean()

        f0a, ea = stats(a, word["start_s"], word["end_s"])
        f0b, eb = stats(b, p["keyword_start_s"], p["keyword_end_s"])
        rise.append(12 * np.log2(f0b / f0a))
        gain.append(eb - ea)
        stretch.append((p["keyword_end_s"] - p["keyword_start_s"]) / (word["end_s"] - word["start_s"]))

        def steps(frames, around=None):
            st = 12 * np.log2(frames.f0_hz)
            d = np.abs(np.diff(st))
            if around is not None:
                near = np.zeros(len(d), dtype=bool)
                for t in around:
                    near |= np.abs(frames.times_s[1:] - t) < 0.05
                d = d[near]
            d = d[np.isfinite(d)]
            return d.max() if len(d) else np.nan

        join_steps.append(steps(b, (p["keyword_start_s"], p["keyword_end_s"])))
        own_steps.append(steps(a))
    print(f"\n== stressed clips against their parents ({len(pairs)} pairs, medians) ==")
    print(f"keyword F0 {np.nanmedian(rise):+.2f} semitones, energy {np.nanmedian(gain):+.1f} dB, "
          f"length x{np.nanmedian(stretch):.2f}; largest F0 step at the joins {np.nanmedian(join_steps):.2f} st/10 ms "
          f"vs the parent's own largest step anywhere {np.nanmedian(own_steps):.2f} st/10 ms")


def plot_pair(lake: Path, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from speechcraft.models.word_prosody import analyse
    from speechcraft.tasks.audio import decode_audio
    from speechcraft.warehouse.sql import query

    row = query("""SELECT s.clip_id, s.keyword, s.keyword_start_s, s.keyword_end_s, c.audio_path, p.audio_path AS parent_path,
                          w.words AS parent_words, s.keyword_index, c.language
                   FROM stressed_clips s JOIN clips c USING (clip_id) JOIN clips p ON p.clip_id = s.parent_clip_id
                   JOIN emphasis_features w ON w.clip_id = s.parent_clip_id
                   WHERE c.language = 'en' ORDER BY s.clip_id LIMIT 1""", str(lake)).to_pylist()[0]
    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    parent_word = row["parent_words"][row["keyword_index"]]
    for path, label, span, style in ((row["parent_path"], "parent", (parent_word["start_s"], parent_word["end_s"]), "C0"),
                                     (row["audio_path"], "stressed", (row["keyword_start_s"], row["keyword_end_s"]), "C3")):
        audio = decode_audio(Path(path))
        frames = analyse(audio.samples[:, 0], audio.sample_rate)
        axes[0].plot(frames.times_s, frames.f0_hz, color=style, label=label)
        axes[1].plot(frames.times_s, frames.energy_db, color=style, label=label)
        for ax in axes:
            ax.axvspan(*span, color=style, alpha=0.12)
    axes[0].set_ylabel("F0 (Hz)")
    axes[1].set_ylabel("energy (dBFS)")
    axes[1].set_xlabel("time (s)")
    axes[0].set_title(f"{row['clip_id']}: keyword '{row['keyword']}' (shaded) stressed vs parent")
    axes[0].legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"\nplot: {out}")


def main() -> None:
    from speechcraft.tasks.demo_corpora import stress

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speakers", type=int, default=10, help="plain-corpus speakers per language")
    parser.add_argument("--sentences", type=int, default=54, help="sentences each speaker reads (max 72)")
    parser.add_argument("--ssml-speakers", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--sweep", action="store_true", help="also run weaker and stronger settings")
    parser.add_argument("--plot", type=Path, default=Path("bench-data/emphasis.png"))
    parser.add_argument("--shipped-only", action="store_true", help="only the shipped detector's figures")
    parser.add_argument("--workers", type=int, default=2, help="processes making the shipped detector's sets")
    args = parser.parse_args()
    bench_shipped(args.workers)
    if args.shipped_only:
        return
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    corpus, ssml = workdir / "stress", workdir / "stress-ssml"
    for folder in (corpus, ssml):
        shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    truth = stress.build(corpus, args.speakers, args.sentences)
    stress.build_ssml(ssml, args.ssml_speakers, 36)
    print(f"built {len(truth.clips)} plain clips and the SSML set in {time.perf_counter() - t:.0f} s")
    bench_aligner(truth)

    settings = [{}]
    if args.sweep:
        settings += [{"pitch_scale": 1.1, "energy_db": 2, "duration_scale": 1.1},
                     {"pitch_scale": 1.15, "energy_db": 3, "duration_scale": 1.15},
                     {"pitch_scale": 1.45, "energy_db": 9, "duration_scale": 1.45}]
    lake = workdir / "lake-emphasis"
    for options in reversed(settings):          # the defaults last, so the plot and table show them
        stressed, annotated, stress_s, detect_s = run_pipeline(workdir, corpus, ssml, options)
        table = held_out_table(lake, stress.reference_path(ssml))
        base = baseline_accuracy(lake)
        hours = stressed["audio_s"] / 3600
        print(f"\n== settings {json.dumps(options) if options else '(defaults)'} ==")
        print(f"emphasize: {stressed['computed']} clips ({hours:.2f} h) in {stress_s:.0f} s = "
              f"{hours / (stress_s / 3600):.0f} audio-h/h; annotate --stage emphasis: "
              f"{annotated['emphasis']['computed']} clips in {detect_s:.0f} s")
        print(f"{'sentence-level accuracy':40}{'lang':>5}{'n':>5}{'detector':>10}{'baseline':>10}{'ratio':>7}{'paper':>8}")
        for language in LANGUAGES:
            row = table.get(("regenerated:held_out", f"language:{language}"))
            if row:
                print(f"{'held-out regenerated + parents':40}{language:>5}{row['n_clips']:5d}{row['accuracy']:10.1%}"
                      f"{base[language]:10.1%}{row['accuracy'] / max(base[language], 1e-9):7.2f}{PAPER[language]:8.2%}")
        for language in LANGUAGES:
            row = table.get((f"file:{stress.reference_path(ssml).name}", f"language:{language}"))
            if row:
                per_class = json.loads(row["per_class"])
                print(f"{'espeak SSML stress (never trained on)':40}{language:>5}{row['n_clips']:5d}{row['accuracy']:10.1%}"
                      f"{'':>17}   stressed {per_class['stressed']['accuracy']:.1%}, none {per_class['none']['accuracy']:.1%}")
    naturalness(lake)
    plot_pair(lake, args.plot.resolve())


if __name__ == "__main__":
    main()
