"""The exact CTC forward-backward kernels (torch and numba twins) against independent routes.

Routes: brute-force enumeration of every frame path (below), torch.nn.functional.ctc_loss
on ordinary inputs, figures published with TensorFlow's and warp-ctc's tests, and the
two twins against each other.

Shapes: B utterances, T frames, C classes (blank included), L target length.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ctctool.kernels import ctc_numba, ctc_torch
from helpers import cuda_only

KERNELS = [ctc_torch.ctc_forward_backward, ctc_numba.ctc_forward_backward]
KERNEL_IDS = ["torch", "numba"]
NEG = -math.inf
FLOAT_MAX = torch.finfo(torch.float64).max


# ---------------------------------------------------------------- brute force


def _spells(path, blank):
    """Labels of a frame path: merge repeats, drop blanks."""
    out, previous = [], None
    for c in path:
        if c != previous and c != blank:
            out.append(c)
        previous = c
    return tuple(out)


def _logsumexp(terms):
    top = max(terms, default=NEG)
    if top == NEG:
        return NEG
    return top + math.log(math.fsum(math.exp(x - top) for x in terms))


def _exp_capped(x):
    return FLOAT_MAX if x > math.log(FLOAT_MAX) else math.exp(x)


def brute_force(values, target, blank):
    """Enumerate the C**T paths of one utterance ((T, C) log-scores, ``-inf`` allowed).

    P is the sum over the paths that spell ``target`` of the product of their
    probabilities exp(values[t, path[t]]); the sums run over log-scores (log-sum-exp),
    so scores like -1000 do not underflow. Returns (log P, d loss / d values,
    d loss / d exp(values)) with loss = -log P; d P / d p[t, c] sums the products over
    the other frames of the paths through (t, c). Magnitudes above finfo.max are capped
    there (as the kernels clamp); both gradients are 0 when P == 0.
    """
    values = np.asarray(values, dtype=np.float64)
    T, C = values.shape
    paths, through, through_others = [], {}, {}
    for path in itertools.product(range(C), repeat=T):
        if _spells(path, blank) != tuple(target):
            continue
        scores = [float(values[t, c]) for t, c in enumerate(path)]
        log_path = math.fsum(scores) if NEG not in scores else NEG
        paths.append(log_path)
        for t, c in enumerate(path):
            others = scores[:t] + scores[t + 1:]
            through.setdefault((t, c), []).append(log_path)
            through_others.setdefault((t, c), []).append(math.fsum(others) if NEG not in others else NEG)
    log_p = _logsumexp(paths)
    grad_log, grad_probs = np.zeros((T, C)), np.zeros((T, C))
    if log_p == NEG:
        return log_p, grad_log, grad_probs
    for (t, c), terms in through.items():
        grad_log[t, c] = -math.exp(_logsumexp(terms) - log_p)
        grad_probs[t, c] = -_exp_capped(_logsumexp(through_others[(t, c)]) - log_p)
    return log_p, grad_log, grad_probs


def test_brute_force_on_a_case_worked_by_hand():
    # T=2, C=2, blank 0, target [1]. Paths spelling [1]: (1,0), (0,1), (1,1):
    # P = 0.4*0.3 + 0.6*0.7 + 0.4*0.7 = 0.12 + 0.42 + 0.28 = 0.82.
    p = np.array([[0.6, 0.4], [0.3, 0.7]])
    log_p, grad_log, grad_probs = brute_force(np.log(p), [1], blank=0)
    assert log_p == pytest.approx(math.log(0.82), rel=1e-14)
    # occupancy: frame 0 class 1 via (1,0),(1,1) = 0.40; class 0 via (0,1) = 0.42;
    # frame 1 class 0 via (1,0) = 0.12; class 1 via (0,1),(1,1) = 0.70
    np.testing.assert_allclose(grad_log, -np.array([[0.42, 0.40], [0.12, 0.70]]) / 0.82, rtol=1e-14)
    # dP/dp0(0) = p1(1) = 0.7; dP/dp0(1) = p1(0) + p1(1) = 1.0; dP/dp1(0) = p0(1) = 0.4;
    # dP/dp1(1) = p0(0) + p0(1) = 1.0
    np.testing.assert_allclose(grad_probs, -np.array([[0.7, 1.0], [0.4, 1.0]]) / 0.82, rtol=1e-14)


# ---------------------------------------------------------------- helpers


def _batch(utterances, C, rng, T_pad=0, L_pad=0, pad_label=None):
    """Pad ``[(values (T_b, C), target), ...]`` into kernel inputs.

    Padded frames hold random finite scores (they must not matter); padded target
    cells hold ``pad_label`` or random labels.
    """
    T = max(len(v) for v, _ in utterances) + T_pad
    L = max(1, max(len(t) for _, t in utterances) + L_pad)
    values = rng.normal(size=(len(utterances), T, C)) * 3
    targets = np.full((len(utterances), L), 0 if pad_label is None else pad_label)
    if pad_label is None:
        targets = rng.integers(0, C, size=(len(utterances), L))
    for b, (v, target) in enumerate(utterances):
        values[b, : len(v)] = v
        targets[b, : len(target)] = target
    return (
        torch.tensor(values),
        torch.tensor([len(v) for v, _ in utterances]),
        torch.tensor(targets),
        torch.tensor([len(t) for _, t in utterances]),
    )


def _check_against_brute_force(kernel, utterances, C, blank, rng, **pad):
    values, input_lengths, targets, target_lengths = _batch(utterances, C, rng, **pad)
    results = {mode: kernel(values, input_lengths, targets, target_lengths, blank, mode)
               for mode in (None, "log_probs", "probs")}
    for b, (v, target) in enumerate(utterances):
        log_p, grad_log, grad_probs = brute_force(v, target, blank)
        T_b = len(v)
        for mode, expected in ((None, None), ("log_probs", grad_log), ("probs", grad_probs)):
            log_likelihood, grad = results[mode]
            if log_p == NEG:
                assert log_likelihood[b] == NEG
            else:
                assert float(log_likelihood[b]) == pytest.approx(log_p, rel=1e-12, abs=1e-12)
            if mode is None:
                assert grad is None
                continue
            assert grad.shape == values.shape and grad.dtype == torch.float64
            assert bool(torch.isfinite(grad).all())
            np.testing.assert_allclose(grad[b, :T_b].numpy(), expected, rtol=1e-10, atol=1e-12)
            assert bool((grad[b, T_b:] == 0).all())
    return [brute_force(v, t, blank)[0] for v, t in utterances]


def _random_scores(rng, T, C, zero_rate):
    """Unnormalised log-scores with about ``zero_rate`` of them exactly -inf (probability 0)."""
    values = rng.normal(size=(T, C)) * 1.5
    values[rng.random((T, C)) < zero_rate] = NEG
    return values


# ---------------------------------------------------------------- brute force: zeros, lengths, padding


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_random_cases_with_exact_zeros_match_brute_force(kernel):
    rng = np.random.default_rng(1)
    log_ps = []
    for _ in range(12):
        C = int(rng.integers(2, 5))
        blank = int(rng.integers(0, C))
        labels = [c for c in range(C) if c != blank]
        utterances = []
        for _ in range(int(rng.integers(1, 5))):
            T = int(rng.integers(1, 7 if C <= 3 else 6))
            L = int(rng.integers(0, min(T, 3) + 1))
            target = [int(x) for x in rng.choice(labels, size=L)]
            utterances.append((_random_scores(rng, T, C, zero_rate=0.3), target))
        log_ps += _check_against_brute_force(kernel, utterances, C, blank, rng, T_pad=int(rng.integers(0, 3)),
                                             L_pad=int(rng.integers(0, 2)))
    feasible = sum(lp > NEG for lp in log_ps)
    assert feasible >= 10 and len(log_ps) - feasible >= 3  # both kinds were exercised


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_probs_gradient_is_finite_and_exact_where_the_probability_is_zero(kernel):
    rng = np.random.default_rng(2)
    v = rng.normal(size=(5, 3))
    v[1, 1] = NEG  # p = 0 on a label some matching paths would use
    v[3, 0] = NEG  # and on a blank
    values, input_lengths, targets, target_lengths = _batch([(v, [1, 2])], 3, rng)
    _, grad = kernel(values, input_lengths, targets, target_lengths, 0, "probs")
    _, _, expected = brute_force(v, [1, 2], 0)
    assert expected[1, 1] != 0 and expected[3, 0] != 0  # a real derivative at p == 0
    np.testing.assert_allclose(grad[0].numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_named_edge_cases_match_brute_force(kernel):
    rng = np.random.default_rng(3)
    never = rng.normal(size=(5, 3))
    never[:, 2] = NEG  # label 2 has probability 0 on every frame
    repeat = rng.normal(size=(3, 3))  # [1, 1] needs 1, blank, 1: exactly one path in 3 frames
    repeat_no_blank = repeat.copy()
    repeat_no_blank[1, 0] = NEG  # ... and none once the middle blank is impossible
    blank_gap = rng.normal(size=(4, 3))
    blank_gap[2, 0] = NEG
    far_first = np.array([[0.0, -1000.0, 0.0], [0.0, NEG, 0.0], [0.0, NEG, 0.0]])  # only path 1, 0, 0
    utterances = [
        (never, [1, 2]),  # every path zero
        (rng.normal(size=(2, 3)), [1, 1]),  # too short: 2 frames < L + repeats = 3
        (rng.normal(size=(3, 3)), [1, 2, 1, 2]),  # too short: T < L
        (repeat, [1, 1]),
        (repeat_no_blank, [1, 1]),
        (rng.normal(size=(4, 3)), []),  # L = 0: the all-blank path only
        (blank_gap, []),  # L = 0 with the blank impossible on one frame
        (rng.normal(size=(1, 3)), [2]),  # T = 1
        (far_first, [1]),  # the only path sits 1000 below the best state, then the best states die
        (far_first[::-1].copy(), [1]),  # the same backwards in time
    ]
    log_ps = _check_against_brute_force(kernel, utterances, 3, 0, rng, T_pad=2)
    assert [lp == NEG for lp in log_ps] == [True, True, True, False, True, False, True, False, False, False]
    assert log_ps[-2] == log_ps[-1] == -1000.0
    assert log_ps[3] == pytest.approx(utterances[3][0][0, 1] + utterances[3][0][1, 0] + utterances[3][0][2, 1])


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_infeasible_utterances_get_minus_inf_and_an_all_zero_gradient(kernel):
    rng = np.random.default_rng(4)
    v = rng.normal(size=(4, 4))
    v[:, 3] = NEG
    values, input_lengths, targets, target_lengths = _batch([(v, [3]), (rng.normal(size=(2, 4)), [1, 2, 3])], 4, rng)
    for mode in ("log_probs", "probs"):
        log_likelihood, grad = kernel(values, input_lengths, targets, target_lengths, 0, mode)
        assert log_likelihood.tolist() == [NEG, NEG]
        assert bool((grad == 0).all())


# ---------------------------------------------------------------- torch.nn.functional.ctc_loss


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
@pytest.mark.parametrize("blank", [0, 5])
def test_agrees_with_torch_ctc_loss_on_ordinary_inputs(kernel, blank):
    g = torch.Generator().manual_seed(5)
    B, T, C = 6, 40, 6
    logits = torch.randn(B, T, C, generator=g, dtype=torch.float64) * 2
    log_probs = logits.log_softmax(-1)
    input_lengths = torch.tensor([40, 33, 25, 12, 40, 7])
    target_lengths = torch.tensor([10, 15, 0, 5, 20, 3])
    labels = [c for c in range(C) if c != blank]
    targets = torch.tensor(labels)[torch.randint(0, C - 1, (B, 20), generator=g)]
    log_likelihood, grad = kernel(log_probs, input_lengths, targets, target_lengths, blank, "log_probs")

    leaf = log_probs.transpose(0, 1).clone().requires_grad_()
    losses = F.ctc_loss(leaf, targets, input_lengths, target_lengths, blank=blank, reduction="none")
    losses.sum().backward()
    torch.testing.assert_close(log_likelihood, -losses.detach(), rtol=1e-12, atol=1e-10)
    # torch's backward returns exp(log_probs) - gamma (the gradient with respect to logits,
    # assuming log_softmax comes before): our -gamma is that minus exp(log_probs), on the used frames
    used = (torch.arange(T)[None, :] < input_lengths[:, None])[:, :, None]
    torch_grad = leaf.grad.transpose(0, 1)
    torch.testing.assert_close(grad, torch_grad - log_probs.exp() * used, rtol=0, atol=1e-9)

    # the same through autograd of log_softmax: d loss / d logits = softmax - gamma
    logits_leaf = logits.transpose(0, 1).clone().requires_grad_()
    F.ctc_loss(logits_leaf.log_softmax(-1), targets, input_lengths, target_lengths, blank=blank,
               reduction="none").sum().backward()
    torch.testing.assert_close(logits_leaf.grad.transpose(0, 1), (log_probs.exp() + grad) * used, rtol=0, atol=1e-9)


# ---------------------------------------------------------------- extreme inputs


def _extreme_log_probs(rng, B, T, C, rate):
    logits = rng.normal(size=(B, T, C))
    picks = rng.random((B, T, C))
    logits[picks < rate] = -1e30
    logits[(picks >= rate) & (picks < 2 * rate)] = -1e38
    logits[(picks >= 2 * rate) & (picks < 2.5 * rate)] = 1e38
    return torch.tensor(logits).log_softmax(-1)


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_extreme_scores_give_finite_normalised_gradients(kernel):
    rng = np.random.default_rng(6)
    B, T, C = 16, 30, 5
    values = _extreme_log_probs(rng, B, T, C, rate=0.15)
    input_lengths = torch.tensor(rng.integers(10, T + 1, size=B))
    target_lengths = torch.tensor(rng.integers(0, 8, size=B))
    targets = torch.tensor(rng.integers(1, C, size=(B, 7)))
    log_likelihood, grad = kernel(values, input_lengths, targets, target_lengths, 0, "log_probs")
    _, grad_probs = kernel(values, input_lengths, targets, target_lengths, 0, "probs")
    assert bool(torch.isfinite(grad).all()) and bool(torch.isfinite(grad_probs).all())
    assert not bool(torch.isnan(log_likelihood).any()) and bool((log_likelihood < 0).all())
    feasible = torch.isfinite(log_likelihood)
    assert int(feasible.sum()) >= 8 and bool((log_likelihood[feasible] < -1e29).any())  # log P about -1e30 and below
    used = torch.arange(T)[None, :] < input_lengths[:, None]
    row_sums = -grad.sum(-1)
    torch.testing.assert_close(row_sums[feasible[:, None] & used], torch.ones(int((feasible[:, None] & used).sum()),
                                                                             dtype=torch.float64), rtol=0, atol=1e-12)
    assert bool((row_sums[~(feasible[:, None] & used)] == 0).all())
    assert bool(((grad <= 0) & (grad >= -1 - 1e-12)).all())


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_extreme_scores_match_brute_force_where_it_is_exact(kernel):
    # -1e30 / -1e38 / 1e38 logits in float64: where the paths through the extreme classes are
    # negligible (P stays far above float64's underflow), enumerating in probability space is exact.
    rng = np.random.default_rng(7)
    compared = 0
    for _ in range(40):
        T, C = int(rng.integers(2, 6)), 3
        values = _extreme_log_probs(rng, 1, T, C, rate=0.12)[0].numpy()
        target = [int(x) for x in rng.integers(1, C, size=int(rng.integers(1, min(T, 3) + 1)))]
        if brute_force(values, target, 0)[0] < -600:
            continue
        _check_against_brute_force(kernel, [(values, target)], C, 0, rng)
        compared += 1
    assert compared >= 15


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_a_forced_path_through_a_minus_1e30_score(kernel):
    # T = L, distinct labels: one path only. Its log-likelihood is the sum of its scores,
    # its occupancy exactly one-hot, and d loss / d p = -1/p, which for p = exp(-1e30)
    # exceeds float64 and is clamped to -finfo.max.
    logits = torch.tensor([[-1e30, 0.5, 0.1], [0.2, -0.3, 1.1], [0.0, 0.7, -1e38]], dtype=torch.float64)
    values = logits.log_softmax(-1)[None]
    path = [1, 2, 1]
    args = (torch.tensor([3]), torch.tensor([path]), torch.tensor([3]), 0)
    log_likelihood, grad = kernel(values, *args, "log_probs")
    assert float(log_likelihood[0]) == pytest.approx(sum(float(values[0, t, c]) for t, c in enumerate(path)), rel=1e-15)
    one_hot = torch.zeros(1, 3, 3, dtype=torch.float64)
    one_hot[0, [0, 1, 2], path] = 1.0
    assert torch.equal(grad, -one_hot)
    values = torch.tensor([[[0.0, -1e30, 0.0], [0.0, 0.0, -2.0], [0.0, -1.0, 0.0]]], dtype=torch.float64)
    _, grad_probs = kernel(values, *args, "probs")
    expected = torch.tensor([[[0.0, -FLOAT_MAX, 0.0], [0.0, 0.0, -math.exp(2.0)], [0.0, -math.exp(1.0), 0.0]]],
                            dtype=torch.float64)
    torch.testing.assert_close(grad_probs, expected, rtol=1e-15, atol=0)


# ---------------------------------------------------------------- published figures

# TensorFlow, tensorflow/python/kernel_tests/nn_ops/ctc_loss_op_test.py, CTCLossTest.testBasic
# ("Input and ground truth from Alex Graves' implementation"); the same numbers are warp-ctc's
# options_test (baidu-research/warp-ctc, tests/test_cpu.cpp), with the blank last (class 5).
GRAVES_PROBS = [
    [[0.633766, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
     [0.111121, 0.588392, 0.278779, 0.0055756, 0.00569609, 0.010436],
     [0.0357786, 0.633813, 0.321418, 0.00249248, 0.00272882, 0.0037688],
     [0.0663296, 0.643849, 0.280111, 0.00283995, 0.0035545, 0.00331533],
     [0.458235, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107]],
    [[0.30176, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
     [0.24082, 0.397533, 0.0557226, 0.0546814, 0.0557528, 0.19549],
     [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, 0.202456],
     [0.280884, 0.429522, 0.0326593, 0.0339046, 0.0326856, 0.190345],
     [0.423286, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046]],
]
GRAVES_TARGETS = [[0, 1, 2, 1, 0], [0, 1, 1, 0]]
GRAVES_LOG_LIKELIHOODS = [-3.34211, -5.42262]
# d loss / d logits (softmax applied to the inputs), i.e. softmax - occupancy
GRAVES_GRADIENTS = [
    [[-0.366234, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
     [0.111121, -0.411608, 0.278779, 0.0055756, 0.00569609, 0.010436],
     [0.0357786, 0.633813, -0.678582, 0.00249248, 0.00272882, 0.0037688],
     [0.0663296, -0.356151, 0.280111, 0.00283995, 0.0035545, 0.00331533],
     [-0.541765, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107]],
    [[-0.69824, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
     [0.24082, -0.602467, 0.0557226, 0.0546814, 0.0557528, 0.19549],
     [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, -0.797544],
     [0.280884, -0.570478, 0.0326593, 0.0339046, 0.0326856, 0.190345],
     [-0.576714, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046]],
]


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_tensorflow_test_basic(kernel):
    # TF pads the batch to 7 frames (with NaN there; here 0, which must not matter) and
    # expects a zero gradient on the padding.
    probs = torch.tensor(GRAVES_PROBS, dtype=torch.float32).to(torch.float64)  # TF feeds float32
    values = torch.cat([probs.log(), torch.zeros(2, 2, 6, dtype=torch.float64)], dim=1)
    targets = torch.tensor([GRAVES_TARGETS[0], GRAVES_TARGETS[1] + [0]])
    log_likelihood, grad = kernel(values, torch.tensor([5, 5]), targets, torch.tensor([5, 4]), 5, "log_probs")
    expected_log_likelihoods = torch.tensor(GRAVES_LOG_LIKELIHOODS, dtype=torch.float64)
    torch.testing.assert_close(log_likelihood, expected_log_likelihoods, rtol=0, atol=1e-5)
    softmax = values.softmax(-1) * (torch.arange(7) < 5)[None, :, None]
    expected = torch.cat([torch.tensor(GRAVES_GRADIENTS, dtype=torch.float64),
                          torch.zeros(2, 2, 6, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(softmax + grad, expected, rtol=0, atol=2e-6)


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_blank_position_does_not_matter(kernel):
    # warp-ctc's options_test runs the Graves example with the blank last; moving the blank
    # to class 0 (and every label up by one) must give the same numbers.
    values = torch.tensor(GRAVES_PROBS, dtype=torch.float64).log()
    lengths = (torch.tensor([5, 5]), torch.tensor([5, 4]))
    targets = torch.tensor([GRAVES_TARGETS[0], GRAVES_TARGETS[1] + [3]])
    last, grad_last = kernel(values, lengths[0], targets, lengths[1], 5, "probs")
    order = [5, 0, 1, 2, 3, 4]
    first, grad_first = kernel(values[:, :, order], lengths[0], targets + 1, lengths[1], 0, "probs")
    torch.testing.assert_close(first, last, rtol=1e-14, atol=0)
    torch.testing.assert_close(grad_first, grad_last[:, :, order], rtol=1e-12, atol=0)
    # options_test's expected score of utterance 0: -log of its only path's probability
    only_path = [0, 1, 2, 1, 0]
    expected = math.log(math.prod(GRAVES_PROBS[0][t][c] for t, c in enumerate(only_path)))
    assert float(last[0]) == pytest.approx(expected, rel=1e-14)
    assert float(last[1]) == pytest.approx(-5.42262, abs=1e-5)


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_warp_ctc_small_test(kernel):
    # baidu-research/warp-ctc tests/test_cpu.cpp small_test: activations softmaxed, labels
    # [1, 2] in 2 frames, so the only path is 1, 2 and the score is probs[0, 1] * probs[1, 2].
    activations = torch.tensor([[[0.1, 0.6, 0.1, 0.1, 0.1], [0.1, 0.1, 0.6, 0.1, 0.1]]], dtype=torch.float64)
    probs = activations.softmax(-1)
    log_likelihood, grad = kernel(activations.log_softmax(-1), torch.tensor([2]), torch.tensor([[1, 2]]),
                                  torch.tensor([2]), 0, "log_probs")
    assert math.exp(float(log_likelihood[0])) == pytest.approx(float(probs[0, 0, 1] * probs[0, 1, 2]), rel=1e-14)
    assert torch.equal(grad, -torch.tensor([[[0.0, 1, 0, 0, 0], [0, 0, 1, 0, 0]]], dtype=torch.float64))


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_warp_ctc_use_softmax_test_unnormalised_scores(kernel):
    # baidu-research/warp-ctc tests/test_cpu.cpp use_softmax_test: use_softmax = false, so the
    # activations are log-scores used as given (rows not normalised), as in this kernel.
    # Layout there is (t, n, c); expected scores -0.499964 and -0.480685 ("from tensorflow"),
    # expected gradients exp(activation) - occupancy.
    acts = torch.tensor([[[0.633766, 0.221185, 0.0917319, 0.0129757], [0.30176, 0.28562, 0.0831517, 0.0862751]],
                         [[0.111121, 0.588392, 0.278779, 0.0055756], [0.24082, 0.397533, 0.0557226, 0.0546814]]],
                        dtype=torch.float32).to(torch.float64)
    expected_grads = torch.tensor([[[1.884695, 0.247554, 1.096071, 1.013060], [1.352237, 1.330587, 0.086707, 1.090106]],
                                   [[1.117530, 1.801090, 0.321515, 1.005591],
                                    [1.272292, 0.488149, 1.057304, 1.056204]]],
                                  dtype=torch.float64)
    values = acts.transpose(0, 1)  # (B, T, C)
    log_likelihood, grad = kernel(values, torch.tensor([2, 2]), torch.tensor([[1, 2], [2, 1]]),
                                  torch.tensor([2, 2]), 0, "log_probs")
    expected_scores = torch.tensor([-0.499964, -0.480685], dtype=torch.float64)
    torch.testing.assert_close(-log_likelihood, expected_scores, rtol=0, atol=1e-6)
    torch.testing.assert_close(values.exp() + grad, expected_grads.transpose(0, 1), rtol=0, atol=1e-6)


def _inf_test_inputs(rng):
    """warp-ctc's inf_test: C=15, T=50, L=10 labels with repeats (as its genLabels makes them)
    and label[0] = 2; activations uniform in [0, 1) except class 2, set to -1e30 on every frame.
    warp-ctc draws them with std::mt19937; these are this test's own seeded draws."""
    C, T, L = 15, 50, 10
    labels = rng.integers(1, C, size=L)
    labels[L // 2] = labels[L // 2 + 1]
    labels[L // 2 - 1] = labels[L // 2]
    labels[0] = 2
    acts = rng.random((T, C))
    acts[:, 2] = -1e30
    return torch.tensor(acts)[None], torch.tensor(labels)[None], labels


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_warp_ctc_inf_test(kernel):
    # baidu-research/warp-ctc tests/test_cpu.cpp inf_test: the softmax of -1e30 is 0 and every
    # path needs class 2, so the cost is inf and no gradient may be NaN (here: all zero).
    rng = np.random.default_rng(8)
    acts, targets, _ = _inf_test_inputs(rng)
    probs = acts.softmax(-1)
    assert bool((probs[..., 2] == 0).all())
    for mode in ("log_probs", "probs"):
        log_likelihood, grad = kernel(probs.log(), torch.tensor([50]), targets, torch.tensor([10]), 0, mode)
        assert log_likelihood.tolist() == [NEG]
        assert bool((grad == 0).all())


@pytest.mark.parametrize("kernel", KERNELS, ids=KERNEL_IDS)
def test_warp_ctc_inf_test_kept_in_log_space(kernel):
    # The same activations through log_softmax in float64: class 2 scores about -1e30, finite,
    # so this kernel (exact in log space) gives log P about -1e30 per use of label 2, not -inf,
    # with a finite, per-frame normalised gradient.
    rng = np.random.default_rng(8)
    acts, targets, labels = _inf_test_inputs(rng)
    values = acts.log_softmax(-1)
    log_likelihood, grad = kernel(values, torch.tensor([50]), targets, torch.tensor([10]), 0, "log_probs")
    uses = int((labels == 2).sum())
    assert float(log_likelihood[0]) == pytest.approx(-1e30 * uses, rel=1e-13)
    assert bool(torch.isfinite(grad).all())
    torch.testing.assert_close(-grad.sum(-1), torch.ones(1, 50, dtype=torch.float64), rtol=0, atol=1e-12)
    _, grad_probs = kernel(values, torch.tensor([50]), targets, torch.tensor([10]), 0, "probs")
    assert bool(torch.isfinite(grad_probs).all()) and bool((grad_probs[..., 2] == -FLOAT_MAX).any())


# ---------------------------------------------------------------- twins


def test_numba_twin_matches_torch_on_random_padded_batches_with_zeros():
    rng = np.random.default_rng(9)
    for _ in range(6):
        B, T, C = int(rng.integers(1, 9)), int(rng.integers(1, 60)), int(rng.integers(2, 12))
        blank = int(rng.integers(0, C))
        values = torch.tensor(rng.normal(size=(B, T, C)) * 3)
        values[torch.tensor(rng.random((B, T, C)) < 0.1)] = NEG
        L = int(rng.integers(0, 15))
        labels = torch.tensor([c for c in range(C) if c != blank])
        targets = labels[torch.tensor(rng.integers(0, C - 1, size=(B, max(L, 1))))]
        target_lengths = torch.tensor(rng.integers(0, L + 1, size=B))
        input_lengths = torch.tensor(rng.integers(1, T + 1, size=B))
        for mode in (None, "log_probs", "probs"):
            args = (values, input_lengths, targets, target_lengths, blank, mode)
            ll_torch, grad_torch = ctc_torch.ctc_forward_backward(*args)
            ll_numba, grad_numba = ctc_numba.ctc_forward_backward(*args)
            torch.testing.assert_close(ll_numba, ll_torch, rtol=1e-12, atol=0)
            if mode is None:
                assert grad_torch is None and grad_numba is None
            else:
                torch.testing.assert_close(grad_numba, grad_torch, rtol=1e-12, atol=1e-300)


def test_unknown_gradient_kind_is_refused():
    args = (torch.zeros(1, 2, 3, dtype=torch.float64), torch.tensor([2]), torch.tensor([[1]]), torch.tensor([1]), 0)
    for kernel in KERNELS:
        with pytest.raises(ValueError):
            kernel(*args, "logits")


@cuda_only
def test_torch_kernel_on_cuda_matches_the_cpu():
    rng = np.random.default_rng(10)
    values = torch.tensor(rng.normal(size=(4, 30, 6)))
    values[torch.tensor(rng.random((4, 30, 6)) < 0.1)] = NEG
    args = (torch.tensor([30, 20, 9, 1]), torch.tensor(rng.integers(1, 6, size=(4, 8))), torch.tensor([8, 0, 4, 1]), 0)
    for mode in ("log_probs", "probs"):
        ll_cpu, grad_cpu = ctc_torch.ctc_forward_backward(values, *args, mode)
        on_gpu = [a.cuda() if torch.is_tensor(a) else a for a in args]
        ll_gpu, grad_gpu = ctc_torch.ctc_forward_backward(values.cuda(), *on_gpu, mode)
        assert ll_gpu.device.type == "cuda"
        torch.testing.assert_close(ll_gpu.cpu(), ll_cpu, rtol=1e-12, atol=0)
        torch.testing.assert_close(grad_gpu.cpu(), grad_cpu, rtol=1e-12, atol=1e-300)
