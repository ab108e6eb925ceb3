"""ctctool: a Connectionist Temporal Classification toolkit.

The public library API. Names are imported on first use, so ``import ctctool``
loads neither torch nor the command-line stack.
"""

from __future__ import annotations

import importlib
from typing import Any

from ctctool.errors import CtcToolError

__version__ = "0.1.0"

_EXPORTS = {
    "Vocabulary": "ctctool.vocab",
    "default_vocabulary": "ctctool.vocab",
    "CtcLossResult": "ctctool.loss",
    "ctc_loss": "ctctool.loss",
    "frames_needed": "ctctool.loss",
    "ForcedAlignment": "ctctool.align",
    "forced_align": "ctctool.align",
    "TokenSpan": "ctctool.spans",
    "Span": "ctctool.spans",
    "token_spans": "ctctool.spans",
    "merge_spans": "ctctool.spans",
    "AlignedTranscript": "ctctool.spans",
    "prepare_transcript": "ctctool.transcript",
    "align_transcript": "ctctool.timestamps",
    "greedy_decode": "ctctool.decode",
    "beam_search": "ctctool.decode",
    "Hypothesis": "ctctool.decode",
    "word_frames": "ctctool.decode",
    "NgramModel": "ctctool.lm",
    "KenlmModel": "ctctool.lm_kenlm",
    "read_arpa": "ctctool.io.arpa",
    "load_language_model": "ctctool.io.language_model",
    "estimate_ngram": "ctctool.lm_estimate",
    "WerReport": "ctctool.metrics",
    "UtteranceScore": "ctctool.metrics",
    "score_corpus": "ctctool.metrics",
    "align_words": "ctctool.metrics",
    "bootstrap_interval": "ctctool.metrics",
    "paired_bootstrap": "ctctool.metrics",
    "resample": "ctctool.resample",
    "load_audio": "ctctool.io.audio",
    "AcousticModel": "ctctool.models.base",
    "load_model": "ctctool.models.loading",
    "windowed_log_probs": "ctctool.models.windowed",
}

__all__ = ["CtcToolError", "__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ctctool' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
