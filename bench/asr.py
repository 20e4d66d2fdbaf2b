"""Benchmark of the transcript backends on real speech, and of Whisper's word times for the emphasis aligner.

    python bench/asr.py [--stress-speakers 3] [--stress-sentences 12] [--workdir bench-data] [--no-aligner]

Every configuration runs through the backend the transcript stage uses (models/faster_whisper_asr.py), on the
CPU, after its models are loaded (load time is not counted; it is printed). Nothing here was tuned on these
clips: they are an evaluation set, and the settings (faster-whisper's default decoding, the Mandarin prompt
from stack-notes) were fixed before they were run.

1. WER, English: the real clips with transcripts in ../shared/data/realspeech/manifest.tsv (LibriSpeech,
   LJSpeech, JFK) and Debian's pocketsphinx-testdata (LibriVox "Sense and Sensibility", and the `cards`
   recordings; `apt-get install pocketsphinx-testdata`), by faster-whisper tiny.en and base.
   Normalised, reference and hypothesis alike, by Whisper's English normaliser (transformers'
   EnglishTextNormalizer, no spelling map: the one the Whisper paper and the Open ASR leaderboard use): lower
   case, punctuation dropped, spelled-out numbers and digits both written as digits ("eighteen thirteen" and
   "1813" are one word), contractions and titles expanded ("Mr." = "mister").
2. CER, Mandarin: the real AISHELL-1/3 clips of the manifest, by base with and without the prompt. Punctuation
   (Unicode P*) and spaces are removed; characters are compared as written: traditional characters are errors
   (no conversion: it would hide what the prompt does); numbers are not converted either.
3. Every error rate twice: pooled (errors over reference length, all clips) and per speaker (each speaker's
   pooled rate, then their mean), since some speakers have three clips and others one.
4. Language detection (base, first 30 s, between zh and en) on every real clip of the manifest, and the
   default backend end to end (detect, then the language's model) on the clips with transcripts.
5. CPU cost of each configuration in audio-hours per hour (audio seconds over transcription seconds, with the
   backend's default threads, models/faster_whisper_asr.default_threads; shared machines make this noisy: the
   load average is printed). Decoding is float32 on a CPU (the weights as shipped); one int8 row shows what
   quantising would change.
6. Aligner: word-boundary error against espeak-ng's own word events (bench/emphasis.py's helpers), for the
   embedded aligner and for Whisper's word times turned into spans by the emphasis stage's own code
   (models/word_aligner.word_spans), on the same clips: those whose Whisper words spell the sentence (the only
   ones where the stage uses Whisper's times).
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))       # bench/emphasis.py's helpers

from emphasis import boundary_errors, print_boundary_errors  # noqa: E402

from speechcraft.models.annotators import Clip  # noqa: E402
from speechcraft.models.faster_whisper_asr import FasterWhisperTranscriber, default_threads  # noqa: E402

REALSPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "realspeech"
POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")


@dataclass
class Utterance:
    name: str
    speaker: str
    language: str
    reference: str
    samples: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def _mono(path: Path) -> tuple[np.ndarray, int]:
    from speechcraft.tasks.audio import decode_audio

    audio = decode_audio(path)
    return audio.samples.mean(axis=1).astype(np.float32), audio.sample_rate


def realspeech(with_text: bool = True) -> list[Utterance]:
    rows = csv.DictReader(open(REALSPEECH / "manifest.tsv", encoding="utf-8"), delimiter="\t")
    return [Utterance(Path(r["file"]).stem, f"{r['corpus']}:{r['speaker_id']}", r["language"], r["transcript"],
                      *_mono(REALSPEECH / r["file"])) for r in rows if r["transcript"].strip() or not with_text]


def pocketsphinx_testdata() -> list[Utterance]:
    """LibriVox and cards: `<s> text </s> (id)` lines beside the id's .wav; one speaker each."""
    found = []
    for folder, listing in (("librivox", "transcription"), ("cards", "cards.transcription")):
        for line in (POCKETSPHINX / folder / listing).read_text().splitlines():
            match = re.fullmatch(r"\s*<s>(.*)</s>\s*\((\S+)\)\s*", line)
            if match:
                found.append(Utterance(match[2], f"pocketsphinx-{folder}", "en", match[1].strip(),
                                       *_mono(POCKETSPHINX / folder / f"{match[2]}.wav")))
    return found


