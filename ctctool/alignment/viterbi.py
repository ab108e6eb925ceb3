"""Forced alignment: the exact Viterbi path of a label sequence through CTC log-probs.

Shapes: B utterances, T frames, C classes (blank included), L labels, S = 2L + 1
states of the extended sequence (blank, l1, blank, l2, ..., lL, blank).

``forced_align`` fills the lattice and walks back (numba on the CPU, vectorised
torch on other devices; both give the same path, ties included). Merging the path
into token, word and line spans is a separate step, in ``ctctool.alignment.spans``.

Exactness: the path returned has the highest score among all valid CTC
alignments (stay on a state, advance one, or skip the blank between two different
labels). Backpointers take 2 bits per lattice cell, and only the band of states
that can lie on a complete path is filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import torch

from ctctool import _checks
from ctctool.errors import CtcToolError

Backend = Literal["auto", "numba", "torch"]


@dataclass(frozen=True)
class ForcedAlignment:
    """Best CTC path of each utterance of a batch (B = 1 for a (T, C) input).

    Attributes:
        tokens: (B, T) int64 class id of each frame; -1 past the input length.
        states: (B, T) int64 state of each frame in the extended sequence (label j is
            state 2j + 1, blanks are even); -1 past the input length.
        frame_log_probs: (B, T) float64 log-prob of each frame's token; 0 past the length.
        scores: (B,) float64 total log-prob of the path.
        input_lengths: (B,) frames aligned; target_lengths: (B,) labels (L).
    """

    tokens: torch.Tensor
    states: torch.Tensor
    frame_log_probs: torch.Tensor
    scores: torch.Tensor
    input_lengths: torch.Tensor
    target_lengths: torch.Tensor


def forced_align(
    log_probs: torch.Tensor,
    targets: torch.Tensor | Sequence[int] | Sequence[Sequence[int]],
    *,
    blank: int = 0,
    input_lengths: torch.Tensor | Sequence[int] | None = None,
    target_lengths: torch.Tensor | Sequence[int] | None = None,
    backend: Backend = "auto",
) -> ForcedAlignment:
    """The exact best path of ``targets`` through ``log_probs``.

    Args:
        log_probs: (T, C) or (B, T, C) CTC log-probabilities (finite).
        targets: (L,) labels for a (T, C) input; for a batch, padded (B, L_max) or
            concatenated with ``target_lengths``, or a list of B label lists.
        input_lengths: (B,) frames per utterance; default T.
        backend: ``numba`` (CPU tensors), ``torch`` (any device), or ``auto``: numba on
            the CPU, torch elsewhere. Both return the same path.
    """
    x, _ = _checks.batched(log_probs, name="log_probs")
    _checks.check_nonempty(x, "log_probs")
    B, T, C = x.shape
    _checks.check_blank(blank, C)
    _checks.check_finite(x, "log_probs")
    in_lens = _checks.input_lengths(input_lengths, B, T, x.device)
    padded, tgt_lens = _checks.padded_targets(targets, target_lengths, B, x.device)
    _checks.check_labels(padded, tgt_lens, blank, C)
    needed = _checks.frames_needed(padded, tgt_lens)
    short = (in_lens < needed).nonzero()
    if short.numel():
        b = int(short[0, 0])
        raise CtcToolError(
            f"utterance {b}: {int(tgt_lens[b])} labels with {int(needed[b] - tgt_lens[b])} repeats need "
            f">= {int(needed[b])} frames; there are {int(in_lens[b])} in `log_probs`"
        )
    log_probs = x
    ext, skip_ok, state_counts = _extended_sequences(padded, tgt_lens, blank)
    if backend == "auto":
        backend = "numba" if log_probs.device.type == "cpu" else "torch"
    if backend == "numba":
        if log_probs.device.type != "cpu":
            raise CtcToolError("`backend=numba` runs on CPU tensors; use `backend=torch` or `backend=auto` for "
                               "other devices")
        states, frame_scores, scores = _run_numba(log_probs, in_lens, ext, state_counts, skip_ok)
    elif backend == "torch":
        from ctctool.kernels.viterbi_torch import viterbi_batch_torch

        device = log_probs.device
        states, frame_scores, scores = viterbi_batch_torch(
            log_probs, in_lens, ext.to(device), state_counts.to(device), skip_ok.to(device)
        )
    else:
        raise CtcToolError(f"`backend` {backend!r}: expected auto, numba or torch")
    ext_cpu = ext.cpu()
    tokens = torch.where(states >= 0, ext_cpu.gather(1, states.clamp(min=0)), torch.full_like(states, -1))
    device = log_probs.device
    return ForcedAlignment(
        tokens=tokens.to(device), states=states.to(device), frame_log_probs=frame_scores.to(device),
        scores=scores.to(device), input_lengths=in_lens, target_lengths=tgt_lens,
    )


def _extended_sequences(padded: torch.Tensor, lengths: torch.Tensor, blank: int):
    """(B, S_max) class ids of the states, (B, S_max) skip allowed, (B,) S of each utterance (CPU)."""
    padded, lengths = padded.cpu(), lengths.cpu()
    B, width = padded.shape
    S_max = 2 * width + 1
    ext = torch.full((B, S_max), blank, dtype=torch.long)
    ext[:, 1::2] = padded
    labels = ext[:, 1::2]
    skip_ok = torch.zeros((B, S_max), dtype=torch.bool)
    if width > 1:
        skip_ok[:, 3::2] = labels[:, 1:] != labels[:, :-1]
    state_counts = 2 * lengths + 1
    beyond = torch.arange(S_max)[None, :] >= state_counts[:, None]
    ext[beyond] = blank
    skip_ok[beyond] = False
    return ext, skip_ok, state_counts


def _run_numba(log_probs, in_lens, ext, state_counts, skip_ok):
    from ctctool.kernels.viterbi_numba import viterbi_batch, viterbi_path_auto

    B, T, _ = log_probs.shape
    lp = log_probs.detach()
    if lp.dtype not in (torch.float32, torch.float64):
        lp = lp.to(torch.float32)
    lp_np = lp.contiguous().numpy()
    states = np.full((B, T), -1, dtype=np.int64)
    frame_scores = np.zeros((B, T))
    scores = np.empty(B)
    if B == 1:  # no thread pool for a single utterance
        T_0, S_0 = int(in_lens[0]), int(state_counts[0])
        scores[0] = viterbi_path_auto(lp_np[0, :T_0], ext[0, :S_0].numpy(), skip_ok[0, :S_0].numpy(),
                                      states[0, :T_0], frame_scores[0, :T_0])
    else:
        viterbi_batch(lp_np, in_lens.numpy(), ext.numpy(), state_counts.numpy(), skip_ok.numpy(),
                      states, frame_scores, scores)
    return torch.from_numpy(states), torch.from_numpy(frame_scores), torch.from_numpy(scores)
