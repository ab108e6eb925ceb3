"""CTC prefix beam search on the CPU (numba), without a language model.

Every prefix is a node of a trie (parent, label). A beam entry keeps two
log-probabilities: of the prefix ending in blank (``pb``) and in its last label
(``pnb``); entries that reach the same prefix are merged with logaddexp. Shapes:
T frames, C classes.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba import types
from numba.typed import Dict


@njit(cache=True)
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@njit(cache=True)
def _slot(slots, next_nodes, node, used):
    """The next beam's slot of ``node`` (a new one when it has none yet) and the slots used."""
    if node in slots:
        return slots[node], used
    slots[node] = used
    next_nodes[used] = node
    return used, used + 1


@njit(cache=True)
def prefix_beam_search(log_probs, blank, beam_width, token_min_log_prob):
    """Beams after the last frame, best first.

    Args:
        log_probs: (T, C) float32/float64 log-probs of one utterance.
        token_min_log_prob: a label is only tried on frames where its log-prob is at
            least this (-inf: every label on every frame, i.e. no pruning).
    Returns:
        (parents, labels) of the trie nodes, and for the final beam, best first:
        node ids, log P(ending in blank) and log P(ending in a label).
    """
    T, C = log_probs.shape
    capacity = 1024
    parents = np.full(capacity, -1, dtype=np.int64)
    labels = np.full(capacity, -1, dtype=np.int64)
    count = 1  # node 0: the empty prefix
    children = Dict.empty(key_type=types.int64, value_type=types.int64)
    beam_nodes = np.zeros(1, dtype=np.int64)
    beam_pb = np.zeros(1)
    beam_pnb = np.full(1, -np.inf)
    for t in range(T):
        row = log_probs[t]
        slots = Dict.empty(key_type=types.int64, value_type=types.int64)
        width = beam_nodes.shape[0] * (C + 1)
        next_nodes = np.empty(width, dtype=np.int64)
        next_pb = np.full(width, -np.inf)
        next_pnb = np.full(width, -np.inf)
        used = 0
        for k in range(beam_nodes.shape[0]):
            node, pb, pnb = beam_nodes[k], beam_pb[k], beam_pnb[k]
            total = _logaddexp(pb, pnb)
            last = labels[node]
            # blank, or the last label again: the prefix stays
            slot, used = _slot(slots, next_nodes, node, used)
            next_pb[slot] = _logaddexp(next_pb[slot], total + row[blank])
            if last >= 0:
                next_pnb[slot] = _logaddexp(next_pnb[slot], pnb + row[last])
            # a new label
            for c in range(C):
                if c == blank or row[c] < token_min_log_prob:
                    continue
                key = node * C + c
                if key in children:
                    child = children[key]
                else:
                    if count == capacity:
                        capacity *= 2
                        grown_p = np.full(capacity, -1, dtype=np.int64)
                        grown_l = np.full(capacity, -1, dtype=np.int64)
                        grown_p[:count] = parents[:count]
                        grown_l[:count] = labels[:count]
                        parents, labels = grown_p, grown_l
                    child = count
                    parents[child] = node
                    labels[child] = c
                    children[key] = child
                    count += 1
                slot, used = _slot(slots, next_nodes, child, used)
                incoming = pb if c == last else total  # a repeat needs a blank in between
                next_pnb[slot] = _logaddexp(next_pnb[slot], incoming + row[c])
        totals = np.empty(used)
        for i in range(used):
            totals[i] = _logaddexp(next_pb[i], next_pnb[i])
        order = np.argsort(-totals, kind="mergesort")[:beam_width]
        beam_nodes = next_nodes[:used][order].copy()
        beam_pb = next_pb[:used][order].copy()
        beam_pnb = next_pnb[:used][order].copy()
    return parents[:count], labels[:count], beam_nodes, beam_pb, beam_pnb
