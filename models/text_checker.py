"""The judge of a generated description or instruction (docs/annotation-contract.md, "Judging a generated text").

Given the labels the generator was given, a text is checked for
- omissions: a given attribute the text does not express, by any phrase of the lexicon;
- distortions: a phrase that expresses another value of a given attribute;
- for instructions, the transcript: quoted, and unaltered (case, spacing and punctuation aside);
- invented content: body language, faces, inner life, what happens next.
The transcript's own words are blanked out before attributes are read, so that "I am so happy" in the
quote never counts as an emotion.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from ..vocabulary import CONDITION_LABEL_NAMES, TEXT_LABELS, TEXT_VALUES
from .text_grammar import AGE_NUMBER, COORDINATION, GRAMMAR, NEGATED_ATTRIBUTES, NEGATION, age_values
from .text_lexicon import (ATTRIBUTE_ORDER, CONDITION_LEXICON, CONDITION_ORDER, EMPHASIS_CUES, INVENTED, LEXICON,
                           SHARED_ADJECTIVE)

BLANKS_LATER = ("speed", "volume", "pitch", "emotion")
_QUOTE_PAIRS = ("“”", '""', "‘’", "「」", "『』")
_QUOTES = re.compile("|".join(f"{re.escape(o)}([^{re.escape(c)}]*){re.escape(c)}" for o, c in _QUOTE_PAIRS))
# Any quotation mark, straight single ones included: a transcript in 'single quotes' is found by its own words
# (an apostrophe inside it, "It's", would end a quote read by the marks alone).
_QUOTE_MARKS = "".join(_QUOTE_PAIRS) + "'"
# The grammar's phrases, then the lexicon's, compiled once (`re`'s own cache would be consulted about 55 times a
# text, a tenth of a check). Numbers of years are read last, after the lexicon's own age phrases.
_PHRASES = {language: {attribute: [(re.compile(pattern), values) for pattern, values in
                                   (*GRAMMAR[language].get(attribute, ()), *phrases)]
                       for attribute, phrases in {**by_attribute, **CONDITION_LEXICON[language]}.items()}
            for language, by_attribute in LEXICON.items()}
for _language, _pattern in AGE_NUMBER.items():
    _PHRASES[_language]["age"].append((re.compile(_pattern), age_values))
_NEGATION = {language: re.compile(pattern) for language, pattern in NEGATION.items()}
_COORDINATION = {language: [(re.compile(pattern), spread) for pattern, spread in rules]
                 for language, rules in COORDINATION.items()}
# The labels a text may state beside TEXT_LABELS: the recording conditions, with describe's `conditions` option.
_VALUES = {**TEXT_VALUES, **CONDITION_LABEL_NAMES}
_KNOWN = (*TEXT_LABELS, *CONDITION_ORDER)
_INVENTED = {language: re.compile(pattern) for language, pattern in INVENTED.items()}
_SHARED = {language: (re.compile(pattern), re.compile(separator))
           for language, (pattern, separator) in SHARED_ADJECTIVE.items()}


@dataclass
class Verdict:
    omitted: list[str] = field(default_factory=list)
    distorted: list[str] = field(default_factory=list)
    transcript_problem: str | None = None      # missing / altered (instructions only)
    invented: list[str] = field(default_factory=list)
    found: dict[str, list[str]] = field(default_factory=dict)   # attribute -> values the text expresses

    @property
    def passed(self) -> bool:
        return not (self.omitted or self.distorted or self.transcript_problem or self.invented)

    def reasons(self) -> list[str]:
        out = [f"omits {a}" for a in self.omitted] + [f"distorts {a} ({', '.join(self.found.get(a, []))})"
                                                       for a in self.distorted]
        if self.transcript_problem:
            out.append(f"transcript {self.transcript_problem}")
        out += [f"invents {w!r}" for w in self.invented]
        return out


class LabelError(ValueError):
    pass


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    """Known keys and values only; None and empty values dropped (they are left out of texts, never
    invented)."""
    clean = {}
    for key, value in labels.items():
        if value is None or str(value).strip() == "":
            continue
        if key not in _KNOWN:
            raise LabelError(f"unknown label {key!r}; labels: {', '.join(_KNOWN)}")
        value = str(value).strip()
        if key in _VALUES and value not in _VALUES[key]:
            raise LabelError(f"unknown {key} {value!r}; values: {', '.join(_VALUES[key])}")
        clean[key] = value
    return clean


def check(text: str, labels: dict[str, str], language: str, transcript: str | None = None) -> Verdict:
    """The verdict on `text` for these labels. With `transcript`, the text is an instruction and must quote
    it unaltered; without, a description."""
    labels = check_labels(labels)
    language = "zh" if language.startswith("zh") else "en"
    verdict = Verdict()
    body = text
    if transcript is not None:
        verdict.transcript_problem, body = _transcript(text, transcript)
    body = _blank_quotes(body, keep=labels.get("emphasis"))
    body = body.lower() if language == "en" else body

    if "emphasis" in labels and not _mentions_emphasis(body, labels["emphasis"], language):
        verdict.omitted.append("emphasis")
    if "topic" in labels and not _mentions_topic(body, labels["topic"], language):
        verdict.omitted.append("topic")
    for phrase in (labels.get("emphasis"), labels.get("topic")):   # their words say nothing about the voice
        if phrase:
            body = _blank_phrase(body, phrase.lower() if language == "en" else phrase)
    conditions = any(attribute in labels for attribute in CONDITION_ORDER)
    found = read_attributes(body, language, conditions)
    verdict.found = {a: sorted(set().union(*v)) for a, v in found.items() if a in labels}
    for attribute in reading_order(conditions):
        if attribute not in labels:
            continue
        fits = found.get(attribute, [])
        if any(labels[attribute] not in values for values in fits):
            verdict.distorted.append(attribute)       # another value said: a distortion, not an omission
        elif not fits:
            verdict.omitted.append(attribute)
    verdict.invented = [m.group(0) for m in _INVENTED[language].finditer(body)]
    return verdict


def _spread_adjectives(text: str, language: str) -> str:
    pattern, separator = _SHARED[language]
    joint = ", " if language == "en" else "，"
    link = " " if language == "en" else "的"
    text = pattern.sub(lambda m: joint.join(f"{m.group(1)}{link}{noun}" for noun in separator.split(m.group(2))),
                       text)
    for rule, spread in _COORDINATION[language]:
        text = rule.sub(spread, text)
    return text


def reading_order(conditions: bool) -> tuple[str, ...]:
    """The attributes a text is read for, in order: the recording conditions first when they are stated."""
    return (*CONDITION_ORDER, *ATTRIBUTE_ORDER) if conditions else ATTRIBUTE_ORDER


def read_attributes(text: str, language: str, conditions: bool = False) -> dict[str, list[set[str]]]:
    """Per attribute, the value sets of every phrase found. Within an attribute each match is blanked before
    the next phrase is looked for; the matches of speed, volume, pitch and emotion are also blanked for the
    attributes after them ("语速平稳" is not a calm tone), but age's are not for gender ("a young woman"
    says both). With `conditions`, noise, reverberation and monotony are read first, and their matches blanked
    for every attribute after them ("loud background noise" says nothing of the volume); without, they are
    not read at all, and the text is read as it always was."""
    found: dict[str, list[set[str]]] = {}
    shared = shared_text = _spread_adjectives(text, language)
    for attribute in reading_order(conditions):
        own = shared
        values_of = _VALUES.get(attribute, ())
        negatable = attribute in NEGATED_ATTRIBUTES
        for pattern, values in _PHRASES[language][attribute]:
            matches = list(pattern.finditer(own))     # non-overlapping, left to right: what subn would blank
            if not matches:
                continue
            spans = []
            for match in matches:
                said = values(match) if callable(values) else values
                # the negation is looked for in the text as written: a blanked phrase between is no bridge
                # ("not too loud and not too quiet, happy" does not deny "happy")
                if negatable and _denied(match, shared_text, language):
                    said = set(values_of) - said      # "not loud" fits low and normal volume
                found.setdefault(attribute, []).append(said)
                spans.append(_blanked_span(match))
            own = _blank_spans(own, spans)
        if attribute in BLANKS_LATER or attribute in CONDITION_ORDER:
            shared = own
    return {a: v for a, v in found.items() if v}


def _denied(match: re.Match, text: str, language: str) -> bool:
    """A phrase negated inside (its `neg` group: "voice isn't high", 声音一点也不响) or right before it ("doesn't
    sound sad at all", 毫不生气)."""
    if match.re.groupindex.get("neg") and match.group("neg"):
        return True
    return bool(_NEGATION[language].search(text, max(0, match.start() - 40), match.start()))


def _blanked_span(match: re.Match) -> tuple[int, int]:
    """What a match blanks: a grammar phrase that names its adjective blanks the adjective (and its negation)
    only, so that its noun can carry the next modifier ("pitch is high, or rather, quite low")."""
    if match.re.groupindex.get("adj"):
        start = match.start("neg") if match.re.groupindex.get("neg") and match.group("neg") else match.start("adj")
        return start, match.end("adj")
    return match.span()


def _blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], " " * (end - start)]
        last = end
    return "".join(parts) + text[last:]


