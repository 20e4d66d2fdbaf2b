"""Voices as vectors, measured (docs/voices.md): the clustering threshold chosen on synthetic voices, then
cluster purity and gender accuracy on real speech, and the voice stage's CPU cost.

    .venv/bin/python bench/voices.py calibrate   # synthetic voices only: the threshold tasks/voices.py ships
    .venv/bin/python bench/voices.py real        # ../shared/data/realspeech: purity, inverse purity, gender
    .venv/bin/python bench/voices.py fixtures    # the fixture corpora: clusters against the espeak voices
    .venv/bin/python bench/voices.py cost        # the encoder's audio-h/h on one core

`calibrate` synthesises 20 voices (12 espeak-ng English, 4 espeak-ng Mandarin, flite's kal, awb, rms and slt:
voices built from recordings of real people) saying 5 sentences each, every take with its own level, speaking
rate and background noise (a session's variation), embeds them, clusters them as tasks/voices.py does at
each threshold from 0.50 to 0.95, and picks the one with the best harmonic mean of purity and inverse purity
(the middle of the best plateau). It never reads ../shared/data.

`real` then measures, at the threshold tasks/voices.py ships (chosen beforehand by `calibrate`), purity and
inverse purity of the clusters of the 42 real clips (33 speakers; target >= 0.9 each), and gender by
leave-one-speaker-out (each speaker predicted by a classifier trained on the other 32; nothing is chosen on
the test fold: the feature sets and the classifier are the project's as shipped), every fold and the
confusion, for the F0/cepstral features alone (today's), the embedding alone, and both (what the lakehouse
uses when a clip has an embedding; target >= 90% of speakers).
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "realspeech"
CACHE = ROOT / "build" / "voices-cache"

from speechcraft.models.voice_encoder import load_encoder  # noqa: E402
from speechcraft.tasks import voices  # noqa: E402

SENTENCES_EN = ["The quick brown fox jumps over the lazy dog near the river bank.",
                "She sells sea shells by the sea shore every summer morning.",
                "A small dog ran across the empty square at noon today.",
                "Please call Stella and ask her to bring these things with her from the store.",
                "We will meet again at the old station when the evening train arrives."]
SENTENCES_ZH = ["今天天气很好我们去公园散步吧", "这本书的故事非常有意思", "请把窗户打开让新鲜空气进来",
                "他每天早上都跑步半个小时", "我们明天下午三点在学校门口见面"]
FLITE_VOICES = ("kal", "awb", "rms", "slt")


def purity(truth: list, labels: list) -> tuple[float, float]:
    """(purity, inverse purity): the share of clips in their cluster's majority voice, and in their voice's
    majority cluster."""
    pairs = Counter(zip(labels, truth))
    def best(by_first: bool) -> int:
        top: dict = {}
        for (cluster, voice), n in pairs.items():
            key = cluster if by_first else voice
            top[key] = max(top.get(key, 0), n)
        return sum(top.values())
    return best(True) / len(truth), best(False) / len(truth)


def cluster(vectors: np.ndarray, threshold: float) -> list[int]:
    labels, _, _ = voices.assign(voices.normalise(vectors), np.zeros((0, vectors.shape[1])), threshold)
    return labels.tolist()


def embed_all(items: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, float, float]:
    """Vectors, audio seconds and wall seconds of the encoder (load excluded)."""
    encoder = load_encoder()
    start, seconds, out = time.perf_counter(), 0.0, []
    for samples, rate in items:
        seconds += len(samples) / rate
        vector = encoder.embed(samples, rate)
        out.append(np.zeros(encoder.dim, np.float32) if vector is None else vector)
    return np.array(out), seconds, time.perf_counter() - start


def synthetic_set() -> tuple[list[tuple[np.ndarray, int]], list[str]]:
    """(audio, voice) for 20 synthetic voices x 5 sentences, with per-take level, rate and noise."""
    from speechcraft.tasks.demo_corpora.speech import Voice, render, voice_for

    rng = np.random.default_rng(20)
    voices_ = [voice_for(i, "male" if i % 2 else "female", "en") for i in range(12)]
    voices_ += [voice_for(i, "male" if i % 2 else "female", "zh") for i in range(12, 16)]
    items, names = [], []
    for voice in voices_:
        sentences = SENTENCES_ZH if voice.language == "zh" else SENTENCES_EN
        for k, text in enumerate(sentences):
            take = Voice(voice.name, voice.pitch, voice.rate + int(rng.integers(-15, 16)))
            items.append((_session(render(text, take, 16000), rng), 16000))
            names.append(f"{voice.name}/p{voice.pitch}")
    for name in FLITE_VOICES if _which("flite") else ():      # calibrate says when they are left out
        for text in SENTENCES_EN:
            items.append((_session(_flite(name, text, rng), rng), 16000))
            names.append(f"flite/{name}")
    return items, names


def _flite(voice: str, text: str, rng) -> np.ndarray:
    import subprocess
    import tempfile

    from speechcraft.tasks.demo_corpora.speech import resample

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "a.wav"
        stretch = f"{rng.uniform(0.9, 1.1):.2f}"
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}", "-t", text,
                        "-o", str(out)], check=True, capture_output=True)
        samples, rate = sf.read(out, dtype="float32")
    return resample(samples, rate, 16000)


def _session(samples: np.ndarray, rng) -> np.ndarray:
    """One take's recording: its own level (-20..0 dB) and background noise (15..40 dB SNR)."""
    level = 10 ** (rng.uniform(-20, 0) / 20)
    power = float(np.mean(samples ** 2)) or 1e-9
    noise = rng.normal(0, np.sqrt(power / 10 ** (rng.uniform(15, 40) / 10)), len(samples))
    return ((samples + noise) * level / max(1e-9, np.abs(samples + noise).max())).astype(np.float32)


