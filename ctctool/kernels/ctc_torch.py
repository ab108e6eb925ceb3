"""Exact CTC forward-backward in vectorised torch (any device): log-likelihood and gradient.

Shapes: B utterances, T frames, C classes (blank included), L target length,
S = 2L + 1 states of the extended label sequence (blank, l1, blank, l2, ..., lL, blank),
padded to S_max = 2 L_max + 1. Moves into state s: stay, advance from s - 1, or skip
from s - 2 when s is a label different from the label at s - 2. Paths end in state
S - 1 or S - 2 at the last frame of the utterance (only S - 1 when L = 0).

Everything is in float64 log space, with ``-inf`` for a probability of exactly 0: the
log-sum-exps go through ``torch.logaddexp``, which returns ``-inf`` (not NaN) when both
terms are ``-inf``, and every other difference is masked with ``torch.where``. The
scores are used exactly as given, not renormalised per frame.

The gradient is normalised per frame: the occupancy of frame t is
``exp(alpha_t(s) + beta_t(s) - n_t)`` with ``n_t = logsumexp_s(alpha_t(s) + beta_t(s))``,
which equals log P at every frame but is taken frame by frame, so the occupancies stay
in [0, 1] even when log P is about -1e30 (where subtracting one global log P would keep
no digits). Here ``beta_t`` excludes frame t's emission and ``abar_t`` is alpha before
it: ``alpha_t = abar_t + e_t``. The ``probs`` gradient is ``-exp(abar_t + beta_t - n_t)``
summed per class (``-gamma / p`` where p > 0; finite where p == 0 too); magnitudes
beyond float64 (a needed probability below about exp(-709)) are clamped to ``finfo.max``.

One pass forward over T keeps ``abar`` (T, B, S); one pass backward carries ``beta``
(B, S) only and overwrites ``abar[t]`` with ``abar_t + beta_t``; the normalisers, the
exponentials and a scatter over the classes then run once over (T, B, S). Nothing
leaves the device inside the loops.
"""

from __future__ import annotations

import torch

GRADIENTS = (None, "log_probs", "probs")


