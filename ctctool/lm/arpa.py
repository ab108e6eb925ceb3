"""ARPA language model files (``\\data\\``, ``\\N-grams:`` sections, ``\\end\\``), plain or gzip-compressed."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.io.text import decode_text, read_bytes, split_lines
from ctctool.lm.ngram import NgramModel

#: Highest n-gram order read (KenLM builds up to 6 by default).
MAX_ORDER = 20
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
    """Read an ARPA file, plain or gzip-compressed, checking it all: a ``\\data\\`` section announcing orders
    1..N with integer counts, sections that list exactly those counts, finite numbers with log10
    probabilities <= 0, no repeated n-gram, and a closing ``\\end\\``. A problem names the file and line."""
    file = Path(path)
    reader = _ArpaReader(file)
    for number, raw in enumerate(_arpa_lines(file), start=1):
        line = raw.strip()
        if line and reader.ended:
            raise CtcToolError(f"{file} line {number}: text after \\end\\ ({line[:30]!r}); expected one ARPA "
                               "model, ending the file")
        if line:
            reader.read(line, f"{file} line {number}")
    return reader.model()


class _ArpaReader:
    """The state of one pass over an ARPA file, line by line."""

    def __init__(self, file: Path):
        self.file = file
        self.counts: dict[int, tuple[int, str]] = {}  # order -> (announced count, where)
        self.ngrams: dict[tuple[str, ...], tuple[float, float]] = {}
        self.section = None  # None before \data\, "data", or the n of the current \n-grams: section
        self.listed: dict[int, int] = {}
        self.ended = False

    def read(self, line: str, where: str) -> None:
        """Take one non-empty line (``ended`` is set at ``\\end\\``)."""
        if line == "\\data\\":
            if self.section is not None:
                raise CtcToolError(f"{where}: a second \\data\\ section; expected one ARPA model per file")
            self.section = "data"
        elif self.section is None:
            raise CtcToolError(f"{where}: text before \\data\\ ({line[:30]!r}); expected an ARPA language model")
        elif line == "\\end\\":
            self._close_section(where)
            self.ended = True
        elif line.startswith("\\") and line.endswith("-grams:"):
            self._open_section(line, where)
        elif self.section == "data":
            self._count(line, where)
        else:
            self._ngram(line, where)

    def _count(self, line: str, where: str) -> None:
        order, equals, count = line[len("ngram "):].partition("=")
        if not line.startswith("ngram ") or not equals:
            raise CtcToolError(f"{where}: expected 'ngram N=COUNT' in \\data\\, found {line[:40]!r}")
        try:
            order, count = int(order), int(count)
        except ValueError:
            raise CtcToolError(f"{where}: {line[:40]!r}: the order and the count must be whole numbers") from None
        if not 1 <= order <= MAX_ORDER or count < 0:
            raise CtcToolError(f"{where}: {line[:40]!r}: expected an order from 1 to {MAX_ORDER} and a count >= 0")
        if order in self.counts:
            raise CtcToolError(f"{where}: the {order}-gram count is given twice (first at {self.counts[order][1]})")
        self.counts[order] = (count, where)

    def _open_section(self, line: str, where: str) -> None:
        self._close_section(where)
        try:
            order = int(line[1:-len("-grams:")])
        except ValueError:
            raise CtcToolError(f"{where}: bad section header {line!r}; expected \\N-grams:") from None
        if order not in self.counts:
            raise CtcToolError(f"{where}: section {line} is not announced in \\data\\")
        if order in self.listed:
            raise CtcToolError(f"{where}: section {line} appears twice")
        self.section = order
        self.listed[order] = 0

    def _close_section(self, where: str) -> None:
        if self.section == "data":
            missing = [n for n in range(1, len(self.counts) + 1) if n not in self.counts]
            if not self.counts or missing:
                what = "announces no n-gram counts" if not self.counts else f"has no count for order {missing[0]}"
                raise CtcToolError(f"{where}: \\data\\ {what}; expected 'ngram N=COUNT' for N = 1, 2, ...")
        elif isinstance(self.section, int):
            announced, announced_at = self.counts[self.section]
            if self.listed[self.section] != announced:
                raise CtcToolError(f"{where}: the \\{self.section}-grams: section lists {self.listed[self.section]} "
                                   f"n-grams, but \\data\\ ({announced_at}) announces {announced}")

    def _ngram(self, line: str, where: str) -> None:
        n = self.section
        fields = line.split()
        if len(fields) not in (n + 1, n + 2):
            raise CtcToolError(f"{where}: a {n}-gram line holds a log10 probability, {n} words and an optional "
                               f"back-off weight; found {len(fields)} fields")
        try:
            prob = float(fields[0])
            backoff = float(fields[n + 1]) if len(fields) == n + 2 else 0.0
        except ValueError:
            raise CtcToolError(f"{where}: {line[:40]!r}: expected numbers for the log10 probability and the "
                               "back-off weight") from None
        if not (math.isfinite(prob) and prob <= 0):
            raise CtcToolError(f"{where}: log10 probability {fields[0]}; expected a finite number <= 0")
        if not math.isfinite(backoff):
            raise CtcToolError(f"{where}: back-off weight {fields[n + 1]}; expected a finite number")
        words = tuple(fields[1:n + 1])
        if words in self.ngrams:
            raise CtcToolError(f"{where}: the {n}-gram {' '.join(words)!r} is listed twice")
        self.ngrams[words] = (prob, backoff)
        self.listed[n] += 1

    def model(self) -> NgramModel:
        if self.section is None:
            raise CtcToolError(f"{self.file}: no \\data\\ section; expected an ARPA language model")
        if not self.ended:
            raise CtcToolError(f"{self.file}: no \\end\\ line; the file is cut short (or not an ARPA model)")
        missing = [n for n in self.counts if n not in self.listed]
        if missing:
            raise CtcToolError(f"{self.file}: \\data\\ ({self.counts[missing[0]][1]}) announces "
                               f"{missing[0]}-grams but the file has no \\{missing[0]}-grams: section")
        if not self.ngrams:
            raise CtcToolError(f"{self.file}: no n-grams; expected at least the unigrams")
        return NgramModel(order=max(self.counts), ngrams=self.ngrams)