def calibrate(_args) -> None:
    if not _which("flite"):
        print("flite is not installed: calibrating on the espeak-ng voices only")
    items, names = synthetic_set()
    vectors, seconds, wall = embed_all(items)
    print(f"synthetic set: {len(items)} clips, {len(set(names))} voices, {seconds / 60:.1f} min of audio")
    rows = []
    for threshold in np.round(np.arange(0.50, 0.951, 0.01), 2):
        p, ip = purity(names, cluster(vectors, threshold))
        rows.append((threshold, p, ip, 2 * p * ip / (p + ip), len(set(cluster(vectors, threshold)))))
    best = max(r[3] for r in rows)
    plateau = [r[0] for r in rows if r[3] >= best - 1e-9]
    chosen = plateau[len(plateau) // 2]
    print("threshold  purity  inverse  F      clusters")
    for t, p, ip, f, n in rows:
        print(f"{t:9.2f}  {p:6.3f}  {ip:7.3f}  {f:.3f}  {n:4d}{'  <- chosen' if t == chosen else ''}")
    print(f"chosen threshold: {chosen:.2f} (middle of the best plateau {plateau[0]:.2f}-{plateau[-1]:.2f}); "
          f"tasks/voices.py ships {voices.THRESHOLD:.2f}")


def _which(binary: str) -> bool:
    import shutil
    return shutil.which(binary) is not None


def real_set() -> list[dict]:
    with (REAL / "manifest.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        samples, rate = sf.read(REAL / row["file"], dtype="float32", always_2d=True)
        row["audio"] = (samples.mean(axis=1), rate)
    return rows


def real(_args) -> None:
    rows = real_set()
    vectors, seconds, wall = embed_all([r["audio"] for r in rows])
    CACHE.mkdir(parents=True, exist_ok=True)
    speakers = [r["speaker_id"] for r in rows]
    labels = cluster(vectors, voices.THRESHOLD)
    p, ip = purity(speakers, labels)
    print(f"clusters of {len(rows)} real clips, {len(set(speakers))} speakers, threshold {voices.THRESHOLD:.2f} "
          f"(chosen on synthetic voices): {len(set(labels))} clusters, purity {p:.3f}, inverse purity {ip:.3f} "
          f"(target >= 0.9 each)")
    for cluster_id in sorted(set(labels)):
        members = [speakers[i] for i in range(len(rows)) if labels[i] == cluster_id]
        if len(members) > 1 or speakers.count(members[0]) > 1:
            print(f"  cluster {cluster_id}: {members}")
    print(f"encoder: {seconds:.0f} s of audio in {wall:.1f} s: {seconds / wall:.0f} audio-h/h on one process")
    gender_folds(rows, vectors)


def gender_folds(rows: list[dict], vectors: np.ndarray) -> None:
    from speechcraft.models.speaker_classifier import SpeakerClassifier, speaker_features

    genders = np.array(["male" if r["gender"] == "M" else "female" for r in rows])
    speakers = np.array([r["speaker_id"] for r in rows])
    base = np.array([speaker_features(*r["audio"]) for r in rows])
    both = np.hstack([base, vectors])
    sets = {"F0+cepstra (today)": (base, False), "F0+cepstra+voice vector (shipped: reading chosen by grouped "
            "CV on the training speakers)": (both, True)}
    for name, (features, grouped) in sets.items():
        right, confusion, folds = 0, Counter(), []
        for speaker in sorted(set(speakers)):
            test = speakers == speaker
            model = SpeakerClassifier.fit("gender", features[~test], genders[~test].tolist(),
                                          groups=speakers[~test].tolist() if grouped else None)
            predicted, _ = model.predict(features[test])
            truth = genders[test][0]
            verdict = Counter(predicted).most_common()[0][0]      # the majority of the speaker's clips
            right += verdict == truth
            confusion[f"{truth}->{verdict}"] += 1
            reading = getattr(model.pipeline, "reading", "features")
            folds.append(f"{speaker[:12]}:{truth[0]}->{verdict[0]}{'' if verdict == truth else '!'}"
                         f"{'(' + reading + ')' if grouped else ''}")
        print(f"gender, leave-one-speaker-out, {name}: {right}/{len(set(speakers))} speakers = "
              f"{right / len(set(speakers)):.1%}; confusion {dict(sorted(confusion.items()))}")
        print("   folds: " + " ".join(folds))


def fixtures(_args) -> None:
    """The fixture corpora without speaker ids (gigaspeech, folder): clusters against their espeak voices."""
    import tempfile

    from speechcraft.tasks.demo_corpora import BUILDERS

    with tempfile.TemporaryDirectory() as tmp:
        for name in ("gigaspeech", "folder", "prosody"):
            truth = BUILDERS[name](Path(tmp) / name)
            clips = [c for c in truth.clips if c.synth.get("voice")]
            items = []
            for clip in clips:
                samples, rate = sf.read(truth.root / clip.audio_relpath, dtype="float32", always_2d=True)
                start = int((clip.start_s or 0) * rate)
                end = int(clip.end_s * rate) if clip.end_s else len(samples)
                items.append((samples[start:end].mean(axis=1), rate))
            vectors, _, _ = embed_all(items)
            voices_ = [f"{c.synth['voice']}/p{c.synth['pitch']}" for c in clips]
            labels = cluster(vectors, voices.THRESHOLD)
            p, ip = purity(voices_, labels)
            print(f"{name}: {len(clips)} clips, {len(set(voices_))} voices -> {len(set(labels))} clusters, "
                  f"purity {p:.3f}, inverse purity {ip:.3f}")


def cost(_args) -> None:
    rows = real_set()
    items = [r["audio"] for r in rows] * 3
    _, seconds, wall = embed_all(items)
    print(f"voice stage encoder (resemblyzer, CPU, one process): {seconds / 3600:.3f} h of audio in {wall:.1f} s "
          f"= {seconds / wall:.0f} audio-h/h (RTF {wall / seconds:.4f})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["calibrate", "real", "fixtures", "cost"])
    args = ap.parse_args(argv)
    {"calibrate": calibrate, "real": real, "fixtures": fixtures, "cost": cost}[args.what](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
