"""Vocabulary files: one token per line, or a JSON object ``{token: id}`` (wav2vec2 style)."""

from __future__ import annotations

import os
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.text import parse_json, read_lines, read_text
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
    mapping = parse_json(read_text(file), str(file))
    if not isinstance(mapping, dict) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                for v in mapping.values()):
        raise CtcToolError(f"{file}: expected a JSON object mapping tokens to integer ids")
    if "" in mapping:
        raise CtcToolError(f"{file}: the empty string is not a token; every token needs at least one character")
    ids = sorted(mapping.values())
    if ids != list(range(len(ids))):
        raise CtcToolError(f"{file}: token ids must be 0 to {len(ids) - 1} with none missing or repeated")
    tokens = [""] * len(ids)
    for token, class_id in mapping.items():
        tokens[class_id] = token
    return tokens


def load_classes(vocab: str | os.PathLike | None = None, tokenizer: str | os.PathLike | None = None, *,
                 blank: int | None = None, classes: int | None = None) -> Vocabulary:
    """The classes of a model's scores: a vocabulary file, a subword tokenizer file (its pieces plus a
    blank, see ``ctctool.io.tokenizer_file``), both (the file's classes, text segmented by the
    tokenizer), or neither (the default English characters). ``blank`` None: the file's convention
    (0 for vocabulary files). ``classes``: C of the scores, when known.
    """
    from ctctool.vocab import default_vocabulary

    if tokenizer is not None:
        from ctctool.io.tokenizer_file import load_tokenizer

        tokens = load_vocabulary(vocab, 0 if blank is None else blank).tokens if vocab is not None else None
        return load_tokenizer(tokenizer, blank=blank, classes=classes, tokens=tokens)
    blank = 0 if blank is None else blank
    return load_vocabulary(vocab, blank) if vocab is not None else default_vocabulary(blank)
