"""Text corpora for language models: one sentence a line, or LJSpeech ``metadata.csv`` rows."""

from __future__ import annotations

import os
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines


def read_sentences(path: str | os.PathLike, *, metadata: bool = False, lowercase: bool = False) -> list[list[str]]:
    """The words of each non-blank line, split on any whitespace.

    metadata: lines are ``id|text|normalized`` and the last column is the sentence (the one
        before it when the last is empty), as in LJSpeech's ``metadata.csv``.
    A file without a single word is an error naming it.
    """
    file = Path(path)
    sentences = []
    for number, line in enumerate(read_lines(file), start=1):
        if metadata and line.strip():
            fields = line.split("|")
            if len(fields) < 2:
                raise CtcToolError(f"{file} line {number}: expected id|text|normalized (LJSpeech metadata.csv), "
                                   "found no '|'; drop --metadata for one sentence a line")
            line = fields[-1] if fields[-1].strip() or len(fields) < 3 else fields[-2]
        words = (line.lower() if lowercase else line).split()
        if words:
            sentences.append(words)
    if not sentences:
        kind = "id|text|normalized rows" if metadata else "text, one sentence a line"
        raise CtcToolError(f"{file}: no words; expected {kind}")
    return sentences
