"""Token spans and merging, on paths written out frame by frame."""

import math

import pytest
import torch

from ctctool.spans import Span, TokenSpan, merge_spans, token_spans


def _spans(states, posteriors, tokens):
    return token_spans(torch.tensor(states), torch.tensor([math.log(p) for p in posteriors]), torch.tensor(tokens))


def test_token_spans_follow_label_states():
    # states: blank(0) a(1) a(1) blank(2) b(3) blank(4) b(5) b(5) -1 (padding)
    spans = _spans([0, 1, 1, 2, 3, 4, 5, 5, -1], [0.9, 0.5, 0.7, 0.9, 0.8, 0.9, 0.4, 0.6, 1.0],
                   [0, 7, 7, 0, 8, 0, 8, 8, -1])
    assert spans == (TokenSpan(7, 1, 3, pytest.approx(0.6)), TokenSpan(8, 4, 5, pytest.approx(0.8)),
                     TokenSpan(8, 6, 8, pytest.approx(0.5)))


def test_merge_weights_scores_by_frames_and_flags():
    spans = (TokenSpan(1, 0, 1, 0.9), TokenSpan(2, 1, 4, 0.5), TokenSpan(3, 6, 8, 0.2))
    merged = merge_spans(spans, [[0, 1], [], [2]], ["ab", "—", "c"], min_confidence=0.3)
    assert merged[0] == Span("ab", 0, 4, pytest.approx((0.9 + 3 * 0.5) / 4), False)
    assert merged[1] == Span("—", 4, 4, None, False)
    assert merged[2] == Span("c", 6, 8, pytest.approx(0.2), True)
