"""Transcripts to label sequences, keeping the user's words: normalisation with a report.

A transcript is lines of words. Each original word is rewritten to fit the
vocabulary by ``ctctool.text.normalize_word`` into zero or more pieces; the pieces
are aligned, the original word is what the output shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctctool.errors import CtcToolError
from ctctool.text.normalize import Spelling, normalize_word
from ctctool.vocab import Vocabulary

#: The word that stands for speech the transcript leaves out.
STAR = "*"


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


def prepare_transcript(text: str, vocab: Vocabulary, *, star_id: int | None = None,
                       spelling: Spelling = Spelling()) -> PreparedTranscript:
    """Labels for ``text`` under ``vocab`` (words rewritten as ``spelling`` says, see
    ``ctctool.text.normalize``); a word ``*`` becomes ``star_id`` when given.

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
                pieces = normalize_word(word, vocab, spelling)
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
    if not any(ch.isalnum() for word in words for piece in word.pieces if piece != STAR for ch in piece):
        raise CtcToolError("transcript: nothing to align: no word has a letter or a digit (only punctuation or "
                           "symbols); expected the words spoken in the audio")
    return PreparedTranscript(lines, tuple(words), tuple(labels), tuple(label_word), tuple(changes))
