"""What a user sees, compared between two lakehouses built from the same inputs — for example `speechcraft demo`
run by the code before and after a refactor that must change nothing:

    python scripts/compare_lakes.py BEFORE_LAKE BEFORE_DATA AFTER_LAKE AFTER_DATA

compares `clip_annotations`, `rejects`, `label_distribution` and every file of the exports under
`<lake>/exports`. Paths are compared relative to each side's data folder and lakehouse; run ids and
timestamps are left out (they differ from run to run by design). Prints each difference and exits 1 if
there is one, 0 if the two are the same.
"""
from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import pyarrow.parquet as pq

from speechcraft.warehouse.sql import query

TABLES = {
    "clip_annotations": "SELECT * FROM clip_annotations ORDER BY clip_id",
    "rejects": "SELECT * EXCLUDE (run_id, reject_id) FROM rejects",
    "label_distribution": "SELECT * FROM label_distribution",
}
VOLATILE = re.compile(r"(^|_)(run_id|at|time|date|created|exported|generated|checked)(_|$)|^run$")
HEX_RUN_ID = re.compile(r"\b[0-9a-f]{32}\b")
ADDRESS = re.compile(r"\b0x[0-9a-f]+\b")          # an object's address in a Python error message
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")


def normalise(value, roots: dict[str, str]):
    """The value with this side's folders named by role, run ids and times masked, keys that hold a run id
    or a time dropped."""
    if isinstance(value, dict):
        return {k: normalise(v, roots) for k, v in value.items() if not VOLATILE.search(k)}
    if isinstance(value, list):
        return [normalise(v, roots) for v in value]
    if isinstance(value, str):
        for path, role in roots.items():
            value = value.replace(path, role)
        return ISO_TIME.sub("<time>", ADDRESS.sub("<address>", HEX_RUN_ID.sub("<run>", value)))
    return value


def rows(lake: str, sql: str, roots: dict[str, str]) -> list:
    """The rows, normalised, in a canonical order (a view's ties may come in any order)."""
    found = [normalise({k: v for k, v in r.items() if not k.endswith("_at")}, roots)
             for r in query(sql, lake).to_pylist()]
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def file_content(path: Path, roots: dict[str, str]):
    if path.suffix == ".parquet":
        return normalise(pq.read_table(path).to_pylist(), roots)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8")
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        return [normalise(json.loads(line), roots) for line in text.splitlines() if line.strip()]
    if path.suffix == ".json":
        return normalise(json.loads(text), roots)
    return normalise(text, roots)


def differences(before: tuple[str, str], after: tuple[str, str]) -> list[str]:
    sides = []
    for lake, data in (before, after):
        roots = {str(Path(data).resolve()): "<data>", str(Path(lake).resolve()): "<lake>"}
        exports = Path(lake) / "exports"
        files = {str(p.relative_to(exports)): file_content(p, roots)
                 for p in sorted(exports.rglob("*")) if p.is_file()}
        sides.append(({name: rows(lake, sql, roots) for name, sql in TABLES.items()}, files))
    found = []
    for name in TABLES:
        a, b = sides[0][0][name], sides[1][0][name]
        if a != b:
            changed = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
            found.append(f"{name}: {len(a)} vs {len(b)} rows, {len(changed)} differ"
                         + (f"; first: {a[changed[0]]} vs {b[changed[0]]}" if changed else ""))
    files_a, files_b = sides[0][1], sides[1][1]
    for name in sorted(set(files_a) | set(files_b)):
        if name not in files_a or name not in files_b:
            found.append(f"exports/{name}: only {'after' if name not in files_a else 'before'}")
        elif files_a[name] != files_b[name]:
            found.append(f"exports/{name}: content differs")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    found = differences((argv[0], argv[1]), (argv[2], argv[3]))
    for line in found:
        print(line)
    print(f"{len(found)} difference(s)" if found else "the same: clip_annotations, rejects, label_distribution "
                                                        "and every export file")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
