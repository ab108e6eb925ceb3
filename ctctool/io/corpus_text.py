"""Text corpora for language models: one sentence a line, or LJSpeech ``metadata.csv`` rows."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.manifest import ljspeech_row
from ctctool.io.text import read_lines


def read_sentences(path: str | os.PathLike, *, metadata: bool = False, lowercase: bool = False) -> list[list[str]]:
    """The words of each non-blank line, split on any whitespace.

    metadata: lines are LJSpeech ``metadata.csv`` rows, read by ``ctctool.io.manifest.ljspeech_row``.
    A file without a single word is an error naming it.
    """
    file = Path(path)
    sentences = []
    for number, line in enumerate(read_lines(file), start=1):
        if metadata and line.strip():
            try:
                _, line = ljspeech_row(line, f"{file} line {number}")
            except CtcToolError as exc:
                raise CtcToolError(f"{exc}; leave `metadata` out for one sentence a line") from None
        control = next((ch for ch in line if unicodedata.category(ch) == "Cc" and not ch.isspace()), None)
        if control is not None:
            raise CtcToolError(f"{file} line {number}: holds the control character U+{ord(control):04X}; "
                               "expected plain text")
        words = (line.lower() if lowercase else line).split()
        if words:
            sentences.append(words)
    if not sentences:
        kind = "id|text|normalized rows" if metadata else "text, one sentence a line"
        raise CtcToolError(f"{file}: no words; expected {kind}")
    return sentences
