"""GigaSpeech's `text_tn` (upper-case words with `<COMMA>`-style tags) made into a readable transcript."""
from __future__ import annotations

PUNCTUATION_TAGS = {"<COMMA>": ",", "<PERIOD>": ".", "<QUESTIONMARK>": "?", "<EXCLAMATIONPOINT>": "!"}
GARBAGE_TAGS = frozenset({"<SIL>", "<MUSIC>", "<NOISE>", "<OTHER>"})
SENTENCE_END = (".", "?", "!")
FIRST_PERSON = frozenset({"i", "i'm", "i'll", "i've", "i'd"})


def is_tag(token: str) -> bool:
    return len(token) > 2 and token.startswith("<") and token.endswith(">")


def has_no_speech(text_tn: str) -> bool:
    """True for a segment labelled only with garbage tags (`<SIL>`, `<MUSIC>`, ...): nothing was said."""
    tokens = text_tn.split()
    return bool(tokens) and all(token in GARBAGE_TAGS for token in tokens)


def clean_gigaspeech_text(text_tn: str) -> str:
    """Sentence-cased text: punctuation tags become marks on the word before them, other tags (garbage
    inside speech) go, everything is lower-cased, then the first word, each word after `. ? !` and the
    pronoun I (`i`, `i'm`, ...) are capitalised. Returns "" when no word is left."""
    words: list[str] = []
    for token in text_tn.split():
        if token in PUNCTUATION_TAGS:
            if words:                        # a mark with no word before it has nothing to attach to
                words[-1] += PUNCTUATION_TAGS[token]
        elif not is_tag(token):
            words.append(token.lower())
    return " ".join(sentence_case(words))


def sentence_case(words: list[str]) -> list[str]:
    cased: list[str] = []
    starts_sentence = True
    for word in words:
        if starts_sentence or word.rstrip(",.?!") in FIRST_PERSON:
            word = word[:1].upper() + word[1:]
        cased.append(word)
        starts_sentence = word.endswith(SENTENCE_END)
    return cased
