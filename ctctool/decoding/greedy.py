"""Greedy (best path) CTC decoding: the best class of each frame, repeats collapsed, blanks dropped.

Shapes: B utterances, T frames, C classes (blank included).
"""

from __future__ import annotations

from typing import Sequence

import torch

from ctctool import _checks


def greedy_decode(
    log_probs: torch.Tensor, input_lengths: torch.Tensor | Sequence[int] | None = None, *, blank: int = 0
) -> list[list[int]]:
    """Best label per frame, repeats collapsed, blanks dropped: one label list per utterance.

    Args:
        log_probs: (T, C) or (B, T, C) scores on any device (only the argmax matters).
        input_lengths: (B,) frames per utterance; default T.
    """
    x, _ = _checks.batched(log_probs, name="log_probs")
    _checks.check_nonempty(x, "log_probs")
    B, T, _ = x.shape
    best = x.argmax(dim=-1)  # (B, T)
    keep = torch.ones_like(best, dtype=torch.bool)
    keep[:, 1:] = best[:, 1:] != best[:, :-1]
    keep &= best != blank
    if input_lengths is not None:
        lengths = _checks.input_lengths(input_lengths, B, T, best.device)
        keep &= torch.arange(T, device=best.device)[None, :] < lengths[:, None]
    best, keep = best.cpu(), keep.cpu()
    return [best[b][keep[b]].tolist() for b in range(B)]
