"""The argparse tree of `speechcraft`: every command, its arguments and its help, each bound to its cmd_*
function. Building it imports no heavy library (tests/test_cli.py checks prefect, lancedb, lance, duckdb and
torch), so `--help` and usage errors answer at once.

Choices are read from the code that defines them where that code is light: the corpus readers, the folder
reader's languages, write_result's formats. The lists left written out here belong to modules that import
prefect (or numpy) at import time; each says where its source is."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..tasks.corpora import READERS
from ..stages import ANNOTATION_STAGES, STEPS
from ..vocabulary import LANGUAGES, TEXT_LABELS
from .commands_corpus import cmd_ingest, cmd_sql
from .commands_outputs import cmd_check, cmd_dashboard, cmd_export
from .commands_pipeline import cmd_demo, cmd_run, cmd_serve
from .commands_voices import cmd_voices
from .commands_stages import (cmd_annotate, cmd_bins, cmd_check_text, cmd_describe, cmd_emphasize, cmd_models,
                              cmd_validate)
from .render import RESULT_FORMATS


def build_parser() -> argparse.ArgumentParser:
    lake = argparse.ArgumentParser(add_help=False)
    lake.add_argument("--lake", metavar="URI", default=None,
                      help="lakehouse location (default: $SPEECHCRAFT_LAKE, else ./lakehouse)")
    backends = argparse.ArgumentParser(add_help=False)      # annotate and describe: a stage's backend and model
    backends.add_argument("--backend", help="embedded (the default, offline), a model backend (annotate: model; "
                                            "describe: transformers, vllm), or a plug-in package.module:Class")
    backends.add_argument("--model", help="hub id (read from the local Hugging Face cache) or local folder")
    backends.add_argument("--device", help="auto (CUDA when there is one, else CPU; default), cpu, cuda, cuda:N")
    backends.add_argument("--batch-size", type=int, help="items per forward pass of a model (halved "
                                                         "automatically on out-of-memory)")
    backends.add_argument("--allow-download", action="store_true",
                          help="let a model backend download weights from the hub (off: only local weights)")
    backends.add_argument("--corpus", help="only clips of this corpus (default: all)")
    backends.add_argument("--config", type=Path, help="project config (default: $SPEECHCRAFT_CONFIG, else "
                                                      "./speechcraft.toml when present)")
    parser = argparse.ArgumentParser(
        prog="speechcraft",
        description="Speech corpora in, SpeechCraft-annotated clips out: a lakehouse on LanceDB + DuckDB, "
                    "orchestrated by Prefect.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", parents=[lake], help="read a corpus into the clips table",
                                 description="Read a corpus (metadata streamed, audio referenced and "
                                             "verified once) into the clips table; bad inputs go to rejects.")
    ingest.add_argument("corpus", choices=list(READERS))
    ingest.add_argument("root", type=Path, help="the corpus root folder")
    ingest.add_argument("--subset", action="append", metavar="NAME",
                        help="take only this subset (repeatable; default: every subset present)")
    ingest.add_argument("--name", help="folder reader: corpus name (default: the folder's name)")
    ingest.add_argument("--language", choices=LANGUAGES, help="folder reader: language (default: from text)")
    ingest.add_argument("--batch-size", type=int, default=256, help="clips per Prefect task (default 256)")
    ingest.set_defaults(func=cmd_ingest)

    sql = commands.add_parser("sql", parents=[lake], help="run a read-only SQL query",
                              description="Run a read-only DuckDB query over the lakehouse tables and views "
                                          "(clips, rejects, runs, corpus_summary, ...).")
    sql.add_argument("query")
    sql.add_argument("--format", choices=RESULT_FORMATS, default="table")
    sql.set_defaults(func=cmd_sql)

    voices = commands.add_parser(
        "voices", parents=[lake], help="clips that sound like one clip; speaker-cluster and duplicate figures",
        description="similar CLIP_ID: the clips whose voice vector is nearest (cosine) to the clip's, nearest "
                    "first. clusters: per corpus, clips with a voice vector, clips clustered, clusters, and "
                    "duplicates by kind (docs/voices.md).")
    voices.add_argument("action", choices=["similar", "clusters"])
    voices.add_argument("clip_id", nargs="?", help="similar: the clip to match")
    voices.add_argument("--limit", type=int, default=10, help="similar: clips to show (default 10)")
    voices.add_argument("--format", choices=RESULT_FORMATS, default="table")
    voices.set_defaults(func=cmd_voices)

    annotate = commands.add_parser(
        "annotate", parents=[lake, backends], help="run every annotation stage that has work, then the labels",
        description="Measure the clips that lack a row for each stage's current version (acoustics: F0, energy, "
                    "speech activity, speaking rate), in batches of Prefect tasks cached on their inputs, then "
                    "label them against the pinned bin edges.")
    # checked when the command runs, against flows/annotate.py's annotation_stages(): attribute stages
    # (tasks/attributes/) add to the built-in ones
    annotate.add_argument("--stage", action="append", metavar="STAGE",
                          help="run only this stage (repeatable; default: all, or [annotate] stages in the config): "
                               f"{', '.join(ANNOTATION_STAGES)}, or an attribute stage")
    annotate.add_argument("--clips-per-task", type=int, help="clips per Prefect task (default 256)")
    annotate.add_argument("--workers", type=int, help="worker processes of the acoustic and emphasis stages (default: the cores available)")
    # models/vad.py's VAD_BACKENDS and models/pitch.py's PITCH_TRACKERS (they import numpy: about 0.1 s
    # more for every --help)
    annotate.add_argument("--vad", choices=["energy", "silero"],
                          help="voice activity detector (default energy; silero needs the `silero` extra)")
    annotate.add_argument("--pitch", choices=["praat-ac", "ac-batched"],
                          help="F0 tracker (default ac-batched: Praat's method with all frames at once; praat-ac: "
                               "Praat itself through parselmouth; docs/annotation.md)")
    annotate.add_argument("--reference", type=Path, help="TSV of known gender/age_group per clip_id or speaker_id "
                                                         "to validate the published labels against")
    annotate.add_argument("--min-population", type=int, default=20,
                          help="clips a group needs before percentile edges are frozen for it (default 20)")
    annotate.set_defaults(func=cmd_annotate)

    validate = commands.add_parser(
        "validate", parents=[lake], help="compare speaker predictions with corpus metadata and a reference",
        description="Gender and age-group accuracy, precision and recall per class and the confusion matrix: "
                    "the embedded classifier on held-out speakers, model backends on every labelled speaker, "
                    "and the published labels against a --reference TSV. Stored in the validations table.")
    validate.add_argument("--reference", type=Path, help="TSV with a header: clip_id or speaker_id (and corpus), "
                                                         "gender and/or age_group; with --stage emphasis: "
                                                         "clip_id<TAB>stressed word (or none)")
    # flows/validate.py's STAGES (it imports prefect)
    validate.add_argument("--stage", choices=["speaker", "emphasis"], default="speaker",
                          help="speaker (default): gender and age; emphasis: the detector's sentence-level "
                               "accuracy on held-out regenerated clips (and on --reference)")
    validate.set_defaults(func=cmd_validate)

    emphasize = commands.add_parser(
        "emphasize", parents=[lake], help="regenerate clips with their keyword stressed, as new clips",
        description="Per clip: pick its most informative content word, find it in the audio, and regenerate "
                    "the clip with that word stressed (raised F0, more energy, longer), keeping the speaker's "
                    "voice (WORLD vocoder). The new clips form the corpus <name>-stressed, with the keyword as a "
                    "known emphasis label; they train and test the emphasis detector.")
    emphasize.add_argument("--corpus", action="append", metavar="NAME",
                           help="corpus to draw parents from (repeatable; default: every ingested corpus)")
    emphasize.add_argument("--limit", type=int, help="at most this many stressed clips per corpus (default: all)")
    # tasks/stressing.py's SYNTHESIZERS (it imports prefect)
    emphasize.add_argument("--backend", choices=["world", "tts"], default="world",
                           help="world (default): edit the recording itself; tts: re-synthesise with a local "
                                "FastSpeech2ConformerWithHifiGan model (--model), English only")
    emphasize.add_argument("--model", help="tts: local folder with the model and its vocab.json")
    emphasize.add_argument("--device", help="tts: auto (default), cpu, cuda, cuda:N")
    emphasize.add_argument("--pitch-scale", type=float, help="F0 multiplier on the keyword (default 1.3)")
    emphasize.add_argument("--energy-db", type=float, help="gain on the keyword in dB (default 6)")
    emphasize.add_argument("--duration-scale", type=float, help="how much longer the keyword lasts (default 1.3)")
    emphasize.add_argument("--ramp-s", type=float, help="fade between plain and stressed, seconds (default 0.04)")
    emphasize.add_argument("--clips-per-task", type=int, default=128, help="clips per Prefect task (default 128)")
    emphasize.set_defaults(func=cmd_emphasize)

    models = commands.add_parser("models", help="which backend each stage uses and where its weights come from",
                                 description="Per stage: backend, model, where its weights are read from, and "
                                             "its version, as the project config sets them.")
    models.add_argument("--format", choices=RESULT_FORMATS, default="table")
    models.add_argument("--config", type=Path, help="project config (default: ./speechcraft.toml when present)")
    models.add_argument("--packaged", action="store_true",
                        help="only the real models shipped inside packages: what, where, licence, size")
    models.set_defaults(func=cmd_models)

    describe = commands.add_parser(
        "describe", parents=[lake, backends], help="write a description and an instruction for every labelled clip",
        description="Descriptions and instructions in each clip's language, from its labels, checked for "
                    "omissions, distortions, the transcript and invented content; an LLM's failures are retried "
                    "and then replaced by the embedded generator. Only passing texts are published.")
    describe.add_argument("--tensor-parallel", type=int, help="vllm: GPUs per model")
    describe.add_argument("--retries", type=int, help="LLM attempts after the first before the embedded "
                                                      "generator takes over (default 2)")
    describe.add_argument("--conditions", action=argparse.BooleanOptionalAction, default=None,
                          help="texts also state noise, distance and expressiveness, Parler-TTS-style "
                               "(default: [stages.describe] conditions, else off)")
    describe.set_defaults(func=cmd_describe)

    check_text = commands.add_parser(
        "check-text", help="judge a description or instruction against its labels (exit 0: passes, 1: fails)",
        description="The checker the describe stage uses: omitted and distorted attributes, the transcript "
                    "(instructions), invented content.")
    check_text.add_argument("text")
    check_text.add_argument("--labels", required=True,
                            help=f"key=value,...: {', '.join(TEXT_LABELS)} "
                                 "(values as in docs/annotation-contract.md, spaces as underscores)")
    check_text.add_argument("--transcript", help="the transcript: the text is then an instruction")
    check_text.add_argument("--language", choices=sorted(LANGUAGES), help="default: from the text")
    check_text.set_defaults(func=cmd_check_text)

    bins = commands.add_parser("bins", help="show, freeze or pin the label bin edges",
                               description="Labels are computed against pinned bin-edge versions; ingesting "
                                           "more data never relabels a clip until you freeze or pin edges.")
    bins_actions = bins.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = bins_actions.add_parser("show", parents=[lake], help="the edges in force beside today's percentiles")
    show.add_argument("--format", choices=RESULT_FORMATS, default="table")
    freeze = bins_actions.add_parser("freeze", parents=[lake],
                                     help="freeze edges as a new version and pin it (relabels)")
    freeze.add_argument("--name", required=True, help="the new version's name")
    freeze.add_argument("--config", type=Path,
                        help="fixed edges from this TOML file (default: SpeechCraft percentiles of the "
                             "clips measured now); see docs/bins-fixed.toml")
    use = bins_actions.add_parser("use", parents=[lake], help="pin an existing version again (relabels)")
    use.add_argument("name")
    for action in (show, freeze, use):
        action.add_argument("--min-population", type=int, default=20, help=argparse.SUPPRESS)
    bins.set_defaults(func=cmd_bins)

    check = commands.add_parser(
        "check", parents=[lake], help="run the quality suites; exits 1 when a critical expectation fails",
        description="great-expectations suites over every table (tasks/quality_suites.py). Results go to the "
                    "quality_runs table and Data Docs HTML; a failed critical expectation blocks exports. "
                    "Nothing is changed or deleted.")
    check.add_argument("--suite", action="append", help="only this suite (repeatable; default: all)")
    check.add_argument("--docs", help="where Data Docs go (default: <lake>/quality-docs)")
    check.set_defaults(func=cmd_check)

    export = commands.add_parser(
        "export", parents=[lake], help="write the clips the quality gate passed, in a trainer's format",
        description="The clips the latest `speechcraft check` passed, measured, labelled and with a published "
                    "description and instruction (clips flagged no_speech or too_short are left out, counted per "
                    "reason): a Parler-TTS / Hugging Face parquet dataset (datasets.load_dataset(OUT)), lhotse "
                    "manifests (recordings and supervisions .jsonl.gz), or SpeechCraft JSON records (one .jsonl "
                    "per corpus). Refused (exit 1) when no check ran, the latest failed a critical expectation, or "
                    "the lakehouse changed after it. Re-running replaces the previous export in OUT.")
    # tasks/exports' FORMATS and AUDIO_MODES (it imports prefect and duckdb); tests/test_exports.py checks both
    export.add_argument("format", choices=["parler-tts", "lhotse", "speechcraft"])
    export.add_argument("out", help="a folder (created when missing) or s3://bucket/prefix")
    export.add_argument("--corpus", help="only this corpus's clips (default: all)")
    export.add_argument("--audio", choices=["embed", "reference"], default="embed",
                        help="parler-tts: embed each clip's audio as FLAC (default; GigaSpeech segments cut out) "
                             "or reference the files by path (spans as start_s/end_s columns)")
    export.add_argument("--min-snr", type=float, metavar="DB",
                        help="leave out clips under this SNR (dB, the noise stage), counted as low_snr")
    export.add_argument("--min-quality", type=float, metavar="MOS",
                        help="leave out clips under this DNSMOS OVRL (1-5, `annotate --stage quality`), counted as "
                             "low_quality")
    # tasks/exports' AUDIO_SOURCES
    export.add_argument("--audio-source", choices=["original", "enhanced"], default="original",
                        help="original (default), or the enhancement stage's copy of a clip where it kept one "
                             "(`annotate --stage enhancement`)")
    export.add_argument("--rows-per-shard", type=int,
                        help="parler-tts: rows per parquet shard (default 2000 embedded, 200000 referenced)")
    export.set_defaults(func=cmd_export)

    dashboard = commands.add_parser(
        "dashboard", parents=[lake], help="the Streamlit dashboard, read-only over the lakehouse",
        description="Overview, distributions, validation, clip browser, search and SQL pages.")
    dashboard.add_argument("--address", default="127.0.0.1",
                           help="address to bind (default 127.0.0.1: this machine only)")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.add_argument("--no-browser", "--headless", dest="no_browser", action="store_true",
                           help="never open a browser (one opens only when there is a terminal and a display)")
    dashboard.set_defaults(func=cmd_dashboard)

    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, help="project config (default: $SPEECHCRAFT_CONFIG, else "
                                                    "./speechcraft.toml when present)")
    run = commands.add_parser(
        "run", parents=[lake, config], help="the whole pipeline: ingest what is new, every stage, check, export",
        description="Every [[sources]] entry of the project config is ingested (only new or changed files), then "
                    "every stage runs over what it has not done yet, then the quality check, then the exports "
                    "(only if the check passed). Steps that fail are recorded and retried by the next run.")
    run.add_argument("--step", action="append", choices=STEPS, help="only this step (repeatable; default: all)")
    # flows/runners.py's RUNNERS (it imports prefect)
    run.add_argument("--runner", choices=["thread", "ray"], help="where every step's batches run (default: "
                                                                 "[runner] kind in the config, else threads here)")
    run.add_argument("--ray-address", help="a running Ray cluster (auto, or ray://HOST:10001); implies --runner ray")
    run.add_argument("--export-dir", help="where exports go: <dir>/<format> (default: [pipeline] export_dir, "
                                          "else <lake>/exports); a folder or s3://bucket/prefix")
    run.add_argument("--force", action="store_true", help="run the pipeline even when nothing changed since the "
                                                          "last complete run (otherwise answered in a line)")
    run.set_defaults(func=cmd_run)

    serve = commands.add_parser(
        "serve", parents=[lake, config], help="serve the pipeline on the config's schedules (Prefect deployments)",
        description="One deployment per [[sources]] entry with a schedule (cron) or interval, served from this "
                    "process against the Prefect server at $PREFECT_API_URL; without one, a local server "
                    "(SQLite) is started and its UI address printed.")
    serve.add_argument("--api-url", help="the Prefect server (default: $PREFECT_API_URL, else a local one)")
    serve.add_argument("--server-port", type=int, default=4200, help="port of the local server (default 4200)")
    serve.add_argument("--work-pool", help="register the deployments with this Prefect work pool (a process pool, "
                                           "created when missing) for workers on other machines, instead of "
                                           "running them here")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo", parents=[lake], help="build small corpora and run the pipeline on them",
                               description="Synthesise small corpora in the four real layouts (espeak-ng), "
                                           "with deliberate bad inputs, write them as the sources of a project "
                                           "config and `speechcraft run` it: every stage, check, exports.")
    demo.add_argument("--workdir", type=Path, default=Path("demo-data"),
                      help="where the generated corpora go (default ./demo-data)")
    demo.set_defaults(func=cmd_demo)
    return parser
