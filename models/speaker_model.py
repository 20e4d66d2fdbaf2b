"""The `model` speaker backend: gender and age from a wav2vec2-style checkpoint.

Two kinds of checkpoint load:
- audeering's age-gender models (`audeering/wav2vec2-large-robust-24-ft-age-gender` and the 6-layer one): a
  wav2vec2 encoder, mean-pooled, with two heads, `age` (one output: age in years / 100) and `gender` (three
  outputs, softmax: female, male, child). They ship as plain wav2vec2 weights plus those heads;
  `AgeGenderWav2Vec2` below is the module they load into.
- any audio-classification checkpoint whose labels name genders (female/male, f/m, woman/man) and possibly
  age groups or "child".
Gender is the more likely of female and male; "child" as the top class makes the age group child.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .annotators import Clip, SpeakerPrediction, age_group_from_years
from .audio_classifier import TransformersAudioBackend, label_index, load_audio_classifier, masked_mean

GENDER_ALIASES = {"female": "female", "f": "female", "woman": "female", "women": "female",
                  "male": "male", "m": "male", "man": "male", "men": "male", "child": "child", "kid": "child"}
AGE_ALIASES = {"teenager": "teenager", "teen": "teenager", "young_adult": "young_adult", "adult": "young_adult",
               "middle_aged": "middle_aged", "elderly": "elderly", "senior": "elderly", "old": "elderly"}
AGE_GENDER_HEADS = ("age.out_proj.weight", "gender.out_proj.weight")


def _age_gender_class():
    import torch
    from torch import nn
    from transformers import Wav2Vec2Model, Wav2Vec2PreTrainedModel

    class Head(nn.Module):
        def __init__(self, config, n_outputs: int):
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.hidden_size)
            self.dropout = nn.Dropout(config.final_dropout)
            self.out_proj = nn.Linear(config.hidden_size, n_outputs)

        def forward(self, x):
            return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(x)))))

    class AgeGenderWav2Vec2(Wav2Vec2PreTrainedModel):
        """audeering's layout: `wav2vec2`, `age` (1 output) and `gender` (3 outputs) heads."""

        def __init__(self, config):
            super().__init__(config)
            self.wav2vec2 = Wav2Vec2Model(config)
            self.age = Head(config, 1)
            self.gender = Head(config, 3)
            self.post_init()

        def forward(self, input_values, attention_mask=None):
            hidden = self.wav2vec2(input_values, attention_mask=attention_mask).last_hidden_state
            frames = None if attention_mask is None else \
                self._get_feature_vector_attention_mask(hidden.shape[1], attention_mask)
            pooled = masked_mean(hidden, frames)
            return self.age(pooled), torch.softmax(self.gender(pooled), dim=-1)

    return AgeGenderWav2Vec2


def is_age_gender_checkpoint(path: Path) -> bool:
    config = json.loads((path / "config.json").read_text())
    if any("AgeGender" in a for a in config.get("architectures") or []):
        return True
    keys = _weight_names(path)
    return all(k in keys for k in AGE_GENDER_HEADS)


def _weight_names(path: Path) -> set[str]:
    names: set[str] = set()
    for file in path.glob("*.safetensors"):
        from safetensors import safe_open

        with safe_open(str(file), framework="pt") as f:
            names.update(f.keys())
    if not names and (path / "pytorch_model.bin").exists():
        import torch

        names.update(torch.load(path / "pytorch_model.bin", map_location="meta", weights_only=True, mmap=True))
    return names


class Wav2Vec2Speaker(TransformersAudioBackend):
    def __init__(self, model: str, **options):
        super().__init__(model, **options)
        self.age_gender = is_age_gender_checkpoint(self.source.path)

    def load_network(self, path: Path, dtype):
        if self.age_gender:
            self.labels = {0: "female", 1: "male", 2: "child"}
            return _age_gender_class().from_pretrained(path, dtype=dtype, local_files_only=True)
        network = load_audio_classifier(path, dtype)
        self.labels = label_index(network.config.id2label, GENDER_ALIASES)
        self.age_labels = label_index(network.config.id2label, AGE_ALIASES)
        if not {"female", "male"} <= set(self.labels.values()):
            raise ValueError(f"its labels {sorted(network.config.id2label.values())} do not name both genders "
                             f"(female/male); a speaker model must")
        return network

    def head_outputs(self, input_values, attention_mask):
        import torch

        if self.age_gender:
            age, gender = self.network(input_values, attention_mask=attention_mask)
            return torch.cat([gender, age], dim=-1)          # female, male, child, age/100
        return self.network(input_values=input_values, attention_mask=attention_mask).logits.softmax(-1)

    def mapping(self) -> str:
        return ("audeering age-gender: softmax female/male/child, age = output x 100 years" if self.age_gender
                else "audio-classification labels -> female/male (+ child, age groups)")

    def predict(self, clips: list[Clip]) -> list[SpeakerPrediction]:
        self.load()
        return [self._prediction(row) for row in self.outputs(clips)]

    def _prediction(self, row: np.ndarray) -> SpeakerPrediction:
        scores = {"female": 0.0, "male": 0.0, "child": 0.0}
        for index, label in self.labels.items():
            scores[label] += float(row[index])
        pair = scores["female"] + scores["male"]
        gender = "female" if scores["female"] >= scores["male"] else "male"
        gender_prob = scores[gender] / pair if pair > 0 else None
        child = scores["child"] > max(scores["female"], scores["male"])
        if self.age_gender:
            years = float(np.clip(row[3], 0, 1.2) * 100)
            group = "child" if child else age_group_from_years(years)
            return SpeakerPrediction(gender, gender_prob, group, years, None)
        ages = {label: float(row[i]) for i, label in self.age_labels.items()}
        if child:
            return SpeakerPrediction(gender, gender_prob, "child", None, scores["child"])
        if ages:
            group = max(ages, key=ages.get)
            return SpeakerPrediction(gender, gender_prob, group, None, ages[group] / sum(ages.values()))
        return SpeakerPrediction(gender, gender_prob)
