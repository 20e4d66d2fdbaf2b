"""The `faster-whisper` transcript backend: Whisper as CTranslate2 files, with word timestamps and language
detection; by default the real models that ship inside packages (models/packaged.py, docs/models.md).

Which model: `model` names one for every clip: a CTranslate2 folder, a packaged name (`whisper-tiny.en`,
`whisper-base`), or a hub id read from the Hugging Face cache (downloaded only with `allow_download`).
Without it, the packaged pair: tiny.en for English (an English-only model: cheaper and no worse there), base
for Mandarin and for telling the two apart.

Which language: a clip whose corpus declares its language is transcribed in it; a clip of unknown language
(a folder corpus: `Clip.language` None) is detected by the multilingual model, among the project's
languages. `language = "detect"` detects every clip; `"en"` / `"zh"` forces one.

Mandarin gets an initial prompt written in simplified characters: without one Whisper base often writes
traditional ones (stack-notes measured CER 27% without, 9.8% with). The prompt is fixed, never tuned on the
evaluation clips (bench/asr.py); `prompts = {}` turns it off, `prompts = {zh = "..."}` replaces it.

A clip of any length is transcribed whole: faster-whisper's own long-form loop moves through it window by
window (30 s each), times relative to the clip. Decoding is faster-whisper's default (beam 5, temperature
fallback) except that a window is not conditioned on the text before it (see `_transcribe`); the models load on
first use and stay loaded for the process (the registry caches the backend).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path

from ..vocabulary import LANGUAGES
from . import packaged
from .annotators import BackendInfo, Clip, Transcription, Word
from .hf_audio import ModelLoadError, ModelSource, resolve_model, resample
from .whisper_asr import append_text

SAMPLE_RATE = 16_000                       # what Whisper's features are computed at
PACKAGED_BY_LANGUAGE = {"en": "whisper-tiny.en", "zh": "whisper-base"}
DETECTOR = "whisper-base"                  # multilingual: the one that can tell zh from en
PROMPTS = {"zh": "以下是普通话的句子。"}   # "what follows are Mandarin sentences", in simplified characters
LANGUAGE_MODES = ("auto", "detect", *LANGUAGES)
WHISPER_FRAME_S = 0.02                     # the time resolution of Whisper's word alignment
SPEECH_PAD_MS = 100                        # VAD spans widened by this: a word's soft edges are still speech
INSTALL = "pip install 'speechcraft-lakehouse[asr]'"


def asr_missing() -> str | None:
    """None when faster-whisper and the packaged models it uses by default are installed, else the one line
    saying what to install."""
    for module, package in (("faster_whisper", "faster-whisper"), ("opencc", "opencc")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed: {INSTALL}"
    for name in {*PACKAGED_BY_LANGUAGE.values(), DETECTOR}:
        try:
            packaged.find(name)
        except packaged.ModelNotInstalled as exc:
            return str(exc)
    return None


def resolve_ct2(spec: str, allow_download: bool = False) -> ModelSource:
    """Where a CTranslate2 Whisper model is: a packaged name, a folder, or a hub id in the local cache."""
    if spec in packaged.MODELS:
        try:
            path = packaged.find(spec)
        except packaged.ModelNotInstalled as exc:
            raise ModelLoadError(str(exc)) from None
        about = packaged.MODELS[spec]
        distribution = about.package.replace("_", "-")
        version = importlib.metadata.version(distribution)
        return ModelSource(spec, path, f"{path} (package {distribution} {version}, {about.licence})",
                           f"{spec}@{distribution}=={version}")
    folder = Path(spec).expanduser()
    if folder.is_dir() and not (folder / "model.bin").is_file():
        raise ModelLoadError(f"model folder {folder} has no model.bin: point `model` at a CTranslate2 Whisper "
                             f"folder (ct2-transformers-converter --model ID --output_dir DIR), or name a "
                             f"packaged one: {', '.join(PACKAGED_BY_LANGUAGE.values())}")
    source = resolve_model(spec, allow_download)
    if not (source.path / "model.bin").is_file():
        raise ModelLoadError(f"{spec!r} at {source.path} is not a CTranslate2 model (no model.bin): faster-whisper "
                             f"reads the output of ct2-transformers-converter")
    return source


class FasterWhisperTranscriber:
    needs_audio = True

    def __init__(self, model: str | None = None, device: str = "auto", compute_type: str = "default",
                 cpu_threads: int | None = None, language: str = "auto", beam_size: int = 5, allow_download: bool = False,
                 prompts: dict[str, str] | None = None, word_timestamps: bool = True, batch_size: int = 1):
        # batch_size is accepted as every backend's runtime option; clips go one at a time (CTranslate2 batches
        # the beams of one clip)
        if language not in LANGUAGE_MODES:
            raise ValueError(f"faster-whisper: language {language!r} must be one of {', '.join(LANGUAGE_MODES)}")
        if importlib.util.find_spec("faster_whisper") is None:
            raise ModelLoadError(f"the faster-whisper transcript backend needs faster-whisper: {INSTALL}")
        self.by_language = {lang: model for lang in LANGUAGES} if model else dict(PACKAGED_BY_LANGUAGE)
        self.detector = model or DETECTOR
        self.language, self.beam_size = language, beam_size
        self.prompts = dict(PROMPTS if prompts is None else prompts)      # per language; {}: none
        self.word_timestamps = word_timestamps        # off: no `words` (the emphasis stage aligns on its own)
        self.device, self.compute_type = device, compute_type
        self.cpu_threads = default_threads() if cpu_threads is None else cpu_threads
        needed = [self.by_language[language]] if language in LANGUAGES else [*self.by_language.values(), self.detector]
        # resolved now, so that a model not on this machine fails before any work; loaded on first use
        self.sources = {spec: resolve_ct2(spec, allow_download) for spec in dict.fromkeys(needed)}
        self.loaded: dict = {}

    def describe(self) -> BackendInfo:
        uses: dict[str, list[str]] = {spec: [] for spec in self.sources}
        for language, spec in self.by_language.items():
            if spec in uses and self.language in (language, "auto", "detect"):
                uses[spec].append(language)
        if self.language not in LANGUAGES:
            uses[self.detector].append("language detection")
        model = "; ".join(f"{spec} ({', '.join(jobs)})" for spec, jobs in uses.items())
        weights = "; ".join(source.where for source in self.sources.values())
        prompts = hashlib.sha256(json.dumps(self.prompts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:8]
        # what is kept of the decoding is part of the version: a lakehouse transcribed before re-runs the stage
        decoding = (f"beam {self.beam_size}, unconditioned, unheard segments dropped, zh via opencc "
                    f"{importlib.metadata.version('opencc')} t2s" + ("" if self.word_timestamps else ", no word times"))
        version = (f"{', '.join(s.version for s in self.sources.values())}; faster-whisper "
                   f"{importlib.metadata.version('faster-whisper')}, ctranslate2 {importlib.metadata.version('ctranslate2')}; "
                   f"language={self.language}; {decoding}; {self.compute_type}; prompts {prompts}")
        return BackendInfo("faster-whisper", model, weights, version)

    def load(self, spec: str | None = None):
        """The loaded model for `spec` (every model this backend needs when None): once per process."""
        if spec is None:
            for each in self.sources:
                self.load(each)
            return None
        if spec not in self.loaded:
            from faster_whisper import WhisperModel

            try:
                self.loaded[spec] = WhisperModel(str(self.sources[spec].path), device=self.device,
                                                 compute_type=_compute_type(self.compute_type, self.device),
                                                 cpu_threads=self.cpu_threads, local_files_only=True)
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelLoadError(f"cannot load {spec!r} from {self.sources[spec].path}: {exc}") from None
        return self.loaded[spec]

    def predict(self, clips: list[Clip]) -> list[Transcription | None]:
        """One transcription per clip; None for a clip without speech, where Whisper would write a stock
        phrase ("You", "Thank you.") into the silence, or where nothing it wrote was said (`_heard`)."""
        out = []
        for clip in clips:
            audio = _mono(clip)
            speech = speech_spans(audio)
            out.append(self._transcribe(audio, self._language_of(clip, audio), speech) if speech else None)
        return out

    def _language_of(self, clip: Clip, audio) -> str:
        if self.language in LANGUAGES:
            return self.language
        if self.language == "auto" and clip.language in LANGUAGES:
            return clip.language
        return self.detect(audio)

    def detect(self, audio) -> str:
        """The most likely of the project's languages in the first 30 s (an English-only model knows one)."""
        detector = self.load(self.detector)
        if not detector.model.is_multilingual:
            return "en"
        _, _, probabilities = detector.detect_language(audio)
        scores = dict(probabilities)
        return max(LANGUAGES, key=lambda code: scores.get(code, 0.0))

    def _transcribe(self, audio, language: str, speech: list[tuple[float, float]]) -> Transcription:
        model = self.load(self.by_language[language])
        # Not conditioned on the text before: with word timestamps faster-whisper moves on to the last word's end
        # and decodes what is left of the clip, and with the text so far as its prompt Whisper writes that text
        # again over the trailing silence (seen as repeated sentences on short clips). The language's prompt
        # goes in as `hotwords`: the same tokens in the same place as `initial_prompt` in the first window, and
        # there again in every later one, so a long Mandarin clip stays in simplified characters throughout.
        segments, _ = model.transcribe(audio, language=language, task="transcribe", beam_size=self.beam_size,
                                       word_timestamps=self.word_timestamps, condition_on_previous_text=False,
                                       hotwords=self.prompts.get(language))
        end_of_clip = round(len(audio) / SAMPLE_RATE, 3)
        written = _simplified if language == "zh" else str
        text, words = "", []
        for segment in segments:          # a generator: decoding happens while it is read
            if not _heard(segment, speech):
                continue
            text = append_text(text, written(segment.text))
            # a word's end may be stamped a frame past the audio; no time lies outside the clip
            words += [Word(written(w.word.strip()), min(round(float(w.start), 3), end_of_clip),
                           min(round(float(w.end), 3), end_of_clip)) for w in segment.words or [] if w.word.strip()]
        return Transcription(text, language, words) if text else None     # nothing left that was said


