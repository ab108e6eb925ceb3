"""Words rewritten to fit a vocabulary: the normalisation shared by alignment and training.

A word becomes zero or more pieces the vocabulary can spell: accents stripped,
lower-cased when the vocabulary has no capitals, numbers spelled out (``42`` ->
``forty two``), ``&`` and ``%`` read out, hyphens and slashes split, other symbols
dropped. A word the vocabulary already spells stays as it is.
"""

from __future__ import annotations

import re
import unicodedata

from ctctool.text.numbers import spell_number
from ctctool.vocab import Vocabulary

#: Symbols read out as words.
SYMBOL_WORDS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?")


def normalize_word(word: str, vocab: Vocabulary) -> tuple[str, ...]:
    """The pieces ``word`` becomes under ``vocab`` (empty when nothing of it can be aligned)."""
    if all(vocab.id_of(c) is not None for c in word):
        return (word,)
    delimiter = vocab.word_delimiter
    kept = []
    for char in _spelled_out(word, vocab):
        if char.isspace() or char in "-/_" and vocab.id_of(char) is None:
            kept.append(" ")
        elif vocab.id_of(char) is not None and char != delimiter:
            kept.append(char)
    return tuple("".join(kept).split())


def lost_letters(word: str, vocab: Vocabulary) -> str:
    """The letters and digits of ``word`` that ``normalize_word`` drops because the vocabulary cannot
    spell them even after case folding, accent stripping and number spelling ("" when none)."""
    if all(vocab.id_of(c) is not None for c in word):
        return ""
    return "".join(c for c in _spelled_out(word, vocab) if c.isalnum() and vocab.id_of(c) is None)


def normalize_text(text: str, vocab: Vocabulary) -> str:
    """Every word of ``text`` normalised, the pieces joined by single spaces."""
    return " ".join(piece for word in text.split() for piece in normalize_word(word, vocab))


def _spelled_out(word: str, vocab: Vocabulary) -> str:
    """``word`` case-folded to the vocabulary, numbers and symbols spelled out, accents stripped."""
    has_capitals = any(len(t) == 1 and t.isupper() for t in vocab.tokens)
    text = word if has_capitals else word.lower()
    text = _NUMBER.sub(lambda m: " " + (spell_number(m.group()) or m.group()) + " ", text)
    for symbol, spoken in SYMBOL_WORDS.items():
        if vocab.id_of(symbol) is None:
            text = text.replace(symbol, spoken)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
