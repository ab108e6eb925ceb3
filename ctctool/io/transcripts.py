"""Transcript files for scoring: plain, Kaldi-keyed and sclite trn, matched by key.

Formats, one utterance a line (an empty or one-character line is an utterance too):

- ``plain``: the line is the text; files are matched line by line.
- ``keyed`` (Kaldi ``text``): ``uttid words...``; a line holding only the key is an
  empty utterance.
- ``trn`` (sclite): ``words... (uttid)``; ``(uttid)`` alone is an empty utterance.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Sequence

from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines

FORMATS = ("plain", "keyed", "trn")
_TRN_LINE = re.compile(r"^(.*?)\(([^()]*)\)\s*$", re.DOTALL)
_KEYS_NAMED = 5  # keys quoted in a mismatch message


@dataclass(frozen=True)
class Transcripts:
    """The utterances of one file. ``keys`` is None for a plain file; ``lines`` are 1-based."""

    path: str
    keys: tuple[str, ...] | None
    texts: tuple[str, ...]
    lines: tuple[int, ...]


@dataclass(frozen=True)
class MatchedTranscripts:
    """References and hypotheses paired in reference order."""

    keys: tuple[str, ...] | None
    references: tuple[str, ...]
    hypotheses: tuple[str, ...]


def _snippet(line: str) -> str:
    return repr(line if len(line) <= 40 else line[:37] + "...")


def _parse_keyed(path: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(lines, start=1):
        parts = line.split(maxsplit=1)
        if not parts:
            raise CtcToolError(
                f"{path} line {number}: empty line, expected 'uttid words...'; "
                "remove it, or write the key alone for an empty utterance"
            )
        pairs.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return pairs


def _parse_trn(path: str, lines: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(lines, start=1):
        match = _TRN_LINE.match(line)
        key = match.group(2).strip() if match else ""
        if not key:
            raise CtcToolError(
                f"{path} line {number}: expected 'words... (uttid)' with the utterance id in "
                f"parentheses at the end, found {_snippet(line)}; use `fmt=keyed` for 'uttid words...' "
                "files, or neither for plain line-by-line files"
            )
        pairs.append((key, match.group(1)))
    return pairs


def read_transcripts(path: str | os.PathLike, fmt: str = "plain") -> Transcripts:
    """Read one transcript file in format ``fmt`` (one of FORMATS); a key seen twice is an error."""
    if fmt not in FORMATS:
        raise CtcToolError(f"transcript format {fmt!r}: expected one of {', '.join(FORMATS)}")
    name = str(path)
    lines = read_lines(path)
    numbers = tuple(range(1, len(lines) + 1))
    if fmt == "plain":
        return Transcripts(name, None, tuple(lines), numbers)
    pairs = _parse_keyed(name, lines) if fmt == "keyed" else _parse_trn(name, lines)
    first_line: dict[str, int] = {}
    for number, (key, _) in zip(numbers, pairs):
        if key in first_line:
            raise CtcToolError(
                f"{name} line {number}: duplicate key {key} (first on line {first_line[key]}); "
                "each utterance id may appear once"
            )
        first_line[key] = number
    return Transcripts(name, tuple(k for k, _ in pairs), tuple(t for _, t in pairs), numbers)


def _named(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:_KEYS_NAMED])
    return shown + (", ..." if len(keys) > _KEYS_NAMED else "")


def match_transcripts(references: Transcripts, hypotheses: Transcripts) -> MatchedTranscripts:
    """Pair each reference with its hypothesis: by line for plain files, by key otherwise.

    Every reference needs a hypothesis and every hypothesis a reference; the error
    names the first keys missing on either side.
    """
    if (references.keys is None) != (hypotheses.keys is None):
        raise CtcToolError(
            f"{references.path} and {hypotheses.path}: one is keyed and the other plain; "
            "read both in the same format"
        )
    if references.keys is None or hypotheses.keys is None:
        ref_count, hyp_count = len(references.texts), len(hypotheses.texts)
        if ref_count != hyp_count:
            raise CtcToolError(
                f"{hypotheses.path}: {hyp_count} lines but {references.path} has {ref_count}; "
                "plain files are matched line by line, so give both the same number of lines "
                "(keep empty lines for empty utterances), or match by utterance id with "
                "`fmt=keyed` or `fmt=trn`"
            )
        return MatchedTranscripts(None, references.texts, hypotheses.texts)
    hyp_text = dict(zip(hypotheses.keys, hypotheses.texts))
    missing = [key for key in references.keys if key not in hyp_text]
    if missing:
        raise CtcToolError(
            f"{hypotheses.path}: {len(missing)} of {len(references.keys)} reference keys are "
            f"missing: {_named(missing)}; give a hypothesis line for each (a key alone, or "
            "'(uttid)' in trn, is an empty hypothesis)"
        )
    ref_keys = set(references.keys)
    extra = [key for key in hypotheses.keys if key not in ref_keys]
    if extra:
        raise CtcToolError(
            f"{hypotheses.path}: {len(extra)} of {len(hypotheses.keys)} keys are not in "
            f"{references.path}: {_named(extra)}; remove them or add their references"
        )
    return MatchedTranscripts(
        references.keys, references.texts, tuple(hyp_text[key] for key in references.keys)
    )