def default_threads() -> int:
    """Half this process's CPUs, at most 4 (CTranslate2's own default is 4 whatever the machine): its OpenMP
    threads spin while they wait, and collapse when they outnumber the free cores. Measured on a busy 2-core
    machine, an 11 s clip on tiny.en: 63 s with 2 threads, 58 s with CTranslate2's 4, 2.2 s with 1."""
    return max(1, min(4, len(os.sched_getaffinity(0)) // 2))


def _compute_type(requested: str, device: str) -> str:
    """The weights as saved (float16) on a GPU; float32 on a CPU, which computes no float16 (CTranslate2 would
    convert them anyway, with a warning on every load)."""
    if requested != "default":
        return requested
    import ctranslate2

    on_gpu = device.startswith("cuda") or (device == "auto" and ctranslate2.get_cuda_device_count() > 0)
    return "default" if on_gpu else "float32"


@functools.lru_cache(maxsize=1)
def _traditional_to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    """Mandarin in simplified characters, as AISHELL and zhvoice write it: even with the prompt Whisper base
    writes a traditional character now and then (廣 for 广), which a TTS model trained on the corpora has
    never seen. OpenCC's character and phrase tables, not a per-character map (乾 is 干 in 乾淨 only)."""
    return _traditional_to_simplified().convert(text)


def speech_spans(audio) -> list[tuple[float, float]]:
    """Where Silero VAD (faster-whisper's own ONNX copy) hears speech, in seconds; none for a silent clip."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return [(span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE)
            for span in get_speech_timestamps(audio, VadOptions(speech_pad_ms=SPEECH_PAD_MS))]


def _heard(segment, speech: list[tuple[float, float]]) -> bool:
    """Whether a segment was said. After the last word Whisper decodes what is left of the clip, and there it
    writes text nobody said: its prompt again (以下是普通话的句子), or one syllable over and over. Such a segment
    lies wholly outside the speech the VAD heard, or its aligner finds no time for most of its words (a word
    stamped with no duration at all: spoken words take at least one of Whisper's 20 ms frames)."""
    if not segment.words:
        return any(segment.start < end and segment.end > start for start, end in speech)
    timeless = sum(w.end - w.start < WHISPER_FRAME_S for w in segment.words)
    return 2 * timeless <= len(segment.words) and any(
        w.start < end and w.end > start for w in segment.words for start, end in speech)


def _mono(clip: Clip):
    samples = clip.samples if clip.samples.ndim == 1 else clip.samples.mean(axis=1)
    return resample(samples, clip.sample_rate, SAMPLE_RATE)
