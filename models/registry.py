"""Which backends each annotating stage can use. A new backend is one module plus one line here; a plug-in
outside this package is named directly as `package.module:Class` (CLI --backend or the project config).

Entries are import paths, imported on first use, so torch and transformers load only for the model backends.
"""
from __future__ import annotations

import importlib
import json
from functools import lru_cache

from .annotators import Backend

BACKENDS: dict[str, dict[str, str]] = {
    "speaker": {
        "embedded": "speechcraft.models.speaker_classifier:EmbeddedSpeaker",
        "model": "speechcraft.models.speaker_model:Wav2Vec2Speaker",
    },
    "emotion": {
        "embedded": "speechcraft.models.embedded:ReadSpeechEmotion",
        "model": "speechcraft.models.emotion_model:AudioClassifierEmotion",
    },
    "transcript": {
        "embedded": "speechcraft.models.embedded:CorpusTranscript",
        "model": "speechcraft.models.whisper_asr:WhisperTranscriber",
        "faster-whisper": "speechcraft.models.faster_whisper_asr:FasterWhisperTranscriber",
    },
    "describe": {
        "embedded": "speechcraft.models.describer:EmbeddedDescriber",
        "transformers": "speechcraft.models.llm_describer:TransformersDescriber",
        "vllm": "speechcraft.models.llm_describer:VLLMDescriber",
    },
}
MODEL_STAGES = ("speaker", "emotion", "transcript")     # the per-clip audio stages of `annotate`
DEFAULT_BACKEND = "embedded"
DEFAULT_MODELS = {"transcript": ("faster-whisper",)}   # backends with a model of their own (packaged Whisper)


def default_backend(stage: str) -> str:
    """The backend a stage uses when the config names none: the embedded one, except for transcripts once
    faster-whisper and its packaged Whisper models are installed (the [asr] extra)."""
    if stage == "transcript":
        from .faster_whisper_asr import asr_missing

        if asr_missing() is None:
            return "faster-whisper"
    return DEFAULT_BACKEND


def backend_class(stage: str, name: str) -> type:
    if stage not in BACKENDS:
        raise ValueError(f"unknown stage {stage!r}; stages with backends: {', '.join(BACKENDS)}")
    target = BACKENDS[stage].get(name) or (name if ":" in name else None)
    if target is None:
        raise ValueError(f"unknown {stage} backend {name!r}; choose from {', '.join(BACKENDS[stage])} "
                         f"or name a plug-in as package.module:Class")
    module, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        raise ImportError(f"the {stage} backend {name!r} needs {exc.name or module}: "
                          f"pip install 'speechcraft-lakehouse[models]'") from exc
    except AttributeError:
        raise ValueError(f"{module} has no {attribute!r} ({stage} backend {name!r})") from None


def load_backend(stage: str, options: dict) -> Backend:
    """The backend instance for a stage's options ({"backend", "model", "device", "batch_size", ...}),
    loaded once per process and shared by the batches that follow."""
    return _load(stage, json.dumps(options, sort_keys=True))


@lru_cache(maxsize=8)
def _load(stage: str, options_json: str) -> Backend:
    options = json.loads(options_json)
    name = options.pop("backend", DEFAULT_BACKEND)
    if name not in (DEFAULT_BACKEND, *DEFAULT_MODELS.get(stage, ())) and not options.get("model") \
            and name in BACKENDS.get(stage, {}):
        raise ValueError(f"the {stage} {name} backend needs a model: --model HUB_ID_OR_FOLDER "
                         f"(or `model = ...` under [stages.{stage}] in the project config)")
    return backend_class(stage, name)(**options)
