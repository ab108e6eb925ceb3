"""CTC prefix beam search on the CPU (numba), with word n-gram LM fusion and hotwords.

Every prefix kept in the beam is a node of a trie (parent, label). A beam entry keeps
two log-probabilities: of the prefix ending in blank (``pb``) and in its last label
(``pnb``); entries that reach the same prefix are merged with logaddexp. A new prefix
becomes a node only once it survives a frame's pruning.

The LM and hotword terms depend on the prefix alone, so each node carries them:

- the LM state after its completed words and their summed ln P (``DONE``);
- the partial word's lexicon node and its look-ahead, the best unigram ln P of a
  word it can still become (``PARTIAL``), so that a word is not pruned before it ends;
  a word that leaves the lexicon (spells no listed word) costs ``off_lexicon_penalty``
  once, on top of the LM's ``<unk>`` score (pyctcdecode's ``unk_score_offset``);
- the hotword trie node being matched and the boosts of hotwords completed (``BANK``).

A prefix ranks by ln P(prefix) + alpha (DONE + PARTIAL) + beta words + off_lexicon_penalty
off-lexicon words + hotword terms.
Shapes: T frames, C classes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ctctool.kernels.ngram_score import score_word
from ctctool.kernels.trie import trie_child

# integer fields of a node
PARENT, LABEL, STATE, LEXICON, HOTWORD, WORDS, OFF_LEXICON = 0, 1, 2, 3, 4, 5, 6
# float fields of a node
DONE, PARTIAL, BANK, BONUS = 0, 1, 2, 3


@njit(cache=True)
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@njit(cache=True, inline="always")
def _bonus(ints, floats, r, alpha, beta, off_lexicon_penalty, hot):
    """The LM and hotword terms of the rank of the prefix in row ``r``."""
    bonus = beta * ints[r, WORDS] + off_lexicon_penalty * ints[r, OFF_LEXICON] + floats[r, BANK]
    if alpha != 0.0:
        bonus += alpha * (floats[r, DONE] + floats[r, PARTIAL])
    if ints[r, HOTWORD] > 0:
        bonus += hot[3][ints[r, HOTWORD]]
    return bonus


@njit(cache=True)
def _end_word(ints, floats, r, boundary, lm, hot, final):
    """Score the partial word of row ``r`` with the LM and bank a completed hotword (in place)."""
    lexicon = ints[r, LEXICON]
    word = lm[11][lexicon] if lexicon > 0 else -1
    if lexicon > 0 and word < 0:  # a prefix of listed words, but not one itself
        ints[r, OFF_LEXICON] += 1
    score, state = score_word(lm, ints[r, STATE], word)
    floats[r, DONE] += score
    floats[r, PARTIAL] = 0.0
    ints[r, STATE] = state
    ints[r, LEXICON] = 0
    match = ints[r, HOTWORD]
    if match > 0 and hot[4][match] > 0.0:
        floats[r, BANK] += hot[4][match]
        match = 0
    elif match > 0 and not final:  # inside a phrase: the boundary may continue it
        match = max(trie_child(hot[0], hot[1], hot[2], match, boundary), 0)
    else:
        match = 0
    ints[r, HOTWORD] = match


@njit(cache=True, inline="always")
def _extend(src_ints, src_floats, s, label, symbols, lm, hot, ints, floats, r):
    """The fields of the prefix ``src + label`` (``src``: row ``s``) into row ``r`` of ``ints`` and ``floats``:
    each symbol the label stands for (``symbols``, see ``Vocabulary.symbol_table``) in turn.

    Rows are passed by index, never as views, so that no reference counting happens per call."""
    for j in range(ints.shape[1]):
        ints[r, j] = src_ints[s, j]
    for j in range(floats.shape[1]):
        floats[r, j] = src_floats[s, j]
    ints[r, LABEL] = label
    offsets, boundary = symbols[0], symbols[2]
    for i in range(offsets[label], offsets[label + 1]):
        _add_symbol(ints, floats, r, symbols[1][i], boundary, lm, hot)


@njit(cache=True, inline="always")
def _add_symbol(ints, floats, r, symbol, boundary, lm, hot):
    """Row ``r`` followed by ``symbol`` (in place): a word boundary ends the partial word, a letter
    walks the lexicon and hotword tries."""
    lexicon = ints[r, LEXICON]
    if symbol == boundary:
        if lexicon != 0:
            _end_word(ints, floats, r, boundary, lm, hot, False)
        return
    if lexicon == 0:
        ints[r, WORDS] += 1
    if lexicon >= 0:
        lexicon = trie_child(lm[8], lm[9], lm[10], lexicon, symbol)
        if lexicon < 0:
            ints[r, OFF_LEXICON] += 1
    ints[r, LEXICON] = lexicon
    floats[r, PARTIAL] = lm[12][lexicon] if lexicon > 0 else lm[17]
    match = ints[r, HOTWORD]
    if match >= 0:
        match = trie_child(hot[0], hot[1], hot[2], match, symbol)
    ints[r, HOTWORD] = match


@njit(cache=True)
def _best(scores, count, width, floor):
    """Indices of the ``width`` best of ``scores[:count]``, best first (ties: lower index first);
    ``floor``: the ``width``-th best score when there are that many (else -inf)."""
    if count > width:
        chosen = np.nonzero(scores[:count] >= floor)[0]
        return chosen[np.argsort(-scores[chosen], kind="mergesort")][:width]
    return np.argsort(-scores[:count], kind="mergesort")


@njit(cache=True, inline="always")
def _letter_gain(ints, floats, r, alpha, beta, lm, hot):
    """An upper bound on how much a letter can raise the LM and hotword terms of the prefix in row ``r``."""
    gain = 0.0
    lexicon = ints[r, LEXICON]
    if lexicon == 0:
        gain += beta
    if alpha != 0.0 and lexicon >= 0:
        gain += alpha * (max(lm[12][lexicon], lm[17]) - floats[r, PARTIAL])
    if hot[4].shape[0] > 1:
        gain += hot[5] - (hot[3][ints[r, HOTWORD]] if ints[r, HOTWORD] > 0 else 0.0)
    return gain


@njit(cache=True, inline="always")
def _add_extension(node_ints, node_floats, node, k, c, pb, total, row, blank, token_min_log_prob, extends_to,
                   symbols, lm, hot, alpha, beta, off_lexicon_penalty, cand_node, cand_ints, cand_floats, cand_pb,
                   cand_pnb, used, heap, ranked, floor, plain):
    """Add the prefix of beam entry ``k`` (``node``) extended by label ``c`` as candidate ``used``
    unless it is pruned or already in the beam. Returns the candidates used, and the ranks
    counted in ``heap`` and the floor after it. ``plain``: no LM, hotwords or beta, so a
    candidate needs only its parent and label (its other fields stay 0)."""
    C = row.shape[0]
    if c == blank or row[c] < token_min_log_prob or extends_to[k * C + c] >= 0:
        return used, ranked, floor
    incoming = (pb if c == node_ints[node, LABEL] else total) + row[c]  # a repeat needs a blank in between
    if incoming == -np.inf:
        return used, ranked, floor
    if plain:
        cand_ints[used, LABEL] = c
    else:
        _extend(node_ints, node_floats, node, c, symbols, lm, hot, cand_ints, cand_floats, used)
        cand_floats[used, BONUS] = _bonus(cand_ints, cand_floats, used, alpha, beta, off_lexicon_penalty, hot)
    cand_ints[used, PARENT] = node
    rank = incoming + cand_floats[used, BONUS]
    if rank < floor:
        return used, ranked, floor
    cand_node[used], cand_pb[used], cand_pnb[used] = -1, -np.inf, incoming
    ranked = _push_rank(heap, ranked, rank)
    return used + 1, ranked, heap[0] if ranked == heap.shape[0] else -np.inf


@njit(cache=True)
def _sift_down(heap, size, i):
    """Restore the min-heap order of ``heap[:size]`` below position ``i``."""
    while True:
        smallest, left = i, 2 * i + 1
        if left < size and heap[left] < heap[smallest]:
            smallest = left
        if left + 1 < size and heap[left + 1] < heap[smallest]:
            smallest = left + 1
        if smallest == i:
            return
        heap[i], heap[smallest] = heap[smallest], heap[i]
        i = smallest


@njit(cache=True, inline="always")
def _delimiter_gain(ints, floats, r, alpha, hot):
    """An upper bound on how much a word delimiter can raise the LM and hotword terms of the prefix
    in row ``r``: the LM score of the word it ends is at most 0, and at most every boost is banked."""
    gain = 0.0
    if ints[r, LEXICON] != 0:
        gain -= alpha * floats[r, PARTIAL]
    if hot[4].shape[0] > 1:
        gain += hot[5] - (hot[3][ints[r, HOTWORD]] if ints[r, HOTWORD] > 0 else 0.0)
    return gain


@njit(cache=True, inline="always")
def _word_start_gain(ints, floats, r, alpha, beta, hot, boundaries):
    """An upper bound on how much a label holding up to ``boundaries`` word starts, letters around them,
    can raise the LM and hotword terms of the prefix in row ``r``: each word it ends scores at most 0 and
    leaves a partial score of at most 0; it adds at most one word per start and one before the first
    (beta each) and banks at most one boost per start, and the last partial hotword is worth at most the
    largest boost."""
    gain = (boundaries + 1) * max(beta, 0.0)
    if ints[r, LEXICON] != 0:
        gain -= alpha * floats[r, PARTIAL]
    if hot[4].shape[0] > 1:
        gain += (boundaries + 1) * hot[5] - (hot[3][ints[r, HOTWORD]] if ints[r, HOTWORD] > 0 else 0.0)
    return gain


@njit(cache=True)
def _push_rank(heap, size, value):
    """Count ``value`` in the min-heap ``heap`` of the best ranks so far (capacity ``len(heap)``); its new size."""
    if size == heap.shape[0]:
        if value > heap[0]:
            heap[0] = value
            _sift_down(heap, size, 0)
        return size
    i = size
    heap[i] = value
    while i > 0 and heap[(i - 1) // 2] > heap[i]:
        heap[i], heap[(i - 1) // 2] = heap[(i - 1) // 2], heap[i]
        i = (i - 1) // 2
    return size + 1


def _make_prefix_beam_search(plain):
    """The search kernel; ``plain`` (a compile-time constant): for searches with no LM, hotwords
    or beta, whose candidates need only a parent and a label (their other fields stay 0)."""

    @njit(cache=True)
    def prefix_beam_search(log_probs, blank, beam_width, token_min_log_prob, delimiter, symbols, lm, hot, alpha,
                           beta, off_lexicon_penalty, use_lm):
        """Beams after the last frame, best first.

        A new prefix is skipped when an upper bound on its rank is below the rank that the
        beam's own prefixes are sure to reach (``floor``): the result is the same as without
        this pruning.

        Args:
            log_probs: (T, C) float32/float64 log-probs of one utterance.
            token_min_log_prob: a label is only tried on frames where its log-prob is at
                least this (-inf: every label on every frame, i.e. no pruning).
            delimiter: the word delimiter's class id, or -1 (subword pieces start words instead).
            symbols: what each class spells for the LM and hotwords: ``Vocabulary.symbol_table()``.
            lm: ``NgramTables.as_tuple()``; ``use_lm`` False: ignored but for beta's word count.
            hot: hotword trie (offsets, labels, targets, partial boost, full boost per node,
                the largest boost).
        Returns:
            (parents, labels) of the trie nodes; for the final beam, in search order:
            node ids, ln P(ending in blank), ln P(ending in a label), the LM's ln P of the
            whole text (``</s>`` included), the number of words, of words off the lexicon,
            and the hotword boosts.
        """
        T, C = log_probs.shape
        capacity = 1024
        node_ints = np.zeros((capacity, 7), dtype=np.int64)
        node_floats = np.zeros((capacity, 4))
        node_ints[0, PARENT] = -1
        node_ints[0, LABEL] = -1
        node_ints[0, STATE] = lm[13]
        node_floats[0, BONUS] = _bonus(node_ints, node_floats, 0, alpha, beta, off_lexicon_penalty, hot)
        count = 1
        beam_index = np.full(capacity, -1, dtype=np.int64)
        width = beam_width * C
        extends_to = np.full(width, -1, dtype=np.int64)  # (beam entry, label) -> the entry that prefix is
        cand_node = np.empty(width, dtype=np.int64)
        cand_ints = np.zeros((width, 7), dtype=np.int64)
        cand_floats = np.zeros((width, 4))
        cand_pb = np.empty(width)
        cand_pnb = np.empty(width)
        scores = np.empty(width)
        heap = np.empty(beam_width)
        beam_nodes = np.zeros(1, dtype=np.int64)
        beam_pb = np.zeros(1)
        beam_pnb = np.full(1, -np.inf)
        for t in range(T):
            row = log_probs[t]
            n = beam_nodes.shape[0]
            # slot k < n: entry k's prefix again (after a blank, or its last label repeated)
            for k in range(n):
                node = beam_nodes[k]
                beam_index[node] = k
                cand_node[k] = node
                cand_pb[k] = _logaddexp(beam_pb[k], beam_pnb[k]) + row[blank]
                last = node_ints[node, LABEL]
                cand_pnb[k] = beam_pnb[k] + row[last] if last >= 0 else -np.inf
            # a prefix in the beam that extends another one by a label: merge its path in
            for k in range(n):
                parent = node_ints[beam_nodes[k], PARENT]
                if parent >= 0 and beam_index[parent] >= 0:
                    p, label = beam_index[parent], node_ints[beam_nodes[k], LABEL]
                    extends_to[p * C + label] = k
                    if label != blank and row[label] >= token_min_log_prob:
                        repeat = label == node_ints[parent, LABEL]
                        source = beam_pb[p] if repeat else _logaddexp(beam_pb[p], beam_pnb[p])
                        cand_pnb[k] = _logaddexp(cand_pnb[k], source + row[label])
            # floor: the beam_width-th best rank among the candidates so far, a lower bound on the
            # final one (ranks only grow); kept in a min-heap of the best beam_width ranks
            ranked = 0
            for k in range(n):
                rank = _logaddexp(cand_pb[k], cand_pnb[k]) + node_floats[beam_nodes[k], BONUS]
                ranked = _push_rank(heap, ranked, rank)
            floor = heap[0] if ranked == beam_width else -np.inf
            order = np.argsort(-row)
            used = n
            for k in range(n):
                node, pb, pnb = beam_nodes[k], beam_pb[k], beam_pnb[k]
                total = _logaddexp(pb, pnb)
                if total == -np.inf:
                    continue
                bonus = node_floats[node, BONUS]
                letter_gain = _letter_gain(node_ints, node_floats, node, alpha, beta, lm, hot)
                if symbols[3] > 0:  # labels that start words: they may end one and begin others
                    letter_gain = max(letter_gain, _word_start_gain(node_ints, node_floats, node, alpha, beta, hot,
                                                                    symbols[3]))
                # labels in decreasing log-prob, down to where even the best case ranks below the floor
                for i in range(C):
                    c = order[i]
                    if row[c] < token_min_log_prob or row[c] + total + bonus + letter_gain < floor:
                        break
                    if c != delimiter:
                        used, ranked, floor = _add_extension(
                            node_ints, node_floats, node, k, c, pb, total, row, blank, token_min_log_prob, extends_to,
                            symbols, lm, hot, alpha, beta, off_lexicon_penalty, cand_node, cand_ints, cand_floats,
                            cand_pb, cand_pnb, used, heap, ranked, floor, plain)
                if delimiter >= 0 and row[delimiter] + total + bonus + _delimiter_gain(
                        node_ints, node_floats, node, alpha, hot) >= floor:
                    used, ranked, floor = _add_extension(
                        node_ints, node_floats, node, k, delimiter, pb, total, row, blank, token_min_log_prob,
                        extends_to, symbols, lm, hot, alpha, beta, off_lexicon_penalty, cand_node, cand_ints,
                        cand_floats, cand_pb, cand_pnb, used, heap, ranked, floor, plain)
            for k in range(n):
                parent = node_ints[beam_nodes[k], PARENT]
                if parent >= 0 and beam_index[parent] >= 0:
                    extends_to[beam_index[parent] * C + node_ints[beam_nodes[k], LABEL]] = -1
            for k in range(n):
                beam_index[beam_nodes[k]] = -1
            for i in range(used):
                bonus = node_floats[cand_node[i], BONUS] if cand_node[i] >= 0 else cand_floats[i, BONUS]
                scores[i] = _logaddexp(cand_pb[i], cand_pnb[i]) + bonus
            keep = _best(scores, used, beam_width, floor)
            beam_nodes = np.empty(keep.shape[0], dtype=np.int64)
            beam_pb = cand_pb[keep]
            beam_pnb = cand_pnb[keep]
            for j in range(keep.shape[0]):
                i = keep[j]
                node = cand_node[i]
                if node < 0:
                    if count == capacity:
                        capacity *= 2
                        node_ints = _grown(node_ints, capacity, 0)
                        node_floats = _grown(node_floats, capacity, 0.0)
                        beam_index = _grown(beam_index.reshape(-1, 1), capacity, -1).ravel()
                    node, count = count, count + 1
                    for f in range(node_ints.shape[1]):
                        node_ints[node, f] = cand_ints[i, f]
                    for f in range(node_floats.shape[1]):
                        node_floats[node, f] = cand_floats[i, f]
                beam_nodes[j] = node
        n = beam_nodes.shape[0]
        lm_log_prob = np.zeros(n)
        words = np.zeros(n, dtype=np.int64)
        off_lexicon = np.zeros(n, dtype=np.int64)
        hot_boost = np.zeros(n)
        for j in range(n):
            ints = node_ints[beam_nodes[j] : beam_nodes[j] + 1].copy()
            floats = node_floats[beam_nodes[j] : beam_nodes[j] + 1].copy()
            if ints[0, LEXICON] != 0:
                _end_word(ints, floats, 0, symbols[2], lm, hot, True)
            if use_lm and lm[14] >= 0:
                floats[0, DONE] += score_word(lm, ints[0, STATE], lm[14])[0]
            lm_log_prob[j], words[j], hot_boost[j] = floats[0, DONE], ints[0, WORDS], floats[0, BANK]
            off_lexicon[j] = ints[0, OFF_LEXICON]
        return (node_ints[:count, PARENT].copy(), node_ints[:count, LABEL].copy(), beam_nodes, beam_pb, beam_pnb,
                lm_log_prob, words, off_lexicon, hot_boost)

    return prefix_beam_search


prefix_beam_search = _make_prefix_beam_search(False)
#: ``prefix_beam_search`` compiled for searches with no LM, hotwords or beta (the same result, faster).
plain_prefix_beam_search = _make_prefix_beam_search(True)


@njit(cache=True)
def _grown(rows, capacity, fill):
    bigger = np.full((capacity, rows.shape[1]), fill, dtype=rows.dtype)
    bigger[: rows.shape[0]] = rows
    return bigger


@njit(cache=True)
def labels_of(node, parents, labels):
    """The labels of trie node ``node``, root first, from ``prefix_beam_search``'s (parents, labels)."""
    depth, walk = 0, node
    while walk > 0:
        depth += 1
        walk = parents[walk]
    out = np.empty(depth, dtype=np.int64)
    while node > 0:
        depth -= 1
        out[depth] = labels[node]
        node = parents[node]
    return out
