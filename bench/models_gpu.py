"""Throughput of the model backends (speaker, emotion, Whisper ASR) at several batch sizes, against the
unbatched run (batch size 1) side by side, plus the embedded speaker features for scale.

    python bench/models_gpu.py                                    # tiny random models, CPU or GPU
    python bench/models_gpu.py --speaker-model /models/age-gender-24 --emotion-model /models/ser \\
        --whisper-model /models/whisper-large-v3 --device cuda --batch-sizes 1,8,32,64 --clips 256

Clips are real speech synthesised by espeak-ng (English and Mandarin, 2-14 s) when espeak-ng is installed,
else sines in noise. Prints clips/s, audio-hours per hour and the speed-up over batch size 1 per backend.
With tiny random weights the figures measure the pipeline (decode-free: resampling, padding, batching,
transfers), not a real model's compute; pass local folders of real weights for those.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_clips(n: int, seed: int = 0):
    from speechcraft.models.annotators import Clip

    rng = np.random.default_rng(seed)
    try:
        from speechcraft.tasks.demo_corpora.speech import render_many, voice_for
        from speechcraft.tasks.demo_corpora.texts import EN, ZH

        items = [((EN if k % 2 else ZH)[k % 7], voice_for(k, "female" if k % 3 else "male",
                                                                   "en" if k % 2 else "zh")) for k in range(n)]
        audio = render_many(items, 16000)
    except Exception as exc:  # noqa: BLE001 - no espeak-ng: synthetic tones keep the bench runnable
        print(f"(espeak-ng unavailable: {exc}; using tones in noise)")
        audio = []
        for _ in range(n):
            t = np.arange(int(rng.uniform(2, 14) * 16000)) / 16000
            audio.append((0.1 * np.sin(2 * np.pi * rng.uniform(90, 260) * t)
                          + 0.01 * rng.standard_normal(len(t))).astype(np.float32))
    return [Clip(f"bench/{k}", a.astype(np.float32), 16000, "en") for k, a in enumerate(audio)]


def time_backend(stage: str, folder: str, device: str, batch_size: int, clips, extra: dict) -> float:
    from speechcraft.models.registry import load_backend

    backend = load_backend(stage, {"backend": "model", "model": folder, "device": device,
                                   "batch_size": batch_size, **extra})
    backend.load()
    backend.predict(clips[:2])                      # warm-up: kernels, caches
    _sync(backend)
    started = time.perf_counter()
    backend.predict(clips)
    _sync(backend)
    return time.perf_counter() - started


def _sync(backend) -> None:
    import torch

    if str(getattr(backend, "device", "cpu")).startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--batch-sizes", default="1,4,16")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--speaker-model", help="local folder (default: a tiny random age-gender model)")
    parser.add_argument("--emotion-model", help="local folder (default: a tiny random emotion2vec-labelled model)")
    parser.add_argument("--whisper-model", help="local folder (default: a tiny random Whisper)")
    parser.add_argument("--whisper-tokens", type=int, default=32, help="max new tokens per 30 s window")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tiny_models: a test helper
    from fixtures import tiny_models
    from speechcraft.models.hf_audio import pick_device
    from speechcraft.models.speaker_classifier import speaker_features

    device = pick_device(args.device)
    tmp = Path(tempfile.mkdtemp(prefix="bench-models-"))
    folders = {
        "speaker": args.speaker_model or str(tiny_models.age_gender(tmp / "age-gender")),
        "emotion": args.emotion_model or str(tiny_models.audio_classifier(
            tmp / "emotion", ["生气/angry", "厌恶/disgusted", "恐惧/fearful", "开心/happy", "中立/neutral",
                              "其他/other", "难过/sad", "吃惊/surprised", "<unk>"])),
        "transcript": args.whisper_model or str(tiny_models.whisper(tmp / "whisper")),
    }
    clips = make_clips(args.clips)
    audio_h = sum(c.duration_s for c in clips) / 3600
    print(f"{len(clips)} clips, {audio_h * 3600:.0f} s of audio, device {device}")

    started = time.perf_counter()
    for clip in clips:
        speaker_features(clip.samples, clip.sample_rate)
    embedded_s = time.perf_counter() - started
    print(f"\n{'backend':<34}{'batch':>6}{'seconds':>10}{'clips/s':>10}{'audio h/h':>12}{'vs batch 1':>12}")
    print(f"{'speaker embedded (features, 1 core)':<34}{'-':>6}{embedded_s:>10.2f}{len(clips) / embedded_s:>10.1f}"
          f"{audio_h / (embedded_s / 3600):>12.0f}{'':>12}")
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    for stage, folder in folders.items():
        extra = {"max_new_tokens": args.whisper_tokens} if stage == "transcript" else {}
        baseline = None
        for size in sizes:
            seconds = time_backend(stage, folder, device, size, clips, extra)
            baseline = baseline or seconds
            name = f"{stage} ({Path(folder).name})"
            print(f"{name:<34}{size:>6}{seconds:>10.2f}{len(clips) / seconds:>10.1f}"
                  f"{audio_h / (seconds / 3600):>12.0f}{baseline / seconds:>11.2f}x")


if __name__ == "__main__":
    main()