def ctc_forward_backward(
    values: torch.Tensor,
    input_lengths: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int,
    gradient: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """CTC log-likelihood of each utterance and, optionally, the gradient of its loss.

    Args:
        values: (B, T, C) float64 log-scores on any device; ``-inf`` is a probability of
            exactly 0. Never NaN or ``+inf``.
        input_lengths: (B,) int64 frames used, 1..T.
        targets: (B, L_max) int64 padded labels (no blank, all < C).
        target_lengths: (B,) int64 labels used, 0..L_max.
        blank: the blank's class id.
        gradient: None, ``"log_probs"`` or ``"probs"``.
    Returns:
        log_likelihood (B,) float64: ln of the sum over CTC paths of the product of
        ``exp(values)``; ``-inf`` when no path has a non-zero probability.
        grad (B, T, C) float64 or None: the gradient of each loss (``-log_likelihood``).
        ``"log_probs"``: d loss / d values = minus the per-frame occupancy of each class,
        in [-1, 0]. ``"probs"``: d loss / d exp(values), finite where ``exp(values) == 0``
        too; magnitudes beyond the float64 range are clamped to ``finfo.max``. Frames at
        or past an input length, and utterances of log-likelihood ``-inf``, get 0.
    """
    if gradient not in GRADIENTS:
        raise ValueError(f"gradient {gradient!r}: expected one of {GRADIENTS}")
    B, T, C = values.shape
    device = values.device
    values = values.detach().to(torch.float64)
    input_lengths = input_lengths.to(device=device, dtype=torch.long)
    ext, state_counts, skip_penalty = extended_states(targets.to(device), target_lengths.to(device), blank)
    emissions = _emissions(values, ext, state_counts)  # (T, B, S)
    abar = _forward(emissions, skip_penalty)
    log_likelihood = _final(abar, emissions, input_lengths, state_counts)
    if gradient is None:
        return log_likelihood, None
    _backward(abar, emissions, skip_penalty, input_lengths, state_counts)
    grad = _gradient(abar, emissions, ext, input_lengths, log_likelihood, C, gradient)
    return log_likelihood, grad


def extended_states(targets, target_lengths, blank):
    """The lattice of a batch.

    Returns:
        ext (B, S_max) int64 class id of each state (blank past S);
        state_counts (B,) S = 2L + 1 of each utterance;
        skip_penalty (B, S_max) float64: 0 where the skip into s is allowed, ``-inf`` elsewhere.
    """
    B = targets.shape[0]
    S = 2 * targets.shape[1] + 1
    device = targets.device
    state_counts = 2 * target_lengths.long() + 1
    ext = torch.full((B, S), blank, dtype=torch.long, device=device)
    ext[:, 1::2] = targets.long()
    inside = torch.arange(S, device=device)[None, :] < state_counts[:, None]
    ext = torch.where(inside, ext, blank)
    skip_ok = torch.zeros((B, S), dtype=torch.bool, device=device)
    skip_ok[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    skip_penalty = torch.zeros((B, S), dtype=torch.float64, device=device).masked_fill(~skip_ok, float("-inf"))
    return ext, state_counts, skip_penalty


def _emissions(values, ext, state_counts):
    """(T, B, S) ``values[b, t, ext[b, s]]``, ``-inf`` on the padded states."""
    B, T, _ = values.shape
    S = ext.shape[1]
    gathered = values.gather(2, ext[:, None, :].expand(B, T, S))
    outside = torch.arange(S, device=values.device)[None, None, :] >= state_counts[:, None, None]
    return gathered.masked_fill(outside, float("-inf")).transpose(0, 1).contiguous()


def _forward(emissions, skip_penalty):
    """(T, B, S) ``abar``: alpha before each frame's emission (frame 0: log 1 at states 0 and 1).

    ``alpha`` lives in a (B, S + 2) buffer with two ``-inf`` cells in front, so the advance
    and skip predecessors are plain views.
    """
    T, B, S = emissions.shape
    abar = torch.empty_like(emissions)
    abar[0] = float("-inf")
    abar[0, :, : min(2, S)] = 0.0
    alpha = torch.full((B, S + 2), float("-inf"), dtype=torch.float64, device=emissions.device)
    torch.add(abar[0], emissions[0], out=alpha[:, 2:])
    for t in range(1, T):
        near = torch.logaddexp(alpha[:, 2:], alpha[:, 1:-1])
        torch.logaddexp(near, alpha[:, :-2] + skip_penalty, out=abar[t])
        torch.add(abar[t], emissions[t], out=alpha[:, 2:])
    return abar


def _final(abar, emissions, input_lengths, state_counts):
    """(B,) log-likelihood: alpha at the last frame, summed over the final blank and last label."""
    B = abar.shape[1]
    rows = torch.arange(B, device=abar.device)
    last = input_lengths - 1
    alpha_last = abar[last, rows] + emissions[last, rows]  # (B, S)
    end_blank = alpha_last[rows, state_counts - 1]
    end_label = alpha_last[rows, (state_counts - 2).clamp(min=0)]
    end_label = torch.where(state_counts > 1, end_label, float("-inf"))
    return torch.logaddexp(end_blank, end_label)


def _beta_init(state_counts, S, device):
    """(B, S) beta at each utterance's last frame: log 1 at the final blank and last label."""
    ids = torch.arange(S, device=device)[None, :]
    ends = (ids == state_counts[:, None] - 1) | (ids == state_counts[:, None] - 2)
    return torch.zeros(ends.shape, dtype=torch.float64, device=device).masked_fill(~ends, float("-inf"))


def _backward(abar, emissions, skip_penalty, input_lengths, state_counts):
    """Run beta backwards, overwriting ``abar[t]`` with ``abar_t + beta_t``.

    ``beta`` restarts from ``_beta_init`` at each utterance's last frame; what it holds
    past that frame is never used (those frames are masked in ``_gradient``).
    """
    T, B, S = emissions.shape
    device = emissions.device
    init = _beta_init(state_counts, S, device)
    restart = (torch.arange(T, device=device)[:, None] == (input_lengths - 1)[None, :])[:, :, None]  # (T, B, 1)
    # successors of s sit at s + 1 and s + 2: two -inf cells behind g = beta + e
    g = torch.full((B, S + 2), float("-inf"), dtype=torch.float64, device=device)
    skip_from = torch.full_like(skip_penalty, float("-inf"))
    skip_from[:, :-2] = skip_penalty[:, 2:]  # the skip out of s is the skip into s + 2
    beta = torch.full((B, S), float("-inf"), dtype=torch.float64, device=device)
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            torch.add(beta, emissions[t + 1], out=g[:, :-2])
            near = torch.logaddexp(g[:, :-2], g[:, 1:-1])
            beta = torch.logaddexp(near, g[:, 2:] + skip_from)
        beta = torch.where(restart[t], init, beta)
        abar[t].add_(beta)


def _gradient(before, emissions, ext, input_lengths, log_likelihood, C, gradient):
    """(B, T, C) gradient from ``before`` (T, B, S) = ``abar_t + beta_t``.

    Frame t's normaliser is ``n_t = logsumexp_s(alpha_t + beta_t)``, kept as ``m_t + log z_t``
    with m_t the frame's largest term: when |m_t| is about 1e38, ``m_t + log z_t`` would round
    back to m_t, so the occupancy is ``gamma = exp(alpha_t + beta_t - m_t) / z_t``.

    The ``probs`` weight ``exp(abar_t + beta_t - n_t)`` is also ``gamma / p``; of the two
    forms, the one where the large terms cancel is used. ``exp(log gamma - e_t)`` where
    ``|e_t| <= |abar_t + beta_t|`` and p > 0: with log P about -1e30 and a moderate e_t,
    ``abar_t + beta_t - m_t`` would keep no digit of e_t, while 1/p is applied exactly here.
    ``exp((abar_t + beta_t - m_t) - log z_t)`` elsewhere: p == 0 (no 1/p), or e_t about -1e30
    with moderate ``abar_t + beta_t`` (where gamma keeps no digit). Each state's weight goes,
    negated, to its class.
    """
    T, B, S = before.shape
    device = before.device
    both = before + emissions  # alpha_t + beta_t
    top = both.amax(dim=2, keepdim=True)
    top = torch.where(torch.isfinite(top), top, 0.0)
    scaled = (both - top).exp()
    z = scaled.sum(dim=2, keepdim=True)
    frames = torch.arange(T, device=device)[:, None, None]
    valid = (frames < input_lengths[None, :, None]) & (z > 0) & torch.isfinite(log_likelihood)[None, :, None]
    z = torch.where(valid, z, 1.0)
    if gradient == "log_probs":
        weights = scaled / z
    else:
        via_gamma = torch.isfinite(emissions) & (emissions.abs() <= before.abs())
        log_gamma = (both - top) - z.log()
        weights = torch.where(via_gamma, (log_gamma - torch.where(via_gamma, emissions, 0.0)).exp(),
                              ((before - top) - z.log()).exp())
    weights = torch.where(valid, weights, 0.0)
    grad = torch.zeros((B, T, C), dtype=torch.float64, device=device)
    grad.scatter_add_(2, ext[:, None, :].expand(B, T, S), weights.transpose(0, 1))
    if gradient == "probs":
        grad.clamp_(max=torch.finfo(torch.float64).max)
    return grad.neg_()
