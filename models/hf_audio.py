"""What the transformers backends share: finding weights offline, the device, batching that survives
out-of-memory, resampling, and running a clip of any length through a fixed window.

Weights come from a local folder or from the Hugging Face cache; nothing is downloaded unless the user
allows it (`allow_download`), so a model that is not on the machine fails before any work is done.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class ModelLoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class ModelSource:
    spec: str            # as the user gave it: a hub id or a folder
    path: Path           # the local folder the weights are read from
    where: str           # for `speechcraft models`
    version: str         # the hub commit, or a fingerprint of the folder's files


def resolve_model(spec: str, allow_download: bool = False) -> ModelSource:
    """The local folder holding `spec`'s weights: `spec` itself when it is a folder, else its snapshot in the
    Hugging Face cache. Raises ModelLoadError naming the id and how to supply it."""
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").exists():
            raise ModelLoadError(f"model folder {folder} has no config.json: point --model at the folder a "
                                 f"transformers model was saved to (save_pretrained / `hf download ID --local-dir`)")
        return ModelSource(spec, folder.resolve(), f"local folder {folder.resolve()}", _fingerprint(folder))
    if spec.startswith((".", "/", "~")):
        raise ModelLoadError(f"model folder {spec} does not exist")
    from huggingface_hub import snapshot_download
    from huggingface_hub.constants import HF_HUB_CACHE
    try:
        path = Path(snapshot_download(spec, local_files_only=not allow_download))
    except Exception as exc:  # noqa: BLE001 - hub errors have many types; all mean "not available here"
        raise ModelLoadError(
            f"cannot load model {spec!r} offline: it is neither a local folder nor in the Hugging Face cache "
            f"({HF_HUB_CACHE}). Either download it where there is network (`hf download {spec} --local-dir "
            f"DIR`), copy DIR here and pass --model DIR (or `model = \"DIR\"` in the project config), or allow "
            f"downloads with --allow-download. ({type(exc).__name__})") from None
    return ModelSource(spec, path, f"Hugging Face cache {path}", f"{spec}@{path.name[:12]}")


def packaged_source(name: str) -> ModelSource:
    """A model shipped inside a package (models/packaged.py): its file or folder, versioned by the package's
    version. Raises ModelLoadError with the one line saying what to install."""
    import importlib.metadata

    from . import packaged

    try:
        path = packaged.find(name)
    except packaged.ModelNotInstalled as exc:
        raise ModelLoadError(str(exc)) from None
    about = packaged.MODELS[name]
    distribution = about.package.replace("_", "-")
    version = importlib.metadata.version(distribution)
    return ModelSource(name, path, f"{path} (package {distribution} {version}, {about.licence})",
                       f"{name}@{distribution}=={version}")


class LocalModel:
    """A transformers model read from a local folder: resolved when built (a model that is not on the machine
    fails at once, before any work) and loaded on first use (`speechcraft models` lists without loading).
    Subclasses say what to load in `load_network`; a ValueError there (wrong labels, missing config) is a
    load error too."""

    def __init__(self, model: str | ModelSource, device: str = "auto", batch_size: int = 16,
                 allow_download: bool = False):
        # a subclass that finds its weights its own way (a GGUF file, a packaged model) passes them resolved
        self.source = model if isinstance(model, ModelSource) else resolve_model(model, allow_download)
        self.requested_device, self.batch_size = device, batch_size
        self.network = None

    def load_network(self, path: Path, dtype):
        """The torch module (and whatever processor it needs, kept on self)."""
        raise NotImplementedError

    def load(self) -> None:
        if self.network is not None:
            return
        self.device = pick_device(self.requested_device)
        try:
            self.network = self.load_network(self.source.path, dtype_for(self.device)).to(self.device).eval()
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot load {self.source.spec!r} from {self.source.path}: {exc}") from None


def _fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of the folder's files: changes when the weights do."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(folder)}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}\x1e".encode())
    return f"{folder.name}@{digest.hexdigest()[:12]}"


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"device {requested!r} asked for, but torch sees no CUDA GPU "
                             f"(torch {torch.__version__}); use --device cpu or auto")
    return requested


def dtype_for(device: str):
    """Half precision on GPU; full on CPU, where float16 matmuls are slow or missing."""
    import torch

    return torch.float16 if device.startswith("cuda") else torch.float32


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def in_batches(items: Sequence[T], batch_size: int, run: Callable[[Sequence[T]], list[R]],
               out_of_memory: Callable[[BaseException], bool] = is_out_of_memory) -> list[R]:
    """`run` over consecutive batches of `items`. A batch that runs out of memory is retried at half the
    size (down to one item) and the smaller size is kept for the rest."""
    results: list[R] = []
    size, start = max(1, batch_size), 0
    while start < len(items):
        batch = items[start:start + size]
        try:
            results.extend(run(batch))
        except Exception as exc:
            if size == 1 or not out_of_memory(exc):
                raise
            size //= 2
            log.warning("out of memory on a batch of %d; retrying with batches of %d", len(batch), size)
            _free_gpu_memory()
            continue
        start += len(batch)
    return results


def _free_gpu_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return samples.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(samples, rate, target).astype(np.float32, copy=False)


def windows(samples: np.ndarray, rate: int, window_s: float) -> list[np.ndarray]:
    """A clip cut into consecutive windows of at most `window_s` (the last one shorter), so that a clip
    longer than a model's window is analysed whole. A last piece under a second joins the one before it."""
    size = int(window_s * rate)
    if len(samples) <= size:
        return [samples]
    pieces = [samples[i:i + size] for i in range(0, len(samples), size)]
    if len(pieces[-1]) < rate:
        pieces[-2] = np.concatenate([pieces[-2], pieces.pop()])
    return pieces


def by_length(lengths: Sequence[int]) -> list[int]:
    """Indices longest first: batches of similar lengths waste little on padding."""
    return sorted(range(len(lengths)), key=lambda i: -lengths[i])
