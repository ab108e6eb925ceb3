"""Target files (one utterance per line: text, or integer ids) matched to score arrays, and length files."""

from __future__ import annotations

import os
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.arrays import LoadedArray
from ctctool.io.text import read_lines
from ctctool.subword import PieceVocabulary
from ctctool.vocab import Vocabulary, default_vocabulary


def read_targets(path: str | os.PathLike, scores: LoadedArray, *, vocab: Vocabulary | None = None,
                 blank: int = 0, ids: bool = False, time_major: bool = False) -> list[list[int]]:
    """The label ids of each line of a targets file for the utterances of ``scores``.

    Lines are text mapped through ``vocab`` (default: the default English one with ``blank``; files give
    one with ``ctctool.io.vocab_file.load_classes``) or, with ``ids``, integer class ids. The line count must match the utterances:
    1 for (T, C) scores, N for (N, T, C), or for (T, N, C) with ``time_major``.
    """
    file = Path(path)
    shape = tuple(scores.values.shape)
    if len(shape) not in (2, 3):
        raise CtcToolError(f"{scores.source}: expected (T, C) or (N, T, C) scores, found shape {shape}")
    if ids:
        labels = read_id_targets(file)
        for number, row in enumerate(labels, start=1):
            bad = [v for v in row if v == blank or not 0 <= v < shape[-1]]
            if bad:
                what = "is the blank id" if bad[0] == blank else f"is outside 0..{shape[-1] - 1}"
                raise CtcToolError(f"{file} line {number}: label {bad[0]} {what}; targets hold non-blank class ids "
                                   f"below C={shape[-1]} of {scores.source}")
    else:
        vocabulary = vocab if vocab is not None else default_vocabulary(blank)
        if shape[-1] != vocabulary.size:
            raise CtcToolError(f"{scores.source}: C={shape[-1]} classes but the vocabulary has {vocabulary.size} "
                               f"tokens; {size_hint(vocabulary)}")
        labels = read_text_targets(file, vocabulary)
    utterances = 1 if len(shape) == 2 else shape[1 if time_major else 0]
    if len(labels) != utterances:
        hint = ""
        if len(shape) == 3 and len(labels) == shape[0 if time_major else 1]:
            hint = "; the scores look " + ("(N, T, C): leave `time_major` out" if time_major
                                           else "time-major (T, N, C): pass `time_major=True`")
        raise CtcToolError(f"{file}: {len(labels)} target lines but {scores.source} holds {utterances} "
                           f"utterance(s) {shape}; write one line per utterance (an empty line is an empty "
                           f"target){hint}")
    return labels


def size_hint(vocabulary: Vocabulary) -> str:
    """What to do when a vocabulary's size differs from the scores' C."""
    if not isinstance(vocabulary, PieceVocabulary):
        return "pass `vocab` with one token per class, or `ids=True` for integer targets"
    return (f"{vocabulary.source}'s pieces with the blank make {vocabulary.size}; pass the tokenizer the model was "
            "trained with (and `blank` if the blank is one of its pieces)")


def read_text_targets(path: str | os.PathLike, vocab: Vocabulary) -> list[list[int]]:
    """Label ids of each line of ``path`` mapped through ``vocab``; an empty line is L = 0."""
    file = Path(path)
    return [vocab.encode(line, where=f"{file} line {number}") for number, line in enumerate(read_lines(file), start=1)]


def read_id_targets(path: str | os.PathLike) -> list[list[int]]:
    """Whitespace-separated integer label ids, one utterance per line."""
    file = Path(path)
    return [_integers(file, number, line, "class ids") for number, line in enumerate(read_lines(file), start=1)]


def read_lengths(path: str | os.PathLike) -> list[int]:
    """Whitespace-separated integers (e.g. one input length per line), in file order."""
    file = Path(path)
    values: list[int] = []
    for number, line in enumerate(read_lines(file), start=1):
        values.extend(_integers(file, number, line, "frame counts"))
    return values


def _integers(file: Path, number: int, line: str, what: str) -> list[int]:
    values = []
    for word in line.split():
        try:
            value = int(word)
        except ValueError:
            raise CtcToolError(
                f"{file} line {number}: {word[:20]!r} is not an integer; expected whitespace-separated {what}"
            ) from None
        if not -2**63 <= value < 2**63:
            raise CtcToolError(f"{file} line {number}: {word[:20]}... does not fit in a 64-bit integer")
        values.append(value)
    return values
