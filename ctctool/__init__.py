"""ctctool: a Connectionist Temporal Classification toolkit.

The public library API. Names are imported on first use, so ``import ctctool``
loads neither torch nor the command-line stack.
"""

from __future__ import annotations

import importlib
from typing import Any

from ctctool.errors import CtcToolError

__version__ = "0.7.6"

_EXPORTS = {
    "Vocabulary": "ctctool.vocab",
    "default_vocabulary": "ctctool.vocab",
    "PieceVocabulary": "ctctool.subword",
    "load_tokenizer": "ctctool.io.tokenizer_file",
    "CtcLossResult": "ctctool.loss",
    "ctc_loss": "ctctool.loss",
    "frames_needed": "ctctool.loss",
    "ForcedAlignment": "ctctool.alignment.viterbi",
    "forced_align": "ctctool.alignment.viterbi",
    "TokenSpan": "ctctool.alignment.spans",
    "Span": "ctctool.alignment.spans",
    "token_spans": "ctctool.alignment.spans",
    "merge_spans": "ctctool.alignment.spans",
    "AlignedTranscript": "ctctool.alignment.timing",
    "prepare_transcript": "ctctool.alignment.transcript",
    "align_transcript": "ctctool.alignment.pipeline",
    "align_audio": "ctctool.alignment.pipeline",
    "align_emissions": "ctctool.alignment.pipeline",
    "TimedSpan": "ctctool.alignment.timing",
    "BoundaryCorrection": "ctctool.alignment.timing",
    "EdgeErrors": "ctctool.alignment.calibration",
    "edge_errors": "ctctool.alignment.calibration",
    "fit_boundary_correction": "ctctool.alignment.calibration",
    "decode": "ctctool.decoding.decoder",
    "Decoding": "ctctool.decoding.decoder",
    "DecodedWord": "ctctool.decoding.decoder",
    "transcribe": "ctctool.decoding.transcribe",
    "greedy_decode": "ctctool.decoding.greedy",
    "beam_search": "ctctool.decoding.beam",
    "Hypothesis": "ctctool.decoding.beam",
    "word_frames": "ctctool.decoding.words",
    "NgramModel": "ctctool.lm.ngram",
    "KenlmModel": "ctctool.lm.kenlm_model",
    "read_arpa": "ctctool.lm.arpa",
    "load_language_model": "ctctool.lm.loading",
    "estimate_ngram": "ctctool.lm.estimate",
    "WerReport": "ctctool.metrics",
    "UtteranceScore": "ctctool.metrics",
    "score_corpus": "ctctool.metrics",
    "score_systems": "ctctool.metrics",
    "align_words": "ctctool.metrics",
    "bootstrap_interval": "ctctool.metrics",
    "paired_bootstrap": "ctctool.metrics",
    "resample": "ctctool.audio.resample",
    "load_audio": "ctctool.audio.loading",
    "AcousticModel": "ctctool.models.base",
    "load_model": "ctctool.models.loading",
    "windowed_log_probs": "ctctool.models.windowed",
    "audio_log_probs": "ctctool.models.inference",
    "resolve_device": "ctctool.devices",
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
