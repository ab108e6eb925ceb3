"""Greedy (best path) CTC decoding: the best class of each frame, repeats collapsed, blanks dropped.

Shapes: B utterances, T frames, C classes (blank included).
"""

from __future__ import annotations

from typing import Sequence

import torch


def greedy_decode(
    log_probs: torch.Tensor, input_lengths: torch.Tensor | Sequence[int] | None = None, *, blank: int = 0
) -> list[list[int]]:
    """Best label per frame, repeats collapsed, blanks dropped: one label list per utterance.

    Args:
        log_probs: (T, C) or (B, T, C) scores on any device (only the argmax matters).
        input_lengths: (B,) frames per utterance; default T.
    """
    if log_probs.dim() == 2:
        log_probs = log_probs.unsqueeze(0)
    B, T, _ = log_probs.shape
    best = log_probs.argmax(dim=-1)  # (B, T)
    keep = torch.ones_like(best, dtype=torch.bool)
    keep[:, 1:] = best[:, 1:] != best[:, :-1]
    keep &= best != blank
    if input_lengths is not None:
        lengths = torch.as_tensor(input_lengths, device=best.device)
        keep &= torch.arange(T, device=best.device)[None, :] < lengths[:, None]
    best, keep = best.cpu(), keep.cpu()
    return [best[b][keep[b]].tolist() for b in range(B)]
