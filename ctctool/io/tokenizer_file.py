"""Subword tokenizer files: a SentencePiece ``.model`` or a Hugging Face ``tokenizer.json``.

The CTC classes are the tokenizer's pieces in id order plus a blank. The blank is, in this order:
the id ``blank`` when given (``blank`` = the number of pieces appends it, a smaller id makes that
special piece the blank); a piece named ``<blk>`` or ``<blank>`` (icefall); else it is appended
after the pieces (NeMo). When the model's class count is known and equals the number of pieces,
the blank must be a piece: ``<pad>`` (the Hugging Face convention) if nothing else says.

sentencepiece and tokenizers are optional (the ``subword`` extra), imported only here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from ctctool._files import input_file
from ctctool.errors import CtcToolError, first_line
from ctctool.subword import SPECIAL_PIECE, PieceVocabulary
from ctctool.vocab import BLANK_TOKEN

#: Pieces taken for the blank when no id is given.
BLANK_PIECES = ("<blk>", "<blank>")
#: The blank of Hugging Face CTC tokenizers (their pad token).
PAD_PIECE = "<pad>"


def load_tokenizer(path: str | os.PathLike, *, blank: int | None = None, classes: int | None = None,
                   tokens: Sequence[str] | None = None) -> PieceVocabulary:
    """The subword vocabulary of the tokenizer file ``path`` (``.json``: Hugging Face, else SentencePiece).

    ``classes``: C of the scores it will read, when known (it settles where the blank is, see the module
    docstring). ``tokens``: the class list from a vocabulary file (ESPnet's token list), when the classes
    are not the tokenizer's ids; the tokenizer then only segments text, and ``blank`` defaults to 0.
    """
    file = input_file(path, "a SentencePiece .model or a tokenizer.json")
    if file.suffix.lower() == ".json":
        pieces, special, split = _huggingface(file)
    else:
        pieces, special, split = _sentencepiece(file)
    if tokens is not None:
        special = frozenset(special | {t for t in tokens if SPECIAL_PIECE.fullmatch(t)})
        classes_, blank_id = tuple(tokens), 0 if blank is None else blank
    else:
        classes_, blank_id = _with_blank(file, pieces, special, blank, classes)
        special = frozenset(special | {classes_[blank_id]})
    try:
        return PieceVocabulary(classes_, blank_id, split=split, special=special, source=str(file))
    except CtcToolError as exc:
        raise CtcToolError(f"{file}: {exc}" if not str(exc).startswith(str(file)) else str(exc)) from None


def _with_blank(file: Path, pieces: tuple[str, ...], special: frozenset[str], blank: int | None,
                classes: int | None) -> tuple[tuple[str, ...], int]:
    count = len(pieces)
    if blank is None:
        named = [i for i, p in enumerate(pieces) if p in BLANK_PIECES]
        if named:
            blank = named[0]
        elif classes == count and PAD_PIECE in pieces:
            blank = pieces.index(PAD_PIECE)
        elif classes == count:
            raise CtcToolError(f"{file}: the scores have {count} classes, as many as the tokenizer has pieces, and no "
                               f"piece is named {' or '.join(BLANK_PIECES + (PAD_PIECE,))}; pass `blank`, the blank's id")
        else:
            blank = count
    if blank == count:
        return (*pieces, BLANK_TOKEN), blank
    if not 0 <= blank < count:
        raise CtcToolError(f"{file}: `blank` {blank} is outside the {count} pieces plus an appended blank "
                           f"(ids 0 to {count})")
    if pieces[blank] not in special:
        raise CtcToolError(f"{file}: `blank` {blank} is the text piece {pieces[blank]!r}; the blank is a special piece "
                           f"(such as <blk>) or appended after the pieces (id {count})")
    return pieces, blank


def _sentencepiece(file: Path) -> tuple[tuple[str, ...], frozenset[str], Callable[[str], Sequence[str]]]:
    try:
        import sentencepiece
    except ImportError:
        raise CtcToolError(f"{file}: reading a SentencePiece model needs sentencepiece; "
                           "pip install 'ctctool[subword]'") from None
    processor = sentencepiece.SentencePieceProcessor()
    try:
        processor.load(str(file))
    except (OSError, RuntimeError) as exc:
        raise CtcToolError(f"{file}: not a SentencePiece model ({first_line(exc)}); expected a .model file from "
                           "spm_train, or a tokenizer.json") from None
    pieces = tuple(processor.id_to_piece(i) for i in range(processor.get_piece_size()))
    special = frozenset(
        piece for i, piece in enumerate(pieces)
        if processor.is_control(i) or processor.is_unknown(i) or processor.is_unused(i) or processor.is_byte(i)
        or SPECIAL_PIECE.fullmatch(piece))
    return pieces, special, lambda word: processor.encode(word, out_type=str)


def _huggingface(file: Path) -> tuple[tuple[str, ...], frozenset[str], Callable[[str], Sequence[str]]]:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise CtcToolError(f"{file}: reading a tokenizer.json needs tokenizers; pip install 'ctctool[subword]'") from None
    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as exc:  # tokenizers raises a bare Exception for every parse failure
        raise CtcToolError(f"{file}: not a Hugging Face tokenizer ({first_line(exc)}); expected a tokenizer.json "
                           "saved by the tokenizers library") from None
    mapping = tokenizer.get_vocab(with_added_tokens=True)
    ids = sorted(mapping.values())
    if ids != list(range(len(ids))):
        raise CtcToolError(f"{file}: token ids must be 0 to {len(ids) - 1} with none missing or repeated")
    pieces = [""] * len(ids)
    for piece, class_id in mapping.items():
        pieces[class_id] = piece
    added = tokenizer.get_added_tokens_decoder()
    special = frozenset(token.content for token in added.values() if token.special) | frozenset(
        p for p in pieces if SPECIAL_PIECE.fullmatch(p))
    return tuple(pieces), special, lambda word: tokenizer.encode(word, add_special_tokens=False).tokens
