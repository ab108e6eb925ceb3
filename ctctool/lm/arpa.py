"""ARPA language model files (``\\data\\``, ``\\N-grams:`` sections, ``\\end\\``), plain or gzip-compressed."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.io.text import decode_text, read_bytes, split_lines
from ctctool.lm.ngram import NgramModel

GZIP_MAGIC = b"\x1f\x8b"
KENLM_BINARY_MAGIC = b"mmap lm "


def write_arpa(model: NgramModel, path: str | os.PathLike) -> Path:
    """Write ``model`` as an ARPA file, atomically; gzip-compressed when ``path`` ends in ``.gz``.

    Numbers keep 7 significant digits; a back-off weight is written only when it is not 0
    (log10 of 1), which is what a missing one means. Returns the path written.
    """
    file = Path(path)
    by_order: dict[int, list[str]] = {n: [] for n in range(1, model.order + 1)}
    for words, (prob, backoff) in model.ngrams.items():
        if len(words) == 1 and words[0].split() != [words[0]]:
            raise CtcToolError(f"{file}: word {words[0]!r} is empty or holds whitespace; ARPA cannot store it")
        line = f"{prob:.7g}\t{' '.join(words)}"
        by_order[len(words)].append(f"{line}\t{backoff:.7g}\n" if backoff != 0 else f"{line}\n")
    parts = ["\\data\\\n", *(f"ngram {n}={len(lines)}\n" for n, lines in by_order.items())]
    for n, lines in by_order.items():
        parts += [f"\n\\{n}-grams:\n", *lines]
    parts.append("\n\\end\\\n")
    data = "".join(parts).encode("utf-8")
    with atomic_open(file, "wb") as out:
        out.write(gzip.compress(data, mtime=0) if file.suffix == ".gz" else data)
    return file


def _arpa_lines(file: Path) -> list[str]:
    data = read_bytes(file)
    if data.startswith(KENLM_BINARY_MAGIC):
        raise CtcToolError(f"{file}: a KenLM binary model; ctctool reads ARPA text (.arpa or .arpa.gz): pass the "
                           "ARPA file it was built from, or build one with 'ctctool lm'")
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise CtcToolError(f"{file}: not a readable gzip file ({exc}); expected an ARPA file or .arpa.gz") from exc
    return split_lines(decode_text(data, file))


def read_arpa(path: str | os.PathLike) -> NgramModel:
    """Read an ARPA file, plain or gzip-compressed; counts in ``\\data\\`` must match the sections."""
    file = Path(path)
    counts: dict[int, int] = {}
    ngrams: dict[tuple[str, ...], tuple[float, float]] = {}
    section = None  # "data", or the n of the current \n-grams: section
    seen: dict[int, int] = {}
    for number, raw in enumerate(_arpa_lines(file), start=1):
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
