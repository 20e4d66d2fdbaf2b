"""Writing an export so that OUT always holds one whole export: every file is written under
`OUT/.staging-<id>/` first (by the format's writer), then moved into place, `export.json` last; then the files
of the previous export (its `export.json` lists them) that this one did not write again are deleted. An
interrupted export leaves the previous one intact, and a finished one never leaves a mix of two. One export
at a time per OUT (the flow holds the writer lock).
"""
from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.fs as pafs

from ...warehouse.lake import resolve_lake_uri
from ...warehouse.sql import connect
from .formats import export_format
from .formats.base import Records
from .gate import ExportBlockedError, quality_gate
from .selection import Filters, Selection
from .target import MANIFEST, ExportTargetError, Target, read_manifest, resolve_target

STAGING_PREFIX = ".staging-"
# A published parquet shard: deleted at publish when this export did not write it, even when the export that
# did lost its manifest, so a re-export with fewer shards never leaves old rows for load_dataset to read.
_SHARD = re.compile(r"^[A-Za-z0-9_]+-\d{5}-of-\d{5}\.parquet$")


class Export:
    """One export into a staging folder of OUT; `publish` moves it into place and deletes the stale files."""

    def __init__(self, target: Target, fmt: str, audio: str = "embed", rows_per_shard: int | None = None):
        self.target, self.format = target, export_format(fmt)
        self.audio = self.format.audio_mode(audio)       # None: the format only names the audio files
        self.staging = f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        self.staged = target.within(self.staging)
        self.writer = self.format.writer(self.staged, self.audio, rows_per_shard)
        self.written = 0
        self.audio_s = 0.0
        self.unreadable: list[str] = []
        self.corpora: Counter = Counter()
        target.make_dirs(self.staging)

    def write(self, records: Records) -> int:
        """Append one batch; returns the clips it added."""
        self.unreadable += records.unreadable
        self.writer.write(records)
        self.written += records.clips
        self.audio_s += records.audio_s
        self.corpora.update(records.corpora)
        return records.clips

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        """Drop what was staged: the previous export stays as it was."""
        try:
            self.close()
        finally:
            self.target.delete_dir(self.staging)

    def publish(self, manifest: dict) -> dict:
        """Write the format's publish-time files (parler's README) and export.json, move everything into OUT,
        delete the previous export's files this one did not replace, and the staging folder. Returns the
        manifest written."""
        self.close()
        moves = self.writer.staged_files()
        for name, text in self.writer.publish_files(manifest).items():
            self.staged.write_text(name, text)
            moves.append((name, name))
        files = [dest for _, dest in moves] + [MANIFEST]
        manifest = {**manifest, "files": files}
        self.staged.write_text(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False, default=str) + "\n")
        previous = read_manifest(self.target) or {}
        for source, dest in moves + [(MANIFEST, MANIFEST)]:       # the manifest last: it marks a whole export
            self.target.move(f"{self.staging}/{source}", dest)
        stale = set(previous.get("files") or [])
        stale |= {f"data/{info.base_name}" for info in self.target.listing("data") if _SHARD.match(info.base_name)}
        for relative in sorted(stale - set(files)):
            if not relative.startswith(("/", "..")) and ".." not in relative.split("/"):
                self.target.delete(relative)
        for info in self.target.listing():
            if info.type == pafs.FileType.Directory and info.base_name.startswith(STAGING_PREFIX):
                self.target.delete_dir(info.base_name)        # this one, and any an interrupted export left
        return manifest


def make_manifest(export: Export, lake_uri: str, corpus: str | None, gate: dict, selection: Selection,
                  run_id: str, filters: dict | None = None) -> dict:
    """export.json but its `files` (publish adds them): what was exported from where, under which check, and
    what was left out, per reason."""
    excluded = dict(selection.excluded)
    if export.unreadable:
        excluded["audio_unreadable"] = len(export.unreadable)
    splits = export.writer.splits
    return {
        "format": export.format.name, "audio": export.audio,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "lake": lake_uri, "corpus": corpus, "export_run_id": run_id,
        "filters": filters or {},
        "check": {"run_id": gate["run_id"], "started_at": str(gate["started_at"]),
                  "checked_at": str(gate["checked_at"]), "expectations": gate["expectations"],
                  "failed_warnings": gate["failed_warnings"]},
        "clips": {"considered": selection.considered, "exported": export.written,
                  "excluded": sum(excluded.values())},
        "excluded": excluded, "splits": dict(splits) if splits is not None else None,
        "corpora": dict(sorted(export.corpora.items())), "languages": selection.languages,
        "audio_hours": round(export.audio_s / 3600, 6),
        "unreadable_clips": export.unreadable[:100],
    }


def export_is_current(out: str, lake_uri: str | None = None, fmt: str | None = None, audio: str | None = None,
                      filters: dict | None = None,
                      corpus: str | None = None) -> bool:
    """Whether OUT holds a whole export of this lakehouse made under the check that is still the latest and
    still valid (no writing run since it), with the same format (and audio mode, corpus) when given."""
    try:
        target = resolve_target(out)
    except (ExportTargetError, OSError, pa.ArrowException):
        return False
    manifest = read_manifest(target)
    uri = resolve_lake_uri(lake_uri)
    if not manifest or manifest.get("lake") != uri:
        return False
    # the audio mode matters only where the exported format has a choice (the manifest's audio is not null)
    if (fmt and manifest.get("format") != fmt) or (audio and manifest.get("audio") is not None
                                                    and manifest.get("audio") != audio):
        return False
    if corpus is not None and manifest.get("corpus") != corpus:
        return False
    if (manifest.get("filters") or {}) != Filters(**{k: v for k, v in (filters or {}).items()
                                                     if v is not None}).recorded():
        return False
    if not all(target.exists(f) for f in manifest.get("files") or []):
        return False
    con = connect(uri)
    try:
        gate = quality_gate(con)
    except ExportBlockedError:
        return False
    finally:
        con.close()
    return gate["run_id"] == (manifest.get("check") or {}).get("run_id")
