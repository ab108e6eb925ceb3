"""Words rewritten to fit a vocabulary: the normalisation shared by alignment and training.

A word becomes zero or more pieces the vocabulary can spell: its case follows the
vocabulary (lower-cased when it has no capitals, upper-cased when it has only capitals, as
``facebook/wav2vec2-base-960h``), numbers spelled out (``42`` -> ``forty two``), ``&`` and
``%`` read out, hyphens and slashes split. A character the vocabulary lacks loses its accents
(``é`` -> ``e``); a Latin letter or a punctuation mark with no decomposition is transliterated
by anyascii's table (``ß`` -> ``ss``, ``ø`` -> ``o``, ``æ`` -> ``ae``, ``ł`` -> ``l``, ``’`` ->
``'``); what is still unspellable is dropped (other scripts need romanisation). A character the
vocabulary has is kept as it is, and a word the vocabulary already spells stays whole.

``Spelling`` adds what some transcripts need: ``romanize`` passes a word the vocabulary cannot spell
through uroman (any script to Latin letters, as the MMS alignment recipe does; the ``romanize`` extra),
and ``language`` spells numbers in that language with num2words (English by ctctool's own rules).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from ctctool.errors import CtcToolError
from ctctool.text.numbers import spell_number
from ctctool.vocab import Vocabulary

#: Symbols read out as words.
SYMBOL_WORDS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?")
#: A number where a comma is the decimal mark and a point groups thousands (``1.000,5``).
_COMMA_NUMBER = re.compile(r"\d+(?:\.\d{3})*(?:,\d+)?")
#: Languages (num2words codes) whose decimal mark is a comma: ``1,5`` is one and a half there.
DECIMAL_COMMA = frozenset({
    "az", "be", "ca", "ce", "cs", "da", "de", "el", "eo", "es", "es_co", "es_cr", "es_ve", "fi", "fr", "fr_be",
    "fr_ch", "fr_dz", "hu", "id", "is", "it", "kz", "lt", "lv", "nl", "no", "pl", "pt", "pt_br", "ro", "ru", "sk",
    "sl", "sr", "sv", "tg", "tr", "uk", "vi"})


@dataclass(frozen=True)
class Spelling:
    """How words the vocabulary cannot spell are rewritten: ``romanize`` (uroman) and the ``language`` of
    numbers (an ISO code num2words knows, e.g. ``ru``, ``de``, ``hi``)."""

    romanize: bool = False
    language: str = "en"


def normalize_word(word: str, vocab: Vocabulary, spelling: Spelling = Spelling()) -> tuple[str, ...]:
    """The pieces ``word`` becomes under ``vocab`` (empty when nothing of it can be aligned)."""
    if all(vocab.spells(c) for c in word):
        return (word,)
    delimiter = vocab.word_delimiter
    kept = []
    for char in _spelled_out(word, vocab, spelling):
        if char.isspace() or char in "-/_" and not vocab.spells(char):
            kept.append(" ")
        elif vocab.spells(char) and char != delimiter:
            kept.append(char)
    return tuple("".join(kept).split())


def lost_letters(word: str, vocab: Vocabulary, spelling: Spelling = Spelling()) -> str:
    """The letters and digits of ``word`` that ``normalize_word`` drops because the vocabulary cannot
    spell them even after case folding, accent stripping and number spelling ("" when none)."""
    if all(vocab.spells(c) for c in word):
        return ""
    return "".join(c for c in _spelled_out(word, vocab, spelling) if c.isalnum() and not vocab.spells(c))


def normalize_text(text: str, vocab: Vocabulary, spelling: Spelling = Spelling()) -> str:
    """Every word of ``text`` normalised, the pieces joined by single spaces."""
    return " ".join(piece for word in text.split() for piece in normalize_word(word, vocab, spelling))


def _spelled_out(word: str, vocab: Vocabulary, spelling: Spelling) -> str:
    """``word`` in the vocabulary's case, numbers and symbols spelled out, each character the vocabulary
    lacks stripped of accents or transliterated (see the module docstring)."""
    pattern = _COMMA_NUMBER if spelling.language.lower() in DECIMAL_COMMA else _NUMBER
    text = pattern.sub(lambda m: " " + (_number_words(m.group(), spelling.language) or m.group()) + " ", word)
    if spelling.romanize and not all(vocab.spells(c) or not c.isalpha() for c in text):
        text = _romanizer().romanize_string(text)
    text = _cased(text, vocab)
    for symbol, spoken in SYMBOL_WORDS.items():
        if not vocab.spells(symbol):
            text = text.replace(symbol, spoken)
    return "".join(_fitted(char, vocab) for char in text)


def _number_words(number: str, language: str) -> str | None:
    """``number`` (digits, maybe with separators and a decimal part, written as ``language`` writes them:
    ``1,234.5`` in English, ``1.234,5`` in German) in words of ``language``; None when it cannot be read."""
    if language.lower() == "en":
        return spell_number(number)
    try:
        from num2words import num2words
    except ImportError:
        raise CtcToolError(f"`language` {language}: numbers in other languages need num2words: "
                           "pip install 'ctctool[romanize]'") from None
    if language.lower() in DECIMAL_COMMA:
        digits = number.replace(".", "").replace(",", ".")
    else:
        digits = number.replace(",", "")
    try:
        return num2words(float(digits) if "." in digits else int(digits), lang=language.lower())
    except (NotImplementedError, ValueError, OverflowError):
        return None


@functools.lru_cache(maxsize=1)
def _romanizer():
    try:
        import uroman
    except ImportError:
        raise CtcToolError("`romanize` needs uroman: pip install 'ctctool[romanize]'") from None
    return uroman.Uroman()


def check_language(language: str) -> None:
    """A CtcToolError unless numbers can be spelled in ``language`` (``en``, or a language num2words knows)."""
    if language.lower() == "en":
        return
    try:
        from num2words import CONVERTER_CLASSES
    except ImportError:
        raise CtcToolError(f"`language` {language}: numbers in other languages need num2words: "
                           "pip install 'ctctool[romanize]'") from None
    if language.lower() not in CONVERTER_CLASSES:
        raise CtcToolError(f"`language` {language!r}: num2words spells no numbers in it; known: "
                           f"{', '.join(sorted(CONVERTER_CLASSES)[:12])}, ...")


def _cased(text: str, vocab: Vocabulary) -> str:
    """``text`` lower-cased for a vocabulary without capitals, upper-cased for one with capitals only."""
    letters = vocab.letters
    has_upper, has_lower = any(t.isupper() for t in letters), any(t.islower() for t in letters)
    if has_upper and not has_lower:
        return text.upper()
    return text if has_upper else text.lower()


def _fitted(char: str, vocab: Vocabulary) -> str:
    """``char`` itself when the vocabulary has it, else without accents, else transliterated when it is a
    Latin letter or punctuation (else returned as it is, for the caller to drop)."""
    if vocab.spells(char):
        return char
    stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if all(vocab.spells(c) for c in stripped) or stripped.isascii():
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
