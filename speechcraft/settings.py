"""Project-wide settings read from the environment."""
from __future__ import annotations

import os
from pathlib import Path

from .stages import STEPS

CACHE_ENV = "SPEECHCRAFT_CACHE"


def cache_dir() -> Path:
    """Where Prefect keeps cached task results (stage outputs keyed by their inputs): $SPEECHCRAFT_CACHE,
    else ~/.cache/speechcraft. Outside the lakehouse on purpose: a lake rebuilt from scratch over the same
    audio takes its stage results from here instead of recomputing them."""
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "speechcraft").expanduser() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


CONFIG_ENV = "SPEECHCRAFT_CONFIG"
CONFIG_FILE = "speechcraft.toml"
STAGE_OPTIONS = {"backend": str, "model": str, "device": str, "batch_size": int, "allow_download": bool,
                 "language": str, "window_s": float, "tensor_parallel": int, "retries": int,
                 "max_new_tokens": int}
# [stages.describe] also takes `conditions` (texts state noise, reverberation and monotony, Parler-TTS-style)
# and `prompt` (an LLM backend's prompt: guided or paper)
STAGE_EXTRA_OPTIONS = {"describe": {"conditions": bool, "prompt": str}}


class ConfigError(ValueError):
    pass


SECTIONS = ("pipeline", "runner", "sources", "annotate", "stages")
# The keys each config section accepts, and their types (a typo fails at start-up, not after an hour of work).
PIPELINE_OPTIONS = {"lake": str, "steps": list, "exports": list, "export_dir": str, "export_audio": str,
                    "reference": str, "min_snr": (int, float), "min_quality": (int, float), "audio_source": str}
RUNNER_OPTIONS = {"kind": str, "address": str, "in_flight": int, "resources": dict}
RESOURCE_OPTIONS = {"num_cpus": float, "num_gpus": float, "memory": int}
ANNOTATE_OPTIONS = {"stages": list, "vad": str, "pitch": str, "reference": str, "clips_per_task": int, "workers": int,
                    "min_population": int}
SOURCE_OPTIONS = {"corpus": str, "path": str, "subsets": list, "name": str, "language": str, "stress": (int, str),
                  "schedule": str, "interval": int}


