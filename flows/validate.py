"""`speechcraft validate`: the speaker predictions (or the emphasis detector) scored against what is known —
corpus metadata, held-out stressed clips, a user's reference file — stored in `validations` as a `validate`
run, under the writer lock like every flow that writes."""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from ..tasks import emphasis, validation
from ..warehouse import Lakehouse
from ..warehouse.runs import finish_run, start_run
from .exclusive import one_writer

STAGES = ("speaker", "emphasis")
# what must exist before a stage can be validated, and how to make it
NEEDS = {"speaker": ("speakers", "no speaker predictions yet: run `speechcraft annotate --stage speaker` first"),
         "emphasis": ("emphasis", "no emphasis answers yet: run `speechcraft emphasize`, then "
                                  "`speechcraft annotate --stage emphasis`")}


class NothingToValidateError(RuntimeError):
    """The stage to validate has not run on this lakehouse."""


def scored_rows(lake: Lakehouse, stage: str, reference: Path | None) -> list[dict]:
    """One row per (source, class) of the stage's predictions against every truth available."""
    if stage == "emphasis":
        rows = emphasis.against_held_out(lake)
        return rows + (emphasis.against_reference(lake, reference) if reference else [])
    rows = validation.against_metadata(lake)
    return rows + (validation.against_reference(lake, reference) if reference else [])


@flow(name="validate")
@one_writer
def validate_flow(lake_uri: str | None = None, stage: str = "speaker", reference: str | None = None) -> dict:
    """Returns {"run": runs row, "rows": the number of validation rows stored}."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r} to validate: choose from {', '.join(STAGES)}")
    lake = Lakehouse(lake_uri)
    table, hint = NEEDS[stage]
    if not lake.exists(table):
        raise NothingToValidateError(hint)
    if stage == "emphasis" and not reference and not emphasis.against_held_out(lake):
        # answers from the shipped detector alone: nothing here is known to score them against
        raise NothingToValidateError("no held-out regenerated clips to score the emphasis detector on: run "
                                     "`speechcraft emphasize`, then `speechcraft annotate --stage emphasis`")
    path = Path(reference) if reference else None
    if path and stage == "speaker":
        validation.read_reference(path)          # a malformed file fails before anything is recorded
    run = start_run(lake, "validate", None, {"stage": stage, "reference": reference})
    try:
        rows = scored_rows(lake, stage, path)
        validation.store(lake, rows, run["run_id"])
    except BaseException as exc:
        finish_run(lake, run, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    get_run_logger().info("validate %s: %d rows", stage, len(rows))
    counts = {"n_scanned": len(rows), "n_new": len(rows), "n_updated": 0, "n_unchanged": 0, "n_rejected": 0}
    return {"run": finish_run(lake, run, "completed", counts), "rows": len(rows)}
