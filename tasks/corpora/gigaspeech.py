"""GigaSpeech (SpeechColab, v1.0.0): one huge `GigaSpeech.json` describes long Opus recordings and the
transcribed segments (time spans) inside them. It is streamed one audio object at a time.

Rejects inside the JSON are located as `GigaSpeech.json:audios[<i>]` or `…:audios[<i>].segments[<j>]`
(0-based, JSON-path style): a streaming parser has no line numbers to give."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ._common import StreamingReader, audio_problem
from ._text import clean_gigaspeech_text, has_no_speech
from .base import ClipSource, Reject, RejectReason, ScanItem

METADATA = "GigaSpeech.json"
# Training subsets nest (XS within S within ... XL); DEV and TEST stand apart. "Smallest first" order.
SUBSET_ORDER = ("XS", "S", "M", "L", "XL", "DEV", "TEST")
SPLITS = {"DEV": "dev", "TEST": "test"}
NO_SPEAKER = "N/A"


def subset_name(tag: str) -> str:
    """`{M}`, `M` or `m` -> `M`."""
    return tag.strip().strip("{}").upper()


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def speaker_of(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() and value != NO_SPEAKER else None


@dataclass
class AudioEntry:
    """The audio-level fields a segment needs, and (checked once, on demand) whether its file is usable."""
    where: str                 # its location in the JSON
    path_text: str             # `path` as written
    path: Path | None          # None when it escapes the corpus root
    source: str                # its path relative to the root, the source of audio rejects
    fields: dict

    @cached_property
    def problem(self) -> tuple[RejectReason, str] | None:
        return audio_problem(self.path) if self.path is not None else None

    def text_field(self, key: str) -> str | None:
        value = self.fields.get(key)
        return value if isinstance(value, str) else None


class GigaSpeechReader(StreamingReader):
    name = "gigaspeech"
    language = "en"
    subsets = SUBSET_ORDER
    required = (METADATA, "audio")

    def __init__(self, root: Path | str, subsets: list[str] | None = None):
        super().__init__(root, [subset_name(subset) for subset in subsets or []])

    def scan(self) -> Iterator[ScanItem]:
        import ijson   # only this reader needs it; keep `import tasks.corpora` light

        self.check_layout()
        position = 0
        with open(self.root / METADATA, "rb") as stream:
            try:
                # use_float: plain floats for the times instead of Decimal
                for audio in ijson.items(stream, "audios.item", use_float=True):
                    yield from self.scan_audio(f"{METADATA}:audios[{position}]", audio)
                    position += 1
            except (ijson.JSONError, UnicodeDecodeError) as error:
                # The JSON is broken from here on: nothing after this point can be read.
                yield self.reject(f"{METADATA}:audios[{position}]", RejectReason.MALFORMED_METADATA,
                                  f"invalid JSON, stopped reading: {error}")

    def scan_audio(self, where: str, audio: object) -> Iterator[ScanItem]:
        if not isinstance(audio, dict) or not isinstance(audio.get("path"), str) \
                or not isinstance(audio.get("segments"), list):
            aid = audio.get("aid") if isinstance(audio, dict) and isinstance(audio.get("aid"), str) else None
            yield self.reject(where, RejectReason.MALFORMED_METADATA,
                              "an audio needs a 'path' string and a 'segments' list", aid)
            return
        path = self.resolve_inside(self.root, audio["path"])
        entry = AudioEntry(where, audio["path"], path, self.file_source(path) if path else audio["path"], audio)
        for number, segment in enumerate(audio["segments"]):
            item = self.read_segment(entry, f"{where}.segments[{number}]", segment)
            if item is not None:
                yield item

    def pick_subset(self, tags: list[str]) -> str | None:
        """The subset a segment is ingested under (by its own tags, not its audio's): the first requested
        one it carries, or without a request its smallest. None: not requested (or, unrequested, untagged)."""
        names = {subset_name(tag) for tag in tags}
        candidates = self.wanted or SUBSET_ORDER
        return next((subset for subset in candidates if subset in names), None)

    def read_segment(self, audio: AudioEntry, where: str, segment: object) -> ClipSource | Reject | None:
        """One segment as a clip, a reject, or None when it is in no requested subset."""
        if not isinstance(segment, dict):
            return self.reject(where, RejectReason.MALFORMED_METADATA, "a segment must be an object")
        sid = segment.get("sid") if isinstance(segment.get("sid"), str) and segment.get("sid") else None
        tags = segment.get("subsets")
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            return self.reject(where, RejectReason.MALFORMED_METADATA, "'subsets' must be a list of tags", sid)
        subset = self.pick_subset(tags)
        if subset is None:
            if self.wanted:
                return None
            return self.reject(where, RejectReason.MALFORMED_METADATA, f"no known subset tag in {tags}", sid)

        begin, end, text_tn = segment.get("begin_time"), segment.get("end_time"), segment.get("text_tn")
        if sid is None or not is_number(begin) or not is_number(end) or not isinstance(text_tn, str):
            return self.reject(where, RejectReason.MALFORMED_METADATA,
                               "a segment needs 'sid', numeric 'begin_time'/'end_time' and 'text_tn'", sid)
        if begin < 0 or end <= begin:
            return self.reject(where, RejectReason.MALFORMED_METADATA,
                               f"bad span: begin_time {begin}, end_time {end}", sid)
        if has_no_speech(text_tn):
            return self.reject(where, RejectReason.NO_SPEECH_SEGMENT, f"only garbage tags: {text_tn!r}", sid)
        transcript = clean_gigaspeech_text(text_tn)
        if not transcript:
            return self.reject(where, RejectReason.MALFORMED_METADATA, f"no words in text_tn {text_tn!r}", sid)

        if not self.first_sighting(sid):
            return self.duplicate(where, sid)
        if audio.path is None:
            return self.escapes_root(where, audio.path_text, sid)
        if audio.problem is not None:
            reason, detail = audio.problem
            return self.reject(audio.source, reason, detail, sid)

        extras = {key: audio.text_field(key) for key in ("source", "category", "title", "aid")
                  if audio.text_field(key) is not None}
        return ClipSource(
            corpus=self.name, native_id=sid, language=self.language, audio_path=audio.path,
            subset=subset, split=SPLITS.get(subset, "train"),
            speaker_id=speaker_of(segment.get("speaker", audio.fields.get("speaker"))),
            transcript=transcript, transcript_raw=text_tn,
            start_s=float(begin), end_s=float(end),
            meta_topic=audio.text_field("category"), extras=extras,
        )