def load_project_config(path: Path | None = None) -> dict:
    """The project config (TOML): `path`, else $SPEECHCRAFT_CONFIG, else ./speechcraft.toml when present;
    {} when there is none. Checked here so a typo fails at start-up, not after an hour of work:

        [pipeline]              # `speechcraft run`: the whole pipeline
        lake = "./lakehouse"    # default of --lake
        steps = ["ingest", "emphasize", "annotate", "describe", "check", "export"]   # speechcraft/stages.py
        exports = ["parler-tts", "lhotse", "speechcraft"]
        export_dir = "./exports"        # <export_dir>/<format>/ (a local folder or s3://bucket/prefix)
        min_snr = 15.0          # optional: export only clips of at least this SNR (dB; the noise stage)
        min_quality = 3.0       # optional: ... of at least this DNSMOS OVRL (the quality stage)
        audio_source = "enhanced"   # optional: the enhancement stage's copy of a clip where it kept one

        [[sources]]             # one per corpus; `speechcraft serve` schedules each one
        corpus = "aishell3"     # the reader: aishell3 / libritts-r / gigaspeech / zhvoice / folder
        path = "/data/aishell3"
        subsets = ["train"]     # optional
        stress = 50             # optional: clips regenerated with a stressed keyword ("all" or a number)
        schedule = "0 * * * *"  # optional: cron, or `interval = 3600` (seconds)

        [runner]                # where every step's batches run (ingest, emphasize, annotate, describe, export)
        kind = "ray"            # thread (default: this machine) / ray
        address = "auto"        # a running Ray cluster; omitted: a local Ray for the run
        in_flight = 16          # batches submitted ahead (default: 2 on threads, 2 per Ray CPU)
        [runner.resources.speaker]
        num_gpus = 1            # Ray resources one batch of the stage asks for

        [annotate]              # defaults of `speechcraft annotate`
        stages = ["transcript", "acoustics", "speaker", "emotion"]
        vad = "energy"
        reference = "refs/gender.tsv"
        [stages.speaker]        # one table per stage with a backend: speaker, emotion, transcript, describe
        backend = "model"       # embedded (default) / model / package.module:Class
        model = "audeering/wav2vec2-large-robust-24-ft-age-gender"   # hub id (from the local cache) or folder
        device = "auto"         # auto / cpu / cuda / cuda:1
        batch_size = 32
        [stages.describe]
        conditions = true       # texts also state noise, distance and expressiveness (default: false)
    """
    import tomllib

    explicit = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    file = explicit or Path(CONFIG_FILE)
    if not file.is_file():
        if explicit:
            raise ConfigError(f"config file {file} does not exist")
        return {}
    try:
        config = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    unknown = sorted(set(config) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{file}: unknown section [{unknown[0]}]; sections: "
                          + ", ".join(f"[{s}]" for s in SECTIONS))
    _check_options(file, "pipeline", config.get("pipeline", {}), PIPELINE_OPTIONS)
    unknown_steps = sorted(set(config.get("pipeline", {}).get("steps", [])) - set(STEPS))
    if unknown_steps:
        raise ConfigError(f"{file}: [pipeline] steps has unknown step {unknown_steps[0]!r}; steps: {', '.join(STEPS)}")
    runner = config.get("runner", {})
    _check_options(file, "runner", runner, RUNNER_OPTIONS)
    for stage, resources in runner.get("resources", {}).items():
        _check_options(file, f"runner.resources.{stage}", resources, RESOURCE_OPTIONS)
    sources = config.get("sources", [])
    if not isinstance(sources, list):
        raise ConfigError(f"{file}: sources are a list of tables: write [[sources]], not [sources]")
    for number, source in enumerate(sources, 1):
        _check_options(file, f"sources #{number}", source, SOURCE_OPTIONS)
        missing = [k for k in ("corpus", "path") if k not in source]
        if missing:
            raise ConfigError(f"{file}: [[sources]] #{number} needs {missing[0]} = ...")
        if "schedule" in source and "interval" in source:
            raise ConfigError(f"{file}: [[sources]] #{number} has both schedule and interval: keep one")
    _check_options(file, "annotate", config.get("annotate", {}), ANNOTATE_OPTIONS)
    for stage, options in config.get("stages", {}).items():
        _check_options(file, f"stages.{stage}", options, {**STAGE_OPTIONS, **STAGE_EXTRA_OPTIONS.get(stage, {})})
    return config


def _check_options(file: Path, section: str, options: dict, known: dict) -> None:
    for key, value in options.items():
        expected = known.get(key)
        if expected is None:
            raise ConfigError(f"{file}: [{section}] has unknown option {key!r}; options: {', '.join(known)}")
        allowed = expected if isinstance(expected, tuple) else (int, float) if expected is float else (expected,)
        if not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            names = " or ".join(t.__name__ for t in allowed if t is not int or float not in allowed)
            raise ConfigError(f"{file}: [{section}] {key} must be a {names}, not {value!r}")


def annotate_defaults(config: dict) -> dict:
    """annotate_flow's arguments as the project config's [annotate] and [stages.*] set them."""
    defaults = config.get("annotate", {})
    return {"stages": defaults.get("stages"),
            "backends": {stage: dict(options) for stage, options in config.get("stages", {}).items()},
            "clips_per_task": defaults.get("clips_per_task", 256), "workers": defaults.get("workers"),
            "acoustic_options": {"vad": defaults.get("vad", "energy"), "pitch": defaults.get("pitch")},
            "reference": defaults.get("reference"),
            **({"min_population": defaults["min_population"]} if "min_population" in defaults else {})}