def edit_distance(a: list, b: list) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def units(text: str, language: str) -> list[str]:
    """Words (English, normalised as the docstring says) or characters (Mandarin, punctuation and spaces out)."""
    if language == "en":
        return english_normaliser()(text).split()
    return [ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P")]


_NORMALISER = []


def english_normaliser():
    if not _NORMALISER:
        from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

        _NORMALISER.append(EnglishTextNormalizer({}))
    return _NORMALISER[0]


@dataclass
class Run:
    name: str
    hypotheses: dict[str, tuple[str, str | None]]     # utterance -> (text, language)
    load_s: float
    wall_s: float
    audio_s: float

    @property
    def audio_hours_per_hour(self) -> float:
        return self.audio_s / self.wall_s


def transcribe(name: str, options: dict, utterances: list[Utterance]) -> Run:
    t = time.perf_counter()
    backend = FasterWhisperTranscriber(**options)
    backend.load()
    load_s = time.perf_counter() - t
    clips = [Clip(u.name, u.samples, u.rate, u.language if options.get("language") != "detect" else None)
             for u in utterances]
    t = time.perf_counter()
    found = backend.predict(clips)
    wall_s = time.perf_counter() - t
    return Run(name, {u.name: (p.text, p.language) if p else ("", None) for u, p in zip(utterances, found)},
               load_s, wall_s, sum(u.seconds for u in utterances))


def error_rates(run: Run, utterances: list[Utterance]) -> tuple[float, float, dict[str, tuple[int, int]]]:
    """(pooled rate, mean of the speakers' rates, speaker -> (errors, reference length))."""
    by_speaker: dict[str, list[int]] = {}
    for u in utterances:
        ref, hyp = units(u.reference, u.language), units(run.hypotheses[u.name][0], u.language)
        tally = by_speaker.setdefault(u.speaker, [0, 0])
        tally[0] += edit_distance(ref, hyp)
        tally[1] += len(ref)
    errors, length = (sum(t[i] for t in by_speaker.values()) for i in (0, 1))
    return errors / length, float(np.mean([e / n for e, n in by_speaker.values()])), \
        {s: (e, n) for s, (e, n) in by_speaker.items()}


def report(title: str, metric: str, sets: dict[str, list[Utterance]], runs: list[tuple[Run, str]],
           verbose: bool) -> None:
    print(f"\n== {title} ==")
    print(f"{'backend':40}{'set':>16}{'clips':>6}{'spk':>5}{metric + ' pooled':>13}{'per speaker':>12}"
          f"{'audio-h/h':>10}{'load s':>8}")
    for run, set_name in runs:
        utterances = sets[set_name]
        pooled, per_speaker, speakers = error_rates(run, utterances)
        print(f"{run.name:40}{set_name:>16}{len(utterances):6d}{len(speakers):5d}{pooled:13.1%}{per_speaker:12.1%}"
              f"{run.audio_hours_per_hour:10.0f}{run.load_s:8.1f}")
        if verbose:
            for speaker, (errors, length) in sorted(speakers.items()):
                print(f"    {speaker:50} {errors:4d}/{length:<4d} {errors / length:6.1%}")


def detection(backend: FasterWhisperTranscriber, utterances: list[Utterance]) -> None:
    from speechcraft.models.hf_audio import resample

    confusion: dict[tuple[str, str], int] = {}
    t = time.perf_counter()
    for u in utterances:
        found = backend.detect(resample(u.samples, u.rate, 16000))
        confusion[(u.language, found)] = confusion.get((u.language, found), 0) + 1
    seconds = time.perf_counter() - t
    right = sum(n for (truth, found), n in confusion.items() if truth == found)
    print(f"\n== language detection (whisper-base, first 30 s, zh or en) on {len(utterances)} real clips ==")
    print(f"accuracy {right}/{len(utterances)} = {right / len(utterances):.1%}; "
          + ", ".join(f"{truth}->{found}: {n}" for (truth, found), n in sorted(confusion.items()))
          + f"; {seconds / len(utterances) * 1000:.0f} ms a clip")


def aligner(workdir: Path, speakers: int, sentences: int) -> None:
    from speechcraft.models.word_aligner import EmbeddedAligner, word_spans
    from speechcraft.models.word_prosody import analyse
    from speechcraft.tasks.demo_corpora import stress

    root = workdir / "asr-stress"
    shutil.rmtree(root, ignore_errors=True)
    truth = stress.build(root, speakers, sentences)
    backend = FasterWhisperTranscriber()
    errors: dict[tuple[str, str], list[float]] = {}
    usable = {language: [0, 0] for language in ("en", "zh")}
    for clip in truth.clips:
        samples, rate = _mono(truth.root / clip.audio_relpath)
        words = [w[0] for w in clip.synth["words"]]
        transcription = backend.predict([Clip(clip.native_id, samples, rate, clip.language)])[0]
        stamps = [{"word": w.word, "start_s": w.start_s, "end_s": w.end_s} for w in transcription.words] \
            if transcription else []
        frames = analyse(samples, rate)
        spans, source = word_spans(frames, words, clip.language, stamps)
        usable[clip.language][1] += 1
        if source != "whisper":      # Whisper's words do not spell the sentence: the stage would not use them
            continue
        usable[clip.language][0] += 1
        errors.setdefault(("Whisper word times", clip.language), []).extend(boundary_errors(clip, spans))
        embedded = EmbeddedAligner().align(frames, words, clip.language)
        errors.setdefault(("embedded aligner", clip.language), []).extend(boundary_errors(clip, embedded))
    print(f"\n{len(truth.clips)} espeak-ng clips; Whisper's words spell the sentence (so the emphasis stage uses "
          "its times) in " + ", ".join(f"{lang} {n}/{total}" for lang, (n, total) in usable.items())
          + "; both aligners on those clips:")
    print_boundary_errors(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--stress-speakers", type=int, default=3, help="espeak voices per language (aligner)")
    parser.add_argument("--stress-sentences", type=int, default=12)
    parser.add_argument("--no-aligner", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="per-speaker errors")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, {default_threads()} CTranslate2 thread(s), load average {os.getloadavg()[0]:.1f} "
          f"at start (shared machine: timings are noisy)")
    real = realspeech()
    sets = {"realspeech": [u for u in real if u.language == "en"], "realspeech-zh": [u for u in real if u.language == "zh"]}
    if POCKETSPHINX.is_dir():
        sets["pocketsphinx"] = pocketsphinx_testdata()
    else:
        print("pocketsphinx-testdata is not installed (apt-get install pocketsphinx-testdata): its clips are skipped")
    english = [name for name in ("realspeech", "pocketsphinx") if name in sets]
    runs = []
    for name, options in (("faster-whisper whisper-tiny.en", {"model": "whisper-tiny.en", "language": "en"}),
                          ("faster-whisper whisper-base", {"model": "whisper-base", "language": "en"}),
                          # not the default (weights as shipped are): what int8 would cost in accuracy, and save
                          ("faster-whisper whisper-tiny.en, int8", {"model": "whisper-tiny.en", "language": "en",
                                                                    "compute_type": "int8"})):
        runs += [(transcribe(name, options, sets[s]), s) for s in english]
    report("WER, English (Whisper's English normaliser)", "WER", sets, runs, args.verbose)
    zh = [(transcribe("faster-whisper whisper-base + prompt", {"model": "whisper-base", "language": "zh"},
                      sets["realspeech-zh"]), "realspeech-zh"),
          (transcribe("faster-whisper whisper-base, no prompt", {"model": "whisper-base", "language": "zh",
                                                                  "prompts": {}}, sets["realspeech-zh"]),
           "realspeech-zh"),
          # for comparison, not the stage's set-up: what word timestamps cost (stack-notes' 9.8% does not say)
          (transcribe("faster-whisper whisper-base + prompt, no word times", {"model": "whisper-base", "language": "zh",
                                                                           "word_timestamps": False},
                      sets["realspeech-zh"]), "realspeech-zh")]
    report("CER, Mandarin (punctuation and spaces removed, characters as written)", "CER", sets, zh, args.verbose)
    default = transcribe("default (detect, then tiny.en / base)", {"language": "detect"}, real)
    print("\n== the default backend on clips of unknown language (the folder case), real clips with transcripts ==")
    for language, metric in (("en", "WER"), ("zh", "CER")):
        part = [u for u in real if u.language == language]
        pooled, per_speaker, _ = error_rates(default, part)
        wrong = sum(default.hypotheses[u.name][1] != language for u in part)
        print(f"{language}: {metric} pooled {pooled:.1%}, per speaker {per_speaker:.1%}; language detected wrong "
              f"on {wrong} of {len(part)}")
    print(f"audio-h/h {default.audio_hours_per_hour:.0f} (detection included) over {len(real)} clips")
    detection(FasterWhisperTranscriber(language="detect"), realspeech(with_text=False))
    if not args.no_aligner:
        aligner(args.workdir.resolve(), args.stress_speakers, args.stress_sentences)


if __name__ == "__main__":
    main()
