"""The annotate flow as a user runs it: incremental work, Prefect's cache, rejects, pinned bin edges, the
bins commands and the clip_annotations view."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from speechcraft.cli import main
from speechcraft.tasks.corpora.folder import read_speaker_table
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _annotate(lake: str, **options) -> dict:
    from speechcraft.flows.annotate import annotate_flow

    return annotate_flow(lake, show_progress=False, **options)


def _ingest(lake: str, reader: str, root: Path) -> None:
    from speechcraft.flows.ingest import ingest_flow

    ingest_flow(reader, str(root), lake_uri=lake, show_progress=False)


def _labels(lake: str, corpus: str) -> dict[str, tuple]:
    rows = query(f"SELECT l.* FROM labels l JOIN clips c USING (clip_id) WHERE c.corpus = '{corpus}'",
                 lake).to_pylist()
    return {r["clip_id"]: (r["pitch_label"], r["energy_label"], r["speed_label"], r["pitch_edges"],
                           r["energy_edges"], r["speed_edges"]) for r in rows}


@pytest.fixture
def private_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SPEECHCRAFT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_rerun_does_no_work_and_a_version_bump_redoes_exactly_that_stage(corpora, prefect_harness, tmp_path,
                                                                          private_cache, monkeypatch):
    from speechcraft.tasks import acoustics

    lake = str(tmp_path / "lake")
    _ingest(lake, "folder", corpora["prosody"].root)
    n = len(corpora["prosody"].clips)
    first = _annotate(lake, clips_per_task=40)
    assert (first["acoustics"]["computed"], first["acoustics"]["cached"]) == (n, 0)
    assert first["labels"]["changed"] == n and first["labels"]["auto_version"]
    measured = {r["clip_id"]: r["computed_at"] for r in Lakehouse(lake).read("acoustics").to_pylist()}
    featured = {r["clip_id"]: r["computed_at"] for r in Lakehouse(lake).read("speaker_features").to_pylist()}
    assert len(featured) == n

    second = _annotate(lake, clips_per_task=40)
    assert second["acoustics"] == {**second["acoustics"], "todo": 0, "computed": 0, "cached": 0, "up_to_date": n}
    assert second["labels"] == {"clips": n, "changed": 0, "auto_version": None, "default_groups": 0,
                                "default_version": "defaults-v2"}
    assert {r["clip_id"]: r["computed_at"] for r in Lakehouse(lake).read("acoustics").to_pylist()} == measured

    monkeypatch.setattr(acoustics, "ACOUSTICS_VERSION", "bumped-for-the-test")
    bumped = _annotate(lake, clips_per_task=40)
    assert (bumped["acoustics"]["computed"], bumped["acoustics"]["up_to_date"]) == (n, 0)
    versions = query("SELECT DISTINCT annotator_version FROM acoustics", lake).column(0).to_pylist()
    assert versions == ["bumped-for-the-test"]
    assert query("SELECT count(*) FROM acoustics", lake).column(0)[0].as_py() == n   # replaced, not added
    assert bumped["speaker"]["computed"] == 0        # the other stages keep their rows
    assert {r["clip_id"]: r["computed_at"] for r in Lakehouse(lake).read("speaker_features").to_pylist()} == featured
    runs = query("SELECT status, n_scanned, n_unchanged FROM runs WHERE flow = 'annotate' ORDER BY started_at",
                 lake).to_pylist()
    assert [r["n_unchanged"] for r in runs] == [0, n, 0] and {r["status"] for r in runs} == {"completed"}


def test_a_lake_rebuilt_from_scratch_takes_the_acoustics_from_the_cache(corpora, prefect_harness, tmp_path,
                                                                        private_cache):
    first, rebuilt = str(tmp_path / "first"), str(tmp_path / "rebuilt")
    for lake in (first, rebuilt):
        _ingest(lake, "folder", corpora["folder"].root)
    n = len(corpora["folder"].clips)
    assert _annotate(first, clips_per_task=4)["acoustics"]["computed"] == n
    again = _annotate(rebuilt, clips_per_task=4)["acoustics"]
    assert (again["computed"], again["cached"]) == (0, n)
    columns = "clip_id, f0_mean_hz, energy_db, speech_rate, flags"
    assert (query(f"SELECT {columns} FROM acoustics ORDER BY clip_id", rebuilt)
            == query(f"SELECT {columns} FROM acoustics ORDER BY clip_id", first))
    # the first lake already holds every row: the anti-join leaves nothing to measure or to fetch
    again_first = _annotate(first, clips_per_task=4)["acoustics"]
    assert (again_first["computed"], again_first["cached"], again_first["up_to_date"]) == (0, 0, n)


def test_broken_or_changed_audio_goes_to_rejects_and_the_rest_lands(corpora, prefect_harness, tmp_path,
                                                                    private_cache):
    root = tmp_path / "folder"
    shutil.copytree(corpora["prosody"].root, root)
    lake = str(tmp_path / "lake")
    _ingest(lake, "folder", root)
    wavs = sorted(root.rglob("*.wav"))
    wavs[0].unlink()                                            # gone since ingest
    wavs[1].write_bytes(b"RIFF" + bytes(40))                   # replaced by junk
    data = bytearray(wavs[2].read_bytes())
    data[-200:] = bytes([1] * 200)                              # still plays, other bytes
    wavs[2].write_bytes(bytes(data))
    result = _annotate(lake)
    n = len(corpora["prosody"].clips)
    assert result["acoustics"]["rejected"] == 3 and result["run"]["status"] == "completed"
    assert Lakehouse(lake).count("acoustics") == n - 3
    rejects = query("SELECT source, reason FROM rejects WHERE stage = 'acoustics' ORDER BY source", lake).to_pylist()
    assert [r["reason"] for r in rejects] == ["missing_audio", "undecodable_audio", "audio_changed"]
    assert [Path(r["source"]).name for r in rejects] == [w.name for w in wavs[:3]]
    # the speaker stage (which decodes audio) rejects the same three; its metadata-only rows still land
    assert result["speaker"]["rejected"] == 3 and Lakehouse(lake).count("speaker_features") == n - 3
    speaker_rejects = query("SELECT reason FROM rejects WHERE stage = 'speaker' ORDER BY source", lake)
    assert speaker_rejects.column(0).to_pylist() == [r["reason"] for r in rejects]
    assert Lakehouse(lake).count("speakers") == n
    # the emphasis stage, its clips spread over the worker processes, rejects them too and lands the rest
    assert result["emphasis"]["rejected"] == 3 and Lakehouse(lake).count("emphasis_features") == n - 3
    emphasis_rejects = query("SELECT reason FROM rejects WHERE stage = 'emphasis' ORDER BY source", lake)
    assert emphasis_rejects.column(0).to_pylist() == [r["reason"] for r in rejects]
    _annotate(lake)                                             # a re-run repeats no reject
    assert query("SELECT count(*) FROM rejects WHERE stage IN ('acoustics', 'speaker', 'emphasis')",
                 lake).column(0)[0].as_py() == 9
    assert Lakehouse(lake).count("emphasis_features") == n - 3


def test_ingesting_another_corpus_never_relabels_until_edges_are_frozen(corpora, prefect_harness, tmp_path,
                                                                        private_cache, capsys):
    lake = str(tmp_path / "lake")
    _ingest(lake, "folder", corpora["prosody"].root)
    auto = _annotate(lake)["labels"]["auto_version"]
    before = _labels(lake, "prosody")
    assert {v[3] for v in before.values()} == {auto}

    _ingest(lake, "libritts-r", corpora["libritts-r"].root)
    again = _annotate(lake)
    assert again["labels"]["auto_version"] is None            # every group already had edges
    assert _labels(lake, "prosody") == before
    assert {v[4] for v in _labels(lake, "libritts-r").values()} <= {auto, None}

    assert main(["bins", "show", "--lake", lake, "--format", "json"]) == 0
    shown = __import__("json").loads(capsys.readouterr().out)
    en_energy = next(r for r in shown if (r["language"], r["attribute"]) == ("en", "energy"))
    assert en_energy["version"] == auto and en_energy["population_now"] > en_energy["population"]

    assert main(["bins", "freeze", "--name", "v1", "--lake", lake]) == 0
    assert "pinned" in capsys.readouterr().out
    assert {v[4] for v in _labels(lake, "prosody").values()} == {"v1"}
    assert main(["bins", "freeze", "--name", "v1", "--lake", lake]) == 2      # frozen versions are immutable
    assert "exists and is frozen" in capsys.readouterr().err

    assert main(["bins", "use", auto, "--lake", lake]) == 0                   # back to the first edges
    assert _labels(lake, "prosody") == before


def test_fixed_edges_from_a_config_file(corpora, prefect_harness, tmp_path, private_cache, capsys):
    lake = str(tmp_path / "lake")
    _ingest(lake, "folder", corpora["prosody"].root)
    _annotate(lake)
    assert main(["bins", "freeze", "--name", "fixed", "--config", str(DOCS / "bins-fixed.toml"),
                 "--lake", lake]) == 0
    rows = query("SELECT language, gender, pitch_hz, pitch_label, speech_rate, speed_label FROM clip_annotations "
                 "WHERE pitch_label IS NOT NULL", lake).to_pylist()
    assert len(rows) == len(corpora["prosody"].clips)
    pitch_cuts = {"male": (115.69, 149.72), "female": (141.62, 184.52)}       # ParaSpeechCaps' merged Hz bins
    speed_cuts = {"en": (4.41, 5.89), "zh": (3.69, 4.93)}
    for row in rows:
        low, high = pitch_cuts[row["gender"]]
        assert row["pitch_label"] == ("low" if row["pitch_hz"] < low else "normal" if row["pitch_hz"] < high
                                      else "high")
        low, high = speed_cuts[row["language"]]
        assert row["speed_label"] == ("slow" if row["speech_rate"] < low else "normal"
                                      if row["speech_rate"] < high else "fast")
    bad = tmp_path / "bad.toml"
    bad.write_text('[en]\nspeed = [5.0, 3.0]\n')
    assert main(["bins", "freeze", "--name", "bad", "--config", str(bad), "--lake", lake]) == 2
    assert "two ascending numbers" in capsys.readouterr().err


def test_annotate_command_prints_the_label_distribution_and_the_view_answers(annotated_lake, capsys):
    assert main(["annotate", "--lake", annotated_lake]) == 0          # nothing left to do: still a clean run
    out = capsys.readouterr().out
    assert "acoustics: 0 done" in out and "label" in out and "normal" in out
    assert main(["sql", "--lake", annotated_lake, "--format", "json",
                 "SELECT pitch_label, gender, count(*) AS n FROM clip_annotations GROUP BY ALL"]) == 0
    rows = __import__("json").loads(capsys.readouterr().out)
    assert {r["pitch_label"] for r in rows} == {"low", "normal", "high", None}
    columns = query("SELECT * FROM clip_annotations LIMIT 0", annotated_lake).column_names
    for column in ("clip_id", "corpus", "language", "speaker_id", "duration_s", "transcript", "gender",
                   "age_group", "pitch_hz", "pitch_label", "energy_db", "energy_label", "speech_rate",
                   "speed_label"):
        assert column in columns


def test_views_answer_before_anything_is_annotated(ingested_lake):
    rows = query("SELECT count(*) AS n, count(pitch_label) AS labelled FROM clip_annotations",
                 ingested_lake).to_pylist()
    assert rows[0]["n"] > 0 and rows[0]["labelled"] == 0
    assert query("SELECT * FROM label_distribution WHERE attribute IN ('pitch', 'energy', 'speed')",
                 ingested_lake).num_rows == 0


def test_annotate_before_ingest_tells_what_to_do(prefect_harness, tmp_path, capsys):
    assert main(["annotate", "--lake", str(tmp_path / "empty")]) == 2
    assert "speechcraft ingest" in capsys.readouterr().err


def test_folder_speaker_table_rows_and_their_rejects(tmp_path):
    path = tmp_path / "speakers.tsv"
    path.write_text("# comment\nspeaker\tgender\tage_group\nanna\tF\tyoung adult\nbob\tm\nli\t\tElderly\n"
                    "x\tQ\nonly-one-field\nz\tF\tancient\n", encoding="utf-8")
    problems = []
    table = read_speaker_table(path, lambda number, reason, detail: problems.append((number, str(reason))))
    assert table == {"anna": ("female", "young_adult"), "bob": ("male", None), "li": (None, "elderly")}
    assert problems == [(6, "malformed_metadata"), (7, "malformed_metadata"), (8, "malformed_metadata")]


def test_word_features_from_worker_processes_are_the_ones_computed_here(annotated_lake, tmp_path):
    """The emphasis stage spreads a batch over the worker pool: the same words, spans and features as one
    process computes, and as the flow stored."""
    from speechcraft.tasks import emphasis
    from speechcraft.tasks.acoustics import stored_contours
    from speechcraft.tasks.clip_batches import pending_jobs

    lake = str(tmp_path / "lake")
    shutil.copytree(annotated_lake, lake)
    jobs = pending_jobs(Lakehouse(lake), "emphasis_features", "another-version", emphasis.FEATURE_CONFIG,
                        where="transcript IS NOT NULL AND transcript != ''").jobs
    contours = stored_contours(Lakehouse(lake), jobs)
    assert len(jobs) > 20 and len(contours) == len(jobs)

    def rows(workers: int) -> dict:
        result = emphasis.features(jobs, {}, "run", contours, workers=workers)
        return {r["clip_id"]: (r["words"], np.array(r["features"], dtype=float), r["timing"]) for r in result.rows}

    def same(a: dict, b: dict) -> bool:       # features hold NaN where a word has no voiced frame
        return a.keys() == b.keys() and all(a[k][0] == b[k][0] and a[k][2] == b[k][2] and
                                            np.array_equal(a[k][1], b[k][1], equal_nan=True) for k in a)

    here = rows(1)
    assert len(here) == len(jobs) and same(here, rows(2))
    stored = Lakehouse(lake).read("emphasis_features", ["clip_id", "words", "features", "timing"]).to_pylist()
    assert same(here, {r["clip_id"]: (r["words"], np.array(r["features"], dtype=float), r["timing"]) for r in stored})


def test_a_run_starts_the_acoustic_workers_only_when_the_stage_has_work(ingested_lake, annotated_lake):
    from speechcraft.flows.annotate import start_acoustic_workers
    from speechcraft.tasks import worker_pool

    worker_pool.pool(1).shutdown()          # whatever an earlier test left: a pool of another size, shut
    start_acoustic_workers(annotated_lake, workers=2)
    assert worker_pool._POOL_SIZE != 2
    start_acoustic_workers(ingested_lake, workers=2)
    assert worker_pool._POOL_SIZE == 2
    assert worker_pool.pool(2).submit(sum, [1, 2]).result(timeout=60) == 3
