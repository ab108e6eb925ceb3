"""Exact CTC forward-backward on the CPU (numba): the twin of ``ctc_torch.ctc_forward_backward``.

Shapes: B utterances, T frames, C classes (blank included), S = 2L + 1 states of the
extended label sequence (blank, l1, blank, l2, ..., lL, blank). Moves into state s:
stay, advance from s - 1, or skip from s - 2 when s is a label different from the label
at s - 2. Paths end in state S - 1 or S - 2 at the utterance's last frame.

Same contract and numbers as the torch twin (to about 1e-12 relative: the sums run in a
different order): float64 log space, ``-inf`` for a probability of 0, scores used as
given, the gradient normalised per frame by ``n_t = logsumexp_s(alpha_t(s) + beta_t(s))``
(kept as max + log of the scaled sum), ``probs`` weights in whichever of the forms
``exp(abar_t + beta_t - n_t)`` and ``gamma / p`` cancels the large terms (see
``ctc_torch._gradient``), clamped to ``finfo.max``. ``abar_t`` is alpha before frame t's
emission, ``beta_t`` excludes it. Each utterance keeps ``abar`` (T, S); beta is one row
carried backwards.

Speed: each frame's row is scaled by its largest entry once (one exp per state), so a
three-way log-sum-exp costs one log instead of three exps and a log; a state whose moves
all lie more than about 660 below the frame's best (the scaled sum under
``LINEAR_FLOOR``) falls back to the exact log-space form.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

from ctctool.kernels.ctc_torch import GRADIENTS, extended_states

NO_GRADIENT, LOG_PROBS, PROBS = 0, 1, 2
_MODES = {None: NO_GRADIENT, "log_probs": LOG_PROBS, "probs": PROBS}
FLOAT_MAX = np.finfo(np.float64).max
#: Below this, a sum of scaled terms may have lost digits to underflow (2**-960).
LINEAR_FLOOR = 2.0**-960


def ctc_forward_backward(
    values: torch.Tensor,
    input_lengths: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
    blank: int,
    gradient: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``ctc_torch.ctc_forward_backward`` for CPU tensors: same arguments, same results (on the CPU)."""
    if gradient not in GRADIENTS:
        raise ValueError(f"gradient {gradient!r}: expected one of {GRADIENTS}")
    B, T, C = values.shape
    ext, state_counts, skip_penalty = extended_states(targets.cpu(), target_lengths.cpu(), blank)
    log_likelihood = np.empty(B)
    grad = np.zeros((B, T if gradient is not None else 0, C))
    ctc_batch(
        np.ascontiguousarray(values.detach().cpu().to(torch.float64).numpy()),
        input_lengths.cpu().long().numpy(), ext.numpy(), state_counts.numpy(),
        (skip_penalty == 0).numpy(), _MODES[gradient], log_likelihood, grad,
    )
    log_likelihood = torch.from_numpy(log_likelihood)
    return log_likelihood, (torch.from_numpy(grad) if gradient is not None else None)


@njit(cache=True, nogil=True)
def _lse2(a, b):
    m = max(a, b)
    if m == -np.inf:
        return m
    return m + np.log(np.exp(a - m) + np.exp(b - m))


@njit(cache=True, nogil=True)
def _lse3(a, b, c):
    m = max(a, max(b, c))
    if m == -np.inf:
        return m
    return m + np.log(np.exp(a - m) + np.exp(b - m) + np.exp(c - m))


@njit(cache=True, nogil=True)
def _scaled(x, lin):
    """``lin = exp(x - m)`` with m the row's max (0 when the row is all ``-inf``); returns m."""
    m = -np.inf
    for s in range(x.shape[0]):
        m = max(m, x[s])
    if m == -np.inf:
        m = 0.0
    for s in range(x.shape[0]):
        lin[s] = np.exp(x[s] - m)
    return m


@njit(cache=True, nogil=True)
def _combine(m, lin_sum, a, b, c):
    """log(exp(a) + exp(b) + exp(c)) from ``lin_sum``, their sum scaled by exp(-m).

    One exp per state (in ``_scaled``) instead of three per move. When the sum is below
    ``LINEAR_FLOOR`` (all three moves far below the frame's best state), the scaled terms
    may have lost digits to underflow, and the exact ``_lse3`` of the log terms is used.
    """
    if lin_sum >= LINEAR_FLOOR:
        return m + np.log(lin_sum)
    return _lse3(a, b, c)


