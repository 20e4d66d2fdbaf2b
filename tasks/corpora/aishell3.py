"""AISHELL-3 (OpenSLR 93): `<split>/content.txt` lists the clips, `spk-info.txt` describes the speakers,
and `train/label_train-set.txt` optionally adds prosody-marked text for the train clips."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ...vocabulary import AGE_GROUPS
from ._common import ignore_problem, normalise_gender, table_lines
from .base import AudioBases, ClipSource, CorpusLayoutError, CorpusReader, Reject, RejectReason, ReportProblem, \
    ScanItem, text_lines

SPEAKER_INFO = "spk-info.txt"
PROSODY_LABELS = "label_train-set.txt"     # train only
SPEAKER_ID_LENGTH = 7                      # "SSB0005": utterance ids are the speaker id plus 4 digits

# spk-info.txt's letter groups (A <14, B 14-25, C 26-40, D >41) are the first four age groups of
# docs/annotation-contract.md (its cuts at 14, 26 and 40 years line up with them).
AGE_BANDS = dict(zip("ABCD", AGE_GROUPS))

# A syllable in tone-number pinyin: ü is written v; the neutral tone is 5 (some tools leave it out).
# Checking it catches lines whose characters and pinyin have slipped out of step.
PINYIN_SYLLABLE = re.compile(r"[A-Za-zü]+[1-5]?")


@dataclass(frozen=True)
class Aishell3Speaker:
    gender: str          # female / male
    age_band: str        # the corpus's letter, A-D
    accent: str          # north / south / others

    @property
    def age_group(self) -> str:
        return AGE_BANDS[self.age_band]


def read_spk_info(path: Path, report: ReportProblem = ignore_problem) -> dict[str, Aishell3Speaker]:
    """speaker id -> Aishell3Speaker from spk-info.txt (`#` comments; `speaker age_group gender accent`,
    tab-separated in the release, any whitespace accepted)."""
    speakers: dict[str, Aishell3Speaker] = {}
    for number, line in table_lines(path, report, comment="#"):
        fields = line.split()
        if len(fields) != 4:
            report(number, RejectReason.MALFORMED_METADATA,
                   f"expected 4 fields (speaker age_group gender accent), got {len(fields)}")
            continue
        speaker, age_band, gender_text, accent = fields
        gender = normalise_gender(gender_text)
        if age_band not in AGE_BANDS:
            report(number, RejectReason.MALFORMED_METADATA, f"unknown age group {age_band!r} (A-D)")
            continue
        if gender is None:
            report(number, RejectReason.MALFORMED_METADATA, f"unknown gender {gender_text!r}")
            continue
        if speaker in speakers:
            report(number, RejectReason.DUPLICATE_ID, f"speaker {speaker} is listed twice")
            continue
        speakers[speaker] = Aishell3Speaker(gender, age_band, accent)
    return speakers


def read_prosody_labels(path: Path, report: ReportProblem = ignore_problem) -> dict[str, str]:
    """utterance id -> the hanzi field with its `%` / `$` prosody marks, from label_train-set.txt
    (`#` header lines, then `utt|pinyin|hanzi`)."""
    labels: dict[str, str] = {}
    for number, line in table_lines(path, report, comment="#"):
        fields = line.split("|")
        if len(fields) != 3:
            report(number, RejectReason.MALFORMED_METADATA, f"expected 3 '|'-separated fields, got {len(fields)}")
            continue
        utterance, hanzi = fields[0].strip(), fields[2].strip()
        if not utterance or not hanzi:
            report(number, RejectReason.MALFORMED_METADATA, "empty utterance id or hanzi field")
            continue
        if utterance in labels:
            report(number, RejectReason.DUPLICATE_ID, f"utterance {utterance} is labelled twice")
            continue
        labels[utterance] = hanzi
    return labels


def split_content_text(text: str) -> tuple[str, str]:
    """(characters joined without spaces, pinyin joined by single spaces) from content.txt's text field,
    where characters and pinyin alternate. Raises ValueError when the two are not in step."""
    tokens = text.split()
    if not tokens:
        raise ValueError("empty text field")
    if len(tokens) % 2:
        raise ValueError(f"odd number of tokens ({len(tokens)}): characters and pinyin must alternate")
    characters, pinyin = tokens[0::2], tokens[1::2]
    bad = [syllable for syllable in pinyin if not PINYIN_SYLLABLE.fullmatch(syllable)]
    if bad:
        raise ValueError(f"not pinyin where pinyin is expected: {bad[:3]}")
    return "".join(characters), " ".join(pinyin)


def wav_relpath(utterance_field: str) -> str:
    """Where a content.txt utterance (`SSB00050001.wav`) has its audio, relative to its split's folder."""
    native_id = utterance_field.strip().removesuffix(".wav")
    return f"wav/{native_id[:SPEAKER_ID_LENGTH]}/{native_id}.wav"


