"""The `model` emotion backend: any transformers audio-classification checkpoint for speech emotion.

Its labels are mapped onto the seven emotions of docs/annotation-contract.md: emotion2vec's nine classes ("生气/angry", ...,
"其他/other", "<unk>") lose other/unknown; IEMOCAP-style short labels (neu, hap, ang, sad, exc, ...) and
RAVDESS-style names (calm, fearful, surprised, ...) map as EMOTION_ALIASES says. Probabilities of labels
without a counterpart are dropped and the rest renormalised, so the stored scores are over the seven.
"""
from __future__ import annotations

from pathlib import Path

from ..vocabulary import EMOTIONS
from .annotators import Clip, EmotionPrediction
from .audio_classifier import TransformersAudioBackend, label_index, load_audio_classifier

EMOTION_ALIASES = {
    **{e: e for e in EMOTIONS},
    "anger": "angry", "ang": "angry", "mad": "angry",
    "disgust": "disgusted", "dis": "disgusted",
    "fear": "fearful", "fea": "fearful", "scared": "fearful",
    "happiness": "happy", "hap": "happy", "joy": "happy", "exc": "happy", "excited": "happy",
    "neu": "neutral", "calm": "neutral",
    "sadness": "sad",
    "surprise": "surprised", "sur": "surprised", "surprized": "surprised",
}


class AudioClassifierEmotion(TransformersAudioBackend):
    def load_network(self, path: Path, dtype):
        network = load_audio_classifier(path, dtype)
        self.labels = label_index(network.config.id2label, EMOTION_ALIASES)
        if not self.labels:
            raise ValueError(f"none of its labels {sorted(network.config.id2label.values())} maps to an emotion "
                             f"of docs/annotation-contract.md ({', '.join(EMOTIONS)})")
        return network

    def head_outputs(self, input_values, attention_mask):
        return self.network(input_values=input_values, attention_mask=attention_mask).logits.softmax(-1)

    def mapping(self) -> str:
        return "audio-classification labels -> seven emotions (EMOTION_ALIASES), renormalised"

    def predict(self, clips: list[Clip]) -> list[EmotionPrediction]:
        self.load()
        predictions = []
        for row in self.outputs(clips):
            scores = dict.fromkeys(sorted(set(self.labels.values())), 0.0)
            for index, emotion in self.labels.items():
                scores[emotion] += float(row[index])
            total = sum(scores.values())
            if total <= 0:
                predictions.append(EmotionPrediction(None, reason="the model gave no weight to any of the seven"))
                continue
            scores = {e: round(p / total, 6) for e, p in scores.items()}
            best = max(scores, key=scores.get)
            predictions.append(EmotionPrediction(best, scores[best], scores))
        return predictions
