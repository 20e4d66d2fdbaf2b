"""The export flow (`speechcraft export FORMAT OUT`): the clips the quality gate lets through, as a Parler-TTS /
Hugging Face parquet dataset, lhotse manifests or SpeechCraft JSON records.

Orchestration only: the request's checks, the gate, the run's bookkeeping, batches of rows handed to
`build_records` tasks (two in flight) and their records to the writer in order, progress. What is exported
and how it is written: tasks/exports/ (the formats: tasks/exports/formats/).
"""
from __future__ import annotations

import traceback
from collections import deque

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..tasks.exports import (AUDIO_MODES, BATCH_ROWS, FORMATS, Export, ExportBlockedError, ExportTargetError,
                             NothingToExportError, build_records, check_request, export_is_current,
                             make_manifest, publishable_batches, quality_gate, resolve_target, select_clips)
from ..warehouse import Lakehouse
from ..warehouse.runs import finish_run, mark_interrupted_runs, start_run
from ..warehouse.sql import connect
from .annotate import NothingIngestedError
from .exclusive import one_writer
from .progress import Progress

EXPORT_FORMATS = FORMATS
IN_FLIGHT = 2          # batches being built while the writer appends the previous one

__all__ = ["AUDIO_MODES", "EXPORT_FORMATS", "ExportBlockedError", "ExportTargetError", "NothingToExportError",
           "export_flow", "export_is_current"]


@flow(name="export", task_runner=ThreadPoolTaskRunner(max_workers=IN_FLIGHT))
@one_writer
def export_flow(fmt: str, out: str, lake_uri: str | None = None, corpus: str | None = None, audio: str = "embed",
                show_progress: bool = True, rows_per_shard: int | None = None) -> dict:
    """Export the publishable clips (of `corpus`) to `out` (a folder or s3://bucket/prefix) as `fmt`
    (parler-tts, lhotse, speechcraft); `audio` (parler-tts): embed (FLAC bytes) or reference (paths).
    Raises ValueError for a bad request, NothingIngestedError, ExportBlockedError when the quality gate refuses,
    NothingToExportError when no clip qualifies. Returns {"run": runs row, "format", "out", "audio", "clips",
    "excluded": {reason: clips}, "splits", "corpora", "files", "manifest", "check_run_id"}."""
    check_request(fmt, audio)
    target = resolve_target(out)
    lake = Lakehouse(lake_uri)
    if not lake.exists("clips"):
        raise NothingIngestedError(f"nothing is ingested at {lake.uri}: run `speechcraft ingest CORPUS ROOT` first")
    mark_interrupted_runs(lake)
    con = connect(lake.uri)           # one snapshot: the gate, the counts and the rows all see the same versions
    try:
        return _export(con, lake, target, fmt, corpus, audio, show_progress, rows_per_shard)
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)     # Prefect keeps the error: its frames must not keep DuckDB
        raise
    finally:
        con.close()
        del con


def _export(con, lake: Lakehouse, target, fmt: str, corpus: str | None, audio: str, show_progress: bool,
            rows_per_shard: int | None) -> dict:
    logger = get_run_logger()
    gate = quality_gate(con)
    selection = select_clips(con, corpus)
    if selection.exported == 0:
        raise NothingToExportError(
            f"no clip{f' of corpus {corpus!r}' if corpus else ''} qualifies for export "
            f"({selection.considered} considered; left out: {selection.excluded or 'none'})")
    run = start_run(lake, "export", corpus, {"format": fmt, "out": target.uri, "audio": audio,
                                             "check_run_id": gate["run_id"], "rows_per_shard": rows_per_shard})
    export = Export(target, fmt, audio, rows_per_shard)
    try:
        in_flight: deque = deque()
        with Progress(f"export {fmt}", total=selection.exported, enabled=show_progress) as progress:
            def collect(future) -> None:
                export.write(future.result())
                progress.update(f"{export.written} clips · {export.audio_s / 3600:.2f} h", export.written)

            batches = publishable_batches(con, export.format.row_order, corpus,
                                          BATCH_ROWS[export.audio or "reference"])
            for number, batch in enumerate(batches):
                in_flight.append(build_records.submit(fmt, batch, audio, batch_number=number))
                while len(in_flight) >= IN_FLIGHT:
                    collect(in_flight.popleft())
            while in_flight:
                collect(in_flight.popleft())
        if export.written == 0:
            raise NothingToExportError(f"no clip's audio could be read ({len(export.unreadable)} tried)")
        manifest = export.publish(make_manifest(export, lake.uri, corpus, gate, selection, run["run_id"]))
    except BaseException as exc:
        export.abort()
        finish_run(lake, run, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    counts = {"n_scanned": selection.considered, "n_new": export.written, "n_updated": 0, "n_unchanged": 0,
              "n_rejected": manifest["clips"]["excluded"], "audio_hours": export.audio_s / 3600}
    error = (f"{len(export.unreadable)} clip(s) left out: their audio could not be read"
             if export.unreadable else None)
    finished = finish_run(lake, run, "partial" if error else "completed", counts, error=error)
    logger.info("export %s: %d clips to %s, left out %s", fmt, export.written, target.uri, manifest["excluded"])
    return {"run": finished, "format": fmt, "out": target.uri, "audio": manifest["audio"],
            "clips": export.written, "excluded": manifest["excluded"], "splits": manifest["splits"],
            "corpora": manifest["corpora"], "files": manifest["files"],
            "manifest": f"{target.uri}/export.json", "check_run_id": gate["run_id"]}
