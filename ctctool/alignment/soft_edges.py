"""Word edges off the frame grid: where paths near the best one enter a word's first label and leave its last.

The best path puts an edge on a frame boundary (every 20 ms for the built-in model). The posterior over
paths says more: when a label's frames are uncertain between two neighbours, the expected entry frame lies
between them. ``expected_edges`` computes it exactly over the paths that agree with the best path
``window`` frames before and after the edge (``ctctool.kernels.edges_numba``); dividing the log-probs by a
temperature above 1 widens the posterior of a peaky CTC model, which spreads the estimate over more frames.

Shapes: T frames, C classes, L labels, E edges.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ctctool.errors import CtcToolError

#: Frames on each side of a best-path edge in which the paths averaged over may differ from it.
WINDOW = 12


def expected_edges(log_probs: torch.Tensor, labels: Sequence[int], path: torch.Tensor, blank: int,
                   starts: Sequence[tuple[int, int]], ends: Sequence[tuple[int, int]], temperature: float,
                   window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Expected start and end frames of spans of the labels.

    Args:
        log_probs: (T, C) log-probs of one utterance (any device; computed on the CPU).
        labels: (L,) the aligned labels; path: (T,) the best path's state of each frame (label j is state
            2j + 1; ``ctctool.alignment.viterbi.forced_align``'s ``states``).
        starts: (label index, the best path's first frame of it) of each start to measure.
        ends: (label index, the best path's last frame of it) of each end to measure.
        temperature: > 0; the log-probs are divided by it.
        window: frames on each side of each edge in which paths may leave the best path.
    Returns (E_starts,) expected entry frames and (E_ends,) expected frames just after the last frame of
    the label (so an end on the best path's own edge is its last frame + 1, as a span's ``end``).
    """
    if not (np.isfinite(temperature) and temperature > 0):
        raise CtcToolError(f"`temperature`: expected a finite number > 0, found {temperature}")
    if window < 1:
        raise CtcToolError(f"`window`: expected at least 1 frame, found {window}")
    from ctctool.kernels.edges_numba import expected_edges as kernel

    values = log_probs.detach().to("cpu", torch.float64).numpy() / temperature
    label_array = np.asarray(list(labels), dtype=np.int64)
    ext = np.full(2 * len(label_array) + 1, blank, dtype=np.int64)
    ext[1::2] = label_array
    skip_ok = np.zeros(ext.shape[0], dtype=np.bool_)
    skip_ok[3::2] = label_array[1:] != label_array[:-1]
    states = path.detach().to("cpu", torch.int64).numpy()
    edges = [(2 * j + 1, frame, True) for j, frame in starts] + [(2 * j + 1, frame, False) for j, frame in ends]
    if not edges:
        return np.zeros(0), np.zeros(0)
    T = states.shape[0]
    for state, frame, enter in edges:
        if not (0 <= frame < T) or states[frame] != state:
            raise CtcToolError(f"`path`: expected label {(state - 1) // 2} at frame {frame} of the best path, "
                               f"found state {states[frame] if 0 <= frame < T else 'none'}")
        neighbour = frame - 1 if enter else frame + 1
        if 0 <= neighbour < T and states[neighbour] == state:
            raise CtcToolError(f"`{'starts' if enter else 'ends'}`: frame {frame} is not the "
                               f"{'first' if enter else 'last'} frame of label {(state - 1) // 2} on the best path "
                               f"(frame {neighbour} is in it too)")
    out = kernel(values, ext, skip_ok, states, np.array([e[0] for e in edges], dtype=np.int64),
                 np.array([e[1] for e in edges], dtype=np.int64), window, np.array([e[2] for e in edges]))
    return out[:len(starts)], out[len(starts):]


def expected_word_edges(log_probs: torch.Tensor, labels: Sequence[int], path: torch.Tensor, blank: int,
                        spans: Sequence, edge_labels: Sequence[tuple[int, int]], temperature: float
                        ) -> list[tuple[float, float]]:
    """(start, end) fractional frames of each word, in order, from ``expected_edges``.

    Args:
        spans: the best path's span of each label (``ctctool.alignment.spans.TokenSpan``: ``start``, ``end``).
        edge_labels: (first, last) label index of each word, the labels that decide its edges.
    Each edge has a window of its own, so two expectations can cross: a word whose start would pass its end
    keeps its best-path edges, and where a word's end would pass the next word's start, both meet halfway.
    """
    if not edge_labels:
        return []
    starts, ends = expected_edges(log_probs, labels, path, blank, [(f, spans[f].start) for f, _ in edge_labels],
                                  [(last, spans[last].end - 1) for _, last in edge_labels], temperature)
    edges = [[float(s), float(e)] if e > s else [float(spans[f].start), float(spans[last].end)]
             for s, e, (f, last) in zip(starts, ends, edge_labels)]
    for left, right in zip(edges, edges[1:]):
        if left[1] > right[0]:
            left[1] = right[0] = (left[1] + right[0]) / 2
    return [(s, e) for s, e in edges]
