"""Synthetic corpora in the real on-disk layouts, with the truth a reader must reproduce: what `speechcraft demo`
ingests and what the test suite checks the readers against (`python -m speechcraft.tasks.demo_corpora OUT_DIR`).

Every builder writes a small corpus (espeak-ng speech plus deliberately broken inputs) and returns a
`FixtureTruth`: the clips the ingest must produce and the rejects (reason, source) it must report.

    build_all(out_dir)                    -> {"aishell3": FixtureTruth, "libritts-r": ..., ...}
    build_bulk_folder(out_dir, n_clips)   -> a large all-good `folder` corpus for benchmarks
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from . import aishell3, folder, gigaspeech, libritts_r, prosody, zhvoice
from .bulk import build_bulk_folder
from .speech import espeak_binary
from .truth import ExpectedClip, ExpectedReject, FixtureTruth

BUILDERS: dict[str, Callable[[Path], FixtureTruth]] = {
    "aishell3": aishell3.build,
    "libritts-r": libritts_r.build,
    "gigaspeech": gigaspeech.build,
    "zhvoice": zhvoice.build,              # layout (a): text/metadata.csv + text/infodata.json
    "zhvoice-split": zhvoice.build_split,  # layout (b): zhXXX/metadata.csv + zhXXX/zhXXX/...
    "folder": folder.build,
    "prosody": prosody.build,              # a folder with speakers.tsv: espeak pitch and rate sweeps per voice
}


def build_all(out_dir: Path, *, overwrite: bool = False) -> dict[str, FixtureTruth]:
    """Build every corpus into `out_dir/<name>/` and save its truth as `out_dir/<name>.truth.json`.
    With `overwrite`, those corpus folders and truth files are removed first (nothing else in out_dir)."""
    espeak_binary()                        # fail before creating anything
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    truths = {}
    for name, build in BUILDERS.items():
        root, truth_path = out_dir / name, out_dir / f"{name}.truth.json"
        if overwrite:
            shutil.rmtree(root, ignore_errors=True)
            truth_path.unlink(missing_ok=True)
        truths[name] = build(root)
        truths[name].save(truth_path)
    plant_duplicate(truths["libritts-r"], truths["folder"])
    truths["folder"].save(out_dir / "folder.truth.json")
    return truths


def plant_duplicate(source: FixtureTruth, target: FixtureTruth) -> ExpectedClip:
    """The same recording in two corpora: the first transcribed clip of `source` re-encoded (FLAC at 16 kHz,
    its transcript beside it) into `target`'s root as `reposted.flac`, a clip of no speaker folder. The
    duplicates step must find it (near: other bytes, same voice, length and words) and export it once."""
    import soundfile as sf

    from .speech import resample, write_audio

    original = next(c for c in source.clips if c.transcript and c.synth.get("voice") and c.start_s is None)
    samples, rate = sf.read(source.root / original.audio_relpath, dtype="float32", always_2d=True)
    duration = write_audio(target.root / "reposted.flac", resample(samples.mean(axis=1), rate, 16000), 16000, "flac")
    (target.root / "reposted.txt").write_text(original.transcript + "\n", encoding="utf-8")
    clip = ExpectedClip(clip_id=f"{target.corpus}/reposted", native_id="reposted", speaker_id=None, subset=None,
                        split="train", language=original.language, transcript=original.transcript,
                        transcript_raw=original.transcript + "\n", duration_s=duration,
                        audio_relpath="reposted.flac",
                        synth={**original.synth, "duplicate_of": original.clip_id})
    target.clips.append(clip)
    return clip


def write_voice_genders(out_dir: Path, path: Path) -> int:
    """A reference TSV (clip_id, gender) of the espeak voice behind every clip whose corpus gives no gender,
    for `speechcraft validate --reference`: the truth the embedded classifier is checked against where it
    is the only source. Returns the clips written."""
    lines = ["clip_id\tgender"]
    for name in BUILDERS:
        truth_path = Path(out_dir) / f"{name}.truth.json"
        for clip in FixtureTruth.load(truth_path).clips:
            voice = clip.synth.get("voice", "")
            if clip.meta_gender is None and "+" in voice:
                lines.append(f"{clip.clip_id}\t{'female' if voice.split('+')[1].startswith('f') else 'male'}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


__all__ = ["BUILDERS", "write_voice_genders", "ExpectedClip", "ExpectedReject", "FixtureTruth", "build_all", "build_bulk_folder"]
