"""The stage model (speechcraft/stages.py): the orders are derived from the declarations, and the places that
list stages read them from there."""
from __future__ import annotations

import pytest

from speechcraft import stages


def test_the_orders_follow_the_dependencies():
    assert stages.STEPS == ("ingest", "emphasize", "annotate", "describe", "check", "export")
    assert stages.ANNOTATION_STAGES == ("transcript", "acoustics", "speaker", "emotion", "emphasis")
    for level in (stages.STEP, stages.ANNOTATION):
        order = stages.ordered(level)
        for stage in (stages.BY_NAME[name] for name in order):
            assert all(order.index(before) < order.index(stage.name) for before in stage.after), stage


def test_a_dependency_cycle_is_refused(monkeypatch):
    looped = (stages.Stage("a", stages.STEP, after=("b",)), stages.Stage("b", stages.STEP, after=("a",)))
    monkeypatch.setattr(stages, "STAGES", looped)
    with pytest.raises(ValueError, match="wait on each other"):
        stages.ordered(stages.STEP)


def test_every_list_of_stages_reads_the_declarations():
    from speechcraft.cli import build_parser
    from speechcraft.flows.annotate import STAGES
    from speechcraft.flows.pipeline import STEPS
    from speechcraft.tasks.exports import WRITING_FLOWS
    from speechcraft.tasks.quality_suites import STAGES_COVERING_ALL_CLIPS

    assert STEPS == stages.STEPS and STAGES == stages.ANNOTATION_STAGES
    assert set(WRITING_FLOWS) == {s.name for s in stages.STAGES if s.changes_exports}
    assert set(STAGES_COVERING_ALL_CLIPS) == {"acoustics", "speakers", "emotions", "labels", "descriptions"}
    run = build_parser().parse_args(["run", "--step", "describe"])
    assert run.step == ["describe"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--step", "acoustics"])     # an annotation stage is not a step


def test_a_config_naming_an_unknown_step_fails_at_load(tmp_path):
    from speechcraft.settings import ConfigError, load_project_config

    config = tmp_path / "speechcraft.toml"
    config.write_text('[pipeline]\nsteps = ["ingest", "anotate"]\n')
    with pytest.raises(ConfigError, match=r"\[pipeline\] steps has unknown step 'anotate'"):
        load_project_config(config)
