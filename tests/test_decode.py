"""Greedy and prefix beam search against brute-force enumeration and the CTC loss."""

import math

import pytest
import torch

from ctctool import CtcToolError, ctc_loss
from ctctool.decoding.beam import beam_search
from ctctool.decoding.greedy import greedy_decode
from helpers import cuda_only
from oracles import collapse, label_log_probs


KERNELS = ["numba", "torch"]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("seed", range(15))
def test_unpruned_beam_finds_the_most_probable_labels(seed, kernel):
    g = torch.Generator().manual_seed(seed)
    T, C = (6, 3) if seed % 2 else (5, 3)
    lp = (torch.randn(T, C, generator=g, dtype=torch.float64) * 2).log_softmax(-1)
    truth = label_log_probs(lp.tolist())
    ranked = sorted(truth, key=truth.get, reverse=True)
    (hypotheses,) = beam_search(lp, beam_width=1000, nbest=3, token_min_log_prob=-math.inf, kernel=kernel)
    assert [h.labels for h in hypotheses] == ranked[:3]
    assert [h.acoustic_score for h in hypotheses] == pytest.approx([truth[r] for r in ranked[:3]], abs=1e-10)
    best = hypotheses[0]
    loss = ctc_loss(lp, list(best.labels), input_kind="log-probs", reduction="sum")
    assert best.score == pytest.approx(-float(loss.loss), abs=1e-9)


def test_greedy_is_argmax_then_collapse():
    g = torch.Generator().manual_seed(1)
    lp = torch.randn(3, 40, 5, generator=g).log_softmax(-1)
    lengths = [40, 31, 7]
    decoded = greedy_decode(lp, lengths)
    for b, T_b in enumerate(lengths):
        best = [max(range(5), key=lambda c: float(lp[b, t, c])) for t in range(T_b)]
        assert decoded[b] == list(collapse(best))


@pytest.mark.parametrize("kernel", KERNELS)
def test_batched_beam_search_equals_one_by_one(kernel):
    g = torch.Generator().manual_seed(2)
    lp = torch.randn(3, 30, 6, generator=g).log_softmax(-1)
    lengths = [30, 22, 9]
    batched = beam_search(lp, beam_width=6, nbest=2, input_lengths=lengths, kernel=kernel)
    for b, T_b in enumerate(lengths):
        assert batched[b] == beam_search(lp[b, :T_b], beam_width=6, nbest=2, kernel=kernel)[0]


@pytest.mark.parametrize("seed", range(6))
def test_torch_kernel_equals_numba_kernel_with_pruning(seed):
    g = torch.Generator().manual_seed(seed)
    lp = (torch.randn(4, 80, 12, generator=g) * 3).log_softmax(-1)
    options = dict(beam_width=5 + 3 * seed, nbest=4, input_lengths=[80, 61, 33, 2], token_min_log_prob=-6.0)
    for ours, theirs in zip(beam_search(lp, kernel="torch", **options), beam_search(lp, kernel="numba", **options)):
        assert [h.labels for h in ours] == [h.labels for h in theirs]
        assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], abs=1e-9)


@pytest.mark.parametrize("beam_width", [3, 6, 12, 40])
def test_torch_kernel_equals_numba_kernel_when_the_beam_has_empty_slots(beam_width):
    # peaked frames and hard token pruning leave fewer live prefixes than slots; an empty slot must
    # never take part in a merge
    for seed in range(60):
        lp = (torch.randn(2, 7, 4, generator=torch.Generator().manual_seed(seed)) * 4).log_softmax(-1)
        options = dict(beam_width=beam_width, nbest=3, token_min_log_prob=-2.0)
        for ours, theirs in zip(beam_search(lp, kernel="torch", **options), beam_search(lp, kernel="numba", **options)):
            assert [h.labels for h in ours] == [h.labels for h in theirs], seed
            assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], abs=1e-9)


@pytest.mark.parametrize("kernel", KERNELS)
def test_nbest_texts_are_distinct_and_sorted(kernel):
    lp = torch.randn(40, 6, generator=torch.Generator().manual_seed(3)).log_softmax(-1)
    (hypotheses,) = beam_search(lp, beam_width=16, nbest=8, kernel=kernel)
    assert len({h.labels for h in hypotheses}) == 8
    assert [h.score for h in hypotheses] == sorted((h.score for h in hypotheses), reverse=True)


@pytest.mark.parametrize("kernel", KERNELS)
def test_pruned_scores_are_lower_bounds_of_the_true_label_probability(kernel):
    lp = torch.randn(60, 8, generator=torch.Generator().manual_seed(4)).log_softmax(-1)
    for hypothesis in beam_search(lp, beam_width=4, nbest=4, kernel=kernel)[0]:
        true = -float(ctc_loss(lp, list(hypothesis.labels), input_kind="log-probs", reduction="sum").loss)
        assert hypothesis.acoustic_score <= true + 1e-9


def test_rejects_bad_beam_width():
    with pytest.raises(CtcToolError, match=r"^`beam_width` 0: expected a whole number from 1 to 4096$"):
        beam_search(torch.zeros(3, 3).log_softmax(-1), beam_width=0)


def test_error_torch_kernel_with_hotwords():
    with pytest.raises(CtcToolError, match=r"^the torch beam search has no LM, hotwords or beta; use `kernel=numba` "
                                           r"\(or `kernel=auto`\)$"):
        beam_search(torch.zeros(3, 31).log_softmax(-1), kernel="torch", hotwords={"dog": 2.0})


def test_error_unknown_kernel():
    with pytest.raises(CtcToolError, match=r"^`kernel` 'cuda': expected 'auto', 'numba' or 'torch'$"):
        beam_search(torch.zeros(3, 3).log_softmax(-1), kernel="cuda")


@cuda_only
@pytest.mark.parametrize("kernel", ["auto", "numba"])
def test_cuda_greedy_and_beam_equal_cpu(kernel):
    g = torch.Generator().manual_seed(7)
    lp = torch.randn(4, 300, 31, generator=g).log_softmax(-1)
    lengths = [300, 250, 120, 31]
    assert greedy_decode(lp.cuda(), lengths) == greedy_decode(lp, lengths)
    on_gpu = beam_search(lp.cuda(), beam_width=8, nbest=2, input_lengths=lengths, kernel=kernel)
    on_cpu = beam_search(lp, beam_width=8, nbest=2, input_lengths=lengths, kernel="numba")
    for gpu, cpu in zip(on_gpu, on_cpu):
        assert [h.labels for h in gpu] == [h.labels for h in cpu]
        assert [h.score for h in gpu] == pytest.approx([h.score for h in cpu], abs=1e-9)
