"""A stage's pending clips come from an anti-join in the warehouse (DuckDB over the Lance tables) and are the
same clips, grouped by file in the same order, with the same up-to-date count, as the Python path it replaced (kept as the
oracle in bench/pending.py): for every caller of `pending_jobs`, with the arguments that caller passes.

Each case is a clip in a state the old semantics decide: done (current version, config and inputs), done
with an old version or another config, its transcript or audio changed since, never done, no transcript
(with an ASR text, which may change), a whitespace transcript, a span or a whole file, an apostrophe in its
id, another corpus. Rows written before the input-hash cache existed (a lakehouse from before this change)
are not redone."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from speechcraft.tasks import clip_batches
from speechcraft.tasks.clip_batches import ClipJob, pending_jobs
from speechcraft.warehouse import Lakehouse

BENCH = Path(__file__).resolve().parents[1] / "bench" / "pending.py"
_spec = importlib.util.spec_from_file_location("bench_pending", BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
python_pending_jobs = bench.python_pending_jobs

SHA, OTHER_SHA = "a" * 64, "b" * 64


def clip(clip_id: str, transcript: str | None = "hello there", start: float | None = 1.5, corpus: str = "c1",
         sha: str = SHA) -> dict:
    return {"clip_id": clip_id, "corpus": corpus, "audio_path": f"/audio/{corpus}/{clip_id[-1]}.wav",
            "start_s": start, "end_s": None if start is None else start + 2.0, "transcript": transcript,
            "language": "en", "audio_sha256": sha, "duration_s": 2.0}


CLIPS = [clip("c1/done"), clip("c1/old_version"), clip("c1/other_config"), clip("c1/text_changes"),
         clip("c1/audio_changes"), clip("c1/never_done"), clip("c1/asr_only", transcript=None),
         clip("c1/asr_changes", transcript=""), clip("c1/blank", transcript="   "),
         clip("c1/whole_file", start=None), clip("c1/it's", transcript="it's mine"),
         clip("c2/other_corpus", corpus="c2"), clip("c1/中文", transcript="你好，世界")]
ASR = {"c1/asr_only": "heard words", "c1/asr_changes": "first hearing"}


def stage_rows(args: dict, asr: bool) -> list[dict]:
    """A row for every clip but `never_done`, from the inputs the clips have now (the ASR text where the
    stage takes it); `old_version` and `other_config` carry another version and configuration."""
    rows = []
    for row in CLIPS:
        if row["clip_id"].endswith("never_done"):
            continue
        job = ClipJob(**row)
        if asr and not row["transcript"]:
            job = ClipJob(**{**row, "transcript": ASR.get(row["clip_id"])})
        rows.append({"clip_id": row["clip_id"] + ("#stressed" if args["done_key"] != "clip_id" else ""),
                     args["done_key"]: row["clip_id"], "input_hash": job.input_hash(),
                     "annotator_version": "0" if "old_version" in row["clip_id"] else args["version"],
                     "config_hash": "other" if "other_config" in row["clip_id"] else args["config_hash"],
                     **({"text": ASR.get(row["clip_id"])} if args["table"] == "transcripts" else {})})
    return rows


def change_inputs(lake: Lakehouse) -> None:
    """After the stage ran: a transcript corrected, a file's bytes replaced, the ASR run again."""
    lake.upsert("clips", [{**c, "transcript": "hello again"} if c["clip_id"].endswith("text_changes") else
                          {**c, "audio_sha256": OTHER_SHA} if c["clip_id"].endswith("audio_changes") else c
                          for c in CLIPS])
    heard = lake.read("transcripts", where="clip_id = 'c1/asr_changes'").to_pylist()   # a stage row too, maybe
    lake.upsert("transcripts", [{**row, "text": "second hearing"} for row in heard])


def assert_same_as_python(lake: Lakehouse, args: dict) -> set[str]:
    new = pending_jobs(lake, **args)
    old = python_pending_jobs(lake, **args)
    by_id = lambda jobs: sorted(jobs, key=lambda j: j.clip_id)   # noqa: E731 (ties of a file keep no order)
    assert by_id(new.jobs) == by_id(old.jobs) and new.up_to_date == old.up_to_date
    order = [(j.audio_path, j.start_s or 0.0) for j in new.jobs]
    assert order == sorted(order)                                # grouped by file, spans in order
    return {job.clip_id for job in new.jobs}


