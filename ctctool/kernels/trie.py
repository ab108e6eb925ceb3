"""Label tries in compressed-row form, for numba kernels.

Node 0 is the root. The children of node ``n`` are ``targets[offsets[n]:offsets[n + 1]]``,
reached by the labels ``child_labels[...]`` at the same positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numba import njit


@dataclass(frozen=True)
class LabelTrie:
    """A trie over label sequences. Shapes: M nodes, M - 1 edges.

    ``depth`` (M,) is the number of labels from the root to each node.
    """

    offsets: np.ndarray  # (M + 1,) int64
    child_labels: np.ndarray  # (M - 1,) int64
    targets: np.ndarray  # (M - 1,) int64
    depth: np.ndarray  # (M,) int64

    @property
    def size(self) -> int:
        return int(self.depth.shape[0])


def build_trie(sequences: Sequence[Sequence[int]]) -> tuple[LabelTrie, list[int]]:
    """The trie of ``sequences`` and, for each sequence, the node it ends at.

    Parents get smaller node ids than their children.
    """
    children: list[dict[int, int]] = [{}]
    depth = [0]
    ends = []
    for sequence in sequences:
        node = 0
        for label in sequence:
            child = children[node].get(label)
            if child is None:
                child = len(children)
                children[node][label] = child
                children.append({})
                depth.append(depth[node] + 1)
            node = child
        ends.append(node)
    offsets = np.zeros(len(children) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(c) for c in children])
    labels = np.fromiter((label for c in children for label in c), dtype=np.int64, count=int(offsets[-1]))
    targets = np.fromiter((child for c in children for child in c.values()), dtype=np.int64, count=int(offsets[-1]))
    return LabelTrie(offsets, labels, targets, np.asarray(depth, dtype=np.int64)), ends


def parents_of(trie: LabelTrie) -> np.ndarray:
    """(M,) the parent of every node (-1 for the root)."""
    parents = np.full(trie.size, -1, dtype=np.int64)
    for node in range(trie.size):
        parents[trie.targets[trie.offsets[node] : trie.offsets[node + 1]]] = node
    return parents


@njit(cache=True, inline="always")
def trie_child(offsets, child_labels, targets, node, label):
    """The child of ``node`` reached by ``label``, or -1."""
    for i in range(offsets[node], offsets[node + 1]):
        if child_labels[i] == label:
            return targets[i]
    return -1
