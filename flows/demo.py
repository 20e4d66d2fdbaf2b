"""The demo: small corpora in the four real layouts (plus plain folders) written as [[sources]] of a project
config, then `speechcraft run` over them: every stage, the quality check and the exports."""
from __future__ import annotations

import json
from pathlib import Path

from prefect import flow, get_run_logger

from ..tasks.attributes import runs_by_default
from ..tasks.demo_corpora import BUILDERS, build_all, stress, write_voice_genders
from .annotate import annotation_stages
from .pipeline import pipeline_arguments, pipeline_flow

# (reader, fixture folder, clips regenerated with a stressed keyword) in the order the demo ingests them.
# `stress`: plain sentences read by several voices, all regenerated with a stressed keyword: the detector's
# training and held-out set. Of the real layouts, a handful of clips each is stressed too.
DEMO_SOURCES = [("aishell3", "aishell3", 3), ("libritts-r", "libritts-r", 3), ("gigaspeech", "gigaspeech", None),
                ("zhvoice", "zhvoice", None), ("zhvoice", "zhvoice-split", None), ("folder", "folder", None),
                ("folder", "prosody", None), ("folder", "stress", "all")]
CONFIG_NAME = "speechcraft.toml"


def write_demo_config(workdir: Path) -> Path:
    """The project config of the demo: its corpora as sources, and the reference their genders are checked on."""
    # every stage a plain run has, and the opt-in quality stage (DNSMOS), whose distribution the demo shows
    stages = [stage for stage in annotation_stages() if runs_by_default(stage)] + ["quality"]
    lines = ["# written by `speechcraft demo`: run it again with `speechcraft run --config THIS_FILE`", "",
             "[annotate]", f"reference = {json.dumps(str(workdir / 'voice-genders.tsv'))}",
             f"stages = {json.dumps(stages)}", ""]
    for reader, folder, stressed in DEMO_SOURCES:
        lines += ["[[sources]]", f'corpus = "{reader}"', f"path = {json.dumps(str(workdir / folder))}"]
        if stressed is not None:
            lines.append(f"stress = {json.dumps(stressed)}")
        lines.append("")
    path = workdir / CONFIG_NAME
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@flow(name="demo")
def demo_flow(workdir: str, lake_uri: str | None = None, export_dir: str | None = None) -> dict:
    """Build the demo corpora (once), write their config, and run the pipeline over them."""
    from ..settings import load_project_config

    out = Path(workdir).resolve()
    if all((out / f"{name}.truth.json").exists() for name in BUILDERS):
        get_run_logger().info("reusing the corpora already built in %s", out)   # a re-run stays a no-op
    else:
        build_all(out)
    if not (out / "stress.truth.json").exists():
        stress.build(out / "stress", speakers_per_language=3, sentences=12).save(out / "stress.truth.json")
    # The espeak voice behind every clip whose corpus gives no gender: what the embedded classifier's
    # predictions there are validated against (corpora with metadata validate on held-out speakers).
    write_voice_genders(out, out / "voice-genders.tsv")
    config = write_demo_config(out)
    arguments = pipeline_arguments(load_project_config(config))
    if export_dir:
        arguments["export_dir"] = export_dir
    return {"config": str(config), **pipeline_flow(lake_uri, **arguments)}
