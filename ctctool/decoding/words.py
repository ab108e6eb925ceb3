"""Words of a decoded label sequence with their frames, from the forced alignment of the labels.

Shapes: T frames, C classes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import torch


@dataclass(frozen=True)
class WordFrames:
    """A decoded word and its frames: first frame of its first token to the last frame of its last
    token (``end`` exclusive), from the forced alignment of the decoded labels. Marks that are not sounds
    (``?``, ``!``: see ``unspoken_classes``) count only in a word of marks alone."""

    word: str
    start: int
    end: int
    expected_start: float | None = None
    expected_end: float | None = None


def word_frames(log_probs: torch.Tensor, labels: Sequence[int], vocab, edge_temperature: float = 0.0
                ) -> tuple[WordFrames, ...]:
    """Words of ``labels`` with their frames in (T, C) ``log_probs``: split at the vocabulary's word
    delimiter, and before each subword piece that starts a word. With ``edge_temperature`` > 0, also each
    word's expected edges in fractional frames (``expected_start``, ``expected_end``), as an alignment
    measures them (``BoundaryCorrection.edge_temperature``, ``ctctool.alignment.soft_edges``)."""
    from ctctool.alignment.soft_edges import expected_word_edges
    from ctctool.alignment.spans import token_spans, unspoken_classes
    from ctctool.alignment.viterbi import forced_align

    if not labels:
        return ()
    alignment = forced_align(log_probs, list(labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    delimiter = vocab.id_of(vocab.word_delimiter) if vocab.word_delimiter else None
    silent = unspoken_classes(vocab)
    words, edge_labels, current = [], [], []
    for index, span in enumerate((*spans, None)):
        if span is None or span.token == delimiter or vocab.starts_word(span.token):
            text = vocab.text_of([spans[i].token for i in current])
            if text:
                edges = [i for i in current if spans[i].token not in silent] or current
                words.append(WordFrames(text, spans[edges[0]].start, spans[edges[-1]].end))
                edge_labels.append((edges[0], edges[-1]))
            current = []
        if span is not None and span.token != delimiter:
            current.append(index)
    if edge_temperature:
        expected = expected_word_edges(log_probs, labels, alignment.states[0], vocab.blank, spans, edge_labels,
                                       edge_temperature)
        words = [replace(w, expected_start=s, expected_end=e) for w, (s, e) in zip(words, expected)]
    return tuple(words)
