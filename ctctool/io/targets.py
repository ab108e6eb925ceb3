"""Target files (one utterance per line: text, or integer ids) and length files."""

from __future__ import annotations

import os
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines
from ctctool.vocab import Vocabulary


def read_text_targets(path: str | os.PathLike, vocab: Vocabulary) -> list[list[int]]:
    """Label ids of each line of ``path`` mapped through ``vocab``; an empty line is L = 0."""
    file = Path(path)
    return [vocab.encode(line, where=f"{file} line {number}") for number, line in enumerate(read_lines(file), start=1)]


def read_id_targets(path: str | os.PathLike) -> list[list[int]]:
    """Whitespace-separated integer label ids, one utterance per line."""
    file = Path(path)
    return [_integers(file, number, line) for number, line in enumerate(read_lines(file), start=1)]


def read_lengths(path: str | os.PathLike) -> list[int]:
    """Whitespace-separated integers (e.g. one input length per line), in file order."""
    file = Path(path)
    values: list[int] = []
    for number, line in enumerate(read_lines(file), start=1):
        values.extend(_integers(file, number, line))
    return values


def _integers(file: Path, number: int, line: str) -> list[int]:
    values = []
    for word in line.split():
        try:
            values.append(int(word))
        except ValueError:
            raise CtcToolError(
                f"{file} line {number}: {word[:20]!r} is not an integer; expected whitespace-separated integer ids"
            ) from None
    return values
