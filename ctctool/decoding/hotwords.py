"""Hotwords: words or phrases whose spelling earns a boost during beam search.

A hotword is matched from the start of a word, symbol by symbol (characters and word
boundaries, see ``Vocabulary.symbol_table``), through a trie; a prefix that has spelled
``d`` of a hotword's ``n`` symbols gets ``boost * d / n`` (the
best over the hotwords it may still become), so a rare name survives the beam while it
is being spelled. The whole boost is kept once the hotword ends at a word boundary; a
match that breaks off loses its partial boost. Phrases span word delimiters.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ctctool.errors import CtcToolError
from ctctool.vocab import Vocabulary


#: Largest boost (natural log): e^1000 already overrides any acoustic evidence.
MAX_BOOST = 1000.0


def parse_hotword(spec: str) -> tuple[str, float]:
    """``"word:boost"`` or ``"a phrase:boost"`` -> (text, boost); without ``:boost`` the boost is 5."""
    text, sep, boost = spec.rpartition(":")
    if not sep:
        text, boost = spec, "5"
    text = " ".join(text.split())
    try:
        value = float(boost)
    except ValueError:
        raise CtcToolError(f"hotword {spec!r}: the boost after ':' must be a number, e.g. 'dashwood:5'") from None
    if not text or not np.isfinite(value) or not 0 < value <= MAX_BOOST:
        raise CtcToolError(f"hotword {spec!r}: expected 'word:boost' with a word and a boost in (0, {MAX_BOOST:g}], "
                           "e.g. 'dashwood:5'")
    return text, value


def hotword_trie(hotwords: Mapping[str, float], vocab: Vocabulary) -> tuple[np.ndarray, ...]:
    """The kernel's hotword tables: trie (offsets, labels, targets), partial and full boost per node,
    and the largest boost."""
    from ctctool.kernels.trie import build_trie, parents_of

    items = list(hotwords.items())
    spelled = [vocab.spelled_symbols(text, where=f"hotword {text!r}") for text, _ in items]
    trie, ends = build_trie(spelled)
    partial = np.zeros(trie.size)
    full = np.zeros(trie.size)
    parents = parents_of(trie)
    for (text, boost), end, labels in zip(items, ends, spelled):
        full[end] = max(full[end], boost)
        node = end
        while node > 0:
            partial[node] = max(partial[node], boost * trie.depth[node] / len(labels))
            node = parents[node]
    return trie.offsets, trie.child_labels, trie.targets, partial, full, float(full.max(initial=0.0))
