"""Train the emphasis detector shipped as models/data/emphasis_detector.npz, and print its figures.

    .venv/bin/python scripts/train_emphasis.py [--workers 2] [--out models/data/emphasis_detector.npz]

Reproducible from its cache: the speech is generated from fixed voices, sentences and hashes
(scripts/train_emphasis_data.py), the trees are fitted with a fixed seed; the same cache gives the same file. From
an empty cache the file differs: espeak-ng renders a Mandarin sentence a few samples differently call to call,
and both languages a little differently from one machine to another, which moves the trees and the figures by
a few points (docs/emphasis.md). Per language, the training voices read two thirds of the sentences,
each sentence once plain and three times with a word stressed by WORLD, SSML <prosody> or SSML <emphasis> at
one of several strengths (method, strength and word drawn per take). Each word's features are read as the
emphasis stage reads them (models/emphasis_detector.py `detector_input`): against its sentence, against every
word its voice says in the set, and with its Mandarin tones. The word scorer is scikit-learn's histogram
gradient-boosted regression trees on "is this the stressed word"; the sentence threshold is the one that
maximises balanced sentence-level accuracy (plain and stressed sentences weighed alike: three takes in four are
stressed here) on out-of-fold scores (folds grouped by voice). The figures
(bench/emphasis.py prints the same) are, per language:

- tuning: the training clips' own figure (in sample) and the out-of-fold one the threshold was chosen on;
- held out: voices AND sentences never trained on, plain and stressed by SSML, by WORLD, by Praat PSOLA (a
  method never trained on), the SSML set again in eight named espeak-ng voices (heard once, by the detector before
  this one) and in eight drawn voices first heard after every choice of this detector was made (issue 21's final
  figure), and English flite voices (recordings of real people) plain and PSOLA-stressed;
- never saw the method: a detector trained on WORLD alone, judged on the held-out SSML set.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import train_emphasis_data as data  # noqa: E402

LANGUAGES = ("en", "zh")
TRAIN_METHODS = ["world", "prosody", "emphasis"]
TRAIN_TAKES = 3                    # stressed takes per voice and sentence, each its own method, strength and word
# histogram trees: fitting the exact ones on 64 voices' ~90,000 words took over ten minutes a language; these fit in
# a minute; early stopping on a tenth of the words (fixed by the seed) ends the boosting once it stops helping. The
# size was chosen on the out-of-fold balanced accuracy alone (docs/emphasis.md): 15 leaves and 300 rounds never
# stopped early and scored 2 points lower. Leaves of 100 words and an L2 penalty score as well out of fold and keep
# a rare context (a tone pair seen a few times) from earning a leaf of its own that flags any word in it
TREE_PARAMS = dict(max_iter=1500, learning_rate=0.1, max_leaf_nodes=63, min_samples_leaf=100, l2_regularization=1.0,
                   early_stopping=True)
FOLDS = 5
TUNING = ("tuning: training clips, in sample", "tuning: training clips, out of fold")


def sentences_of(found) -> list[tuple[np.ndarray, int | None]]:
    """(the detector's input, the stressed word or None) per clip of one language, its speaker-relative columns
    read against every word its voice says in `found` (one set: the training set, or one held-out set)."""
    from speechcraft.models.emphasis_detector import detector_inputs
    from speechcraft.models.keywords import split_words

    if not found:
        return []
    language = found[0][0].language
    features = detector_inputs([f for _, f in found], [item.voice for item, _ in found],
                               [split_words(data.bank(language)[item.sentence], language) for item, _ in found],
                               language)
    return [(f, item.stressed if item.method != "plain" else None) for (item, _), f in zip(found, features)]


def _fit(sentences):
    from sklearn.ensemble import HistGradientBoostingRegressor

    from speechcraft.models.emphasis_detector import MISSING

    x = np.nan_to_num(np.vstack([f for f, _ in sentences]), nan=MISSING)
    y = np.concatenate([np.arange(len(f)) == truth for f, truth in sentences]).astype(float)
    return HistGradientBoostingRegressor(random_state=0, **TREE_PARAMS).fit(x, y)


def export_trees(model) -> dict:
    """The fitted histogram trees as the flat arrays models/reverberation.py `TreeEnsemble` predicts from (its
    leaf values already carry the learning rate; a word goes left where its feature is <= the threshold)."""
    trees = [predictors[0].nodes for predictors in model._predictors]
    n = max(len(t) for t in trees)

    def pad(column, fill, dtype):
        return np.stack([np.pad(column(t), (0, n - len(t)), constant_values=fill) for t in trees]).astype(dtype)

    return {"feature": pad(lambda t: np.where(t["is_leaf"], -1, t["feature_idx"]), -1, np.int16),
            "threshold": pad(lambda t: t["num_threshold"], 0.0, np.float64),
            "left": pad(lambda t: t["left"], 0, np.int16), "right": pad(lambda t: t["right"], 0, np.int16),
            "value": pad(lambda t: t["value"], 0.0, np.float64),
            "base": np.float64(np.ravel(model._baseline_prediction)[0]), "rate": np.float64(1.0),
            "depth": np.int64(max(int(t["depth"].max()) for t in trees)), "target_range": np.array([-1.0, 2.0])}


def _scores(model, sentences):
    from speechcraft.models.emphasis_detector import MISSING

    if not sentences:
        return []
    # one call for every word: each call costs the trees' set-up, and a word's score is its own
    scores = model.predict(np.nan_to_num(np.vstack([f for f, _ in sentences]), nan=MISSING))
    ends = np.cumsum([len(f) for f, _ in sentences])[:-1]
    return list(zip(np.split(scores, ends), [truth for _, truth in sentences]))


def train(found, workers: int = 2) -> tuple[object, float, list]:
    """(trees, threshold, out-of-fold scores) on (item, features) pairs, folds grouped by voice; the folds' fits
    and the final one run `workers` at a time."""
    from joblib import Parallel, delayed
    from sklearn.model_selection import GroupKFold

    from speechcraft.models.emphasis_detector import best_threshold

    sentences, groups = sentences_of(found), np.array([item.voice for item, _ in found])
    folds = list(GroupKFold(n_splits=FOLDS).split(np.zeros(len(sentences)), groups=groups))
    parts = [[sentences[i] for i in fit] for fit, _ in folds] + [sentences]
    *fold_models, model = Parallel(n_jobs=workers)(delayed(_fit)(part) for part in parts)
    oof: list = [None] * len(sentences)
    for fold_model, (_, test) in zip(fold_models, folds):
        for i, scored in zip(test, _scores(fold_model, [sentences[i] for i in test])):
            oof[i] = scored
    return model, best_threshold(oof), oof


def accuracy(scored, threshold: float) -> dict:
    """Sentence-level accuracy (a plain sentence is right only when no word is flagged), and per class."""
    from speechcraft.models.emphasis_detector import sentence_decision

    right = np.array([sentence_decision(s, threshold).word_index == t for s, t in scored], dtype=bool)
    stressed = np.array([t is not None for _, t in scored], dtype=bool)
    return {"n": len(scored), "accuracy": right.mean() if len(right) else float("nan"),
            "stressed": right[stressed].mean() if stressed.any() else float("nan"),
            "none": right[~stressed].mean() if (~stressed).any() else float("nan")}


def setting_rows(language: str, found, scored, threshold: float) -> list[tuple[str, str, dict]]:
    """The SSML set per setting (plain takes apart), with how often the stressed word scores highest at all:
    where it seldom does, no threshold finds it."""
    rows = []
    for setting in sorted({(item.method, item.strength) for item, _ in found if item.method != "plain"}):
        mine = [s for (item, _), s in zip(found, scored) if (item.method, item.strength) == setting]
        top = np.mean([int(np.argmax(scores)) == truth for scores, truth in mine])
        words = [f"{v:+g}dB" if isinstance(v, float) else v for v in setting[1]]
        name = f"    {setting[0]} {' '.join(words)} (top word {top:.0%})"
        rows.append((language, name, accuracy(mine, threshold)))
    return rows


MARK_COLUMNS = ("f0_peak_st", "energy_db", "duration_log_ratio")


def mark_sizes(workers: int) -> None:
    """How far each SSML setting moves the stressed word, against the same voice's plain take of the sentence
    (medians over the named and drawn final voices), beside how far a plain sentence's words spread around each
    other (median standard deviation), the size of the differences a voice makes with no stress at all."""
    from speechcraft.models.emphasis_detector import FEATURE_NAMES

    columns = [FEATURE_NAMES.index(c) for c in MARK_COLUMNS]
    print(f"{'what moves the stressed word (medians)':44}{'lang':>5}{'n':>5}{'F0 peak st':>12}{'energy dB':>11}"
          f"{'log length':>12}")
    for language in LANGUAGES:
        voices = data.VOICES[(language, "final")] + data.VOICES[(language, "fresh")]
        found = data.feature_sets(data.plan(language, "held_out", ["prosody", "emphasis"], voices=voices), workers)
        plain = {(item.voice, item.sentence): f for item, f in found if item.method == "plain"}
        spread = np.nanmedian([np.nanstd(f[:, columns], axis=0) for f in plain.values()], axis=0)
        moves: dict[tuple, list] = {}
        for item, f in found:
            other = plain.get((item.voice, item.sentence))
            if item.method != "plain" and other is not None and other.shape == f.shape:
                moves.setdefault((item.method, *item.strength), []).append(f[item.stressed, columns] -
                                                                          other[item.stressed, columns])
        rows = [("plain words' spread within a sentence (sd)", len(plain), spread)]
        rows += [(f"    {' '.join(f'{v:+g}dB' if isinstance(v, float) else v for v in setting)}", len(m),
                  np.nanmedian(m, axis=0)) for setting, m in sorted(moves.items())]
        for name, n, (f0, energy, length) in rows:
            print(f"{name:44}{language:>5}{n:5d}{f0:12.2f}{energy:11.2f}{length:12.2f}")


def held_out_sets(language: str) -> dict[str, list]:
    """name -> items: held-out voices and sentences, plain and stressed by each way."""
    sets = {"SSML <prosody>/<emphasis>, all strengths": data.plan(language, "held_out", ["prosody", "emphasis"]),
            "WORLD regeneration": data.plan(language, "held_out", ["world"]),
            "Praat PSOLA (never trained on)": data.plan(language, "held_out", ["psola"])}
    for split, name in (("final", "SSML, eight named voices (seen once, stop 31)"),
                        ("fresh", "SSML, eight drawn voices first heard at the end"),
                        ("last", "SSML, eight drawn, named after the last choice")):
        sets[name] = data.plan(language, "held_out", ["prosody", "emphasis"], voices=data.VOICES[(language, split)])
    if language == "en":
        sets["flite voices, PSOLA"] = data.plan("en", "held_out", ["psola"],
                                                voices=[f"flite:{v}" for v in data.FLITE_VOICES])
    return sets


def figures(detectors: dict, workers: int, world_only: bool = True) -> list[tuple[str, str, dict]]:
    """(language, set, accuracy) of the shipped `detectors` (language -> PackagedDetector) on every held-out set,
    and, with `world_only`, of a detector trained on WORLD stress alone on the SSML set."""
    rows = []
    for language in LANGUAGES:
        detector = detectors[language]
        for name, items in held_out_sets(language).items():
            found = data.feature_sets(items, workers)
            scored = [(detector.scores(f), t) for f, t in sentences_of(found)]
            rows.append((language, name, accuracy(scored, detector.threshold)))
            if name.startswith("SSML"):
                rows += setting_rows(language, found, scored, detector.threshold)
        if world_only:
            model, threshold, _ = train(data.feature_sets(data.plan(language, "train", ["world"]), workers), workers)
            ssml = data.feature_sets(held_out_sets(language)["SSML <prosody>/<emphasis>, all strengths"], workers)
            rows.append((language, "SSML, detector trained on WORLD only", accuracy(_scores(model, sentences_of(ssml)),
                                                                                   threshold)))
    return rows


def tuning_rows(path: Path | None = None) -> list[tuple[str, str, dict]]:
    """The figures on the training clips that `main` stored in the shipped file."""
    from speechcraft.models.emphasis_detector import PACKAGED_PATH

    with np.load(path or PACKAGED_PATH, allow_pickle=False) as stored:
        return [(language, name, dict(zip(("n", "accuracy", "stressed", "none"), values)))
                for language in LANGUAGES for name, values in zip(TUNING, stored[f"{language}.tuning"])]


def print_rows(rows, paper: dict | None = None) -> None:
    print(f"{'sentence-level accuracy':48}{'lang':>5}{'n':>6}{'all':>8}{'stressed':>10}{'none':>8}"
          + (f"{'paper':>8}" if paper else ""))
    for language, name, a in rows:
        print(f"{name:48}{language:>5}{int(a['n']):6d}{a['accuracy']:8.1%}{a['stressed']:10.1%}{a['none']:8.1%}"
              + (f"{paper[language]:8.2%}" if paper else ""))


def main(argv=None) -> int:
    from speechcraft.models.emphasis_detector import DETECTOR_INPUT, PACKAGED_PATH, packaged_detectors

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=PACKAGED_PATH)
    args = parser.parse_args(argv)
    arrays: dict = {"feature_set": np.array(DETECTOR_INPUT)}
    rows = []
    for language in LANGUAGES:
        found = data.feature_sets(data.plan(language, "train", TRAIN_METHODS, takes=TRAIN_TAKES), args.workers)
        model, threshold, oof = train(found, args.workers)
        tuning = [(language, TUNING[0], accuracy(_scores(model, sentences_of(found)), threshold)),
                  (language, TUNING[1], accuracy(oof, threshold))]
        rows += tuning
        # kept beside the trees, so bench/emphasis.py reports them without refitting
        arrays[f"{language}.tuning"] = np.array([[a["n"], a["accuracy"], a["stressed"], a["none"]] for *_, a in tuning])
        arrays.update({f"{language}.{k}": v for k, v in export_trees(model).items()})
        arrays[f"{language}.sentence_threshold"] = np.float64(threshold)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    packaged_detectors.cache_clear()
    print(f"wrote {args.out}")
    print_rows(rows + figures(packaged_detectors(str(args.out)), args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
