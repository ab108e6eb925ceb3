"""CTC Viterbi on the CPU (numba): fill the lattice with 2-bit backpointers, then walk back.

Shapes: T frames, C classes, S = 2L + 1 states of the extended label sequence
(blank, l1, blank, l2, ..., lL, blank). Moves into state s: stay (0), advance from
s - 1 (1), or skip from s - 2 (2) when s is a label different from the label at
s - 2. Ties go to the smaller move; at the end the final blank wins a tie with the
last label. Scores accumulate in float64.

Only the band of states that can lie on a complete path is filled:
``S - 2 - 2 (T - 1 - t) <= s <= 2 t + 1`` at frame t.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

STAY, ADVANCE, SKIP = 0, 1, 2


@njit(cache=True, nogil=True)
def _step(prev, cur, emissions, skip_penalty, moves, count):
    """One frame over ``count`` states: ``cur[s + 2]`` from ``prev[s .. s + 2]``.

    The arrays are views that start at the band's first state, with two sentinel
    cells in front of ``prev``/``cur``; every loop starts at 0, which lets LLVM
    vectorise it (selects, not branches).
    """
    for s in range(count):
        stay = prev[s + 2]
        advance = prev[s + 1]
        skip = prev[s] + skip_penalty[s]
        best_near = max(stay, advance)
        took_advance = np.uint8(advance > stay)
        took_skip = np.uint8(skip > best_near)
        cur[s + 2] = max(best_near, skip) + emissions[s]
        moves[s] = took_advance + took_skip * (np.uint8(SKIP) - took_advance)


@njit(cache=True, nogil=True)
def _gather(log_probs, t, row, ext32, emissions, lo, hi):
    """``emissions[s] = log_probs[t, ext[s]]`` for the band ``lo..hi``, via a float64 copy of the
    row and int32 indices (a faster vector gather than int64 indices into float32)."""
    for c in range(row.shape[0]):
        row[c] = log_probs[t, c]
    _gather_band(row, ext32[lo:], emissions[lo:], hi + 1 - lo)


@njit(cache=True, nogil=True)
def _gather_band(row, ext32, emissions, count):
    for s in range(count):
        emissions[s] = row[ext32[s]]


@njit(cache=True, nogil=True)
def _band(t, T, S):
    """States that can lie on a complete path at frame t: ``lo..hi``."""
    return max(0, S - 2 - 2 * (T - 1 - t)), min(S - 1, 2 * t + 1)


@njit(cache=True, nogil=True)
def _frame(log_probs, t, row, ext32, emissions, skip_penalty, prev, cur, moves, packed):
    """Frame t over its band: ``cur`` from ``prev``, with the moves packed 4 to a byte into ``packed``."""
    T, S = log_probs.shape[0], emissions.shape[0]
    lo, hi = _band(t, T, S)
    _gather(log_probs, t, row, ext32, emissions, lo, hi)
    cur[lo] = -np.inf  # states lo - 2 and lo - 1 have left the band
    cur[lo + 1] = -np.inf
    _step(prev[lo:], cur[lo:], emissions[lo:], skip_penalty[lo:], moves[lo:], hi + 1 - lo)
    for k in range(lo >> 2, (hi >> 2) + 1):
        j = 4 * k
        packed[k] = moves[j] | (moves[j + 1] << 2) | (moves[j + 2] << 4) | (moves[j + 3] << 6)


@njit(cache=True, nogil=True)
def _final_state(scores, S):
    """Where the best path ends: the final blank, or the last label when it scores strictly higher."""
    if S > 1 and scores[S] > scores[S + 1]:
        return S - 2
    return S - 1


@njit(cache=True, nogil=True)
def _buffers(log_probs, ext, skip_ok):
    """Working arrays of a fill, with frame 0 in ``prev``. ``prev`` and ``cur`` have two sentinel
    cells in front: state s lives at index s + 2, so no move needs a bounds test."""
    S = ext.shape[0]
    moves = np.zeros((S + 3) // 4 * 4, dtype=np.uint8)
    emissions = np.zeros(S)
    row = np.zeros(log_probs.shape[1])
    ext32 = ext.astype(np.int32)
    skip_penalty = np.where(skip_ok, 0.0, -np.inf)
    prev = np.full(S + 2, -np.inf)
    cur = np.full(S + 2, -np.inf)
    prev[2] = log_probs[0, ext[0]]
    if S > 1:
        prev[3] = log_probs[0, ext[1]]
    return moves, emissions, row, ext32, skip_penalty, prev, cur


@njit(cache=True, nogil=True)
def viterbi_path(log_probs, ext, skip_ok, states_out, frame_scores_out):
    """Best path of one utterance; returns its score (-inf when there is none).

    Args:
        log_probs: (T, C) float32 or float64, this utterance's frames only.
        ext: (S,) int64 class id of each state.
        skip_ok: (S,) bool, the skip move into s is allowed.
        states_out: (T,) int64, filled with the state of each frame.
        frame_scores_out: (T,) float64, filled with the log-prob of each frame's token.
    """
    T = log_probs.shape[0]
    S = ext.shape[0]
    neg = -np.inf
    width = (S + 3) // 4
    back = np.zeros((T, width), dtype=np.uint8)  # 2 bits per cell
    moves, emissions, row, ext32, skip_penalty, prev, cur = _buffers(log_probs, ext, skip_ok)
    for t in range(1, T):
        _frame(log_probs, t, row, ext32, emissions, skip_penalty, prev, cur, moves, back[t])
        prev, cur = cur, prev
    s = _final_state(prev, S)
    score = prev[s + 2]
    if score == neg:
        return score
    for t in range(T - 1, -1, -1):
        states_out[t] = s
        frame_scores_out[t] = log_probs[t, ext[s]]
        if t > 0:
            s -= (back[t, s >> 2] >> ((s & 3) * 2)) & 3
    return score


@njit(cache=True, nogil=True)
def _scores_step(prev, cur, emissions, skip_penalty, count):
    """``_step`` without the moves: the first pass of the segmented Viterbi."""
    for s in range(count):
        cur[s + 2] = max(max(prev[s + 2], prev[s + 1]), prev[s] + skip_penalty[s]) + emissions[s]


@njit(cache=True, nogil=True)
def viterbi_path_segmented(log_probs, ext, skip_ok, states_out, frame_scores_out, segment):
    """``viterbi_path`` in O(sqrt(T) S) memory, for long inputs; the same path, ties included.

    Pass 1 fills the lattice keeping only the score column at the start of every
    ``segment`` frames. Pass 2 goes through the segments from the last to the first,
    refills each from its saved column with 2-bit backpointers, and walks back
    through it. Twice the arithmetic of ``viterbi_path``, exact all the same.
    """
    T = log_probs.shape[0]
    S = ext.shape[0]
    neg = -np.inf
    width = (S + 3) // 4
    segments = (T - 1 + segment - 1) // segment
    saved = np.empty((max(segments, 1), S + 2))
    moves, emissions, row, ext32, skip_penalty, prev, cur = _buffers(log_probs, ext, skip_ok)
    for t in range(1, T):
        if (t - 1) % segment == 0:
            saved[(t - 1) // segment] = prev
        lo, hi = _band(t, T, S)
        _gather(log_probs, t, row, ext32, emissions, lo, hi)
        cur[lo] = neg
        cur[lo + 1] = neg
        _scores_step(prev[lo:], cur[lo:], emissions[lo:], skip_penalty[lo:], hi + 1 - lo)
        prev, cur = cur, prev
    s = _final_state(prev, S)
    score = prev[s + 2]
    if score == neg:
        return score
    back = np.zeros((segment, width), dtype=np.uint8)
    for k in range(segments - 1, -1, -1):
        first = 1 + k * segment
        stop = min(T, first + segment)
        prev[:] = saved[k]
        cur[:] = neg
        for t in range(first, stop):
            _frame(log_probs, t, row, ext32, emissions, skip_penalty, prev, cur, moves, back[t - first])
            prev, cur = cur, prev
        for t in range(stop - 1, first - 1, -1):
            states_out[t] = s
            frame_scores_out[t] = log_probs[t, ext[s]]
            s -= (back[t - first, s >> 2] >> ((s & 3) * 2)) & 3
    states_out[0] = s
    frame_scores_out[0] = log_probs[0, ext[s]]
    return score


#: Above this many bytes of backpointers (T x S / 4), an utterance takes the segmented path.
MAX_BACKPOINTER_BYTES = 256 * 2**20


@njit(cache=True, nogil=True)
def viterbi_path_auto(log_probs, ext, skip_ok, states_out, frame_scores_out):
    """``viterbi_path``, or ``viterbi_path_segmented`` when the backpointers would not fit in
    ``MAX_BACKPOINTER_BYTES``; both are exact and return the same path."""
    T = log_probs.shape[0]
    width = (ext.shape[0] + 3) // 4
    if T * width <= MAX_BACKPOINTER_BYTES:
        return viterbi_path(log_probs, ext, skip_ok, states_out, frame_scores_out)
    segment = max(16, int(np.sqrt(32.0 * T)))
    return viterbi_path_segmented(log_probs, ext, skip_ok, states_out, frame_scores_out, segment)


@njit(cache=True, parallel=True)
def viterbi_batch(log_probs, input_lengths, ext, state_counts, skip_ok, states_out, frame_scores_out, scores_out):
    """``viterbi_path`` for each utterance of a batch, in parallel.

    Args:
        log_probs: (B, T, C); input_lengths: (B,) frames used.
        ext, skip_ok: (B, S_max), padded; state_counts: (B,) S of each utterance.
        states_out: (B, T) int64; frame_scores_out: (B, T) float64; scores_out: (B,) float64.
    """
    for b in prange(log_probs.shape[0]):
        T_b = input_lengths[b]
        S_b = state_counts[b]
        scores_out[b] = viterbi_path_auto(log_probs[b, :T_b], ext[b, :S_b], skip_ok[b, :S_b],
                                          states_out[b, :T_b], frame_scores_out[b, :T_b])


@njit(cache=True)
def viterbi_walk_back(packed, final_states, input_lengths, ext, log_probs):
    """Walk back packed backpointers (T, B, W) of a batch from each final state.

    Returns states (B, T) int64 (-1 past each input length) and frame scores (B, T) float64.
    """
    T, B = packed.shape[0], packed.shape[1]
    states = np.full((B, T), -1, dtype=np.int64)
    frame_scores = np.zeros((B, T))
    for b in range(B):
        s = final_states[b]
        for t in range(input_lengths[b] - 1, -1, -1):
            states[b, t] = s
            frame_scores[b, t] = log_probs[b, t, ext[b, s]]
            if t > 0:
                s -= (packed[t, b, s >> 2] >> ((s & 3) * 2)) & 3
    return states, frame_scores
