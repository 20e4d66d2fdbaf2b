"""`speechcraft run` with nothing new answers in a fraction of a second, before Prefect is imported.

A run's outputs are decided by its inputs: the sources' files, the project config (and every file or folder
it names: sources, reference tables, local models), the code (every stage's version lives in it, and the
default bin edges), the SPEECHCRAFT_* environment and the steps asked for. Their fingerprint, taken before
a run starts, is recorded in the lakehouse when that run ends complete and fully successful, together with
the state of every table and of the exports (warehouse/fingerprints.py). A later `run` whose fingerprint and
lakehouse match the record has nothing to do: the pipeline would find every step up to date.

Files are fingerprinted by relative path, size and modification time, never read, so the check costs a
directory walk. Anything it cannot vouch for (a lakehouse or exports on object storage, no record yet, a
partial or failed run since) lets the run go through the pipeline as before; `--force` always does.
Imports: the standard library and the lightweight parts of this package only.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from .stages import STEPS

CODE_PACKAGES = ("speechcraft", "speechcraft.flows", "speechcraft.tasks", "speechcraft.models", "speechcraft.warehouse")
IGNORED_ENV = ("SPEECHCRAFT_CACHE",)     # where Prefect caches batch results changes no output


def run_request(config: dict, lake: str | None, export_dir: str | None) -> tuple[str, str, dict]:
    """(lakehouse URI, export root, the run's inputs) of `speechcraft run` over the whole pipeline."""
    from .warehouse.lake import resolve_lake_uri

    pipeline = config.get("pipeline", {})
    uri = resolve_lake_uri(lake or pipeline.get("lake"))
    export_root = (export_dir or pipeline.get("export_dir") or f"{uri}/exports").rstrip("/")
    return uri, export_root, {**run_inputs(config, pipeline.get("steps"), outputs=(uri, export_root)),
                              "export_root": export_root}


def run_inputs(config: dict, steps: list[str] | None = None, outputs: tuple[str, ...] = ()) -> dict:
    """The fingerprint of what decides a run's outputs (taken before the run: files landing during it are
    new to the next one). `outputs`: the lakehouse and the export root, which a config may name too: what a
    run writes there is checked by the record's own table versions and exports digest, not as an input
    (an export folder that a first run creates would otherwise make every next run look new)."""
    from .warehouse.fingerprints import tree_digest

    written = [Path(out).resolve() for out in outputs if "://" not in out]
    named = sorted({str(Path(value).resolve()) for value in _strings(config) if _is_path(value)
                    and not any(Path(value).resolve() == out or out in Path(value).resolve().parents
                                for out in written)})
    return {
        "config": hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest(),
        "files": {path: tree_digest(path) for path in named},
        "code": _code_digest(tree_digest),
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("SPEECHCRAFT_") and k not in IGNORED_ENV},
        "steps": list(steps or STEPS),
    }


def nothing_new(lake_uri: str, export_root: str, inputs: dict) -> str | None:
    """The one-line answer when the last complete run left everything as it is now; else None."""
    from .warehouse.fingerprints import unchanged_since_last_run

    record = unchanged_since_last_run(lake_uri, inputs, export_root)
    if record is None:
        return None
    return (f"nothing new since run {record['run_id']} ({record['finished_at']}): {record['clips']:,} clips, "
            f"exports up to date (--force runs the pipeline anyway)")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _is_path(value: str) -> bool:
    if "://" in value or not value.strip():
        return False
    try:
        return Path(value).expanduser().exists()
    except OSError:         # a name too long or otherwise not a path
        return False


def _code_digest(tree_digest) -> str:
    """Every file of the installed product (sources, default bin edges): a changed stage or edge counts."""
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            digest.update(f"{package}\0{tree_digest(folder)}\n".encode())
    return digest.hexdigest()