class Aishell3Reader(CorpusReader):
    name = "aishell3"
    language = "zh"
    speaking_style = "read"
    subsets = ("train", "test")
    required = (SPEAKER_INFO,)
    extra_columns = {"pinyin": "string", "prosody_text": "string", "age_band": "string"}

    def check_layout(self) -> None:
        super().check_layout()
        layouts = {subset: [self.audio_bases([self.root / subset], self.content_path(subset))]
                   for subset in self.selected_subsets()}
        self.find_layouts(layouts, ((bases, wav_relpath(line.text.split("\t")[0]))
                                    for subset, (bases,) in layouts.items()
                                    for line in text_lines(self.content_path(subset))))

    def content_path(self, subset: str) -> Path:
        return self.root / subset / "content.txt"

    def selected_subsets(self) -> list[str]:
        """A split counts as present when its folder exists; every split scanned needs its content.txt."""
        present = [subset for subset in self.subsets if (self.root / subset).is_dir()]
        chosen = self.choose_subsets(present, expected=self.content_path, fallback=self.content_path("train"))
        for subset in chosen:
            if not self.content_path(subset).is_file():
                raise CorpusLayoutError(
                    f"{self.root} does not look like {self.name}: expected {self.content_path(subset)}")
        return chosen

    def scan(self) -> Iterator[ScanItem]:
        self.check_layout()
        speakers = yield from self.load_table(read_spk_info, self.root / SPEAKER_INFO)
        for subset, (bases,) in self.layouts.items():
            labels: dict[str, str] = {}
            label_path = self.root / subset / PROSODY_LABELS
            if label_path.is_file():
                labels = yield from self.load_table(read_prosody_labels, label_path)
            content_path = self.content_path(subset)
            yield from self.read_lines(content_path, partial(self.read_content_line, subset, bases, speakers,
                                                             labels, content_path))

    def read_content_line(self, subset: str, bases: AudioBases, speakers: dict[str, Aishell3Speaker],
                          labels: dict[str, str], path: Path, number: int, line: str) -> ClipSource | Reject:
        """One content.txt line (`SSB00050001.wav<TAB>广 guang3 州 zhou1 …`) as a clip or a reject."""
        fields = line.split("\t")
        if len(fields) != 2:
            return self.malformed(path, number, f"expected 2 tab-separated fields, got {len(fields)}")
        utterance_field, text = fields
        native_id = utterance_field.strip().removesuffix(".wav")
        speaker_id = native_id[:SPEAKER_ID_LENGTH]
        source = self.line_source(path, number)
        relpath = wav_relpath(utterance_field)
        if not bases.readings(relpath):
            return self.escapes_root(source, f"{subset}/{relpath}")
        if len(native_id) <= SPEAKER_ID_LENGTH:
            return self.malformed(path, number, f"utterance id {utterance_field!r} is too short")
        try:
            transcript, pinyin = split_content_text(text)
        except ValueError as error:
            return self.malformed(path, number, str(error), native_id)
        audio_path = bases.resolve(relpath)
        problem = self.check_clip(source, audio_path, native_id)
        if problem is not None:
            return problem

        speaker = speakers.get(speaker_id)
        return ClipSource(
            corpus=self.name, native_id=native_id, language=self.language, audio_path=audio_path,
            subset=subset, split=subset, speaker_id=speaker_id,
            transcript=transcript, transcript_raw=text,
            meta_gender=speaker.gender if speaker else None,
            meta_age_group=speaker.age_group if speaker else None,
            meta_accent=speaker.accent if speaker else None,
            extras={"pinyin": pinyin, "age_band": speaker.age_band if speaker else None,
                    "prosody_text": labels.get(native_id)},
        )
