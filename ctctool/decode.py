"""Decoding CTC log-probs into label sequences.

Shapes: B utterances, T frames, C classes (blank included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from ctctool.errors import CtcToolError


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


#: Default per-frame token pruning of ``beam_search``: labels below this log-prob are not tried.
TOKEN_MIN_LOG_PROB = -12.0


@dataclass(frozen=True)
class Hypothesis:
    """One decoded label sequence with its scores (log-probabilities).

    ``acoustic_score`` is log P(labels | audio) summed over the CTC paths the beam kept
    (with no pruning: minus the CTC loss of ``labels``); ``score`` adds ``lm_score``.
    """

    labels: tuple[int, ...]
    score: float
    acoustic_score: float
    lm_score: float = 0.0


def beam_search(
    log_probs: torch.Tensor,
    *,
    beam_width: int = 16,
    nbest: int = 1,
    blank: int = 0,
    input_lengths: torch.Tensor | Sequence[int] | None = None,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
) -> list[tuple[Hypothesis, ...]]:
    """CTC prefix beam search: up to ``nbest`` distinct label sequences per utterance, best first.

    Args:
        log_probs: (T, C) or (B, T, C) log-probs (searched on the CPU, whatever their device).
        beam_width: prefixes kept after each frame.
        input_lengths: (B,) frames per utterance; default T.
        token_min_log_prob: labels scoring below this on a frame are not tried there;
            ``-inf`` disables the pruning (the search is then exact for a wide enough beam).
    """
    import numpy as np

    from ctctool.kernels.beam_numba import prefix_beam_search

    if beam_width < 1 or nbest < 1:
        raise CtcToolError(f"beam search: beam width ({beam_width}) and n-best ({nbest}) must be at least 1")
    if log_probs.dim() == 2:
        log_probs = log_probs.unsqueeze(0)
    if log_probs.dim() != 3:
        raise CtcToolError(f"log_probs: expected shape (T, C) or (B, T, C), found {tuple(log_probs.shape)}")
    B, T, C = log_probs.shape
    if not 0 <= blank < C:
        raise CtcToolError(f"blank id {blank} is outside the {C} classes (ids 0 to {C - 1})")
    lengths = [T] * B if input_lengths is None else [int(n) for n in input_lengths]
    values = log_probs.detach().to("cpu", torch.float64 if log_probs.dtype == torch.float64 else torch.float32).numpy()
    results = []
    for b in range(B):
        parents, labels, nodes, pb, pnb = prefix_beam_search(values[b, : lengths[b]], blank, max(beam_width, nbest),
                                                             float(token_min_log_prob))
        hypotheses = []
        for node, blank_score, label_score in zip(nodes[:nbest], pb[:nbest], pnb[:nbest]):
            sequence = []
            while node > 0:
                sequence.append(int(labels[node]))
                node = parents[node]
            total = float(np.logaddexp(blank_score, label_score))
            hypotheses.append(Hypothesis(tuple(reversed(sequence)), total, total))
        results.append(tuple(hypotheses))
    return results


@dataclass(frozen=True)
class WordFrames:
    """A decoded word and its frames: first frame of its first token to the last frame of its last
    token (``end`` exclusive), from the forced alignment of the decoded labels."""

    word: str
    start: int
    end: int


def word_frames(log_probs: torch.Tensor, labels: Sequence[int], vocab) -> tuple[WordFrames, ...]:
    """Words of ``labels`` (split at the vocabulary's word delimiter) with their frames in (T, C) ``log_probs``."""
    from ctctool.align import forced_align
    from ctctool.spans import token_spans

    if not labels:
        return ()
    alignment = forced_align(log_probs, list(labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    delimiter = vocab.id_of(vocab.word_delimiter) if vocab.word_delimiter else None
    words, current = [], []
    for span in (*spans, None):
        if span is None or span.token == delimiter:
            if current:
                words.append(WordFrames(vocab.decode([s.token for s in current]), current[0].start, current[-1].end))
            current = []
        else:
            current.append(span)
    return tuple(words)
