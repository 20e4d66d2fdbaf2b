"""The demo: small corpora in the four real layouts (plus plain folders), through every stage."""
from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from ..fixtures import BUILDERS, build_all, stress, write_voice_genders
from ..warehouse.sql import query
from .annotate import annotate_flow
from .check import check_flow
from .describe import describe_flow
from .emphasize import emphasize_flow
from .ingest import ingest_flow

# (reader, fixture folder) in the order the demo ingests them
DEMO_CORPORA = [("aishell3", "aishell3"), ("libritts-r", "libritts-r"), ("gigaspeech", "gigaspeech"),
                ("zhvoice", "zhvoice"), ("zhvoice", "zhvoice-split"), ("folder", "folder"),
                ("folder", "prosody"), ("folder", "stress")]
# `stress`: plain sentences read by several voices, all regenerated with a stressed keyword: the detector's
# training and held-out set. Of the real layouts, a handful of clips each is stressed too.
STRESSED_FROM_EACH = {"aishell3": 3, "libritts-r": 3}


@flow(name="demo")
def demo_flow(workdir: str, lake_uri: str | None = None) -> dict:
    out = Path(workdir)
    if all((out / f"{name}.truth.json").exists() for name in BUILDERS):
        get_run_logger().info("reusing the corpora already built in %s", out)   # a re-run stays a no-op
    else:
        build_all(out)
    if not (out / "stress.truth.json").exists():
        stress.build(out / "stress", speakers_per_language=3, sentences=12).save(out / "stress.truth.json")
    runs = [ingest_flow(reader, str(out / folder), lake_uri=lake_uri) for reader, folder in DEMO_CORPORA]
    stressed = [emphasize_flow(lake_uri, corpora=["stress"])]
    stressed += [emphasize_flow(lake_uri, corpora=[corpus], limit=n) for corpus, n in STRESSED_FROM_EACH.items()]
    # The espeak voice behind every clip whose corpus gives no gender: what the embedded classifier's
    # predictions there are validated against (corpora with metadata validate on held-out speakers).
    reference = out / "voice-genders.tsv"
    write_voice_genders(out, reference)
    annotation = annotate_flow(lake_uri, reference=str(reference))
    descriptions = describe_flow(lake_uri)
    quality = check_flow(lake_uri)      # last: the gate over everything the demo wrote
    return {"runs": runs, "corpus_summary": query("SELECT * FROM corpus_summary", lake_uri),
            "annotation": annotation, "descriptions": descriptions, "stressed": stressed, "quality": quality}
