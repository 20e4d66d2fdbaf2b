"""What the lakehouse remembers of its last complete, fully successful `speechcraft run`: the fingerprint of
the run's inputs (sources, config, code: `speechcraft/nothing_new.py`), the state of every table when the run
ended, and the exports it left. `speechcraft run` compares them before it starts Prefect: when nothing differs,
there is nothing new to do and it says so in a line.

Kept as a small JSON file in the lakehouse folder (not a table): reading it must cost no storage library, so
that the answer comes before any heavy import. Only local lakehouses keep it; on object storage every run goes
through the pipeline, as before. Imports: the standard library only.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

RECORD = ".last-complete-run.json"
# Written by every run, even one with nothing new: their rows are history, not state a run depends on.
BOOKKEEPING = ("runs", "run_stages")


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def tree_digest(root: str | os.PathLike) -> str:
    """Every file under `root` (or `root` itself): relative path, size and modification time. A file added,
    removed, rewritten or touched changes it; its bytes are not read (a corpus may be terabytes). Python's
    `__pycache__` folders are passed over."""
    root = Path(root)
    digest = hashlib.sha256()
    if root.is_file():
        stat = root.stat()
        digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")    # compiled code is no input
        for name in files:
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:       # gone between the listing and the stat, or a dangling link: it counts as such
                entries.append(f"{os.path.relpath(path, root)}\0missing")
                continue
            entries.append(f"{os.path.relpath(path, root)}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8", "surrogateescape") + b"\n")
    return f"{len(entries)}:{digest.hexdigest()}"


def lake_state(lake_uri: str) -> str:
    """Every table's committed versions (the names in its `_versions` folder), bookkeeping tables aside: a
    write by any command since (an annotate, `bins use`, a partial run) changes it."""
    digest = hashlib.sha256()
    root = Path(lake_uri)
    tables = sorted(p for p in root.iterdir() if p.name.endswith(".lance")) if root.is_dir() else []
    for table in tables:
        if table.name[: -len(".lance")] in BOOKKEEPING:
            continue
        versions = table / "_versions"
        names = sorted(os.listdir(versions)) if versions.is_dir() else []
        digest.update(f"{table.name}\0{len(names)}\0{names[-1] if names else ''}\0{','.join(names)}\n".encode())
    return digest.hexdigest()


def record_complete_run(lake_uri: str, run_id: str, finished_at: datetime, inputs: dict, clips: int,
                        export_root: str) -> None:
    """Remember a complete, fully successful run (written last, after every table of the run)."""
    if not is_local(lake_uri) or not is_local(export_root):
        return
    record = {"run_id": run_id, "finished_at": finished_at.isoformat(timespec="seconds"), "clips": clips,
              "inputs": inputs, "lake_state": lake_state(lake_uri), "exports": tree_digest(export_root)}
    path = Path(lake_uri) / RECORD
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)       # atomic: a reader sees the old record or the new one, never half of one


def forget_complete_run(lake_uri: str) -> None:
    """A run that did not end complete: the next run must not take the lakehouse for up to date."""
    if is_local(lake_uri):
        Path(lake_uri, RECORD).unlink(missing_ok=True)


def unchanged_since_last_run(lake_uri: str, inputs: dict, export_root: str) -> dict | None:
    """The record of the last complete run when the inputs, the tables and the exports are as it left them;
    None when anything differs, the lakehouse is not local, or no run completed yet."""
    if not is_local(lake_uri) or not is_local(export_root):
        return None
    try:
        record = json.loads(Path(lake_uri, RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("inputs") != inputs:
        return None
    if record.get("lake_state") != lake_state(lake_uri) or record.get("exports") != tree_digest(export_root):
        return None
    return record