@njit(cache=True, nogil=True)
def _forward(values, ext, skip_ok, abar):
    """Fill ``abar`` (T, S) for the frames ``values`` (T, C); returns the log-likelihood."""
    T, S = abar.shape
    neg = -np.inf
    prev = np.empty(S)
    lin = np.empty(S)
    for s in range(S):
        abar[0, s] = 0.0 if s < 2 else neg
        prev[s] = abar[0, s] + values[0, ext[s]]
    for t in range(1, T):
        m = _scaled(prev, lin)
        for s in range(S):
            total = lin[s]
            advance = neg
            skip = neg
            if s >= 1:
                total += lin[s - 1]
                advance = prev[s - 1]
            if skip_ok[s]:
                total += lin[s - 2]
                skip = prev[s - 2]
            abar[t, s] = _combine(m, total, prev[s], advance, skip)
        for s in range(S):
            prev[s] = abar[t, s] + values[t, ext[s]]
    return _lse2(prev[S - 1], prev[S - 2] if S > 1 else neg)


@njit(cache=True, nogil=True)
def _backward(values, ext, skip_ok, abar, mode, grad):
    """Carry beta from the last frame to the first, writing each frame's gradient row into
    ``grad`` (T, C): ``-exp(numerator - n_t)`` summed over the states of each class."""
    T, S = abar.shape
    neg = -np.inf
    beta = np.empty(S)
    g = np.empty(S)
    lin = np.empty(S)
    both = np.empty(S)
    for s in range(S):
        beta[s] = 0.0 if s >= S - 2 else neg
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            for s in range(S):
                g[s] = beta[s] + values[t + 1, ext[s]]
            m = _scaled(g, lin)
            for s in range(S):
                total = lin[s]
                advance = neg
                skip = neg
                if s + 1 < S:
                    total += lin[s + 1]
                    advance = g[s + 1]
                if s + 2 < S and skip_ok[s + 2]:
                    total += lin[s + 2]
                    skip = g[s + 2]
                beta[s] = _combine(m, total, g[s], advance, skip)
        for s in range(S):
            both[s] = abar[t, s] + beta[s] + values[t, ext[s]]
        m = _scaled(both, lin)  # exp(alpha_t + beta_t - m)
        z = 0.0
        for s in range(S):
            z += lin[s]
        if z == 0.0 or not np.isfinite(m):
            continue
        log_z = np.log(z)  # n_t = m + log_z, kept apart: at |m| ~ 1e38 their sum is m
        for s in range(S):
            e = values[t, ext[s]]
            before = abar[t, s] + beta[s]
            if mode == LOG_PROBS:
                grad[t, ext[s]] += lin[s] / z
            elif e != -np.inf and abs(e) <= abs(before):  # gamma / p: the form where the large terms cancel
                grad[t, ext[s]] += np.exp(((both[s] - m) - log_z) - e)
            else:
                grad[t, ext[s]] += np.exp((before - m) - log_z)
        for c in range(grad.shape[1]):
            grad[t, c] = -min(grad[t, c], FLOAT_MAX)


@njit(cache=True, nogil=True)
def ctc_utterance(values, ext, skip_ok, mode, grad):
    """One utterance: ``values`` (T, C) its frames only, ``ext``/``skip_ok`` (S,) its states,
    ``grad`` (T, C) zeros, filled unless ``mode`` is NO_GRADIENT. Returns the log-likelihood."""
    abar = np.empty((values.shape[0], ext.shape[0]))
    log_likelihood = _forward(values, ext, skip_ok, abar)
    if mode != NO_GRADIENT and log_likelihood != -np.inf:
        _backward(values, ext, skip_ok, abar, mode, grad)
    return log_likelihood


@njit(cache=True, parallel=True)
def ctc_batch(values, input_lengths, ext, state_counts, skip_ok, mode, log_likelihood_out, grad_out):
    """``ctc_utterance`` for each utterance of a batch, in parallel.

    Args:
        values: (B, T, C) float64; input_lengths: (B,) frames used.
        ext, skip_ok: (B, S_max), padded; state_counts: (B,) S of each utterance.
        mode: NO_GRADIENT, LOG_PROBS or PROBS.
        log_likelihood_out: (B,) float64; grad_out: (B, T, C) float64 zeros, (B, 0, C) without a gradient.
    """
    for b in prange(values.shape[0]):
        T_b = input_lengths[b]
        S_b = state_counts[b]
        log_likelihood_out[b] = ctc_utterance(values[b, :T_b], ext[b, :S_b], skip_ok[b, :S_b], mode, grad_out[b, :T_b])
