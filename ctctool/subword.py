"""Subword vocabularies: CTC classes that are SentencePiece/BPE pieces plus a blank.

A piece that starts with ``▁`` (U+2581, the SentencePiece word-start marker) begins a word;
the others continue the word before them. Text is segmented into pieces one word at a time
by the model's own tokenizer (``split``), so ``encode`` gives what the model was trained on.
Special pieces (``<unk>``, ``<s>``, byte pieces, the blank) are never produced from text and
spell no characters.

For the beam search a class stands for symbols: the characters of its piece, and a word
boundary for its ``▁``, so that word n-gram LMs and hotwords see words whichever way the
model segmented them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ctctool.errors import CtcToolError
from ctctool.vocab import Vocabulary

#: The SentencePiece word-start marker.
WORD_START = "\u2581"
#: A piece of this form is a special token, not text (``<unk>``, ``<blk>``, ``<0x41>``, ``[PAD]``).
SPECIAL_PIECE = re.compile(r"<[^<>\s]+>|\[[A-Z_]+\]")


@dataclass(frozen=True)
class PieceVocabulary(Vocabulary):
    """Pieces indexed by class id, with an explicit blank id and the tokenizer that segments words.

    ``split(word) -> pieces`` segments one word (no spaces) into piece strings, the first one
    starting with ``▁``; ``special`` lists the pieces that are not text. ``source`` names the
    tokenizer in messages.
    """

    split: Callable[[str], Sequence[str]] = field(default=None, compare=False, repr=False)
    special: frozenset[str] = frozenset()
    source: str = "tokenizer"
    _alphabet: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.split is None:
            raise CtcToolError("a subword vocabulary needs `split`, the tokenizer's segmentation of a word")
        alphabet = sorted({ch for i, piece in enumerate(self.tokens) if self._is_text(i) for ch in piece} - {WORD_START})
        if not any(piece.startswith(WORD_START) for i, piece in enumerate(self.tokens) if self._is_text(i)):
            raise CtcToolError(f"{self.source}: no piece starts with '{WORD_START}' (U+2581); expected a SentencePiece-"
                               "style subword vocabulary, whose pieces mark the start of each word")
        object.__setattr__(self, "_alphabet", {ch: i for i, ch in enumerate(alphabet)})

    def _is_text(self, class_id: int) -> bool:
        return class_id != self.blank and self.tokens[class_id] not in self.special

    @property
    def word_delimiter(self) -> str | None:
        """None: words start at ``▁`` pieces, there is no delimiter class."""
        return None

    def spells(self, char: str) -> bool:
        """Whether a piece holds ``char`` (any character of a non-special piece but ``▁``)."""
        return char in self._alphabet

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(ch for ch in self._alphabet if ch.isalpha())

    def starts_word(self, class_id: int) -> bool:
        return self._is_text(class_id) and self.tokens[class_id].startswith(WORD_START)

    def encode(self, text: str, *, where: str = "text") -> list[int]:
        """Class ids of the pieces of ``text``, segmented word by word by the tokenizer.

        Characters no piece holds are a CtcToolError naming ``where``.
        """
        unknown = list(dict.fromkeys(ch for ch in text if not ch.isspace() and ch not in self._alphabet))
        if unknown:
            raise CtcToolError(f"{where}: {self._unknown_message(unknown)}")
        ids: list[int] = []
        for word in text.split():
            for piece in self.split(word):
                class_id = self.id_of(piece)
                if class_id is None or not self._is_text(class_id):
                    raise CtcToolError(f"{where}: {self.source} segments {word!r} into {piece!r}, which is "
                                       f"{'not a class' if class_id is None else 'not a text piece'} of the "
                                       f"vocabulary ({self.size} tokens); pass the vocabulary the model was trained with")
                ids.append(class_id)
        return ids

    def decode(self, ids) -> str:
        """Text of a label sequence: pieces joined, each ``▁`` a space (blanks skipped, special pieces as named)."""
        return "".join(self.tokens[int(i)] for i in ids if int(i) != self.blank).replace(WORD_START, " ")

    def symbol_ids(self, word: str) -> list[int] | None:
        ids = [self._alphabet.get(ch) for ch in word]
        return ids if word and None not in ids else None

    def spelled_symbols(self, text: str, *, where: str = "text") -> list[int]:
        unknown = list(dict.fromkeys(ch for ch in text if not ch.isspace() and ch not in self._alphabet))
        if unknown:
            raise CtcToolError(f"{where}: {self._unknown_message(unknown)}")
        boundary = len(self._alphabet)
        symbols: list[int] = []
        for word in text.split():
            if symbols:
                symbols.append(boundary)
            symbols.extend(self._alphabet[ch] for ch in word)
        return symbols

    def symbol_table(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Symbols 0..A-1 are the alphabet's characters, A the word boundary (each ``▁``), A + 1 a special
        piece (which no word spells); the blank stands for nothing."""
        boundary, special = len(self._alphabet), len(self._alphabet) + 1
        offsets, symbols, most = [0], [], 0
        for class_id, piece in enumerate(self.tokens):
            if class_id == self.blank:
                pass
            elif not self._is_text(class_id):
                symbols.append(special)
            else:
                symbols.extend(boundary if ch == WORD_START else self._alphabet[ch] for ch in piece)
                most = max(most, piece.count(WORD_START))
            offsets.append(len(symbols))
        return np.array(offsets, dtype=np.int64), np.array(symbols, dtype=np.int64), boundary, most

    def _absent_from(self) -> str:
        return f"in no piece of {self.source} ({self.size} classes)"
