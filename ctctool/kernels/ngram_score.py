"""Scoring a word n-gram model inside numba kernels: hash lookups, back-off, an external scorer's cache.

The tables are built by ``ctctool.lm.tables`` (see ``NgramTables`` for their layout);
the kernels receive them as the tuple ``NgramTables.as_tuple`` gives. Scores are natural logs.
An external scorer (KenLM) is a Python object registered with ``register_scorer``; the
kernel asks it, through ``objmode``, for each (state, word) its cache does not hold.
"""

from __future__ import annotations

import weakref

import numpy as np
from numba import njit, objmode

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SCORERS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def register_scorer(scorer) -> int:
    """Make ``scorer`` (``(state, word) -> (ln P, next state)``) reachable from the kernels; returns its key.

    The registry holds it weakly: the caller keeps it alive as long as its tables are used.
    """
    key = id(scorer)
    _SCORERS[key] = scorer
    return key


def hash_table(keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An open-addressing table (keys, ids) of a power-of-two size at least twice the keys; -1 marks empty slots."""
    size = 1 << max(4, int(2 * max(len(keys), 1) - 1).bit_length())
    table_keys = np.full(size, -1, dtype=np.int64)
    table_ids = np.full(size, -1, dtype=np.int64)
    _insert_all(table_keys, table_ids, keys, ids)
    return table_keys, table_ids


@njit(cache=True, inline="always")
def _home_slot(key, mask):
    """Where ``key`` hashes to in a table of ``mask + 1`` slots (a power of two)."""
    mixed = np.uint64(key) * _GOLDEN
    return np.int64(mixed ^ (mixed >> np.uint64(29))) & mask


@njit(cache=True)
def _slot_of(table_keys, key):
    mask = table_keys.shape[0] - 1
    slot = _home_slot(key, mask)
    while table_keys[slot] != -1 and table_keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@njit(cache=True)
def _insert_all(table_keys, table_ids, keys, ids):
    for i in range(keys.shape[0]):
        slot = _slot_of(table_keys, keys[i])
        table_keys[slot] = keys[i]
        table_ids[slot] = ids[i]


@njit(cache=True)
def ngram_id(table_keys, table_ids, key):
    """The n-gram id stored under ``key``, or -1."""
    slot = _slot_of(table_keys, key)
    return table_ids[slot] if table_keys[slot] == key else -1


@njit(cache=True)
def score_word(lm, state, word):
    """(ln P(word | state), the next state) by back-off; ``word`` -1: a word the model does not list."""
    if lm[18] >= 0:
        return _external_score(lm, state, word)
    table_keys, table_ids, num_words, log_prob, log_backoff, suffix, next_state, listed = lm[:8]
    unknown_word, unknown_log_prob = lm[15], lm[16]
    if word < 0:
        word = unknown_word
        if word < 0:
            return unknown_log_prob, 0
    backoff = 0.0
    context = state
    after = -1
    while True:
        gram = ngram_id(table_keys, table_ids, context * num_words + word)
        if gram >= 0:
            if after < 0:
                after = next_state[gram]
            if listed[gram]:
                return backoff + log_prob[gram], after
        if context == 0:
            return backoff + unknown_log_prob, max(after, 0)
        backoff += log_backoff[context]
        context = suffix[context]


def _ask_scorer(scorer, state, word):
    return _SCORERS[scorer](state, word)


@njit(cache=True)
def _external_score(lm, state, word):
    """(ln P(word | state), next state) from the external scorer, through the cache."""
    scorer, keys, log_probs, nexts = lm[18], lm[19], lm[20], lm[21]
    key = state * (lm[2] + 1) + word + 1
    slot = _home_slot(key, keys.shape[0] - 1)
    if keys[slot] == key:
        return log_probs[slot], nexts[slot]
    with objmode(score="float64", after="int64"):
        score, after = _ask_scorer(scorer, state, word)
    keys[slot], log_probs[slot], nexts[slot] = key, score, after
    return score, after
