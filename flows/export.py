"""The export flow (`speechcraft export FORMAT OUT`): the clips the quality gate lets through, as a Parler-TTS /
Hugging Face parquet dataset, lhotse manifests or SpeechCraft JSON records.

Orchestration only: the request's checks, the gate, the run's bookkeeping, batches of rows handed to
`build_records` tasks (two in flight) and their records to the writer in order, progress. What is exported
and how it is written: tasks/exports/ (the formats: tasks/exports/formats/).
"""
from __future__ import annotations

import traceback

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from ..tasks.exports import (AUDIO_MODES, BATCH_ROWS, FORMATS, Export, ExportBlockedError, ExportTargetError, Filters,
                             NothingToExportError, build_records, check_request, export_is_current,
                             make_manifest, publishable_batches, quality_gate, resolve_target, select_clips)
from ..warehouse import Lakehouse
from ..warehouse.runs import mark_interrupted_runs
from ..warehouse.sql import connect
from .annotate import NothingIngestedError
from .batches import recorded_run, run_batches
from .exclusive import one_writer

EXPORT_FORMATS = FORMATS
IN_FLIGHT = 2          # batches being built while the writer appends the previous one

__all__ = ["AUDIO_MODES", "EXPORT_FORMATS", "ExportBlockedError", "ExportTargetError", "NothingToExportError",
           "export_flow", "export_is_current"]


@flow(name="export", task_runner=ThreadPoolTaskRunner(max_workers=IN_FLIGHT))
@one_writer
def export_flow(fmt: str, out: str, lake_uri: str | None = None, corpus: str | None = None, audio: str = "embed",
                show_progress: bool = True, rows_per_shard: int | None = None, runner: dict | None = None,
                filters: dict | None = None) -> dict:
    """Export the publishable clips (of `corpus`) to `out` (a folder or s3://bucket/prefix) as `fmt`
    (parler-tts, lhotse, speechcraft); `audio` (parler-tts): embed (FLAC bytes) or reference (paths).
    Raises ValueError for a bad request, NothingIngestedError, ExportBlockedError when the quality gate refuses,
    NothingToExportError when no clip qualifies. Returns {"run": runs row, "format", "out", "audio", "clips",
    "excluded": {reason: clips}, "splits", "corpora", "files", "manifest", "check_run_id"}.
    `runner`: the [runner] config (flows/runners.py): where the records of each batch are built.
    `filters`: {"min_snr": dB, "min_quality": DNSMOS OVRL, "audio_source": original | enhanced}, each optional:
    clips under a floor are left out; `enhanced` takes the enhancement stage's copy of a clip where it kept one."""
    check_request(fmt, audio)
    floors = Filters(**{k: v for k, v in (filters or {}).items() if v is not None})
    target = resolve_target(out)
    lake = Lakehouse(lake_uri)
    if not lake.exists("clips"):
        raise NothingIngestedError(f"nothing is ingested at {lake.uri}: run `speechcraft ingest CORPUS ROOT` first")
    mark_interrupted_runs(lake)
    con = connect(lake.uri)           # one snapshot: the gate, the counts and the rows all see the same versions
    try:
        return _export(con, lake, target, fmt, corpus, audio, show_progress, rows_per_shard, runner, floors)
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)     # Prefect keeps the error: its frames must not keep DuckDB
        raise
    finally:
        con.close()
        del con


def _export(con, lake: Lakehouse, target, fmt: str, corpus: str | None, audio: str, show_progress: bool,
            rows_per_shard: int | None, runner: dict | None, filters: Filters) -> dict:
    logger = get_run_logger()
    gate = quality_gate(con)
    selection = select_clips(con, corpus, filters)
    if selection.exported == 0:
        raise NothingToExportError(
            f"no clip{f' of corpus {corpus!r}' if corpus else ''} qualifies for export "
            f"({selection.considered} considered; left out: {selection.excluded or 'none'})")
    export = Export(target, fmt, audio, rows_per_shard)

    def collect(records, cached: bool) -> str:
        export.write(records)
        return f"{export.written} clips · {export.audio_s / 3600:.2f} h"

    with recorded_run(lake, "export", corpus, {"format": fmt, "out": target.uri, "audio": audio,
                                               "check_run_id": gate["run_id"],
                                               "rows_per_shard": rows_per_shard,
                                               "filters": filters.recorded()}) as record:
        try:
            batches = publishable_batches(con, export.format.row_order, corpus,
                                          BATCH_ROWS[export.audio or "reference"], filters)
            # an export cannot lose a batch: a failed one ends the run, and the previous export stays
            run_batches("export", batches,
                        lambda batch, number: build_records.submit(fmt, batch, audio, batch_number=number),
                        collect, runner=runner, total=selection.exported, thread_ahead=IN_FLIGHT,
                        title=f"export {fmt}", show_progress=show_progress, tolerate_failures=False)
            if export.written == 0:
                raise NothingToExportError(f"no clip's audio could be read ({len(export.unreadable)} tried)")
            manifest = export.publish(make_manifest(export, lake.uri, corpus, gate, selection, record.run_id,
                                                    filters.recorded()))
        except BaseException:
            export.abort()
            raise
        record.counts = {"n_scanned": selection.considered, "n_new": export.written, "n_updated": 0,
                         "n_unchanged": 0, "n_rejected": manifest["clips"]["excluded"],
                         "audio_hours": export.audio_s / 3600}
        if export.unreadable:
            record.error = f"{len(export.unreadable)} clip(s) left out: their audio could not be read"
    finished = record.row
    logger.info("export %s: %d clips to %s, left out %s", fmt, export.written, target.uri, manifest["excluded"])
    return {"run": finished, "format": fmt, "out": target.uri, "audio": manifest["audio"],
            "clips": export.written, "excluded": manifest["excluded"], "splits": manifest["splits"],
            "corpora": manifest["corpora"], "files": manifest["files"],
            "manifest": f"{target.uri}/export.json", "check_run_id": gate["run_id"]}
