"""How well the description checker judges texts, per case set, split and language, and how fast it is.

    python bench/checker.py [--split dev|holdout|all] [--before DIR [--before-only]] [--speed] [--misses]

A case is a text with its true verdict (`passes`); "positive" is a text that must not be published, so
precision is the share of the checker's "fails" that are right and recall the share of bad texts it fails.
Sets: the first, hand-written set (tests/data/checker_cases.jsonl, grown with the checker), the independent
set (tests/data/checker_independent_cases.jsonl, written from the contract alone, split into dev and a
holdout kept untouched until a change is finished: tests/data/README-checker-independent.md), the fresh set
(tests/data/checker_fresh_cases.jsonl, written the same way by another hand after the independent set's holdout
had been reported, split the same way: tests/data/README-checker-fresh.md), the blind set (four more hands,
after the fresh holdout had been reported and its misses mended: tests/data/README-checker-blind.md), its
extra development set (four more hands, the same brief, all dev) and the recording-condition cases. --split picks the independent and fresh sets' part (default dev: the holdout is read only
to report a finished change). --before DIR judges with the checker of another checkout (e.g.
`git worktree add /tmp/checker-before 5f870ce`), loaded from its files by path, with this tree's cases: the
first-look figure; with --before-only that checker alone (a first look on the holdout that does not also
print this tree's holdout figure before a change is finished). --speed times checks (texts/s, every case of the first set, repeated) on both sides.
--misses lists the cases the checker gets wrong.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SETS = {"first": "checker_cases.jsonl", "independent": "checker_independent_cases.jsonl",
        "fresh": "checker_fresh_cases.jsonl", "blind": "checker_blind_cases.jsonl",
        "blind-extra": "checker_blind_extra_cases.jsonl",
        "conditions": "checker_condition_cases.jsonl"}
SPLIT_SETS = ("independent", "fresh", "blind")          # sets with a dev part and a holdout part


def load_checker(tree: Path | None):
    """The `check` function of this tree, or of the checkout at `tree`: its vocabulary and models/text_*.py
    loaded under a private package name, so the two never share modules."""
    if tree is None:
        from speechcraft.models.text_checker import check
        return check
    # the ordinary import machinery, pointed at that tree's folders under a private package name: the
    # checker's relative imports (..vocabulary, .text_lexicon) resolve there
    name = "checker_before"
    for package, folder in ((name, tree / "speechcraft"), (f"{name}.models", tree / "models")):
        module = types.ModuleType(package)
        module.__path__ = [str(folder)]
        sys.modules[package] = module
    return importlib.import_module(f"{name}.models.text_checker").check


def cases(set_name: str, split: str) -> list[dict]:
    path = DATA / SETS[set_name]
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    return [r for r in rows if split == "all" or r.get("split", split) == split]


def judge(check, case: dict) -> bool:
    """True when the checker fails the text."""
    transcript = case.get("transcript") if case["kind"] == "instruction" else None
    return not check(case["text"], case["labels"], case["language"], transcript).passed


def figures(check, rows: list[dict]) -> dict:
    flagged = [judge(check, c) for c in rows]
    bad = [not c["passes"] for c in rows]
    hits = sum(f and b for f, b in zip(flagged, bad))
    return {"texts": len(rows), "agreement": sum(f == b for f, b in zip(flagged, bad)) / max(1, len(rows)),
            "precision": hits / max(1, sum(flagged)), "recall": hits / max(1, sum(bad)),
            "misses": [c for c, f, b in zip(rows, flagged, bad) if f != b]}


def speed(check, rows: list[dict], seconds: float = 3.0) -> float:
    """Checks per second over `rows`, repeated for about `seconds`."""
    for case in rows[:20]:          # warm-up: compiled patterns, first imports
        judge(check, case)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for case in rows:
            judge(check, case)
        done += len(rows)
    return done / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "holdout", "all"), default="dev")
    parser.add_argument("--before", type=Path, help="a checkout whose checker to judge with (first look)")
    parser.add_argument("--before-only", action="store_true", help="judge with the --before checker alone")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    sides = {"this tree": load_checker(None)}
    if args.before:
        before = {f"before ({args.before})": load_checker(args.before.resolve())}
        sides = before if args.before_only else {**before, **sides}
    elif args.before_only:
        parser.error("--before-only needs --before")
    print(f"{'checker':<34}{'set':<24}{'lang':<6}{'texts':>6}{'agree':>8}{'prec.':>8}{'recall':>8}")
    for side, check in sides.items():
        for set_name in SETS:
            split = args.split if set_name in SPLIT_SETS else "all"
            rows = cases(set_name, split)
            for language in ("en", "zh"):
                mine = [c for c in rows if c["language"] == language]
                if not mine:
                    continue
                f = figures(check, mine)
                label = f"{set_name} ({split})" if set_name in SPLIT_SETS else set_name
                print(f"{side:<34}{label:<24}{language:<6}{f['texts']:>6}{f['agreement']:>8.3f}"
                      f"{f['precision']:>8.3f}{f['recall']:>8.3f}")
                if args.misses:
                    for case in f["misses"]:
                        verdict = check(case["text"], case["labels"], language,
                                        case.get("transcript") if case["kind"] == "instruction" else None)
                        print(f"    {case['id']} gold {'passes' if case['passes'] else 'fails'}: {case['text']}"
                              f"\n      labels {case['labels']}; read {verdict.found}; {verdict.reasons()}")
    if args.speed:
        rows = cases("first", "all")
        for side, check in sides.items():
            print(f"{side:<34}speed: {speed(check, rows):,.0f} checks/s ({len(rows)} texts of the first set)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
