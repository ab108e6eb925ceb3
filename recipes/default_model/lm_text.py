#!/usr/bin/env python3
"""Normalise running English text to the default vocabulary for a word LM: one sentence a line in, the same
sentences as the model spells them out (lower case, numbers as words, punctuation the vocabulary lacks
dropped), one a line.

Run: python recipes/default_model/lm_text.py IN.txt OUT.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

from ctctool.text.normalize import normalize_text
from ctctool.vocab import default_vocabulary


def main(source: Path, out: Path) -> None:
    vocab = default_vocabulary()
    lines = (normalize_text(line, vocab) for line in source.read_text(encoding="utf-8").splitlines())
    kept = [line for line in lines if line]
    out.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    print(f"{len(kept)} sentences, {sum(len(line.split()) for line in kept)} words -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
