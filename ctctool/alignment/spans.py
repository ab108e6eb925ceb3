"""From a frame path to spans: tokens, then words, then lines (segments).

Shapes: T frames. A span covers frames ``start`` (inclusive) to ``end`` (exclusive);
its score is the mean posterior, exp(log-prob), of the path over the span's token
frames (blank frames are not counted). Times are not known here: the caller
multiplies frames by its frame shift (see ``SpanTimes``).
"""

from __future__ import annotations

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
) -> tuple[Span, ...]:
    """Merge token spans into larger units (characters, words or lines).

    ``groups[k]`` lists the indices into ``spans`` of unit k (in order; empty for a
    unit with nothing aligned, which gets a zero-length span at the end of the
    previous unit). The score is the tokens' mean posterior, frame-weighted, or with ``confidence``
    ``confidence(start, end, tokens, that posterior)`` (see ``ctctool.alignment.confidence``).
    """
    merged: list[Span] = []
    last_end = spans[0].start if spans else 0
    for members, text in zip(groups, texts):
        if not members:
            merged.append(Span(text, last_end, last_end, None, False))
            continue
        first, last = spans[members[0]], spans[members[-1]]
        frames = sum(spans[i].end - spans[i].start for i in members)
        score = sum(spans[i].score * (spans[i].end - spans[i].start) for i in members) / frames
        if confidence is not None:
            score = confidence(first.start, last.end, len(members), score)
        merged.append(Span(text, first.start, last.end, score, score < min_confidence))
        last_end = last.end
    return tuple(merged)
