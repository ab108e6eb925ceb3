"""Which language model to use: an ARPA file (plain or gzip), a KenLM binary (with the ``kenlm`` extra),
the default model's own LM, or none."""

from __future__ import annotations

import os
from pathlib import Path

from ctctool._files import input_file
from ctctool.errors import CtcToolError
from ctctool.lm.arpa import read_arpa
from ctctool.lm.kenlm_binary import is_kenlm_binary, load_kenlm
from ctctool.lm.kenlm_model import KenlmModel
from ctctool.lm.ngram import NgramModel

#: The word 3-gram LM shipped with the default English model: general English running text (see docs/default_model.md).
DEFAULT_LM_FILE = Path(__file__).resolve().parent.parent / "models" / "default_en.arpa.gz"
#: Specs that name no file: the default model's LM, that LM only with the default model, no LM.
DEFAULT, AUTO, NONE = "default", "auto", "none"


def load_language_model(path: str | os.PathLike) -> NgramModel | KenlmModel:
    """A ``ctctool.lm.ngram.NgramModel`` from an ARPA file, or a ``ctctool.lm.kenlm_model.KenlmModel``
    from a KenLM binary."""
    file = input_file(path, "an ARPA (.arpa, .arpa.gz) or KenLM binary language model")
    return load_kenlm(file) if is_kenlm_binary(file) else read_arpa(file)


def language_model_file(spec: str, *, default_model: bool) -> Path | None:
    """An LM spec -> its file, or None: ``none``; ``default`` (the default model's LM); ``auto`` (that LM
    when the acoustic model is the default one, ``default_model``, else none); or a path."""
    if spec == NONE or (spec == AUTO and not default_model):
        return None
    if spec in (AUTO, DEFAULT):
        if not DEFAULT_LM_FILE.is_file():
            raise CtcToolError(f"the default model's language model is missing from this installation "
                               f"({DEFAULT_LM_FILE}); reinstall ctctool, or pass `lm=none` or `lm=FILE.arpa`")
        return DEFAULT_LM_FILE
    return Path(spec)


def as_language_model(lm, *, default_model: bool = False) -> NgramModel | KenlmModel | None:
    """``lm`` itself when it is a model (or None); else the model its spec names (``language_model_file``)."""
    if lm is None or isinstance(lm, (NgramModel, KenlmModel)):
        return lm
    if not isinstance(lm, (str, os.PathLike)):
        raise CtcToolError(f"`lm`: expected an n-gram model, a file or one of {DEFAULT}, {AUTO}, {NONE}; "
                           f"found {type(lm).__name__}")
    path = language_model_file(str(lm), default_model=default_model)
    return None if path is None else load_language_model(path)
