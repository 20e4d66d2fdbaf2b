"""Speaker embeddings ("voices as vectors"): one L2-normalised vector per clip, behind one small interface.

An encoder has `name`, `dim`, `embed(samples, sample_rate) -> float32 vector` and `describe()`. Two backends,
one line each in ENCODERS:
- `resemblyzer` (default): Resemblyzer's GE2E d-vector encoder, 256-d, whose weights ship inside the
  `resemblyzer` package (models/packaged.py); CPU, 67 audio-h/h on one process (docs/voices.md).
- `torchscript`: any TorchScript module (an ECAPA-TDNN or a WavLM-class x-vector head exported with
  `torch.jit.save`) that maps a (batch, samples) float waveform at 16 kHz to (batch, dim); the slot for GPU
  encoders. `model` names its file; `device` where it runs.

Which encoder the voice stage uses: SPEECHCRAFT_VOICE_ENCODER (`resemblyzer`, or `torchscript=/path/model.pt`),
read where the stage is declared (tasks/attributes/voice.py), so its name and model are in the stage's
configuration hash and a change of encoder recomputes every clip's vector.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from .packaged import ModelNotInstalled, find

SAMPLE_RATE = 16_000           # every encoder here takes 16 kHz mono
DIM = 256                      # what the lakehouse stores (GE2E's size); another size needs a table of its own
MIN_SECONDS = 0.5              # shorter (after trimming silence): no voice to embed

ENCODERS: dict[str, str] = {
    "resemblyzer": "speechcraft.models.voice_encoder:ResemblyzerEncoder",
    "torchscript": "speechcraft.models.voice_encoder:TorchScriptEncoder",
}


def _to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if rate == SAMPLE_RATE:
        return samples
    import soxr

    return soxr.resample(samples, rate, SAMPLE_RATE).astype(np.float32)


def _normalised(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


class ResemblyzerEncoder:
    """GE2E (Wan et al. 2018) as Resemblyzer ships it: 40 mel bands, 1.6 s windows every 0.8 s averaged into
    one utterance vector. Its own preprocessing trims long silences (webrtcvad) and normalises the level, so
    the vector describes the voice, not the pauses or the gain."""
    name = "resemblyzer"
    dim = 256

    def __init__(self, model: str | None = None, device: str = "cpu"):
        weights = Path(model) if model else find("resemblyzer")   # ModelNotInstalled: one line, what to install
        from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder(device, verbose=False, weights_fpath=weights)
        self._weights = weights

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray | None:
        from resemblyzer import preprocess_wav

        samples = _to_16k(samples, sample_rate)
        if not np.any(samples):     # digital silence: the level normalisation would divide by zero
            return None
        wav = preprocess_wav(samples, source_sr=SAMPLE_RATE)
        if len(wav) < MIN_SECONDS * SAMPLE_RATE:
            return None
        return _normalised(self._encoder.embed_utterance(wav))

    def describe(self) -> str:
        return f"resemblyzer GE2E 256-d ({self._weights.name}, {self._weights.stat().st_size} bytes)"


class TorchScriptEncoder:
    """A TorchScript speaker encoder: (batch, samples) at 16 kHz -> (batch, dim). The waveform is scaled to
    unit peak; the output is L2-normalised here, whatever the model does."""
    name = "torchscript"

    def __init__(self, model: str | None = None, device: str = "cpu"):
        if not model or not Path(model).is_file():
            raise ModelNotInstalled(f"the torchscript voice encoder needs a model file: "
                                    f"SPEECHCRAFT_VOICE_ENCODER=torchscript=/path/to/encoder.pt (got {model!r})")
        import torch

        self._torch = torch
        self._device = device
        self._module = torch.jit.load(model, map_location=device).eval()
        self._path = Path(model)
        with torch.inference_mode():
            probe = self._module(torch.zeros(1, SAMPLE_RATE, device=device))
        self.dim = int(probe.shape[-1])

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray | None:
        wav = _to_16k(samples, sample_rate)
        if len(wav) < MIN_SECONDS * SAMPLE_RATE or not wav.any():
            return None
        wav = wav / np.abs(wav).max()
        with self._torch.inference_mode():
            out = self._module(self._torch.from_numpy(wav)[None].to(self._device))
        return _normalised(out[0].float().cpu().numpy())

    def describe(self) -> str:
        return f"torchscript {self._path.name} {self.dim}-d ({self._path.stat().st_size} bytes)"


def parse_choice(choice: str | None) -> tuple[str, str | None]:
    """`resemblyzer` / `torchscript=/path/model.pt` -> (encoder name, model or None)."""
    name, _, model = (choice or "resemblyzer").partition("=")
    if name not in ENCODERS:
        raise ValueError(f"unknown voice encoder {name!r}; choose from {', '.join(ENCODERS)}")
    return name, model or None


@lru_cache(maxsize=4)
def load_encoder(name: str = "resemblyzer", model: str | None = None, device: str = "cpu"):
    """The encoder, loaded once per process (the batches of a run share it). A missing model raises
    ModelNotInstalled with the one line that says what to install; an encoder whose vectors are not DIM-d is
    refused, since the lakehouse's column is fixed-size."""
    if name not in ENCODERS:
        raise ValueError(f"unknown voice encoder {name!r}; choose from {', '.join(ENCODERS)}")
    module, _, attribute = ENCODERS[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module), attribute)
        encoder = cls(model=model, device=device)
    except ImportError as exc:
        raise ModelNotInstalled(f"the {name} voice encoder needs {exc.name}: "
                                f"pip install 'speechcraft-lakehouse[voices]'") from None
    if encoder.dim != DIM:
        raise ValueError(f"the {name} voice encoder gives {encoder.dim}-d vectors; the voice table stores {DIM}-d "
                         f"(project them, or declare a voice stage with a table of that size)")
    return encoder
