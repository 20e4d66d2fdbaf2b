"""Perceived speech quality without a reference: Microsoft's DNSMOS (P.835 and P.808), as ONNX networks.

The weights ship inside the `speechmos` package (MIT; about 10 MB), run on onnxruntime on the CPU: nothing
is downloaded and no torch is needed. Emilia-Pipe keeps clips with DNSMOS OVRL >= 3.0.

DNSMOS scores 9.01 s windows of 16 kHz audio. A shorter clip is repeated to fill one window (the reference
implementation's rule); a longer one is scored in windows laid end to end, the last one ending at the clip's
end. (The reference slides its window by one second, which scores a 4 s clip five times over its own
repetitions and a 20 s clip twelve times: the same audio, several times the cost.) A clip's scores are the
means over its windows, each mapped to MOS by the package's own calibration polynomials:
- `ovrl`: overall quality (P.835 OVRL), 1-5;
- `sig`: the speech signal itself (P.835 SIG: distortion, coloration);
- `bak`: the background (P.835 BAK: 5 = no noise heard);
- `p808`: the P.808 overall MOS (a second network, on a mel spectrogram).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

RATE = 16_000
WINDOW = int(9.01 * RATE)       # the networks' input length
METRICS = ("ovrl", "sig", "bak", "p808")
MIN_SECONDS = 0.5         # a shorter clip would be repeated 18 times over: not a judgement of it


class QualityModelMissing(RuntimeError):
    """speechmos or onnxruntime is not installed."""


@lru_cache(maxsize=1)
def _dnsmos():
    try:
        import onnxruntime as ort
        import speechmos
        from speechmos.dnsmos import DNSMOS
    except ImportError as error:
        raise QualityModelMissing(
            f"the quality stage needs DNSMOS ({error.name} is not installed): "
            f"pip install speechmos onnxruntime librosa") from None
    folder = Path(speechmos.__file__).parent / "dnsmos_models"
    model = DNSMOS(str(folder / "sig_bak_ovr.onnx"), str(folder / "model_v8.onnx"))
    # one thread per session: the batches of a stage already run in parallel, one per core
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    model.onnx_sess = ort.InferenceSession(model.primary_model_path, options, providers=["CPUExecutionProvider"])
    model.p808_onnx_sess = ort.InferenceSession(str(folder / "model_v8.onnx"), options,
                                                providers=["CPUExecutionProvider"])
    return model


def load() -> None:
    """Load the networks now (QualityModelMissing, with what to install, when they are not there)."""
    _dnsmos()


def dnsmos(samples: np.ndarray, rate: int) -> dict[str, float]:
    """{ovrl, sig, bak, p808} of a mono clip at `rate` (resampled to 16 kHz here)."""
    if len(samples) < MIN_SECONDS * rate:
        raise ValueError(f"a clip of {len(samples) / rate:.2f} s is too short for DNSMOS (at least {MIN_SECONDS} s)")
    if rate != RATE:
        import soxr
        samples = soxr.resample(samples, rate, RATE)
    samples = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    model = _dnsmos()
    windows = np.stack(list(_windows(samples)))
    raw = model.onnx_sess.run(None, {"input_1": windows})[0]          # (windows, 3): sig, bak, ovrl
    sig, bak, ovrl = model.get_polyfit_val(raw[:, 0], raw[:, 1], raw[:, 2], False)
    mels = np.stack([model.audio_melspec(audio=window[:-160]) for window in windows]).astype(np.float32)
    p808 = model.p808_onnx_sess.run(None, {"input_1": mels})[0][:, 0]
    return {"ovrl": float(np.mean(ovrl)), "sig": float(np.mean(sig)), "bak": float(np.mean(bak)),
            "p808": float(np.mean(p808))}


def _windows(samples: np.ndarray):
    """9.01 s windows covering the clip: repeated to one window when shorter, else laid end to end."""
    while len(samples) < WINDOW:
        samples = np.concatenate([samples, samples])
    starts = list(range(0, len(samples) - WINDOW + 1, WINDOW))
    if starts[-1] + WINDOW < len(samples):
        starts.append(len(samples) - WINDOW)
    for start in starts:
        yield samples[start:start + WINDOW]
