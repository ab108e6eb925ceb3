"""Words of a decoded label sequence with their frames, from the forced alignment of the labels.

Shapes: T frames, C classes.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def word_frames(log_probs: torch.Tensor, labels: Sequence[int], vocab) -> tuple[WordFrames, ...]:
    """Words of ``labels`` with their frames in (T, C) ``log_probs``: split at the vocabulary's word
    delimiter, and before each subword piece that starts a word."""
    from ctctool.alignment.viterbi import forced_align
    from ctctool.alignment.spans import token_spans, unspoken_classes

    if not labels:
        return ()
    alignment = forced_align(log_probs, list(labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    delimiter = vocab.id_of(vocab.word_delimiter) if vocab.word_delimiter else None
    silent = unspoken_classes(vocab)
    words, current = [], []
    for span in (*spans, None):
        if span is None or span.token == delimiter or vocab.starts_word(span.token):
            text = vocab.text_of([s.token for s in current])
            if text:
                edges = [s for s in current if s.token not in silent] or current
                words.append(WordFrames(text, edges[0].start, edges[-1].end))
            current = []
        if span is not None and span.token != delimiter:
            current.append(span)
    return tuple(words)
