"""Expected word edges (``BoundaryCorrection.edge_temperature``) against enumeration of every CTC path."""

import itertools
import math

import numpy as np
import pytest
import torch

from ctctool.alignment.calibration import EdgeErrors, fit_boundary_correction
from ctctool.alignment.pipeline import align_emissions
from ctctool.alignment.soft_edges import expected_edges
from ctctool.alignment.timing import BoundaryCorrection
from ctctool.alignment.viterbi import forced_align
from ctctool.errors import CtcToolError
from ctctool.vocab import Vocabulary


def _paths(T, labels):
    """Every CTC state sequence of ``labels`` over T frames (label j is state 2j + 1)."""
    S = 2 * len(labels) + 1
    ext = [0 if s % 2 == 0 else labels[s // 2] for s in range(S)]

    def moves(s):
        yield s
        if s + 1 < S:
            yield s + 1
        if s + 2 < S and ext[s + 2] != 0 and ext[s + 2] != ext[s]:
            yield s + 2

    def extend(prefix):
        if len(prefix) == T:
            if prefix[-1] >= S - 2:
                yield tuple(prefix)
            return
        for s in moves(prefix[-1]):
            yield from extend(prefix + [s])

    for first in (0, 1):
        yield from extend([first])


def _brute_force(log_probs, labels, label, temperature, agree=None):
    """Expected entry frame and expected (last frame + 1) of ``label`` over every path (weights exp(sum lp / T)),
    or over the paths whose states equal ``agree``'s {frame: state}."""
    S = 2 * len(labels) + 1
    ext = [0 if s % 2 == 0 else labels[s // 2] for s in range(S)]
    state = 2 * label + 1
    total = first_sum = last_sum = 0.0
    for path in _paths(log_probs.shape[0], labels):
        if agree and any(path[t] != s for t, s in agree.items()):
            continue
        weight = math.exp(sum(float(log_probs[t, ext[s]]) for t, s in enumerate(path)) / temperature)
        frames = [t for t, s in enumerate(path) if s == state]
        total += weight
        first_sum += weight * frames[0]
        last_sum += weight * (frames[-1] + 1)
    return first_sum / total, last_sum / total


def _random_log_probs(T, C, seed, sharpness=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(sharpness * torch.randn(T, C, generator=g, dtype=torch.float64), dim=-1)


@pytest.mark.parametrize("labels,seed", [([1, 2], 0), ([1, 1], 1), ([2, 1, 2], 2), ([1, 2, 2, 1], 3)])
@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_a_window_over_the_whole_utterance_gives_the_expectation_over_every_path(labels, seed, temperature):
    T = 9
    log_probs = _random_log_probs(T, 3, seed)
    path = forced_align(log_probs, labels).states[0]
    spans = {int(s): [t for t in range(T) if int(path[t]) == s] for s in set(path.tolist())}
    for j in range(len(labels)):
        frames = spans[2 * j + 1]
        starts, ends = expected_edges(log_probs, labels, path, 0, [(j, frames[0])], [(j, frames[-1])], temperature,
                                      window=T)
        want_start, want_end = _brute_force(log_probs, labels, j, temperature)
        assert starts[0] == pytest.approx(want_start, abs=1e-9) and ends[0] == pytest.approx(want_end, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_a_narrow_window_averages_over_the_paths_that_agree_with_the_best_path_at_its_ends(seed):
    T, labels, window = 12, [1, 2, 1], 3
    log_probs = _random_log_probs(T, 3, seed, sharpness=1.5)
    path = forced_align(log_probs, labels).states[0].tolist()
    for j in range(len(labels)):
        frames = [t for t in range(T) if path[t] == 2 * j + 1]
        for frame, enter in ((frames[0], True), (frames[-1], False)):
            t0, t1 = max(0, frame - window), min(T - 1, frame + window)
            agree = {t: path[t] for t in (t0, t1) if 0 < t < T - 1}  # the utterance's own ends stay free
            start, end = _brute_force(log_probs, labels, j, 2.0, agree)
            edges = expected_edges(log_probs, labels, torch.tensor(path), 0, [(j, frame)] if enter else [],
                                   [] if enter else [(j, frame)], 2.0, window=window)
            got = edges[0][0] if enter else edges[1][0]
            assert got == pytest.approx(start if enter else end, abs=1e-9)


def test_a_sure_model_gives_the_best_paths_own_edges():
    # one-hot frames: a single path has any weight, so the expectation is that path's edges
    frames = [0, 1, 1, 0, 0, 2, 0]
    log_probs = torch.log(torch.nn.functional.one_hot(torch.tensor(frames), 3).double() * (1 - 3e-30) + 1e-30)
    path = forced_align(log_probs, [1, 2]).states[0]
    starts, ends = expected_edges(log_probs, [1, 2], path, 0, [(0, 1), (1, 5)], [(0, 2), (1, 5)], 3.0)
    assert starts == pytest.approx([1.0, 5.0], abs=1e-6) and ends == pytest.approx([3.0, 6.0], abs=1e-6)


def test_bad_arguments_are_errors():
    log_probs = _random_log_probs(6, 3, 0)
    path = forced_align(log_probs, [1, 2]).states[0]
    first = int((path == 1).nonzero()[0])
    with pytest.raises(CtcToolError, match="`temperature`: expected a finite number > 0"):
        expected_edges(log_probs, [1, 2], path, 0, [(0, first)], [], 0.0)
    with pytest.raises(CtcToolError, match="`window`: expected at least 1 frame"):
        expected_edges(log_probs, [1, 2], path, 0, [(0, first)], [], 1.0, window=0)
    with pytest.raises(CtcToolError, match="`path`: expected label 1 at frame"):
        expected_edges(log_probs, [1, 2], path, 0, [(1, first)], [], 1.0)
    frames = (path == 1).nonzero().flatten().tolist()
    assert len(frames) > 1  # label 0 spans two frames here: its second is not where it starts
    with pytest.raises(CtcToolError, match="`starts`: frame 1 is not the first frame of label 0"):
        expected_edges(log_probs, [1, 2], path, 0, [(0, frames[1])], [], 1.0)
    with pytest.raises(CtcToolError, match="`ends`: frame 0 is not the last frame of label 0"):
        expected_edges(log_probs, [1, 2], path, 0, [], [(0, frames[0])], 1.0)


def test_alignment_with_an_edge_temperature_puts_word_edges_off_the_frame_grid():
    vocab = Vocabulary(("<b>", "a", "b", " "), blank=0)
    # "ab ba": blurred frames so that each edge is uncertain between neighbouring frames
    sharp = [0, 1, 1, 2, 0, 3, 0, 2, 2, 1, 0, 0]
    logits = 4.0 * torch.nn.functional.one_hot(torch.tensor(sharp), 4).double()
    logits = logits + 0.5 * torch.roll(logits, 1, 0) + 0.5 * torch.roll(logits, -1, 0)
    log_probs = torch.log_softmax(logits, -1)
    hard = align_emissions(log_probs, "ab ba", vocab=vocab, frame_shift=0.02)
    soft = align_emissions(log_probs, "ab ba", vocab=vocab, frame_shift=0.02,
                           correction=BoundaryCorrection(edge_temperature=2.0))
    assert [round(w.start / 0.02, 9) % 1 for w in hard.words] == [0, 0]
    assert any(round(w.start / 0.02, 6) % 1 for w in soft.words) or any(round(w.end / 0.02, 6) % 1 for w in soft.words)
    for h, s in zip(hard.words, soft.words):  # near the best path's edges: within the blur of one frame
        assert abs(h.start - s.start) < 0.02 and abs(h.end - s.end) < 0.02
    # the same figures as the expectation computed directly
    labels = [1, 2, 3, 2, 1]
    path = forced_align(log_probs, labels).states[0]
    frames = {j: [t for t in range(len(sharp)) if int(path[t]) == 2 * j + 1] for j in range(5)}
    starts, ends = expected_edges(log_probs, labels, path, 0, [(0, frames[0][0]), (3, frames[3][0])],
                                  [(1, frames[1][-1]), (4, frames[4][-1])], 2.0)
    assert [w.start for w in soft.words] == pytest.approx(list(starts * 0.02))
    assert [w.end for w in soft.words] == pytest.approx(list(ends * 0.02))


def test_the_temperature_round_trips_and_bad_ones_are_errors():
    correction = BoundaryCorrection(0.01, 0.02, edge_temperature=3)
    assert BoundaryCorrection.from_dict(correction.as_dict()) == correction and correction.edge_temperature == 3.0
    assert BoundaryCorrection.from_dict({"word_start": 0.01}).edge_temperature == 0.0  # older checkpoints
    for bad in (-1.0, float("nan"), float("inf"), "3", True):
        with pytest.raises(CtcToolError, match="`edge_temperature`: expected 0"):
            BoundaryCorrection(edge_temperature=bad)
    errors = EdgeErrors([0.01] * 30, [np.nan] * 30, [-0.02] * 30, [np.nan] * 30)
    assert fit_boundary_correction([errors], 0.02, edge_temperature=3.0).edge_temperature == 3.0
    assert fit_boundary_correction([errors], 0.02, by_letter=False, edge_temperature=2.0).edge_temperature == 2.0


def test_neighbours_never_overlap_though_each_edge_has_a_window_of_its_own():
    # flat random frames: the two windows of a word boundary condition on different stretches of the best path,
    # and their expectations can cross (found by a review); the words then meet halfway
    vocab = Vocabulary(("<b>", "a", "b", " "), blank=0)
    text, crossed = "ab ba a b ab ba a", 0
    for seed in range(40):
        g = torch.Generator().manual_seed(seed)
        log_probs = torch.log_softmax(torch.randn(60, 4, generator=g, dtype=torch.float64), -1)
        words = align_emissions(log_probs, text, vocab=vocab, frame_shift=1.0,
                                correction=BoundaryCorrection(edge_temperature=3.0)).words
        assert all(a.end <= b.start + 1e-12 for a, b in zip(words, words[1:]))
        assert all(w.end > w.start for w in words)
        labels = [1, 2, 3, 2, 1, 3, 1, 3, 2, 3, 1, 2, 3, 2, 1, 3, 1]
        path = forced_align(log_probs, labels).states[0]
        firsts = [0, 3, 6, 8, 10, 13, 16]
        lasts = [1, 4, 6, 8, 11, 14, 16]
        first_frames = [int((path == 2 * j + 1).nonzero()[0]) for j in firsts]
        last_frames = [int((path == 2 * j + 1).nonzero()[-1]) for j in lasts]
        starts, ends = expected_edges(log_probs, labels, path, 0, list(zip(firsts, first_frames)),
                                      list(zip(lasts, last_frames)), 3.0)
        crossed += int((ends[:-1] > starts[1:]).sum())
    assert crossed > 0  # the case the rule is for does occur here
