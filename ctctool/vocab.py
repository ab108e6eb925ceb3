"""Vocabulary: the token list of a CTC model, its blank id, and text <-> ids.

A vocabulary maps single characters of a transcript to class ids. Tokens longer
than one character (``<blank>``, ``<pad>``, ``<unk>``) are special: they are never
produced from text. The word delimiter is the space token, or ``|`` for
wav2vec2-style vocabularies, in which case a space in the text maps to ``|``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ctctool.errors import CtcToolError

#: Characters of the classic Keras "CTC ASR" recipe, in order.
DEFAULT_CHARACTERS = "abcdefghijklmnopqrstuvwxyz'?! "
#: Name of the blank token in the default vocabulary.
BLANK_TOKEN = "<blank>"
#: Word delimiter of wav2vec2-style vocabularies.
PIPE_DELIMITER = "|"


def _describe(token: str) -> str:
    return "space" if token == " " else token


@dataclass(frozen=True)
class Vocabulary:
    """Tokens indexed by class id, with an explicit blank id.

    ``tokens[blank]`` is the blank; ``len(tokens)`` is C, the number of classes.
    """

    tokens: tuple[str, ...]
    blank: int = 0
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tokens:
            raise CtcToolError("vocabulary is empty; expected at least a blank and one token")
        if not 0 <= self.blank < len(self.tokens):
            raise CtcToolError(
                f"blank id {self.blank} is outside the vocabulary of {len(self.tokens)} tokens "
                f"(ids 0 to {len(self.tokens) - 1}); pass a valid `blank`"
            )
        index: dict[str, int] = {}
        for i, token in enumerate(self.tokens):
            if token in index:
                raise CtcToolError(
                    f"vocabulary token {_describe(token)!r} appears twice (ids {index[token]} and {i}); "
                    "every token must be unique"
                )
            index[token] = i
        object.__setattr__(self, "_index", index)

    @property
    def size(self) -> int:
        """C, the number of classes including the blank."""
        return len(self.tokens)

    @property
    def word_delimiter(self) -> str | None:
        """The token that separates words: space, ``|``, or None if there is neither."""
        for candidate in (" ", PIPE_DELIMITER):
            if candidate in self._index and self._index[candidate] != self.blank:
                return candidate
        return None

    def id_of(self, token: str) -> int | None:
        """Class id of ``token``, or None."""
        return self._index.get(token)

    def spells(self, char: str) -> bool:
        """Whether a transcript may hold the character ``char`` (a token of its own, not the blank)."""
        class_id = self._index.get(char)
        return class_id is not None and class_id != self.blank

    @property
    def letters(self) -> tuple[str, ...]:
        """The alphabetic characters the vocabulary spells (they decide the case of transcripts)."""
        return tuple(t for i, t in enumerate(self.tokens) if len(t) == 1 and t.isalpha() and i != self.blank)

    def starts_word(self, class_id: int) -> bool:
        """Whether the token ``class_id`` begins a new word (a word-start piece; never for characters)."""
        return False

    def symbol_ids(self, word: str) -> list[int] | None:
        """The symbols of ``word`` for the beam search's word tries (see ``symbol_table``), or None when
        the vocabulary cannot spell it. For characters a symbol is the class id."""
        ids = [self._index.get(ch) for ch in word]
        delimiter = self.word_delimiter
        if word and all(i is not None and i != self.blank and ch != delimiter for i, ch in zip(ids, word)):
            return ids
        return None

    def spelled_symbols(self, text: str, *, where: str = "text") -> list[int]:
        """The symbols of ``text``: each word's, with the word boundary symbol between words."""
        return self.encode(" ".join(text.split()), where=where)

    def symbol_table(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """How the beam search sees each class: (offsets (C + 1,), symbols, boundary, most boundaries).

        Class c stands for ``symbols[offsets[c]:offsets[c + 1]]``. ``boundary`` is the symbol that
        ends a word (-1: none); ``most boundaries`` the most a class other than the word delimiter holds.
        For characters each class is its own one symbol, the word delimiter the boundary.
        """
        offsets = np.arange(self.size + 1, dtype=np.int64)
        delimiter = self.word_delimiter
        return offsets, np.arange(self.size, dtype=np.int64), self._index[delimiter] if delimiter else -1, 0

    def encode(self, text: str, *, where: str = "text") -> list[int]:
        """Ids of the characters of ``text``; unknown characters are a CtcToolError.

        ``where`` names the text in the error message, e.g. ``"targets.txt line 3"``.
        """
        space_token = " " if " " in self._index else self.word_delimiter
        ids: list[int] = []
        unknown: list[str] = []
        for char in text:
            token = space_token if char == " " and space_token is not None else char
            class_id = self._index.get(token)
            if class_id is None or class_id == self.blank:
                if char not in unknown:
                    unknown.append(char)
                continue
            ids.append(class_id)
        if unknown:
            raise CtcToolError(f"{where}: {self._unknown_message(unknown)}")
        return ids

    def decode(self, ids) -> str:
        """Text of a label sequence (blanks skipped, ``|`` shown as a space)."""
        pieces = []
        for class_id in ids:
            class_id = int(class_id)
            if class_id == self.blank:
                continue
            token = self.tokens[class_id]
            pieces.append(" " if token == PIPE_DELIMITER else token)
        return "".join(pieces)

    def text_of(self, ids) -> str:
        """The words of a label sequence joined by single spaces (no delimiter at the ends or doubled)."""
        return " ".join(self.decode(ids).split())

    def _unknown_message(self, unknown: list[str]) -> str:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        noun = "character" if len(unknown) == 1 else "characters"
        verb = "is" if len(unknown) == 1 else "are"
        hint = "remove or replace them, or pass a `vocab` that has them"
        if any(c.lower() != c and self.spells(c.lower()) for c in unknown):
            hint = "the vocabulary is lowercase: lowercase the text, or pass another `vocab`"
        elif any(c.upper() != c and self.spells(c.upper()) for c in unknown):
            hint = "the vocabulary is uppercase: uppercase the text, or pass another `vocab`"
        return f"{noun} {shown}{more} {verb} {self._absent_from()}; {hint}"

    def _absent_from(self) -> str:
        return f"not in the vocabulary ({self.size} tokens)"


def default_vocabulary(blank: int = 0) -> Vocabulary:
    """The default English vocabulary: a blank plus ``DEFAULT_CHARACTERS`` (C = 31).

    ``blank`` places the blank at that id; the characters fill the other ids in
    order (``blank=30`` gives the Keras recipe's layout with the blank last).
    """
    characters = list(DEFAULT_CHARACTERS)
    if not 0 <= blank <= len(characters):
        raise CtcToolError(
            f"`blank` {blank} is outside the default vocabulary of {len(characters) + 1} tokens "
            f"(ids 0 to {len(characters)})"
        )
    return Vocabulary(tuple(characters[:blank] + [BLANK_TOKEN] + characters[blank:]), blank=blank)


def vocabulary_for(classes: int, blank: int = 0) -> Vocabulary:
    """The vocabulary assumed for C = ``classes`` scores when none is given: the default English one
    when C matches it, else placeholder tokens ``<0>``, ``<1>``, ... (texts then show class ids)."""
    if classes == len(DEFAULT_CHARACTERS) + 1:
        return default_vocabulary(blank)
    return Vocabulary(tuple(f"<{i}>" for i in range(classes)), blank)
