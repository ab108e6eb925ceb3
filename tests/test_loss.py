"""ctc_loss against a brute-force enumeration of frame paths, torch, and finite differences."""

import math

import pytest
import torch
import torch.nn.functional as F

from ctctool import CtcToolError, ctc_loss, frames_needed
from oracles import brute_force_nll
from helpers import cuda_only


def test_oracle_matches_hand_computation():
    # T=2, C=2, target (1,): paths 11, 01, 10.
    p = [[0.3, 0.7], [0.6, 0.4]]
    log_p = [[math.log(v) for v in row] for row in p]
    expected = -math.log(0.7 * 0.4 + 0.3 * 0.4 + 0.7 * 0.6)
    assert brute_force_nll(log_p, [1]) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("labels, needed", [([], 0), ([1], 1), ([1, 1], 3), ([1, 2, 2, 1], 5), ([2, 2, 2], 5)])
def test_frames_needed_counts_labels_and_repeats(labels, needed):
    assert frames_needed(labels) == needed


def _random_batch(seed, T=6, N=4, C=3):
    """(N, T, C) float64 logits, (N,) input lengths and N label lists."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(N, T, C, generator=g, dtype=torch.float64) * 2
    input_lengths = torch.tensor([6, 5, 4, 3])[:N]
    labels = [[1, 2], [2, 2], [1], [1, 2, 1]][:N]
    return logits, input_lengths, labels


def _oracle_losses(logits, input_lengths, labels):
    lp = logits.log_softmax(-1)
    return [brute_force_nll(lp[n, : int(input_lengths[n])].tolist(), labels[n]) for n in range(len(labels))]


def _target_forms(labels):
    lengths = torch.tensor([len(r) for r in labels])
    width = int(lengths.max())
    padded = torch.tensor([r + [0] * (width - len(r)) for r in labels])
    concatenated = torch.tensor([v for r in labels for v in r])
    return {"padded": (padded, lengths), "concatenated": (concatenated, lengths), "lists": (labels, None)}


@pytest.mark.parametrize("form", ["padded", "concatenated", "lists"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_loss_equals_brute_force(form, reduction, zero_infinity):
    logits, input_lengths, labels = _random_batch(seed=1)
    # utterance 3: labels (1, 2, 1) need 3 frames and get 3; shrink utterance 1 ((2, 2) needs 3) to 2 frames
    input_lengths[1] = 2
    expected = _oracle_losses(logits, input_lengths, labels)
    assert expected[1] == math.inf
    if zero_infinity:
        expected[1] = 0.0
    targets, target_lengths = _target_forms(labels)[form]
    result = ctc_loss(logits, targets, input_kind="logits", input_lengths=input_lengths, target_lengths=target_lengths,
                      reduction=reduction, zero_infinity=zero_infinity)
    assert result.losses.tolist() == pytest.approx(expected, rel=1e-10)
    assert result.feasible.tolist() == [True, False, True, True]
    assert result.zeroed.tolist() == [False, zero_infinity, False, False]
    if reduction == "none":
        assert result.loss.tolist() == pytest.approx(expected, rel=1e-10)
    elif reduction == "sum":
        assert float(result.loss) == pytest.approx(sum(expected), rel=1e-10)
    else:
        per_token = [e / max(len(r), 1) for e, r in zip(expected, labels)]
        assert float(result.loss) == pytest.approx(sum(per_token) / len(per_token), rel=1e-10)


@pytest.mark.parametrize("kind", ["logits", "log-probs", "probs"])
def test_every_input_kind_gives_the_same_loss(kind):
    logits, input_lengths, labels = _random_batch(seed=2)
    scores = {"logits": logits, "log-probs": logits.log_softmax(-1), "probs": logits.softmax(-1)}[kind]
    result = ctc_loss(scores, labels, input_kind=kind, input_lengths=input_lengths, reduction="none")
    assert result.losses.tolist() == pytest.approx(_oracle_losses(logits, input_lengths, labels), rel=1e-9)


def test_empty_target_is_the_all_blank_path():
    logits, _, _ = _random_batch(seed=3, N=1)
    result = ctc_loss(logits[0], [], input_kind="logits", reduction="sum")
    assert float(result.loss) == pytest.approx(-float(logits[0].log_softmax(-1)[:, 0].sum()), rel=1e-12)
    assert result.frames_needed.tolist() == [0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_equals_torch_on_a_larger_batch(dtype, reduction):
    g = torch.Generator().manual_seed(4)
    T, N, C, S = 80, 5, 20, 25
    logits = torch.randn(T, N, C, generator=g, dtype=dtype)
    targets = torch.randint(1, C, (N, S), generator=g)
    input_lengths = torch.tensor([80, 75, 60, 70, 80])
    target_lengths = torch.tensor([25, 20, 10, 0, 18])
    result = ctc_loss(logits, targets, input_kind="logits", input_lengths=input_lengths,
                      target_lengths=target_lengths, reduction=reduction, time_major=True)
    expected = F.ctc_loss(logits.log_softmax(-1), targets, input_lengths, target_lengths, reduction=reduction)
    assert torch.allclose(result.loss, expected.to(torch.float64), rtol=1e-5 if dtype == torch.float32 else 1e-12)


def _path_sum_loss(scores, kind, labels, input_lengths, reduction):
    """The loss as a plain function of the array as given (no normalisation): for finite differences."""
    lp = {"logits": lambda s: s.log_softmax(-1), "log-probs": lambda s: s, "probs": lambda s: s.log()}[kind](scores)
    losses = torch.stack([
        torch.tensor(brute_force_nll(lp[n, : int(input_lengths[n])].tolist(), labels[n]), dtype=torch.float64)
        for n in range(len(labels))
    ])
    if reduction == "mean":
        return (losses / torch.tensor([max(len(r), 1) for r in labels])).mean()
    return losses.sum()


@pytest.mark.parametrize("kind", ["logits", "log-probs", "probs"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gradient_matches_finite_differences(kind, reduction):
    logits, input_lengths, labels = _random_batch(seed=5, T=5, N=3)
    input_lengths = torch.tensor([5, 4, 5])
    scores = {"logits": logits, "log-probs": logits.log_softmax(-1), "probs": logits.softmax(-1)}[kind]
    result = ctc_loss(scores, labels, input_kind=kind, input_lengths=input_lengths, reduction=reduction,
                      compute_grad=True)
    numeric = torch.zeros_like(scores)
    step = 1e-6
    for i in range(scores.numel()):
        delta = torch.zeros(scores.numel(), dtype=scores.dtype)
        delta[i] = step
        delta = delta.view_as(scores)
        numeric.view(-1)[i] = (_path_sum_loss(scores + delta, kind, labels, input_lengths, reduction)
                               - _path_sum_loss(scores - delta, kind, labels, input_lengths, reduction)) / (2 * step)
    assert result.grad.shape == scores.shape
    assert torch.allclose(result.grad, numeric, atol=1e-6)


def test_torch_gradient_is_wrong_for_log_probs_but_ours_is_right():
    logits, input_lengths, labels = _random_batch(seed=6, N=1)
    log_probs = logits.log_softmax(-1).transpose(0, 1).clone().requires_grad_(True)  # torch's (T, N, C)
    F.ctc_loss(log_probs, torch.tensor([labels[0]]), torch.tensor([6]), torch.tensor([2]), reduction="sum").backward()
    ours = ctc_loss(log_probs.detach(), [labels[0]], input_kind="log-probs", reduction="sum", compute_grad=True,
                    time_major=True).grad
    # The true gradient w.r.t. log-probs is minus the occupancy: it sums to -1 over classes on every frame.
    assert torch.allclose(ours.sum(-1), -torch.ones(6, 1, dtype=torch.float64))
    assert not torch.allclose(log_probs.grad, ours)


def test_zeroed_utterance_has_zero_gradient():
    logits, input_lengths, labels = _random_batch(seed=7)
    input_lengths[1] = 2
    result = ctc_loss(logits, labels, input_kind="logits", input_lengths=input_lengths, zero_infinity=True,
                      compute_grad=True)
    assert torch.count_nonzero(result.grad[1]) == 0
    assert torch.count_nonzero(result.grad[0]) > 0


def test_time_major_on_request_matches_batch_first_and_keeps_layout():
    logits, input_lengths, labels = _random_batch(seed=8)
    batch_first = ctc_loss(logits, labels, input_kind="logits", input_lengths=input_lengths, compute_grad=True)
    time_major = ctc_loss(logits.transpose(0, 1), labels, input_kind="logits", input_lengths=input_lengths,
                          time_major=True, compute_grad=True)
    assert torch.allclose(time_major.losses, batch_first.losses)
    assert torch.allclose(time_major.grad, batch_first.grad.transpose(0, 1))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float64_with_a_float32_gradient(dtype):
    logits, input_lengths, labels = _random_batch(seed=9)
    half = logits.to(dtype)
    result = ctc_loss(half, labels, input_kind="logits", input_lengths=input_lengths, reduction="none",
                      compute_grad=True)
    reference = ctc_loss(half.to(torch.float64), labels, input_kind="logits", input_lengths=input_lengths,
                         reduction="none", compute_grad=True)
    assert result.losses.dtype == torch.float64
    assert torch.equal(result.losses, reference.losses)
    assert result.grad.dtype == torch.float32
    assert torch.equal(result.grad, reference.grad.to(torch.float32))


def _bad(match, scores=None, labels=([1],), **kwargs):
    scores = torch.zeros(1, 4, 3) if scores is None else scores
    kwargs.setdefault("input_kind", "logits")
    with pytest.raises(CtcToolError, match=match):
        ctc_loss(scores, list(labels), **kwargs)


def test_rejects_non_finite_values():
    scores = torch.zeros(1, 4, 3)
    scores[0, 2, 1] = float("nan")
    _bad(r"`scores` holds 1 NaN or infinite value\(s\), the first at frame 2 of utterance 0, class 1", scores)


def test_rejects_wrong_ndim():
    _bad(r"`scores`: expected shape \(T, C\) or \(B, T, C\), found 4 dimensions", torch.zeros(2, 2, 2, 2))


def test_rejects_time_major_for_one_utterance():
    _bad(r"`time_major=True` describes a batch \(T, B, C\)", torch.zeros(4, 3), time_major=True)


def test_rejects_label_equal_to_blank():
    _bad(r"utterance 0: label 0 at position 1 is the blank id", labels=([1, 0],))


def test_rejects_label_beyond_classes():
    _bad(r"utterance 0: label 3 at position 0 is outside 0..2 \(C=3 classes\)", labels=([3],))


def test_rejects_input_length_beyond_T():
    _bad(r"utterance 0: `input_lengths` 5 is outside 1..T where T=4", input_lengths=[5])


def test_rejects_wrong_number_of_label_sequences():
    _bad(r"`targets`: 2 label sequences for 1 utterances", labels=([1], [2]))


def test_rejects_non_integer_labels():
    _bad(r"`targets`: expected a list of label lists", labels=([1.0],))


def test_rejects_unnormalised_log_probs():
    _bad(r"frame 0 of utterance 0: probability mass .* is 3, expected 1 for `input_kind=log-probs`",
         input_kind="log-probs")


def test_rejects_positive_log_probs():
    _bad(r"`input_kind=log-probs` needs values <= 0", torch.ones(1, 4, 3), input_kind="log-probs")


def test_rejects_probs_outside_unit_interval():
    _bad(r"`input_kind=probs` needs values in \[0, 1\]", torch.full((1, 4, 3), 2.0), input_kind="probs")


def test_rejects_unnormalised_probs():
    _bad(r"sum of probabilities is 1.5, expected 1", torch.full((1, 4, 3), 0.5), input_kind="probs")


def test_rejects_empty_scores():
    _bad(r"expected at least 1 utterance, 1 frame and 2 classes \(B, T, C\), found \(1, 0, 3\)",
         torch.zeros(1, 0, 3))


def test_rejects_unknown_input_kind():
    _bad(r"`input_kind` 'softmax': expected one of logits, log-probs, probs", input_kind="softmax")


def test_rejects_blank_outside_classes():
    _bad(r"`blank` 3 is outside the 3 classes", blank=3)


# -- impossible targets: inf and a reason, never a silent 0 ------------------------------------------


def _probs_with_zero_label():
    """(2, 5, 3) probs: class 2 has probability exactly 0 on every frame of utterance 0 only."""
    g = torch.Generator().manual_seed(11)
    probs = torch.rand(2, 5, 3, generator=g, dtype=torch.float64) + 0.1
    probs[0, :, 2] = 0.0
    return probs / probs.sum(-1, keepdim=True)


def test_zero_probability_label_is_infeasible_with_its_reason():
    probs = _probs_with_zero_label()
    result = ctc_loss(probs, [[1, 2], [1, 2]], input_kind="probs", reduction="none", compute_grad=True)
    assert result.losses[0] == math.inf and math.isfinite(float(result.losses[1]))
    assert result.feasible.tolist() == [False, True] and result.zeroed.tolist() == [False, False]
    assert result.reasons == ("label 2 (position 1) has probability 0 on every frame", "")
    assert brute_force_nll(probs[0].log().tolist(), [1, 2]) == math.inf  # the oracle agrees
    assert torch.count_nonzero(result.grad[0]) == 0 and bool(torch.isfinite(result.grad).all())


def test_torch_reports_zero_for_that_target_under_zero_infinity_but_we_report_zeroed():
    probs = _probs_with_zero_label()[:1]
    torch_loss = F.ctc_loss(probs.log().transpose(0, 1), torch.tensor([[1, 2]]), torch.tensor([5]),
                            torch.tensor([2]), zero_infinity=True, reduction="sum")
    assert float(torch_loss) == 0.0  # the silent perfect loss this library never gives
    result = ctc_loss(probs, [[1, 2]], input_kind="probs", reduction="sum", zero_infinity=True)
    assert float(result.loss) == 0.0 and result.zeroed.tolist() == [True] and result.feasible.tolist() == [False]


def test_zero_probabilities_on_some_frames_keep_the_loss_finite_and_exact():
    probs = _probs_with_zero_label()[1:].clone()
    probs[0, 0, 2] = 0.0
    probs[0, 3, 1] = 0.0
    probs = probs / probs.sum(-1, keepdim=True)
    result = ctc_loss(probs, [[1, 2]], input_kind="probs", reduction="sum", compute_grad=True)
    assert float(result.loss) == pytest.approx(brute_force_nll(probs[0].log().tolist(), [1, 2]), rel=1e-12)
    # d loss / d p at p = 0 is finite; check it against a one-sided difference of the path sum
    step = 1e-7
    for t, c in ((0, 2), (3, 1)):
        moved = probs.clone()
        moved[0, t, c] += step
        numeric = (brute_force_nll(moved[0].log().tolist(), [1, 2]) - float(result.loss)) / step
        assert float(result.grad[0, t, c]) == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_every_path_through_a_zero_is_infeasible_with_the_general_reason():
    probs = torch.full((1, 2, 3), 1 / 3, dtype=torch.float64)
    probs[0, 0] = torch.tensor([0.5, 0.0, 0.5])  # label 1 only possible on frame 1, label 2 only on frame 0
    probs[0, 1] = torch.tensor([0.5, 0.5, 0.0])
    result = ctc_loss(probs, [[1, 2]], input_kind="probs", reduction="none")
    assert result.losses.tolist() == [math.inf]
    assert result.reasons == ("every path of the target passes a frame where its label has probability 0",)


def test_too_few_frames_names_the_frames_missing():
    result = ctc_loss(torch.zeros(1, 4, 3), [[1, 1, 1]], input_kind="logits", reduction="none", compute_grad=True)
    assert result.reasons == ("3 labels with 2 repeats need 5 frames, the input has 4 (1 missing)",)
    assert torch.count_nonzero(result.grad) == 0  # documented: 0 for an utterance whose loss is inf


@pytest.mark.parametrize("extreme", [-1e30, -1e38, -1e300])
@pytest.mark.parametrize("kind", ["logits", "log-probs"])
def test_extreme_scores_give_finite_gradients(extreme, kind):
    g = torch.Generator().manual_seed(12)
    logits = torch.randn(3, 8, 4, generator=g, dtype=torch.float64)
    logits[0, :, 2] = extreme  # a needed label, almost impossible
    logits[1, :4, 3] = extreme
    logits[2, 2, 1] = -extreme  # one huge logit
    scores = logits.log_softmax(-1) if kind == "log-probs" else logits
    result = ctc_loss(scores, [[1, 2], [3, 1], [1, 1, 2]], input_kind=kind, reduction="mean", compute_grad=True)
    assert bool(torch.isfinite(result.grad).all())
    assert bool(torch.isfinite(result.losses).all())  # -1e30 is tiny, not 0: the loss is huge but finite
    # the occupancy of each frame sums to 1, so a logit gradient row sums to 0
    if kind == "logits":
        assert torch.allclose(result.grad.sum(-1), torch.zeros(3, 8, dtype=torch.float64), atol=1e-12)


def test_float32_logits_of_1e38_give_finite_gradients():
    logits = torch.zeros(2, 6, 4)
    logits[0, :, 2] = -3e38
    logits[1, :, 1] = 3e38
    result = ctc_loss(logits, [[1, 2], [3]], input_kind="logits", reduction="sum", compute_grad=True)
    assert result.grad.dtype == torch.float32 and bool(torch.isfinite(result.grad).all())


@cuda_only
def test_cuda_matches_cpu():
    g = torch.Generator().manual_seed(10)
    logits = torch.randn(4, 100, 29, generator=g)
    labels = [torch.randint(1, 29, (n,), generator=g).tolist() for n in (30, 10, 0, 45)]
    cpu = ctc_loss(logits, labels, input_kind="logits", reduction="none", compute_grad=True)
    gpu = ctc_loss(logits.cuda(), labels, input_kind="logits", reduction="none", compute_grad=True)
    torch.testing.assert_close(gpu.losses.cpu(), cpu.losses, rtol=1e-12, atol=1e-12)  # both float64
    torch.testing.assert_close(gpu.grad.cpu(), cpu.grad, rtol=1e-5, atol=1e-6)


def test_targets_as_a_list_of_tensors_equal_a_list_of_lists():
    logits, input_lengths, labels = _random_batch(seed=13)
    as_lists = ctc_loss(logits, labels, input_kind="logits", input_lengths=input_lengths, reduction="none")
    as_tensors = ctc_loss(logits, [torch.tensor(r) for r in labels], input_kind="logits",
                          input_lengths=input_lengths, reduction="none")
    assert torch.equal(as_lists.losses, as_tensors.losses)


@pytest.mark.parametrize("targets, kwargs, match", [
    (None, {}, r"`targets`: expected a list of label lists or 1-D integer tensors"),
    (3, {}, r"`targets`: expected a list of label lists or 1-D integer tensors"),
    ([[1]], {"input_lengths": "ab"}, r"`input_lengths`: expected 1 integers \(one per utterance\), found str"),
    (torch.tensor([[1]]), {"target_lengths": [True]}, r"`target_lengths`: expected 1 integers .* bool"),
    (torch.tensor(1), {"target_lengths": [1]}, r"`targets`: expected 1 or 2 dimensions, found shape \(\)"),
])
def test_rejects_malformed_targets_and_lengths(targets, kwargs, match):
    with pytest.raises(CtcToolError, match=match):
        ctc_loss(torch.zeros(1, 4, 3), targets, input_kind="logits", **kwargs)


def test_rejects_float8_scores():
    _bad(r"`scores`: expected float16, bfloat16, float32 or float64 values, found float8_e4m3fn",
         torch.zeros(1, 4, 3).to(torch.float8_e4m3fn))
