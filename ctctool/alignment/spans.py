"""From a frame path to spans: tokens, then words, then lines (segments).

Shapes: T frames. A span covers frames ``start`` (inclusive) to ``end`` (exclusive);
its score is the mean posterior, exp(log-prob), of the path over the span's token
frames (blank frames are not counted). Times are not known here: the caller
multiplies frames by its frame shift (see ``SpanTimes``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

import torch


@dataclass(frozen=True)
class TokenSpan:
    """One label of the target: class id ``token``, frames [start, end), mean posterior ``score``."""

    token: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Span:
    """A character, word or line with its frames [start, end) and confidence.

    ``score`` is the mean posterior over the token frames it covers (None for a
    word with nothing to align, e.g. a lone punctuation mark); ``flagged`` marks a
    score below the caller's minimum confidence.
    """

    text: str
    start: int
    end: int
    score: float | None
    flagged: bool = False


def unspoken_classes(vocab) -> frozenset[int]:
    """Class ids of ``vocab``'s tokens with no letter, number or combining mark (Unicode categories L, N, M:
    so a Devanagari or Thai vowel sign is spoken): ``?``, ``!``, an apostrophe, a lone word-start marker.
    They are not sounds, so they never decide where a word starts or ends."""
    return frozenset(i for i, token in enumerate(vocab.tokens)
                     if i != vocab.blank and not any(unicodedata.category(ch)[0] in "LNM" for ch in token))


def token_spans(states: torch.Tensor, frame_log_probs: torch.Tensor, tokens: torch.Tensor) -> tuple[TokenSpan, ...]:
    """Spans of the labels of one path, in order (one per label).

    Args:
        states: (T,) state of each frame (label j is state 2j + 1); -1 frames are ignored.
        frame_log_probs: (T,) log-prob of each frame's token.
        tokens: (T,) class id of each frame.
    """
    states = states.tolist()
    posteriors = frame_log_probs.double().exp().tolist()
    classes = tokens.tolist()
    spans: list[TokenSpan] = []
    t, T = 0, len(states)
    while t < T:
        state = states[t]
        end = t + 1
        while end < T and states[end] == state:
            end += 1
        if state >= 0 and state % 2 == 1:
            spans.append(TokenSpan(classes[t], t, end, sum(posteriors[t:end]) / (end - t)))
        t = end
    return tuple(spans)


def merge_spans(
    spans: Sequence[TokenSpan], groups: Sequence[Sequence[int]], texts: Sequence[str], min_confidence: float = 0.0,
    confidence: Callable[[int, int, int, float], float] | None = None,
    silent: Callable[[int], bool] | None = None,
) -> tuple[Span, ...]:
    """Merge token spans into larger units (characters, words or lines).

    ``groups[k]`` lists the indices into ``spans`` of unit k (in order; empty for a
    unit with nothing aligned, which gets a zero-length span at the end of the
    previous unit). The score is the tokens' mean posterior, frame-weighted, or with ``confidence``
    ``confidence(start, end, tokens, that posterior)`` (see ``ctctool.alignment.confidence``).
    With ``silent`` (class id -> whether the token is a mark that is not spoken, as ``?`` or ``!``), a unit
    starts at its first spoken token and ends at its last one, when it has one: a forced path must put such
    a mark somewhere, often in the silence after the word, and it would stretch the word there. The score
    still counts every token.
    """
    merged: list[Span] = []
    last_end = spans[0].start if spans else 0
    for members, text in zip(groups, texts):
        if not members:
            merged.append(Span(text, last_end, last_end, None, False))
            continue
        first, last = (spans[i] for i in edge_members(spans, members, silent))
        frames = sum(spans[i].end - spans[i].start for i in members)
        score = sum(spans[i].score * (spans[i].end - spans[i].start) for i in members) / frames
        if confidence is not None:
            score = confidence(spans[members[0]].start, spans[members[-1]].end, len(members), score)
        merged.append(Span(text, first.start, last.end, score, score < min_confidence))
        last_end = last.end
    return tuple(merged)


def edge_members(spans: Sequence[TokenSpan], members: Sequence[int], silent: Callable[[int], bool] | None = None
                 ) -> tuple[int, int]:
    """The indices (into ``spans``) of the first and last of a unit's non-empty ``members`` that decide its
    edges: its first and last spoken token (see ``merge_spans``' ``silent``), or its first and last token when
    none is spoken."""
    spoken = [i for i in members if not silent(spans[i].token)] if silent is not None else list(members)
    return (spoken or members)[0], (spoken or members)[-1]
