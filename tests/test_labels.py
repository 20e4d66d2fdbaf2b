"""Labels on a small lakehouse: a first try with a few dozen clips is labelled from the default bin edges,
described and exported; percentile edges take a group over only when the user freezes them."""
from __future__ import annotations

import json

import polars as pl
import pytest

from speechcraft.cli import main
from speechcraft.tasks import labels
from speechcraft.warehouse import Lakehouse, bins
from speechcraft.warehouse.sql import query

DEFAULTS = "defaults-v2"
SMALL_CORPORA = ("aishell3", "libritts-r", "gigaspeech", "zhvoice")     # a few dozen clips in all
LABEL_KEYS = {"pitch": "pitch", "energy": "volume", "speed": "speed"}   # labels column -> description key


@pytest.mark.slow
def test_a_first_run_over_a_few_dozen_clips_labels_describes_and_exports_every_clip_with_speech(
        corpora, prefect_harness, tmp_path, capsys):
    import pyarrow.parquet as pq

    lake, exports = str(tmp_path / "lake"), tmp_path / "exports"
    lines = ["[pipeline]", f'export_dir = "{exports}"', "[annotate]", "workers = 1"]
    for name in SMALL_CORPORA:
        lines += ["[[sources]]", f'corpus = "{name}"', f'path = "{corpora[name].root}"']
    (tmp_path / "speechcraft.toml").write_text("\n".join(lines) + "\n")
    assert main(["run", "--config", str(tmp_path / "speechcraft.toml"), "--lake", lake]) == 0
    capsys.readouterr()

    speech = set(query("SELECT clip_id FROM acoustics WHERE NOT list_has_any(flags, ['no_speech', 'too_short'])",
                       lake).column(0).to_pylist())
    assert len(speech) >= 40
    rows = {r["clip_id"]: r for r in query("SELECT * FROM labels", lake).to_pylist()}
    for clip_id in speech:
        for attribute in LABEL_KEYS:
            assert rows[clip_id][f"{attribute}_label"] and rows[clip_id][f"{attribute}_edges"], (clip_id, attribute)
        assert rows[clip_id]["pitch_edges"] == DEFAULTS          # under 20 clips per language and gender
    described = {r["clip_id"]: json.loads(r["labels"]) for r in query(
        "SELECT clip_id, labels FROM descriptions WHERE published AND passed AND kind = 'description'",
        lake).to_pylist()}
    for clip_id in speech:
        assert all(key in described[clip_id] for key in LABEL_KEYS.values()), (clip_id, described.get(clip_id))
    exported = pq.read_table(exports / "parler-tts" / "data", columns=["clip_id", "pitch", "energy", "speed"])
    copies = set(query("SELECT clip_id FROM duplicates", lake).column(0).to_pylist())   # exported once, as the other
    assert set(exported.column("clip_id").to_pylist()) == speech - copies
    assert None not in exported.column("energy").to_pylist() + exported.column("speed").to_pylist()

    assert main(["bins", "show", "--lake", lake, "--format", "json"]) == 0
    shown = {(r["language"], r["attribute"], r["gender"]): r for r in json.loads(capsys.readouterr().out)}
    assert set(shown) == {(language, attribute, gender) for language in ("en", "zh") for attribute, gender
                          in (("pitch", "male"), ("pitch", "female"), ("energy", None), ("speed", None),
                              ("noise", None), ("reverberation", None), ("monotony", None))}
    for (language, attribute, gender), row in shown.items():
        assert row["version"], row
        if attribute in ("noise", "reverberation", "monotony"):     # fixed edges, whatever the population
            assert (row["version"], row["mode"]) == (DEFAULTS, "default"), row
        if attribute == "pitch":
            assert (row["version"], row["mode"], row["population"]) == (DEFAULTS, "default", None), row
            assert 0 < row["population_now"] < labels.MIN_POPULATION, row


# -- the rules, on a lakehouse written directly (no audio, no flows) ------------------------------------------

def _add_clips(lake: Lakehouse, language: str, gender: str | None, f0: list[float], start: int = 0) -> list[str]:
    """Measured clips of one language and gender, with these mean F0s (energy and rate follow the index)."""
    ids = [f"t/{language}-{gender}-{start + i:03d}" for i in range(len(f0))]
    lake.upsert("clips", [{"clip_id": c, "corpus": "t", "language": language, "meta_gender": gender} for c in ids])
    lake.upsert("acoustics", [{"clip_id": c, "f0_mean_hz": hz, "energy_db": -35.0 + (start + i) % 20,
                               "speech_rate": 2.0 + 0.2 * ((start + i) % 20), "flags": [], "annotator": "test",
                               "annotator_version": "1", "config_hash": "c", "input_hash": c}
                              for i, (c, hz) in enumerate(zip(ids, f0))])
    return ids


def _in_force(lake: Lakehouse) -> dict[tuple, dict]:
    return {(r["language"], r["attribute"], r["gender"]): r for r in bins.in_force(lake).to_dicts()}


