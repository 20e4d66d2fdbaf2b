"""Bin-edge bookkeeping: frozen versions of the edges that turn measurements into labels, and their pins.

A version is written once and never edited. Each row is one group (language, attribute, and gender for
pitch); the group's edges in force are those of the version pinned to it most recently. Pinning a version
is the only thing that changes which edges label a clip, so ingesting more data never relabels silently.
A version may be stored unpinned and its groups pinned one by one (the default edges: tasks/labels.py).
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timezone

import polars as pl

from .lake import Lakehouse, sql_literal_list

TABLE = "bin_edges"
GROUP = ["language", "attribute", "gender"]


class BinVersionError(ValueError):
    """A version name that is taken, or unknown."""


def edge_id(version: str, language: str, attribute: str, gender: str | None) -> str:
    return f"{version}/{language}/{attribute}/{gender or 'all'}"


def all_edges(lake: Lakehouse) -> pl.DataFrame:
    return pl.from_arrow(lake.read(TABLE))


def version_names(lake: Lakehouse) -> set[str]:
    return set(pl.from_arrow(lake.read(TABLE, ["version"]))["version"].to_list())


def save_version(lake: Lakehouse, version: str, groups: list[dict], pin: bool = True) -> int:
    """Store a new version (one row per group: language, attribute, gender, low_edge, high_edge and how they
    were made) and, by default, pin it. Refuses a name already used: versions are immutable."""
    if version in version_names(lake):
        raise BinVersionError(f"bin version {version!r} exists and is frozen; choose another --name, or "
                              f"pin it again with `speechcraft bins use {version}`")
    now = datetime.now(timezone.utc)
    rows = [{**g, "version": version, "edge_id": edge_id(version, g["language"], g["attribute"], g.get("gender")),
             "created_at": now, "pinned_at": now if pin else None} for g in groups]
    lake.upsert(TABLE, rows)
    return len(rows)


def pin_version(lake: Lakehouse, version: str, groups: Collection[tuple] | None = None) -> int:
    """Make every group of `version` the one in force, or only those of it named in `groups`
    ((language, attribute, gender) tuples). Returns the number of groups pinned."""
    rows = lake.read(TABLE, where=f"version = {sql_literal_list([version])[1:-1]}").to_pylist()
    if not rows:
        known = ", ".join(sorted(version_names(lake))) or "none yet"
        raise BinVersionError(f"no bin version {version!r} (versions: {known})")
    if groups is not None:
        rows = [r for r in rows if (r["language"], r["attribute"], r["gender"]) in groups]
    now = datetime.now(timezone.utc)
    lake.upsert(TABLE, [{**r, "pinned_at": now} for r in rows])
    return len(rows)


def in_force(lake: Lakehouse) -> pl.DataFrame:
    """Per group, the edges of its most recently pinned version."""
    edges = all_edges(lake).filter(pl.col("pinned_at").is_not_null())
    if edges.is_empty():
        return edges
    return edges.sort("pinned_at").group_by(GROUP, maintain_order=True).last()
