"""Transcripts to label sequences, keeping the user's words: normalisation with a report.

A transcript is lines of words. Each original word is rewritten to fit the
vocabulary (accents stripped, lower-cased when the vocabulary has no capitals,
numbers spelled out, ``&`` and ``%`` read out, other symbols dropped) into zero or
more pieces; the pieces are aligned, the original word is what the output shows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ctctool.errors import CtcToolError
from ctctool.numbers import spell_number
from ctctool.vocab import Vocabulary

#: The word that stands for speech the transcript leaves out.
STAR = "*"
#: Symbols read out as words.
SYMBOL_WORDS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?")


@dataclass(frozen=True)
class TranscriptWord:
    """An original word, the index of its line, and the normalised pieces that are aligned."""

    text: str
    line: int
    pieces: tuple[str, ...]


@dataclass(frozen=True)
class PreparedTranscript:
    """Labels to align and the map back to the user's words.

    ``label_word[i]`` is the index in ``words`` of label i, or -1 for a word delimiter.
    ``changes`` describes every word whose aligned form differs from what was written.
    """

    lines: tuple[str, ...]
    words: tuple[TranscriptWord, ...]
    labels: tuple[int, ...]
    label_word: tuple[int, ...]
    changes: tuple[str, ...]


def normalize_word(word: str, vocab: Vocabulary) -> tuple[str, ...]:
    """The pieces ``word`` becomes under ``vocab`` (empty when nothing of it can be aligned)."""
    if all(vocab.id_of(c) is not None for c in word):
        return (word,)
    has_capitals = any(len(t) == 1 and t.isupper() for t in vocab.tokens)
    text = word if has_capitals else word.lower()
    text = _NUMBER.sub(lambda m: " " + (spell_number(m.group()) or m.group()) + " ", text)
    for symbol, spoken in SYMBOL_WORDS.items():
        if vocab.id_of(symbol) is None:
            text = text.replace(symbol, spoken)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    delimiter = vocab.word_delimiter
    kept = []
    for char in text:
        if char.isspace() or char in "-/_" and vocab.id_of(char) is None:
            kept.append(" ")
        elif vocab.id_of(char) is not None and char != delimiter:
            kept.append(char)
    return tuple("".join(kept).split())


def prepare_transcript(text: str, vocab: Vocabulary, *, star_id: int | None = None) -> PreparedTranscript:
    """Labels for ``text`` under ``vocab``; a word ``*`` becomes ``star_id`` when given.

    Raises CtcToolError when nothing in the transcript can be aligned.
    """
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    words: list[TranscriptWord] = []
    changes: list[str] = []
    for line_index, line in enumerate(lines):
        for word in line.split():
            if word == STAR and star_id is not None:
                pieces: tuple[str, ...] = (STAR,)
            else:
                pieces = normalize_word(word, vocab)
                if pieces != (word,):
                    changes.append(f"{word!r} -> {' '.join(pieces)!r}" if pieces else f"{word!r} -> (not aligned)")
            words.append(TranscriptWord(word, line_index, pieces))
    delimiter = vocab.word_delimiter
    delimiter_id = vocab.id_of(delimiter) if delimiter else None
    labels: list[int] = []
    label_word: list[int] = []
    for index, word in enumerate(words):
        for piece in word.pieces:
            if labels and delimiter_id is not None:
                labels.append(delimiter_id)
                label_word.append(-1)
            ids = [star_id] if piece == STAR else vocab.encode(piece, where=f"word {word.text!r}")
            labels.extend(ids)
            label_word.extend([index] * len(ids))
    if not labels:
        raise CtcToolError("transcript: nothing to align (no word has a character of the vocabulary)")
    return PreparedTranscript(lines, tuple(words), tuple(labels), tuple(label_word), tuple(changes))
