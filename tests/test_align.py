"""forced_align against brute-force enumeration, a planted path, and the torch backend."""

import itertools

import pytest
import torch

from ctctool import CtcToolError
from ctctool.alignment.viterbi import forced_align
from oracles import brute_force_best_path, collapse
from helpers import cuda_only


def _is_valid(path, labels, blank=0):
    return collapse(path, blank) == tuple(labels)


def test_oracle_best_path_by_hand():
    # T=3, C=2, target (1,): the best of 100, 010, 001, 110, 011, 111 (and 1 only at one end).
    lp = [[-1.0, -0.5], [-0.1, -2.0], [-0.2, -3.0]]
    score, path = brute_force_best_path(lp, [1])
    assert path == (1, 0, 0) and score == pytest.approx(-0.5 - 0.1 - 0.2)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_score_is_the_max_over_all_valid_paths(seed, backend):
    g = torch.Generator().manual_seed(seed)
    T, C = 6, 3
    lp = torch.randn(T, C, generator=g, dtype=torch.float64).log_softmax(-1)
    candidates = [labels for n in range(0, 4) for labels in itertools.product(range(1, C), repeat=n)]
    labels = list(candidates[seed % len(candidates)])
    best_score, _ = brute_force_best_path(lp.tolist(), labels)
    result = forced_align(lp, labels, backend=backend)
    path = result.tokens[0].tolist()
    assert _is_valid(path, labels)
    assert float(result.scores[0]) == pytest.approx(best_score, abs=1e-12)
    assert float(result.frame_log_probs[0].sum()) == pytest.approx(best_score, abs=1e-12)
    assert result.frame_log_probs[0].tolist() == pytest.approx([float(lp[t, c]) for t, c in enumerate(path)])


def test_planted_path_is_recovered():
    # One-hot-ish emissions that spell b l a a n k (repeat needs a blank between).
    frames = [0, 1, 1, 0, 2, 0, 2, 2, 0, 3, 0]
    labels = [1, 2, 2, 3]
    lp = torch.full((len(frames), 4), -8.0)
    lp[torch.arange(len(frames)), torch.tensor(frames)] = -0.01
    result = forced_align(lp, labels)
    assert result.tokens[0].tolist() == frames
    assert result.states[0].tolist() == [0, 1, 1, 2, 3, 4, 5, 5, 6, 7, 8]


def test_repeated_labels_get_a_blank_between():
    lp = torch.zeros(3, 2).log_softmax(-1)  # every path equally likely
    result = forced_align(lp, [1, 1])
    assert result.tokens[0].tolist() == [1, 0, 1]


def test_empty_target_is_all_blank():
    lp = torch.randn(5, 3).log_softmax(-1)
    result = forced_align(lp, [])
    assert result.tokens[0].tolist() == [0] * 5


def test_ties_break_the_same_way_on_both_backends():
    lp = torch.zeros(8, 3).log_softmax(-1)  # all paths tie
    a = forced_align(lp, [1, 2], backend="numba")
    b = forced_align(lp, [1, 2], backend="torch")
    assert torch.equal(a.states, b.states)
    # The final blank wins the tie at the end and "stay" every tie after it, so walking
    # back stays on the last blank as long as it is reachable: the labels come first.
    assert a.tokens[0].tolist() == [1, 2, 0, 0, 0, 0, 0, 0]


def test_batch_with_different_lengths_equals_one_by_one():
    g = torch.Generator().manual_seed(3)
    lp = torch.randn(4, 40, 7, generator=g).log_softmax(-1)
    lengths = [40, 33, 21, 8]
    labels = [torch.randint(1, 7, (n,), generator=g).tolist() for n in (12, 9, 0, 3)]
    batch = forced_align(lp, labels, input_lengths=lengths)
    for b, (T_b, labels_b) in enumerate(zip(lengths, labels)):
        single = forced_align(lp[b, :T_b], labels_b)
        assert batch.tokens[b, :T_b].tolist() == single.tokens[0].tolist()
        assert batch.tokens[b, T_b:].tolist() == [-1] * (40 - T_b)
        assert float(batch.scores[b]) == float(single.scores[0])


@pytest.mark.parametrize("seed", range(3))
def test_numba_and_torch_backends_agree_on_larger_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    lp = torch.randn(3, 300, 12, generator=g).log_softmax(-1)
    labels = [torch.randint(1, 12, (n,), generator=g).tolist() for n in (100, 60, 149)]
    a = forced_align(lp, labels, input_lengths=[300, 250, 300], backend="numba")
    b = forced_align(lp, labels, input_lengths=[300, 250, 300], backend="torch")
    assert torch.equal(a.states, b.states)
    assert torch.equal(a.scores, b.scores)


def test_rejects_too_few_frames():
    with pytest.raises(CtcToolError, match=r"utterance 0: 3 labels with 1 repeats need >= 4 frames; there are 3 in `log_probs`"):
        forced_align(torch.zeros(3, 3).log_softmax(-1), [1, 1, 2])


def test_rejects_blank_label():
    with pytest.raises(CtcToolError, match=r"utterance 0: label 0 at position 0 is the blank id"):
        forced_align(torch.zeros(5, 3).log_softmax(-1), [0, 1])


def test_rejects_non_finite():
    lp = torch.zeros(5, 3)
    lp[1, 2] = float("nan")
    with pytest.raises(CtcToolError, match=r"`log_probs` holds 1 NaN or infinite value\(s\), the first at frame 1 of utterance 0, class 2"):
        forced_align(lp, [1])


def test_rejects_bad_shape():
    with pytest.raises(CtcToolError, match=r"`log_probs`: expected shape \(T, C\) or \(B, T, C\), found 1 dimensions \(5,\)"):
        forced_align(torch.zeros(5), [1])


@cuda_only
def test_cuda_matches_cpu():
    g = torch.Generator().manual_seed(9)
    lp = torch.randn(4, 500, 32, generator=g).log_softmax(-1)
    labels = [torch.randint(1, 32, (n,), generator=g).tolist() for n in (120, 10, 0, 200)]
    cpu = forced_align(lp, labels, input_lengths=[500, 400, 300, 480])
    gpu = forced_align(lp.cuda(), labels, input_lengths=[500, 400, 300, 480])
    assert torch.equal(cpu.states, gpu.states.cpu())
    assert torch.equal(cpu.scores, gpu.scores.cpu())


@pytest.mark.parametrize("T, L, segment", [(50, 10, 3), (300, 100, 7), (997, 400, 31), (10, 4, 64), (200, 99, 5)])
def test_segmented_kernel_gives_the_same_path_in_less_memory(T, L, segment):
    import numpy as np

    from ctctool.alignment.viterbi import _extended_sequences
    from ctctool.kernels.viterbi_numba import viterbi_path, viterbi_path_segmented

    g = torch.Generator().manual_seed(T + L)
    lp = torch.randn(T, 12, generator=g).log_softmax(-1).numpy()
    labels = torch.randint(1, 12, (L,), generator=g)
    ext, skip_ok, _ = _extended_sequences(labels[None], torch.tensor([L]), 0)
    full, segmented = (np.full(T, -1), np.zeros(T)), (np.full(T, -1), np.zeros(T))
    score_full = viterbi_path(lp, ext[0].numpy(), skip_ok[0].numpy(), *full)
    score_segmented = viterbi_path_segmented(lp, ext[0].numpy(), skip_ok[0].numpy(), *segmented, segment)
    assert score_full == score_segmented
    assert (full[0] == segmented[0]).all() and (full[1] == segmented[1]).all()