def check_caller(tmp_path, args: dict) -> None:
    lake = Lakehouse(tmp_path / "lake")
    lake.upsert("clips", CLIPS)
    lake.upsert("transcripts", [{"clip_id": k, "text": v} for k, v in ASR.items()])
    lake.upsert(args["table"], stage_rows(args, args["asr_transcripts"]))
    first = assert_same_as_python(lake, args)       # no cache yet: a lakehouse from before this change
    assert "c1/done" not in first and "c1/never_done" in first or args["where"], first
    assert first <= {"c1/old_version", "c1/other_config", "c1/never_done"}      # nothing else is redone
    assert assert_same_as_python(lake, args) == first                           # the cache answers the same
    assert lake.count("clip_inputs") > 0
    change_inputs(lake)
    changed = assert_same_as_python(lake, args)
    assert "c1/text_changes" in changed or args["where"]
    assert "c1/audio_changes" in changed or args["where"]
    assert ("c1/asr_changes" in changed) == (args["asr_transcripts"] and not args["where"])


class Captured(Exception):
    pass


def captured_args(monkeypatch, module, call) -> dict:
    """The arguments `module` passes to pending_jobs, with its defaults filled in."""
    import inspect

    seen = {}

    def spy(*args, **kwargs):
        seen.update(inspect.signature(pending_jobs).bind(*args, **kwargs).arguments)
        raise Captured

    monkeypatch.setattr(module, "pending_jobs", spy)
    with pytest.raises(Captured):
        call()
    monkeypatch.undo()
    defaults = {k: p.default for k, p in inspect.signature(pending_jobs).parameters.items()
                if p.default is not inspect.Parameter.empty}
    return {**defaults, **{k: v for k, v in seen.items() if k != "lake"}}


def test_acoustics(tmp_path, monkeypatch):
    from speechcraft.tasks import acoustics
    from speechcraft.tasks.acoustic_analysis import AcousticConfig

    check_caller(tmp_path, captured_args(monkeypatch, acoustics,
                                         lambda: acoustics.pending_clips(None, AcousticConfig(), "c1")))


@pytest.mark.parametrize("stage", ["transcript", "speaker", "emotion"])
def test_model_stages(tmp_path, monkeypatch, stage):
    from speechcraft.tasks import model_stages

    args = captured_args(monkeypatch, model_stages, lambda: model_stages.pending(None, stage, {}, "c1"))
    assert args["asr_transcripts"] == (stage != "transcript")
    check_caller(tmp_path, args)


def test_emphasis_features(tmp_path, monkeypatch):
    from speechcraft.tasks import emphasis

    args = captured_args(monkeypatch, emphasis, lambda: emphasis.pending(None, None))
    assert args["where"]
    check_caller(tmp_path, args)


def test_attribute_stage(tmp_path, monkeypatch):
    import pyarrow as pa

    from speechcraft.tasks.attributes import AttributeStage, pending, register, unregister

    stage = register(AttributeStage("pending_toy", "3", {"toy": pa.float64()}, lambda s, r, j: {"toy": 0.0}))
    try:
        import speechcraft.tasks.attributes as attributes

        check_caller(tmp_path, captured_args(monkeypatch, attributes, lambda: pending(None, stage.name, "c1")))
    finally:
        unregister(stage.name)


def test_stressed_parents(tmp_path, monkeypatch):
    """emphasize counts a parent as done through stressed_clips.parent_clip_id."""
    from speechcraft.tasks import stressing

    args = captured_args(monkeypatch, stressing, lambda: stressing.plan(None, ["c1"], 3, {}))
    assert args["done_key"] == "parent_clip_id"
    check_caller(tmp_path, args)


def test_no_corpus_filter_and_empty_lake(tmp_path):
    lake = Lakehouse(tmp_path / "lake")
    args = {"table": "acoustics", "version": "1", "config_hash": "c", "corpus": None, "where": None,
            "asr_transcripts": True, "done_key": "clip_id"}
    assert pending_jobs(lake, **args).jobs == [] and pending_jobs(lake, **args).up_to_date == 0
    lake.upsert("clips", CLIPS)
    assert len(assert_same_as_python(lake, args)) == len(CLIPS)     # no stage table yet: every clip
    assert clip_batches.PendingWork                                  # the type callers import stays
