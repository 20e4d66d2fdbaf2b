"""A new attribute is one module and one registration (tasks/attributes/): a toy stage registered from this
test — no product file edited — writes its column, and clip_annotations, the quality check and the
parler-tts export all carry it; a re-run does nothing; a process that never imported it still sees it in SQL."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from speechcraft.tasks.attributes import AttributeStage, register, unregister
from speechcraft.tasks.quality_suites import critical
from speechcraft.warehouse.schema import TABLES
from speechcraft.warehouse.sql import query


def zero_crossings(samples: np.ndarray, rate: int, job) -> dict:
    """Sign changes a second: a crude brightness / noisiness measure, honest signal work."""
    signs = np.signbit(samples)
    return {"zero_crossing_rate": float(np.count_nonzero(signs[1:] != signs[:-1]) * rate / len(samples))}


TOY = AttributeStage(
    "zero_crossings", "1", {"zero_crossing_rate": pa.float64()}, zero_crossings,
    checks=(critical("ExpectColumnValuesToBeBetween", "sign changes a second: at most the sample rate",
                     column="zero_crossing_rate", min_value=0.0, max_value=48_000.0),),
    exported=("zero_crossing_rate",))


@pytest.fixture
def toy_stage():
    register(TOY)
    yield TOY
    unregister(TOY.name)
    assert TOY.table not in TABLES            # nothing of it left for the next test in this process


def test_a_registered_attribute_reaches_annotations_the_check_and_the_export(checked_lake, prefect_harness,
                                                                            toy_stage, tmp_path, monkeypatch):
    from speechcraft.flows.annotate import annotate_flow, annotation_stages
    from speechcraft.flows.check import check_flow
    from speechcraft.flows.export import export_flow

    assert annotation_stages()[-1] == "zero_crossings"            # after the acoustics it depends on
    lake = str(tmp_path / "lake")
    shutil.copytree(checked_lake, lake)
    result = annotate_flow(lake, stages=["zero_crossings"], show_progress=False)
    assert result["zero_crossings"]["computed"] > 0 and result["run"]["status"] == "completed"

    rows = query("SELECT clip_id, audio_path, start_s, end_s, zero_crossing_rate FROM clip_annotations "
                 "WHERE zero_crossing_rate IS NOT NULL ORDER BY clip_id", lake).to_pylist()
    assert len(rows) == result["zero_crossings"]["computed"] - result["zero_crossings"]["rejected"]
    first = rows[0]                     # the stored value is the clip's own, measured again here
    samples, rate = sf.read(first["audio_path"], dtype="float32", always_2d=True)
    span = samples[int(round((first["start_s"] or 0) * rate)):
                   int(round(first["end_s"] * rate)) if first["end_s"] else None].mean(axis=1)
    assert first["zero_crossing_rate"] == pytest.approx(zero_crossings(span, rate, None)["zero_crossing_rate"],
                                                        rel=0.02)

    checked = check_flow(lake)
    suite = [r for r in checked["results"] if r["suite"] == TOY.table]
    assert {r["expectation"] for r in suite} >= {"expect_column_values_to_be_between(zero_crossing_rate, 0.0..48000.0)",
                                                  "expect_column_values_to_be_unique(clip_id)"}
    assert all(r["success"] for r in suite) and not checked["critical_failures"]

    out = tmp_path / "parler"
    exported = export_flow("parler-tts", str(out), lake_uri=lake, audio="reference", show_progress=False)
    table = pa.concat_tables(pq.read_table(f) for f in sorted((out / "data").glob("*.parquet")))
    assert "zero_crossing_rate" in table.column_names and table.num_rows == exported["clips"]
    stored = {r["clip_id"]: r["zero_crossing_rate"] for r in rows}
    for clip_id, value in zip(table["clip_id"].to_pylist(), table["zero_crossing_rate"].to_pylist()):
        assert value == stored[clip_id]

    # the dashboard: its coverage and a histogram of the new number, with no chart written for it
    from streamlit.testing.v1 import AppTest

    from speechcraft.dashboards import APP
    from speechcraft.warehouse import reports
    from speechcraft.warehouse.sql import connect

    con = connect(lake)
    coverage = reports.stage_coverage(con).set_index("stage").clips.groupby(level=0).sum()
    assert coverage["zero_crossings"] == len(rows)
    histogram = reports.attribute_histograms(con)
    toy = histogram[histogram.attribute == "zero_crossings.zero_crossing_rate"]
    assert not toy.empty and toy.clips.sum() == len(rows)
    con.close()
    monkeypatch.setenv("SPEECHCRAFT_LAKE", lake)
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.switch_page("sections/distributions.py").run()
    assert not app.exception and "Other attributes" in [h.value for h in app.subheader]

    again = annotate_flow(lake, stages=["zero_crossings"], show_progress=False)
    assert again["zero_crossings"]["computed"] == 0 and again["zero_crossings"]["up_to_date"] > 0

    # a fresh process never imported the toy stage: its stored table still joins clip_annotations
    printed = subprocess.run([sys.executable, "-m", "speechcraft.cli", "sql", "--lake", lake, "--format", "json",
                              "SELECT count(zero_crossing_rate) AS n FROM clip_annotations"],
                             capture_output=True, text=True, check=True).stdout
    assert json.loads(printed) == [{"n": len(rows)}]


def test_a_stage_that_exports_what_it_does_not_write_is_refused():
    bad = AttributeStage("broken", "1", {"x": pa.float64()}, zero_crossings, exported=("y",))
    with pytest.raises(ValueError, match="exports \\['y'\\], which it does not write"):
        register(bad)
    nested = AttributeStage("nested", "1", {"v": pa.list_(pa.float32())}, zero_crossings, exported=("v",))
    with pytest.raises(ValueError, match="only string, float64 and int64"):
        register(nested)


def test_a_clip_the_measure_fails_on_is_a_reject_and_the_rest_lands(annotated_lake, prefect_harness, tmp_path):
    from speechcraft.flows.annotate import annotate_flow
    from speechcraft.tasks.attributes import MEASURE_FAILED

    lake = str(tmp_path / "lake")
    shutil.copytree(annotated_lake, lake)
    victim = query("SELECT min(clip_id) AS c FROM clips", lake).to_pylist()[0]["c"]

    def fragile(samples, rate, job) -> dict:
        if job.clip_id == victim:
            raise ValueError("no crossings to count")
        return {"fragile_rate": zero_crossings(samples, rate, job)["zero_crossing_rate"]}

    stage = register(AttributeStage("fragile", "1", {"fragile_rate": pa.float64()}, fragile))
    try:
        first = annotate_flow(lake, stages=["fragile"], show_progress=False)
        clips = query("SELECT count(*) AS n FROM clips", lake).to_pylist()[0]["n"]
        assert first["fragile"]["failed_batches"] == 0 and first["fragile"]["rejected"] == 1
        assert query(f"SELECT count(*) AS n FROM {stage.table}", lake).to_pylist()[0]["n"] == clips - 1
        rejects = query("SELECT clip_id, reason, detail FROM rejects WHERE stage = 'fragile'", lake).to_pylist()
        assert rejects == [{"clip_id": victim, "reason": MEASURE_FAILED,
                            "detail": "fragile: ValueError: no crossings to count"}]
        again = annotate_flow(lake, stages=["fragile"], show_progress=False)     # the failed clip is tried again
        assert again["fragile"]["todo"] == 1 and again["fragile"]["up_to_date"] == clips - 1
        assert query("SELECT count(*) AS n FROM rejects WHERE stage = 'fragile'", lake).to_pylist() == [{"n": 1}]
        assert query(f"SELECT count(*) AS n FROM {stage.table}", lake).to_pylist()[0]["n"] == clips - 1
    finally:
        unregister("fragile")