def _pitch(lake: Lakehouse, ids: list[str]) -> dict[str, tuple]:
    stored = {r["clip_id"]: r for r in lake.read("labels").to_pylist()}
    return {c: (stored[c]["pitch_label"], stored[c]["pitch_edges"]) for c in ids}


def _binned(hz: float, low: float, high: float) -> str:
    return "low" if hz < low else "normal" if hz < high else "high"


def test_groups_too_small_for_percentiles_are_labelled_from_the_default_edges(tmp_path):
    lake = Lakehouse(tmp_path / "lake")
    _add_clips(lake, "zh", "female", [150.0 + 4 * i for i in range(labels.MIN_POPULATION + 5)])
    male = _add_clips(lake, "zh", "male", [90.0, 120.0, 130.0, 150.0, 160.0])
    unknown = _add_clips(lake, "en", None, [100.0, 150.0, 200.0])
    stats = labels.relabel(lake)
    assert stats.auto_version and stats.default_groups == 4      # zh male pitch; en pitch (no gender), energy, speed
    edges = _in_force(lake)
    assert edges[("zh", "pitch", "female")]["version"] == stats.auto_version
    assert {edges[g]["version"] for g in [("zh", "energy", None), ("zh", "speed", None)]} == {stats.auto_version}
    defaults = {(g["language"], g["attribute"], g["gender"]): (g["low_edge"], g["high_edge"])
                for g in labels.fixed_groups(labels.DEFAULT_EDGES)}
    for group in [("zh", "pitch", "male"), ("en", "pitch", None), ("en", "energy", None), ("en", "speed", None)]:
        assert (edges[group]["version"], edges[group]["mode"]) == (DEFAULTS, "default")
        assert (edges[group]["low_edge"], edges[group]["high_edge"]) == defaults[group]
    for ids, group in [(male, ("zh", "pitch", "male")), (unknown, ("en", "pitch", None))]:
        f0 = {r["clip_id"]: r["f0_mean_hz"] for r in lake.read("acoustics").to_pylist()}
        assert _pitch(lake, ids) == {c: (_binned(f0[c], *defaults[group]), DEFAULTS) for c in ids}
    # a speaker of unknown gender is called low or high only where both genders' edges agree
    assert [label for label, _ in _pitch(lake, unknown).values()] == ["low", "normal", "high"]
    # the whole default set is stored, but only the groups that needed it are pinned
    stored = bins.all_edges(lake).filter(pl.col("version") == DEFAULTS)
    assert stored.height == len(defaults) and stored["pinned_at"].null_count() == len(defaults) - 4

    again = labels.relabel(lake)
    assert (again.auto_version, again.default_groups, again.changed) == (None, 0, 0)


def test_a_grown_group_keeps_the_defaults_until_percentile_edges_are_frozen_then_keeps_those(tmp_path):
    lake = Lakehouse(tmp_path / "lake")
    first = _add_clips(lake, "zh", "male", [90.0, 120.0, 130.0, 150.0, 160.0])
    labels.relabel(lake)
    before = _pitch(lake, first)
    assert {version for _, version in before.values()} == {DEFAULTS}

    grown = _add_clips(lake, "zh", "male", [95.0 + 3 * i for i in range(labels.MIN_POPULATION)], start=5)
    stats = labels.relabel(lake)
    assert stats.auto_version is None                # ingesting more never relabels on its own
    assert _pitch(lake, first) == before
    assert {version for _, version in _pitch(lake, grown).values()} == {DEFAULTS}

    with pytest.raises(bins.BinVersionError, match="kept for the default edges"):
        labels.freeze(lake, "defaults-v2")
    n_groups, skipped, _ = labels.freeze(lake, "v1")
    assert (n_groups, skipped) == (3, [("zh", "pitch", "female", 0)])   # zh male pitch, energy, speed: 25 clips
    frozen = _in_force(lake)[("zh", "pitch", "male")]
    assert (frozen["version"], frozen["mode"], frozen["population"]) == ("v1", "percentile", 25)
    f0 = {r["clip_id"]: r["f0_mean_hz"] for r in lake.read("acoustics").to_pylist()}
    assert _pitch(lake, first + grown) == {c: (_binned(f0[c], frozen["low_edge"], frozen["high_edge"]), "v1")
                                          for c in first + grown}

    later = _add_clips(lake, "zh", "male", [300.0] * 3, start=25)
    assert labels.relabel(lake).default_groups == 0   # a frozen group keeps its percentile edges
    assert {version for _, version in _pitch(lake, first + grown + later).values()} == {"v1"}
    assert labels.use(lake, DEFAULTS)[0] == len(labels.fixed_groups(labels.DEFAULT_EDGES))
    assert {version for _, version in _pitch(lake, first).values()} == {DEFAULTS}      # pinned back on request


def test_the_default_edges_file_is_the_one_docs_point_to():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    assert labels.fixed_groups(docs / "bins-fixed.toml") == labels.fixed_groups(labels.DEFAULT_EDGES)
    assert DEFAULTS in (docs / "bins.md").read_text(encoding="utf-8")
