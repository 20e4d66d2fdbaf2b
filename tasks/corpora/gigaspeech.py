"""GigaSpeech (SpeechColab, v1.0.0): one huge `GigaSpeech.json` describes long Opus recordings and the
transcribed segments (time spans) inside them. It is streamed one audio object at a time.

A streaming parser has no line numbers to give, so a reject about the JSON itself names the record:
`GigaSpeech.json:<sid>` for a segment (`GigaSpeech.json:<aid>` for an audio), or, where the record has no
usable id, its position `GigaSpeech.json:audios[<i>].segments[<j>]` (0-based). A reject about an audio file
(missing, empty) names the file, relative to the root, once per segment that needed it."""
from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ._text import clean_gigaspeech_text, has_no_speech
from .base import ClipSource, CorpusReader, Reject, RejectReason, ScanItem, audio_problem

METADATA = "GigaSpeech.json"
# Training subsets nest (XS within S within ... XL); DEV and TEST stand apart. "Smallest first" order.
SUBSET_ORDER = ("XS", "S", "M", "L", "XL", "DEV", "TEST")
SPLITS = {"DEV": "dev", "TEST": "test"}
NO_SPEAKER = "N/A"


class Utf8Repairing:
    """A binary stream that hands out the file's bytes with every invalid UTF-8 sequence replaced by U+FFFD.
    The JSON parser would stop at the first bad byte; this way only the records holding one are lost."""

    def __init__(self, raw):
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.replaced = False      # any U+FFFD handed out yet; until then no record needs checking

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        text = self.decoder.decode(chunk, final=not chunk)
        self.replaced = self.replaced or "\ufffd" in text
        return text.encode("utf-8")


def has_bad_bytes(value: object) -> bool:
    """Whether a parsed JSON value holds a character that stood for invalid UTF-8."""
    if isinstance(value, str):
        return "\ufffd" in value
    if isinstance(value, dict):
        return any(has_bad_bytes(item) for item in value.values())
    if isinstance(value, list):
        return any(has_bad_bytes(item) for item in value)
    return False


def one_line(error: Exception) -> str:
    message = error.args[0] if error.args else error
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return " ".join(str(message).split())


def text_id(value: object) -> str | None:
    """An id usable in a reject source: a non-empty string that decoded cleanly."""
    return value if isinstance(value, str) and value and not has_bad_bytes(value) else None


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


class GigaSpeechReader(CorpusReader):
    name = "gigaspeech"
    language = "en"
    subsets = SUBSET_ORDER
    required = (METADATA, "audio")
    extra_columns = {"source": "string", "category": "string", "title": "string"}

    def __init__(self, root: Path | str, subsets: list[str] | None = None):
        super().__init__(root, [subset_name(subset) for subset in subsets or []])
        self.stream: Utf8Repairing | None = None     # the JSON being read, while a scan runs
        self.audio_paths = self.audio_bases([self.root], self.root / METADATA)

    def scan(self) -> Iterator[ScanItem]:
        import ijson   # only this reader needs it; keep `import tasks.corpora` light

        self.check_layout()
        position = 0
        with open(self.root / METADATA, "rb") as raw:
            self.stream = Utf8Repairing(raw)
            try:
                # use_float: plain floats for the times instead of Decimal
                for audio in ijson.items(self.stream, "audios.item", use_float=True):
                    yield from self.scan_audio(f"audios[{position}]", audio)
                    position += 1
            except ijson.JSONError as error:
                # The JSON is broken from here on: nothing after this point can be read.
                yield self.reject(f"{METADATA}:audios[{position}]", RejectReason.MALFORMED_METADATA,
                                  f"invalid JSON, stopped reading: {one_line(error)}")

    def saw_bad_bytes(self) -> bool:
        """Whether the JSON read so far had invalid UTF-8 (cheap: records are searched only after that)."""
        return self.stream is not None and self.stream.replaced

    def json_source(self, record_id: str | None, position: str) -> str:
        """Where a reject about the JSON came from: the record's id, else its position."""
        return f"{METADATA}:{record_id or position}"

    def scan_audio(self, position: str, audio: object) -> Iterator[ScanItem]:
        aid = text_id(audio.get("aid")) if isinstance(audio, dict) else None
        where = self.json_source(aid, position)
        if not isinstance(audio, dict) or not isinstance(audio.get("path"), str) \
                or not isinstance(audio.get("segments"), list):
            yield self.reject(where, RejectReason.MALFORMED_METADATA,
                              "an audio needs a 'path' string and a 'segments' list", aid)
            return
        if self.saw_bad_bytes() and has_bad_bytes(audio["path"]):
            yield self.reject(where, RejectReason.BAD_ENCODING, "audio path is not UTF-8", aid)
            return
        path = self.audio_paths.resolve(audio["path"])
        entry = AudioEntry(audio["path"], path, self.file_source(path) if path else audio["path"], audio)
        for number, segment in enumerate(audio["segments"]):
            item = self.read_segment(entry, f"{position}.segments[{number}]", segment)
            if item is not None:
                yield item

    def pick_subset(self, tags: list[str]) -> str | None:
        """The subset a segment is stored under: its smallest own tag (not its audio's), whatever was asked
        for, so a clip keeps one subset across runs. None when it carries no requested subset (or no tag)."""
        names = {subset_name(tag) for tag in tags}
        if self.wanted and not names & set(self.wanted):
            return None
        return next((subset for subset in SUBSET_ORDER if subset in names), None)

    def read_segment(self, audio: AudioEntry, position: str, segment: object) -> ClipSource | Reject | None:
        """One segment as a clip, a reject, or None when it is in no requested subset."""
        if not isinstance(segment, dict):
            return self.reject(self.json_source(None, position), RejectReason.MALFORMED_METADATA,
                               "a segment must be an object")
        sid = text_id(segment.get("sid"))
        where = self.json_source(sid, position)
        if self.saw_bad_bytes() and has_bad_bytes(segment):
            return self.reject(where, RejectReason.BAD_ENCODING, "segment text is not UTF-8", sid)
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

        extras = {key: audio.text_field(key) for key in ("source", "category", "title", "aid")}
        return ClipSource(
            corpus=self.name, native_id=sid, language=self.language, audio_path=audio.path,
            subset=subset, split=SPLITS.get(subset, "train"),
            speaker_id=speaker_of(segment.get("speaker", audio.fields.get("speaker"))),
            transcript=transcript, transcript_raw=text_tn,
            start_s=float(begin), end_s=float(end),
            meta_topic=audio.text_field("category"), extras=extras,
        )
