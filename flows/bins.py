"""`speechcraft bins freeze|use`: pinning other bin edges relabels clips, so it runs like every writer: under
the lakehouse's writer lock, as a `runs` row (flow `bins`) the export gate reads as a change to the labels."""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from ..tasks import labels
from ..warehouse import Lakehouse, bins
from ..warehouse.runs import finish_run, start_run
from .exclusive import one_writer

ACTIONS = ("freeze", "use")


@flow(name="bins")
@one_writer
def bins_flow(action: str, version: str, lake_uri: str | None = None, config: str | None = None,
              min_population: int = labels.MIN_POPULATION) -> dict:
    """Freeze edges as `version` (from today's percentiles, or fixed edges in `config`) and pin them, or pin
    an existing `version` again; either way every label is recomputed against the pinned edges.
    Returns {"run": runs row, "groups": groups pinned, "skipped": groups too small to freeze, "stats": LabelStats}."""
    if action not in ACTIONS:
        raise ValueError(f"unknown bins action {action!r}: choose from {', '.join(ACTIONS)}")
    lake = Lakehouse(lake_uri)
    # refused before a run is recorded: a failed `bins` run would read as a relabelling to the export gate
    known = bins.version_names(lake)
    if action == "use" and version not in known:
        raise bins.BinVersionError(f"no bin version {version!r} (versions: {', '.join(sorted(known)) or 'none yet'})")
    if action == "freeze" and version in known:
        raise bins.BinVersionError(f"bin version {version!r} exists and is frozen; choose another --name, or "
                                   f"pin it again with `speechcraft bins use {version}`")
    run = start_run(lake, "bins", None, {"action": action, "version": version, "config": config,
                                         "min_population": min_population})
    try:
        if action == "freeze":
            groups, skipped, stats = labels.freeze(lake, version, Path(config) if config else None, min_population)
        else:
            groups, stats = labels.use(lake, version, min_population)
            skipped = []
    except BaseException as exc:
        finish_run(lake, run, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    counts = {"n_scanned": stats.clips, "n_new": 0, "n_updated": stats.changed,
              "n_unchanged": stats.clips - stats.changed, "n_rejected": 0}
    get_run_logger().info("bins %s %s: %d groups pinned, %d of %d clips relabelled", action, version, groups,
                          stats.changed, stats.clips)
    return {"run": finish_run(lake, run, "completed", counts), "groups": groups, "skipped": skipped, "stats": stats}
