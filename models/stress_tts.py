"""The TTS backend of `emphasize`: re-synthesise the sentence with a FastSpeech 2 model (transformers'
FastSpeech2ConformerWithHifiGan, from a local folder), scaling the keyword's predicted durations, pitch and
energy, as the SpeechCraft paper did. For users with such a model on a GPU; the parent's audio is not used,
its speaker picks one of the model's voices (by hash, or `speaker_id`).

In eval mode the model ignores duration/pitch/energy labels, so the predictions of a first pass are edited
and fed back through forward hooks on the three predictors. Durations are frames (scaled exactly); pitch and
energy are per-token values normalised to z-scores (log F0 and frame energy), so a factor becomes a shift:
ln(pitch_scale) / PITCH_LOG_SIGMA and energy_db / ENERGY_DB_SIGMA, with typical speaker-corpus spreads.
Phonemes: CMUdict ARPAbet (English only; offline, unlike the tokenizer's g2p_en), mapped through the model
folder's vocab.json.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .hf_audio import LocalModel
from .stress_synthesis import StressedAudio, StressError, StressRequest, StressSettings
from .word_aligner import WordSpan

PITCH_LOG_SIGMA = 0.25        # spread of log F0 in a speaker corpus (about 4 semitones)
ENERGY_DB_SIGMA = 8.0
EOS = "<sos/eos>"


class FastSpeech2Stressor(LocalModel):
    name = "tts"
    version = "1"

    def __init__(self, model: str, settings: StressSettings | None = None, speaker_id: int | None = None,
                 device: str = "auto", allow_download: bool = False):
        super().__init__(model, device, 1, allow_download)
        self.settings = settings or StressSettings()
        self.speaker_id = speaker_id

    def describe(self) -> dict:
        return {"backend": self.name, "version": self.version, "model": self.source.spec,
                "weights": self.source.version, "speaker_id": self.speaker_id, **asdict(self.settings)}

    def load_network(self, path: Path, dtype):
        from transformers import FastSpeech2ConformerWithHifiGan

        vocab = path / "vocab.json"
        if not vocab.exists():
            raise ValueError("the model folder has no vocab.json (phoneme -> token id)")
        self.vocab = json.loads(vocab.read_text(encoding="utf-8"))
        network = FastSpeech2ConformerWithHifiGan.from_pretrained(path)
        vocoder = network.config.vocoder_config
        self.output_rate = int(vocoder.sampling_rate)
        self.hop = math.prod(vocoder.upsample_rates)
        self.num_speakers = network.config.model_config.num_speakers or 0
        return network

    def _tokens(self, words: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
        from .speech_units import pronunciations

        lexicon = pronunciations()
        ids, spans = [], []
        for word in words:
            phones = lexicon.get(word.lower())
            if phones is None:
                raise StressError(f"{word!r} is not in CMUdict: the tts backend cannot pronounce it")
            missing = [p for p in phones if p not in self.vocab]
            if missing:
                raise StressError(f"the model's vocab.json lacks the phonemes {missing}")
            spans.append((len(ids), len(ids) + len(phones)))
            ids += [self.vocab[p] for p in phones]
        return ids + [self.vocab[EOS]], spans

    def _speaker(self, key: str) -> int | None:
        if self.num_speakers <= 1:
            return None
        if self.speaker_id is not None:
            return self.speaker_id
        return int(hashlib.sha256(key.encode()).hexdigest(), 16) % self.num_speakers

    def stress(self, request: StressRequest) -> StressedAudio:
        import torch

        if request.language != "en":
            raise StressError("the tts backend speaks English only (CMUdict phonemes)")
        self.load()
        ids, spans = self._tokens([w.word for w in request.words])
        start, end = spans[request.keyword_index]
        inputs = {"input_ids": torch.tensor([ids], device=self.device)}
        speaker = self._speaker(request.speaker)
        if speaker is not None:
            inputs["speaker_ids"] = torch.tensor([[speaker]], device=self.device)
        s = self.settings
        with torch.no_grad():
            plain = self.network(**inputs, return_dict=True)
            durations = plain.duration_outputs.clone()
            pitch, energy = plain.pitch_outputs.clone(), plain.energy_outputs.clone()
            durations[:, start:end] = torch.clamp(torch.round(durations[:, start:end].float() * s.duration_scale), min=1).long()
            pitch[:, start:end] += math.log(s.pitch_scale) / PITCH_LOG_SIGMA
            energy[:, start:end] += s.energy_db / ENERGY_DB_SIGMA
            out = self._with_predictions(inputs, durations, pitch, energy)
        frames = out.duration_outputs[0].cpu().numpy()
        edges = np.concatenate([[0], np.cumsum(frames)]) * self.hop / self.output_rate
        words = [WordSpan(w.word, float(edges[a]), float(edges[b])) for w, (a, b) in zip(request.words, spans)]
        return StressedAudio(out.waveform[0].float().cpu().numpy(), self.output_rate, words)

    def _with_predictions(self, inputs: dict, durations, pitch, energy):
        """One forward pass with the three predictors' outputs replaced."""
        acoustic = self.network.model
        hooks = [module.register_forward_hook(lambda _m, _i, _o, value=value: value)
                 for module, value in ((acoustic.duration_predictor, durations), (acoustic.pitch_predictor, pitch),
                                       (acoustic.energy_predictor, energy))]
        try:
            return self.network(**inputs, return_dict=True)
        finally:
            for hook in hooks:
                hook.remove()
