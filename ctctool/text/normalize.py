"""Words rewritten to fit a vocabulary: the normalisation shared by alignment and training.

A word becomes zero or more pieces the vocabulary can spell: its case follows the
vocabulary (lower-cased when it has no capitals, upper-cased when it has only capitals, as
``facebook/wav2vec2-base-960h``), numbers spelled out (``42`` -> ``forty two``), ``&`` and
``%`` read out, hyphens and slashes split. A character the vocabulary lacks loses its accents
(``é`` -> ``e``); a Latin letter or a punctuation mark with no decomposition is transliterated
by anyascii's table (``ß`` -> ``ss``, ``ø`` -> ``o``, ``æ`` -> ``ae``, ``ł`` -> ``l``, ``’`` ->
``'``); what is still unspellable is dropped (other scripts need romanisation). A character the
vocabulary has is kept as it is, and a word the vocabulary already spells stays whole.
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
    """``word`` in the vocabulary's case, numbers and symbols spelled out, each character the vocabulary
    lacks stripped of accents or transliterated (see the module docstring)."""
    text = _NUMBER.sub(lambda m: " " + (spell_number(m.group()) or m.group()) + " ", _cased(word, vocab))
    for symbol, spoken in SYMBOL_WORDS.items():
        if vocab.id_of(symbol) is None:
            text = text.replace(symbol, spoken)
    return "".join(_fitted(char, vocab) for char in text)


def _cased(text: str, vocab: Vocabulary) -> str:
    """``text`` lower-cased for a vocabulary without capitals, upper-cased for one with capitals only."""
    letters = [t for t in vocab.tokens if len(t) == 1 and t.isalpha()]
    has_upper, has_lower = any(t.isupper() for t in letters), any(t.islower() for t in letters)
    if has_upper and not has_lower:
        return text.upper()
    return text if has_upper else text.lower()


def _fitted(char: str, vocab: Vocabulary) -> str:
    """``char`` itself when the vocabulary has it, else without accents, else transliterated when it is a
    Latin letter or punctuation (else returned as it is, for the caller to drop)."""
    if vocab.id_of(char) is not None:
        return char
    stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if all(vocab.id_of(c) is not None for c in stripped) or stripped.isascii():
        return stripped
    if _transliterable(char):
        from anyascii import anyascii

        return _cased(anyascii(char), vocab)
    return stripped


def _transliterable(char: str) -> bool:
    """A Latin letter (``ß``, ``ø``, ``ł``) or a punctuation mark or symbol (``’``, ``“``): characters whose
    ASCII form is a spelling, not a romanisation of another script."""
    category = unicodedata.category(char)
    return category[0] in "PS" or (category[0] == "L" and unicodedata.name(char, "").startswith("LATIN"))