def _transcript(text: str, transcript: str) -> tuple[str | None, str]:
    """(problem, text with the quoted transcript blanked)."""
    wanted = _normalise(transcript)
    quoted = [m for m in _QUOTES.finditer(text)]
    for match in quoted:
        inner = next(g for g in match.groups() if g is not None)
        if _normalise(inner) == wanted:
            return None, _blank_spans(text, [match.span()])
    between_marks = _quoted_words(transcript).search(text)
    if between_marks:
        return None, _blank_spans(text, [between_marks.span()])
    if any(_overlap(next(g for g in m.groups() if g is not None), transcript) >= 0.5 for m in quoted):
        return "altered", text
    return "missing", text


def _blank_phrase(body: str, phrase: str) -> str:
    """The phrase blanked where it is quoted, or everywhere when it never is: a stressed 快 quoted as the word to
    stress says nothing of the speed, but 语速很快 elsewhere in the text still does."""
    blank = lambda m: " " * len(m.group(0))      # noqa: E731
    quoted = _quoted_words(phrase)
    if quoted.search(body):
        return quoted.sub(blank, body)
    return re.sub(re.escape(phrase), blank, body)


def _blank_quotes(text: str, keep: str | None) -> str:
    """Quoted passages (the transcript, or parts of it) carry no attribute; a quoted emphasised word stays."""
    def blank(match):
        inner = next(g for g in match.groups() if g is not None)
        if keep and _normalise(inner) == _normalise(keep):
            return match.group(0)
        return " " * len(match.group(0))
    return _QUOTES.sub(blank, text)


