"""Project-wide settings read from the environment."""
from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SPEECHCRAFT_CACHE"


def cache_dir() -> Path:
    """Where Prefect keeps cached task results (stage outputs keyed by their inputs): $SPEECHCRAFT_CACHE,
    else ~/.cache/speechcraft. Outside the lakehouse on purpose: a lake rebuilt from scratch over the same
    audio takes its stage results from here instead of recomputing them."""
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "speechcraft").expanduser() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path
