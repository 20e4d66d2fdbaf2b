"""Words of a transcript and the keyword to stress in it.

`split_words` is the one word segmentation every emphasis part shares (keyword choice, the aligner, the
detector): English words are runs of letters, digits and apostrophes; Chinese is segmented by jieba.
`KeywordScorer` is fitted on a corpus's transcripts and scores each content word by how informative it is
there: TF-IDF over the corpus's sentences for Chinese (jieba's segmentation and part-of-speech tags pick the
content words), and corpus rarity (-log frequency) after a stop-word list for English.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_EN_WORD = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# jieba part-of-speech tags of content words: nouns (n, nr, ns, nt, nz, ng), verbs (v, vn), adjectives (a, an)
_ZH_CONTENT_TAGS = ("n", "v", "a")
_ZH_NOT_CONTENT = {"是", "有", "在", "要", "会", "能", "让", "把", "被", "给", "得", "说", "做", "去", "来", "到", "上", "下"}
EN_STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing done down during each even ever every few for from further get gets got
had has have having he her here hers herself him himself his how i if in into is it its itself just let like
made make many may me might more most much must my myself never no nor not now of off often on once one only or
other our ours ourselves out over own quite rather said same say says see shall she should so some such than
that the their theirs them themselves then there these they this those through to too under until up upon us
very was we well were what when where which while who whom whose why will with within without would yet you
your yours yourself yourselves mr mrs miss sir oh yes along until among around across toward towards away back
""".split())
MIN_EN_LETTERS = 3
CANDIDATES = 3           # the keyword is one of the top-scoring content words, picked per clip


@dataclass(frozen=True)
class Keyword:
    word: str
    index: int           # position in split_words(transcript)
    score: float


def split_words(transcript: str, language: str) -> list[str]:
    """The transcript's words in order, punctuation dropped."""
    if language == "zh":
        return [w for w in _jieba().lcut(transcript) if _HAN.search(w)]
    return _EN_WORD.findall(transcript)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)        # it announces its dictionary load on stderr otherwise
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=1)
def _jieba_pos():
    import jieba.posseg

    return jieba.posseg.POSTokenizer(_jieba())


def content_words(transcript: str, language: str) -> list[bool]:
    """For each word of split_words(transcript), whether it is a content word (a keyword candidate)."""
    words = split_words(transcript, language)
    if language == "zh":
        tags: dict[str, str] = {}
        for pair in _jieba_pos().lcut(transcript):
            tags.setdefault(pair.word, pair.flag)
        return [tags.get(w, "x").startswith(_ZH_CONTENT_TAGS) and w not in _ZH_NOT_CONTENT for w in words]
    return [w.lower() not in EN_STOP_WORDS and len(re.sub(r"[^A-Za-z]", "", w)) >= MIN_EN_LETTERS
            and not w.isdigit() for w in words]


class KeywordScorer:
    """Fitted on one language's transcripts; `choose` returns a transcript's keyword or None."""

    def __init__(self, language: str, transcripts: Iterable[str]):
        self.language = language
        documents = [split_words(t, language) for t in transcripts]
        self.n_documents = len(documents)
        self.document_frequency = Counter(w.lower() for words in documents for w in set(words))
        self.frequency = Counter(w.lower() for words in documents for w in words)
        self.total = sum(self.frequency.values())

    def score(self, word: str, term_count: int) -> float:
        key = word.lower()
        if self.language == "zh":     # TF-IDF, smoothed so unseen words get the highest idf
            idf = math.log((1 + self.n_documents) / (1 + self.document_frequency[key])) + 1.0
            return term_count * idf
        return -math.log((self.frequency[key] + 1) / (self.total + len(self.frequency) + 1))

    def ranked(self, transcript: str) -> list[Keyword]:
        """Content words of the transcript, most informative first (earlier position breaks ties)."""
        words = split_words(transcript, self.language)
        counts = Counter(w.lower() for w in words)
        found = [Keyword(w, i, self.score(w, counts[w.lower()]))
                 for i, (w, keep) in enumerate(zip(words, content_words(transcript, self.language))) if keep]
        return sorted(found, key=lambda k: (-k.score, k.index))

    def choose(self, transcript: str, salt: str = "") -> Keyword | None:
        """One of the CANDIDATES most informative content words, picked by a hash of `salt` (the clip id): the
        same clip always gets the same keyword, and the speakers reading one sentence stress different words
        (so the stressed position varies, not always the sentence's rarest, often final, noun)."""
        ranked = self.ranked(transcript)[:CANDIDATES]
        if not ranked:
            return None
        pick = int(hashlib.sha256(f"{salt}\x1f{transcript}".encode()).hexdigest(), 16) % len(ranked)
        return ranked[pick]
