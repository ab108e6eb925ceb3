"""``--lm FILE``: an ARPA file (plain or gzip) or a KenLM binary (with the ``kenlm`` extra)."""

from __future__ import annotations

import os

from ctctool.lm.arpa import read_arpa
from ctctool.lm.kenlm_binary import is_kenlm_binary, load_kenlm


def load_language_model(path: str | os.PathLike):
    """A ``ctctool.lm.ngram.NgramModel`` from an ARPA file, or a ``ctctool.lm.kenlm_model.KenlmModel`` from a KenLM binary."""
    return load_kenlm(path) if is_kenlm_binary(path) else read_arpa(path)
