"""Emphasis on a corpus nobody regenerated: the shipped detector (models/data/emphasis_detector.npz) answers every
clip with a transcript, a word or none, and says it answered; a lakehouse detector replaces it once `emphasize`
has given the lakehouse stressed clips of its own."""
from __future__ import annotations

import numpy as np

from speechcraft.cli import main
from speechcraft.models.emphasis_detector import FEATURE_NAMES, packaged_detectors
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query


def test_the_shipped_detector_scores_a_raised_word_above_its_siblings():
    detectors = packaged_detectors()
    assert set(detectors) == {"en", "zh"}
    # eight plain words, then the same sentence with word 3 higher, louder and longer than the rest
    rng = np.random.default_rng(0)
    plain = rng.normal(0, 0.3, (8, len(FEATURE_NAMES))).astype(np.float32)
    plain[:, FEATURE_NAMES.index("voiced_share")] = 0.8
    plain[:, FEATURE_NAMES.index("position")] = np.linspace(0, 1, 8)
    stressed = plain.copy()
    for name, value in (("f0_peak_st", 5.0), ("f0_mean_st", 4.0), ("f0_peak_over_others_st", 4.5), ("f0_rise_st", 5.0),
                        ("energy_db", 5.0), ("energy_peak_db", 6.0), ("energy_over_others_db", 4.0),
                        ("duration_log_ratio", 0.3), ("duration_over_others", 0.2), ("f0_peak_z", 2.6),
                        ("energy_z", 2.6), ("duration_z", 2.4)):
        stressed[3, FEATURE_NAMES.index(name)] = value
    for detector in detectors.values():
        assert detector.detect(stressed).word_index == 3
        assert detector.detect(plain).word_index is None
        scores = np.concatenate([detector.scores(stressed), detector.scores(np.full((4, len(FEATURE_NAMES)), np.nan,
                                                                                    dtype=np.float32))])
        assert ((scores >= 0) & (scores <= 1)).all()           # probabilities, as the quality check expects


def test_a_corpus_only_lakehouse_gets_an_answer_for_every_clip(stress_corpora, prefect_harness, tmp_path, capsys):
    from speechcraft.tasks.demo_corpora.stress import reference_path

    lake = str(tmp_path / "lake")
    source = stress_corpora["stress-ssml"]
    assert main(["ingest", "folder", str(source.root), "--lake", lake]) == 0
    assert main(["annotate", "--stage", "emphasis", "--lake", lake]) == 0
    out = capsys.readouterr().out
    version = next(iter(packaged_detectors().values())).version
    assert version in out and "speechcraft emphasize" in out         # what answered, and how to do better
    rows = {r["clip_id"]: r for r in Lakehouse(lake).read("emphasis").to_pylist()}
    assert set(rows) == {c.clip_id for c in source.clips if c.transcript}
    assert {r["detector"] for r in rows.values()} == {version}
    for row in rows.values():
        assert (row["word"] is None) == (row["word_index"] is None) and row["top_word"]
    # the answers are the stressed words, not noise: most of the SSML-stressed words are found, plain
    # sentences mostly left alone (these voices and sentences overlap the shipped detector's training)
    truth = dict(line.split("\t") for line in reference_path(source.root).read_text().splitlines()[1:])
    stressed = [c for c in truth if truth[c] != "none"]
    assert np.mean([rows[c]["word"] == truth[c] for c in stressed]) > 0.6
    assert np.mean([rows[c]["word"] is None for c in truth if truth[c] == "none"]) > 0.8
    view = query("SELECT emphasis, emphasis_source FROM clip_annotations WHERE emphasis IS NOT NULL", lake).to_pylist()
    assert view and all(v["emphasis_source"] == f"detector:{version}" for v in view)
    # a re-run answers nothing again; validation still needs regenerated clips and says so
    from speechcraft.flows.annotate import annotate_flow

    again = annotate_flow(lake, stages=["emphasis"], show_progress=False)
    assert again["emphasis"]["todo"] == 0 and again["emphasis_detector"]["predicted"] == 0
    assert Lakehouse(lake).count("emphasis") == len(rows)
    assert main(["validate", "--stage", "emphasis", "--lake", lake]) == 2
    assert "speechcraft emphasize" in capsys.readouterr().err
