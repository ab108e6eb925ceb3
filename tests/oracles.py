"""Independent brute-force routes for tiny inputs: enumerate every frame path.

Shapes: T frames, C classes. Only for T <= 6 and C <= 3 (C**T <= 729 paths).
"""

from __future__ import annotations

import itertools
import math


def collapse(path, blank: int = 0) -> tuple[int, ...]:
    """Merge repeated frames, then drop blanks: the label sequence a path spells."""
    out = []
    previous = None
    for token in path:
        if token != previous and token != blank:
            out.append(token)
        previous = token
    return tuple(out)


def path_log_prob(log_probs, path) -> float:
    """Sum over frames of the path's scores; ``log_probs`` is a (T, C) nested sequence."""
    return sum(float(log_probs[t][c]) for t, c in enumerate(path))


def all_paths(T: int, C: int):
    return itertools.product(range(C), repeat=T)


def logsumexp(values) -> float:
    values = list(values)
    if not values:
        return -math.inf
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def brute_force_nll(log_probs, labels, blank: int = 0) -> float:
    """-log of the summed probability of every frame path that collapses to ``labels``."""
    T, C = len(log_probs), len(log_probs[0])
    target = tuple(labels)
    scores = [path_log_prob(log_probs, p) for p in all_paths(T, C) if collapse(p, blank) == target]
    return -logsumexp(scores)


def brute_force_best_path(log_probs, labels, blank: int = 0):
    """(best score, best path) over every frame path that collapses to ``labels``."""
    T, C = len(log_probs), len(log_probs[0])
    target = tuple(labels)
    best = (-math.inf, None)
    for p in all_paths(T, C):
        if collapse(p, blank) == target:
            score = path_log_prob(log_probs, p)
            if score > best[0]:
                best = (score, p)
    return best


def label_log_probs(log_probs, blank: int = 0) -> dict:
    """log P(labels) for every label sequence, by enumerating all C**T frame paths."""
    T, C = len(log_probs), len(log_probs[0])
    scores = {}
    for path in all_paths(T, C):
        scores.setdefault(collapse(path, blank), []).append(path_log_prob(log_probs, path))
    return {labels: logsumexp(values) for labels, values in scores.items()}
