"""The base of the transformers backends that turn a clip into one vector of head outputs (class
probabilities, a regressed age): wav2vec2/HuBERT/WavLM audio-classification checkpoints and the like.

Weights are resolved when the backend is built (a missing model fails at once) and loaded on first use
(`speechcraft models` lists backends without loading them). Clips are resampled to the model's rate, cut
into windows of `window_s` when longer (every window is used, the outputs averaged by window length: a
clip is never truncated), sorted by length and padded per batch with an attention mask.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .annotators import BackendInfo, Clip
from .hf_audio import LocalModel, ModelLoadError, by_length, dtype_for, in_batches, resample, windows


class TransformersAudioBackend(LocalModel):
    needs_audio = True
    kind = "model"

    def __init__(self, model: str, device: str = "auto", batch_size: int = 16, allow_download: bool = False,
                 window_s: float = 30.0):
        super().__init__(model, device, batch_size, allow_download)
        self.window_s = float(window_s)

    # -- subclasses: load_network (LocalModel), and ---------------------------------------------------
    def head_outputs(self, input_values, attention_mask):
        """[batch, outputs] tensor for a padded batch."""
        raise NotImplementedError

    def mapping(self) -> str:
        """How the model's outputs become labels: part of the version, so a new mapping recomputes."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------------
    def load(self) -> None:
        if self.network is None:
            from transformers import AutoFeatureExtractor

            try:
                self.extractor = AutoFeatureExtractor.from_pretrained(self.source.path, local_files_only=True)
            except OSError as exc:
                raise ModelLoadError(f"cannot load the feature extractor of {self.source.spec!r}: {exc}") from None
            self.rate = int(self.extractor.sampling_rate)
        super().load()

    def describe(self) -> BackendInfo:
        return BackendInfo(self.kind, self.source.spec, self.source.where, f"{self.source.version}; {self.mapping()}")

    def outputs(self, clips: list[Clip]) -> np.ndarray:
        """Per clip, the head outputs averaged over its windows, weighted by window length."""
        import torch

        self.load()
        pieces, owners = [], []
        for index, clip in enumerate(clips):
            for piece in windows(resample(clip.samples, clip.sample_rate, self.rate), self.rate, self.window_s):
                pieces.append(piece)
                owners.append(index)
        order = by_length([len(p) for p in pieces])

        def run(batch_indices) -> list[np.ndarray]:
            batch = [pieces[i] for i in batch_indices]
            inputs = self.extractor(batch, sampling_rate=self.rate, padding=True, return_tensors="pt",
                                    return_attention_mask=True)
            mask = inputs.get("attention_mask") if self.extractor.return_attention_mask else None
            with torch.inference_mode():
                out = self.head_outputs(inputs["input_values"].to(self.device, dtype_for(self.device)),
                                        None if mask is None else mask.to(self.device))
            return list(out.float().cpu().numpy())

        by_piece = dict(zip(order, in_batches(order, self.batch_size, run)))
        n_outputs = len(next(iter(by_piece.values()))) if by_piece else 0
        totals, weights = np.zeros((len(clips), n_outputs)), np.zeros(len(clips))
        for i, owner in enumerate(owners):
            totals[owner] += by_piece[i] * len(pieces[i])
            weights[owner] += len(pieces[i])
        return totals / np.maximum(weights, 1)[:, None]


def load_audio_classifier(path: Path, dtype):
    """An audio-classification checkpoint, refusing one whose head did not load: transformers would
    otherwise initialise the missing classifier at random, silently (e.g. audeering's age-gender weights)."""
    from transformers import AutoModelForAudioClassification

    network, info = AutoModelForAudioClassification.from_pretrained(path, dtype=dtype, local_files_only=True,
                                                                    output_loading_info=True)
    missing = [k for k in info["missing_keys"] if k.split(".")[0] in ("classifier", "projector", "score")]
    if missing:
        raise ValueError(f"its classification head is not in the weights (missing {', '.join(sorted(missing))}); "
                         f"this is not an audio-classification checkpoint transformers can load")
    return network


def masked_mean(hidden, mask):
    """Mean over time of `hidden` [batch, frames, dim], counting only the frames `mask` [batch, frames] keeps."""
    if mask is None:
        return hidden.mean(dim=1)
    mask = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def label_index(id2label: dict, aliases: dict[str, str]) -> dict[int, str]:
    """Model output index -> our label, for the model labels `aliases` knows (case and spacing ignored;
    emotion2vec-style "生气/angry" is read by its English part)."""
    mapped = {}
    for index, label in id2label.items():
        key = str(label).split("/")[-1].strip().lower().replace(" ", "_").replace("-", "_")
        if key in aliases:
            mapped[int(index)] = aliases[key]
    return mapped