@lru_cache(maxsize=4096)        # a stressed word or a topic recurs over many clips' texts
def _quoted_words(phrase: str) -> re.Pattern:
    """The phrase's words (characters, for Chinese) in order, punctuation and spacing between them free, with a
    quotation mark on either side."""
    units = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", phrase))
    units = [u for unit in units for u in (list(unit) if re.match(r"[\u3400-\u9fff]", unit) else [unit])]
    marks = re.escape(_QUOTE_MARKS)
    body = r"[^\w]*".join(re.escape(u) for u in units)
    return re.compile(rf"[{marks}][^\w{marks}]*{body}[^\w{marks}]*[{marks}]", re.IGNORECASE)


def _normalise(text: str) -> str:
    """Case, spacing and punctuation aside."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if ch.isalnum())


def _overlap(a: str, b: str) -> float:
    """Share of b's words (characters, for Chinese) that a has."""
    def units(s):
        norm = unicodedata.normalize("NFKC", s).lower()
        return re.findall(r"[a-z0-9']+|[\u3400-\u9fff]", norm)
    wanted = units(b)
    have = set(units(a))
    return sum(u in have for u in wanted) / len(wanted) if wanted else 0.0


def _mentions_emphasis(body: str, word: str, language: str) -> bool:
    word_here = (re.search(rf"\b{re.escape(word.lower())}\b", body) if language == "en" else word in body)
    return bool(word_here and re.search(EMPHASIS_CUES[language], body))


def _mentions_topic(body: str, topic: str, language: str) -> bool:
    if language == "zh":      # every part of it, in any order: 有声书《红楼梦》 is said by 《红楼梦》的有声书
        return topic in body or all(part in body for part in re.findall(r"[^\W_]+", topic))
    words = [w for w in re.findall(r"[a-z]+", topic.lower()) if len(w) > 3 and w not in {"and", "with", "from"}]
    return topic.lower() in body or (bool(words) and all(re.search(rf"\b{_stem(w)}", body) for w in words))


def _stem(word: str) -> str:
    """What a topic word's forms share: "reading" and "reads" both start with "read", "gardening" "garden"."""
    stem = re.sub(r"(?:ing|ed|es|s)$", "", word)
    return stem[:max(4, len(stem) - 1)]
