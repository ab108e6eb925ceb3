"""Decoded text as ``ctctool decode`` writes it: one JSON entry per utterance; utterance key files."""

from __future__ import annotations

import os
from pathlib import Path

from ctctool.decoding.decoder import Decoding
from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines
from ctctool.io.writers import json_number


def decoding_json(key: str, result: Decoding) -> dict:
    """``{"key", "text", "score", "nbest": [...], "words": [...]}``; word times in seconds at 3 decimals
    when known; a non-finite score is null."""
    return {
        "key": key, "text": result.text, "score": json_number(result.score),
        "nbest": [{"text": h.text, "score": json_number(h.score), "acoustic_score": json_number(h.acoustic_score),
                   "lm_score": json_number(h.lm_score), "hotword_score": json_number(h.hotword_score)}
                  for h in result.hypotheses],
        "words": [_word(w) for w in result.words],
    }


def read_keys(path: str | os.PathLike, count: int) -> list[str]:
    """One utterance key per line, ``count`` of them."""
    file = Path(path)
    names = read_lines(file)
    if len(names) != count:
        raise CtcToolError(f"{file}: {len(names)} keys for {count} utterances; write one key per line")
    first: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if not name or name.split() != [name]:
            what = "is empty" if not name.strip() else f"{name!r} holds whitespace"
            raise CtcToolError(f"{file} line {number}: the key {what}; a key is one word (e.g. utt-{number})")
        if name in first:
            raise CtcToolError(f"{file} line {number}: key {name!r} appears twice (first at line {first[name]}); "
                               "give each utterance its own key")
        first[name] = number
    return names


def _word(word) -> dict:
    item = {"word": word.text, "start_frame": word.start_frame, "end_frame": word.end_frame}
    if word.start is not None:
        item.update(start=round(word.start, 3), end=round(word.end, 3))
    return item
