"""Several waveforms through an acoustic model at once: padded batches, per-item lengths, long audio windowed.

A model that has ``batch_log_probs(waveforms)`` (the DeepSpeech2 checkpoints; Hugging Face models whose
feature encoder normalises per frame) runs a padded batch in one pass, and each waveform gets the log-probs it
gets alone, to float rounding. Audio longer than one window (``ctctool.models.windowed``) keeps today's
windowing and goes through alone; so does everything for a model without ``batch_log_probs``, and a batch of
one, which is then exactly ``windowed_log_probs``.

Shapes: B waveforms of N_b samples in, B (T_b, C) log-probs out.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ctctool.errors import CtcToolError
from ctctool.models.base import AcousticModel
from ctctool.models.windowed import window_samples, windowed_log_probs


def batched_log_probs(model: AcousticModel, waveforms: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """(T_b, C) log-probs of each (N_b,) float waveform at ``model.sample_rate``, in the order given, on the
    model's device. Waveforms up to one window long go through the model together when it can batch; longer ones
    are windowed one at a time."""
    if not waveforms:
        return []
    longest = window_samples(model)
    together = [b for b, w in enumerate(waveforms) if w.dim() == 1 and w.numel() <= longest]
    out: list[torch.Tensor | None] = [None] * len(waveforms)
    if len(together) > 1 and callable(getattr(model, "batch_log_probs", None)):
        results = model.batch_log_probs([waveforms[b] for b in together])
        if len(results) != len(together):
            raise CtcToolError(f"model {getattr(model, 'name', '?')}: batch_log_probs gave {len(results)} results for "
                               f"{len(together)} waveforms")
        for b, log_probs in zip(together, results):
            out[b] = log_probs
    for b, waveform in enumerate(waveforms):
        if out[b] is None:
            out[b] = windowed_log_probs(model, waveform)
    return out  # type: ignore[return-value]
