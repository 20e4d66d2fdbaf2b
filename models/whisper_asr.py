"""The `model` transcript backend: Whisper (transformers) with word timestamps and language detection.

Clips of any length are transcribed whole: a batch holding a clip over Whisper's 30 s window is fed
unpadded-to-30 s with an attention mask, and `generate` runs its long-form loop window by window. Word times
come from the per-window segments (they carry the window offset; `token_timestamps` restart at 0 in every
window). The language is the one Whisper decoded with: detected per clip unless `language` is set.
"""
from __future__ import annotations

from .annotators import BackendInfo, Clip, Transcription, Word
from .hf_audio import LocalModel, by_length, dtype_for, in_batches, resample

MAX_NEW_TOKENS = 440          # per 30 s window: Whisper's own limit (448 positions, minus the prompt)


class WhisperTranscriber(LocalModel):
    needs_audio = True

    def __init__(self, model: str, device: str = "auto", batch_size: int = 8, allow_download: bool = False,
                 language: str = "detect", max_new_tokens: int = MAX_NEW_TOKENS):
        super().__init__(model, device, batch_size, allow_download)
        self.language, self.max_new_tokens = language, max_new_tokens

    def load_network(self, path, dtype):
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self.processor = WhisperProcessor.from_pretrained(path, local_files_only=True)
        network = WhisperForConditionalGeneration.from_pretrained(path, dtype=dtype, local_files_only=True)
        config = network.generation_config
        if not getattr(config, "alignment_heads", None):
            raise ValueError("no alignment_heads in its generation_config: Whisper needs them for word timestamps")
        self.codes = {token_id: token[2:-2] for token, token_id in (config.lang_to_id or {}).items()}
        self.first_special = self.processor.tokenizer.eos_token_id
        return network

    def describe(self) -> BackendInfo:
        return BackendInfo("model", self.source.spec, self.source.where,
                           f"{self.source.version}; language={self.language}; greedy")

    def predict(self, clips: list[Clip]) -> list[Transcription]:
        self.load()
        extractor = self.processor.feature_extractor
        rate = extractor.sampling_rate
        audio = [resample(c.samples, c.sample_rate, rate) for c in clips]
        order = by_length([len(a) for a in audio])
        results = in_batches(order, self.batch_size, lambda batch: self._transcribe([audio[i] for i in batch]))
        by_clip = dict(zip(order, results))
        return [by_clip[i] for i in range(len(clips))]

    def _transcribe(self, batch: list) -> list[Transcription]:
        import torch

        extractor = self.processor.feature_extractor
        long_form = any(len(a) > extractor.n_samples for a in batch)
        features = extractor(batch, sampling_rate=extractor.sampling_rate, return_attention_mask=True,
                             return_tensors="pt", **({"truncation": False, "padding": "longest"} if long_form else {}))
        with torch.inference_mode():
            out = self.network.generate(
                features.input_features.to(self.device, dtype_for(self.device)),
                attention_mask=features.attention_mask.to(self.device), task="transcribe",
                language=None if self.language == "detect" else self.language,
                return_timestamps=True, return_token_timestamps=True, return_segments=True,
                max_new_tokens=self.max_new_tokens)
        return [self._transcription(segments) for segments in out["segments"]]

    def _transcription(self, segments: list[dict]) -> Transcription:
        """Words per segment (a segment boundary always ends a word), the text joined from them."""
        text, words = "", []
        for segment in segments:
            pieces = self._words(segment["tokens"].tolist(), segment["token_timestamps"].tolist())
            text = append_text(text, "".join(w.word for w in pieces))
            words += [Word(w.word.strip(), w.start_s, w.end_s) for w in pieces if w.word.strip()]
        return Transcription(text, self._language(segments), words)

    def _words(self, tokens: list[int], times: list[float]) -> list[Word]:
        """Token j spans (times[j-1], times[j]); a word starts at a token that begins with a space, and in
        scripts written without spaces (Chinese) at every character once the bytes before it decode whole.
        Special and timestamp tokens drop."""
        tokenizer = self.processor.tokenizer
        words: list[Word] = []
        current: list[int] = []
        start = end = 0.0
        for j, token in enumerate(tokens):
            if token >= self.first_special:
                continue
            piece = tokenizer.decode([token])
            if current and _starts_word(tokenizer.decode(current), piece):
                words.append(Word(tokenizer.decode(current), round(start, 3), round(end, 3)))
                current = []
            if not current:
                start = float(times[j - 1]) if j else 0.0
            current.append(token)
            end = float(times[j])
        if current:
            words.append(Word(tokenizer.decode(current), round(start, 3), round(end, 3)))
        return words

    def _language(self, segments: list[dict]) -> str | None:
        """The language token Whisper decoded with: in each segment's full sequence (generate strips it from
        the returned sequences)."""
        if self.language != "detect":
            return self.language
        for segment in segments:
            result = segment["result"]
            sequence = result["sequences"] if isinstance(result, dict) else result
            for token in sequence.tolist():
                if token in self.codes:
                    return self.codes[token]
        return None


def append_text(text: str, part: str) -> str:
    """`text` with the next segment's `part`: a space between them, none between two Chinese characters."""
    part = part.strip()
    if not part:
        return text
    return text + ("" if not text or (_is_cjk(text[-1]) and _is_cjk(part[0])) else " ") + part


def _starts_word(current: str, piece: str) -> bool:
    if piece.startswith(" "):
        return True
    whole = "\ufffd" not in current           # a character split over byte tokens is not finished yet
    return whole and _is_cjk(current[-1:]) and not piece.isascii()


def _is_cjk(char: str) -> bool:
    return bool(char) and "\u3400" <= char <= "\u9fff"
