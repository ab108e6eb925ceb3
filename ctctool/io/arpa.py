"""ARPA language model files (``\\data\\``, ``\\N-grams:`` sections, ``\\end\\``)."""

from __future__ import annotations

import os
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines
from ctctool.lm import NgramModel


def read_arpa(path: str | os.PathLike) -> NgramModel:
    """Read an ARPA file; counts in ``\\data\\`` must match the sections."""
    file = Path(path)
    counts: dict[int, int] = {}
    ngrams: dict[tuple[str, ...], tuple[float, float]] = {}
    section = None  # "data", or the n of the current \n-grams: section
    seen: dict[int, int] = {}
    for number, raw in enumerate(read_lines(file), start=1):
        line = raw.strip()
        where = f"{file} line {number}"
        if not line:
            continue
        if line == "\\data\\":
            section = "data"
        elif line == "\\end\\":
            break
        elif line.startswith("\\") and line.endswith("-grams:"):
            try:
                section = int(line[1:-len("-grams:")])
            except ValueError:
                raise CtcToolError(f"{where}: bad section header {line!r}; expected \\N-grams:") from None
            if section not in counts:
                raise CtcToolError(f"{where}: section {line} is not announced in \\data\\")
            seen[section] = 0
        elif section == "data":
            if not line.startswith("ngram ") or "=" not in line:
                raise CtcToolError(f"{where}: expected 'ngram N=COUNT' in \\data\\, found {line[:40]!r}")
            order, count = line[len("ngram "):].split("=", 1)
            counts[int(order)] = int(count)
        elif isinstance(section, int):
            fields = line.split()
            if len(fields) not in (section + 1, section + 2):
                raise CtcToolError(f"{where}: a {section}-gram line holds a log10 probability, {section} words and "
                                   f"an optional back-off weight; found {len(fields)} fields")
            try:
                prob = float(fields[0])
                backoff = float(fields[section + 1]) if len(fields) == section + 2 else 0.0
            except ValueError:
                raise CtcToolError(f"{where}: {line[:40]!r} does not start with a number") from None
            ngrams[tuple(fields[1 : section + 1])] = (prob, backoff)
            seen[section] += 1
        else:
            raise CtcToolError(f"{where}: text before \\data\\; is this an ARPA file?")
    if not counts:
        raise CtcToolError(f"{file}: no \\data\\ section; expected an ARPA language model")
    for order, count in counts.items():
        if seen.get(order, 0) != count:
            raise CtcToolError(f"{file}: \\data\\ announces {count} {order}-grams, the file lists {seen.get(order, 0)}")
    return NgramModel(order=max(counts), ngrams=ngrams)
