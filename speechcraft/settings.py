"""Project-wide settings read from the environment."""
from __future__ import annotations

import os
from pathlib import Path

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


class ConfigError(ValueError):
    pass


def load_project_config(path: Path | None = None) -> dict:
    """The project config (TOML): `path`, else $SPEECHCRAFT_CONFIG, else ./speechcraft.toml when present;
    {} when there is none. Checked here so a typo fails at start-up, not after an hour of work:

        [annotate]              # defaults of `speechcraft annotate`
        stages = ["transcript", "acoustics", "speaker", "emotion"]
        vad = "energy"
        reference = "refs/gender.tsv"
        [stages.speaker]        # one table per stage with a backend: speaker, emotion, transcript
        backend = "model"       # embedded (default) / model / package.module:Class
        model = "audeering/wav2vec2-large-robust-24-ft-age-gender"   # hub id (from the local cache) or folder
        device = "auto"         # auto / cpu / cuda / cuda:1
        batch_size = 32
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
    unknown = sorted(set(config) - {"annotate", "stages"})
    if unknown:
        raise ConfigError(f"{file}: unknown section [{unknown[0]}]; sections: [annotate], [stages.NAME]")
    for stage, options in config.get("stages", {}).items():
        for key, value in options.items():
            expected = STAGE_OPTIONS.get(key)
            if expected is None:
                raise ConfigError(f"{file}: [stages.{stage}] has unknown option {key!r}; "
                                  f"options: {', '.join(STAGE_OPTIONS)}")
            allowed = (int, float) if expected is float else expected
            if not isinstance(value, allowed) or (expected is not bool and isinstance(value, bool)):
                raise ConfigError(f"{file}: [stages.{stage}] {key} must be a {expected.__name__}, not {value!r}")
    return config
