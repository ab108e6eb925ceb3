"""Expected word-edge frames near a CTC best path, on the CPU (numba).

Shapes: T frames, C classes, S = 2L + 1 states of the extended label sequence (blank, l1, blank, ...,
lL, blank), as in ``viterbi_numba``. For one label state s and a window of frames [t0, t1] around it,
the forward-backward pass runs over the paths that agree with the best path at both ends of the window
(at t0 and t1; at the first and last frame of the utterance, over every path that starts or ends there,
as CTC allows), and gives the distribution of the frame at which a path enters s (or leaves it). Every
such path enters s exactly once, so the distribution sums to 1. Log domain, float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NEG = -np.inf


@njit(cache=True, nogil=True)
def _lse(a, b):
    if a == NEG:
        return b
    if b == NEG:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@njit(cache=True, nogil=True)
def expected_edge(values, ext, skip_ok, path, s, frame, window, enter):
    """Expected entry frame (``enter``) of state ``s``, or the expected frame after its last one.

    Args:
        values: (T, C) float64 log-probs, already divided by the temperature.
        ext: (S,) int64 class of each state; skip_ok: (S,) bool, state s may be reached from s - 2.
        path: (T,) int64 state of the best path at each frame (it passes through ``s``).
        frame: the best path's entry frame of ``s`` (``enter``) or its last frame in ``s``.
        window: frames on each side of ``frame`` that the paths may differ in.
    Returns the expectation in frames (a float; an entry at frame t counts t, a last frame t counts t + 1).
    """
    T = values.shape[0]
    S = ext.shape[0]
    t0 = max(0, frame - window)
    t1 = min(T - 1, frame + window)
    lo = 0 if t0 == 0 else path[t0]
    hi = S - 1 if t1 == T - 1 else path[t1]
    n = hi - lo + 1
    W = t1 - t0 + 1
    alpha = np.full((W, n), NEG)
    beta = np.full((W, n), NEG)
    if t0 == 0:
        for j in range(min(2 - lo, n)):
            alpha[0, j] = values[0, ext[lo + j]]
    else:
        alpha[0, path[t0] - lo] = 0.0
    for t in range(1, W):
        for j in range(n):
            best = alpha[t - 1, j]
            if j >= 1:
                best = _lse(best, alpha[t - 1, j - 1])
            if j >= 2 and skip_ok[lo + j]:
                best = _lse(best, alpha[t - 1, j - 2])
            if best != NEG:
                alpha[t, j] = best + values[t0 + t, ext[lo + j]]
    if t1 == T - 1:
        for state in (S - 2, S - 1):
            if state >= lo:
                beta[W - 1, state - lo] = 0.0
    else:
        beta[W - 1, path[t1] - lo] = 0.0
    for t in range(W - 2, -1, -1):
        for j in range(n):
            total = NEG
            for step in range(3):
                k = j + step
                if k >= n or (step == 2 and not skip_ok[lo + k]):
                    continue
                if beta[t + 1, k] != NEG:
                    total = _lse(total, values[t0 + t + 1, ext[lo + k]] + beta[t + 1, k])
            beta[t, j] = total
    z = NEG
    for j in range(n):
        z = _lse(z, alpha[W - 1, j] + beta[W - 1, j])
    j = s - lo
    weight = 0.0
    moment = 0.0
    for t in range(W):
        if enter:
            if t == 0:  # in s at the window's first frame: entered there (at frame 0) or before the window
                log_p = alpha[0, j] + beta[0, j] - z
            else:
                into = alpha[t - 1, j - 1] if j >= 1 else NEG
                if j >= 2 and skip_ok[s]:
                    into = _lse(into, alpha[t - 1, j - 2])
                log_p = into + values[t0 + t, ext[s]] + beta[t, j] - z
            position = t0 + t
        else:
            if t == W - 1:  # in s at the window's last frame: leaves there (at the end) or after the window
                log_p = alpha[t, j] + beta[t, j] - z
            else:
                onward = NEG
                for step in (1, 2):
                    k = j + step
                    if k < n and (step == 1 or skip_ok[lo + k]) and beta[t + 1, k] != NEG:
                        onward = _lse(onward, values[t0 + t + 1, ext[lo + k]] + beta[t + 1, k])
                log_p = alpha[t, j] + onward - z
            position = t0 + t + 1
        if log_p != NEG:
            p = np.exp(log_p)
            weight += p
            moment += p * position
    return moment / weight


@njit(cache=True, nogil=True)
def expected_edges(values, ext, skip_ok, path, states, frames, window, enter):
    """``expected_edge`` of each (state, frame, enter) triple: (E,) float64 frames."""
    out = np.empty(states.shape[0])
    for e in range(states.shape[0]):
        out[e] = expected_edge(values, ext, skip_ok, path, states[e], frames[e], window, enter[e])
    return out
