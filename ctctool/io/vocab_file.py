"""Vocabulary files: one token per line, or a JSON object ``{token: id}`` (wav2vec2 style)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines, read_text
from ctctool.vocab import Vocabulary

#: Spellings of the space token in a one-token-per-line file.
SPACE_SPELLINGS = ("<space>", " ")


def load_vocabulary(path: str | os.PathLike, blank: int = 0) -> Vocabulary:
    """Read a vocabulary file; ``blank`` is the id of the blank token.

    Text files hold one token per line, line 1 being id 0; a line ``<space>`` (or a
    single space) is the space token. ``.json`` files map tokens to ids 0..C-1.
    """
    file = Path(path)
    if file.suffix.lower() == ".json":
        tokens = _tokens_from_json(file)
    else:
        tokens = []
        for number, line in enumerate(read_lines(file), start=1):
            token = " " if line in SPACE_SPELLINGS else line.strip()
            if not token:
                raise CtcToolError(
                    f"{file} line {number}: empty token; write one token per line "
                    "(the space token as <space>)"
                )
            tokens.append(token)
    try:
        return Vocabulary(tuple(tokens), blank=blank)
    except CtcToolError as exc:
        raise CtcToolError(f"{file}: {exc}") from None


def _tokens_from_json(file: Path) -> list[str]:
    try:
        mapping = json.loads(read_text(file))
    except json.JSONDecodeError as exc:
        raise CtcToolError(f"{file} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(mapping, dict) or not all(isinstance(v, int) for v in mapping.values()):
        raise CtcToolError(f"{file}: expected a JSON object mapping tokens to integer ids")
    ids = sorted(mapping.values())
    if ids != list(range(len(ids))):
        raise CtcToolError(f"{file}: token ids must be 0 to {len(ids) - 1} with none missing or repeated")
    tokens = [""] * len(ids)
    for token, class_id in mapping.items():
        tokens[class_id] = token
    return tokens
