"""CTC loss with validation, a feasibility report and exact, always-finite gradients.

Shapes: B utterances, T frames, C classes (blank included), L one utterance's target
length, L_max the padded target width.

The loss of an utterance is -ln of the sum, over every CTC path of its target, of the
product of the scores along the path, taken as given: logits go through log_softmax,
log-probs and probs are used as they are (a row that does not sum to 1 is an error, so
in practice they are normalised). The forward-backward runs in float64 in
``ctctool.kernels`` (numba on the CPU, torch elsewhere), so that:

* a target no path can produce -- too few frames, or a label with probability exactly 0
  where every path needs it -- has loss ``inf`` and is reported as infeasible with the
  reason; ``zero_infinity`` turns its loss into 0 and says so (``zeroed``), never silently;
* gradients are finite for every finite loss, even for logits of -1e30 or probabilities
  of exactly 0, because the state occupancy is normalised frame by frame; an utterance
  whose loss is ``inf`` gets a gradient of 0.

Gradients are with respect to the scores as given: for logits ``w * (softmax - gamma)``,
for log-probs ``-w * gamma``, for probs ``-w * (1/P) dP/dp`` (finite where p = 0), where
``gamma`` is the state occupancy and ``w`` the weight of the utterance in the reduction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import torch

from ctctool import _checks
from ctctool.errors import CtcToolError

InputKind = Literal["logits", "log-probs", "probs"]
Reduction = Literal["none", "mean", "sum"]
INPUT_KINDS = _checks.INPUT_KINDS
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


@dataclass(frozen=True)
class CtcLossResult:
    """Losses of B utterances and their reduction.

    Attributes:
        loss: the reduced loss (float64): a scalar for ``mean``/``sum``, (B,) for ``none``.
        losses: (B,) float64 per-utterance negative log-likelihood; ``inf`` when infeasible,
            0 when zeroed by ``zero_infinity``.
        input_lengths: (B,) frames used per utterance.
        target_lengths: (B,) labels per utterance (L).
        frames_needed: (B,) L + adjacent repeats: the fewest frames that fit the target.
        feasible: (B,) bool: some path of the target has a non-zero probability.
        zeroed: (B,) bool, infeasible losses set to 0 by ``zero_infinity``.
        reasons: (B,) why each infeasible utterance is infeasible ("" when feasible).
        grad: gradient of the reduced loss (of the sum of losses for ``none``) with respect
            to the scores as given, same shape and layout; 0 for infeasible utterances; None
            unless asked for.
    """

    loss: torch.Tensor
    losses: torch.Tensor
    input_lengths: torch.Tensor
    target_lengths: torch.Tensor
    frames_needed: torch.Tensor
    feasible: torch.Tensor
    zeroed: torch.Tensor
    reasons: tuple[str, ...]
    grad: torch.Tensor | None = None


def frames_needed(labels: Sequence[int] | torch.Tensor) -> int:
    """Fewest frames a CTC path of ``labels`` needs: L plus one blank per adjacent repeat."""
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(1, -1)
    return int(_checks.frames_needed(labels, torch.tensor([labels.shape[1]]))[0])


def ctc_loss(
    scores: torch.Tensor,
    targets: torch.Tensor | Sequence[int] | Sequence[Sequence[int]],
    *,
    input_kind: InputKind,
    input_lengths: torch.Tensor | Sequence[int] | None = None,
    target_lengths: torch.Tensor | Sequence[int] | None = None,
    blank: int = 0,
    reduction: Reduction = "mean",
    zero_infinity: bool = False,
    time_major: bool = False,
    compute_grad: bool = False,
) -> CtcLossResult:
    """CTC loss of ``targets`` under ``scores``, validated, with an optional exact gradient.

    Args:
        scores: (T, C) one utterance or (B, T, C) a batch; (T, B, C), torch's layout, only
            with ``time_major=True``. Any float dtype; computed in float64 on its device.
        targets: (L,) labels for a (T, C) input; for a batch, a list of B label lists, or a
            padded (B, L_max) or concatenated (sum L,) tensor with ``target_lengths``.
        input_kind: what ``scores`` holds: ``logits`` (log_softmax is applied),
            ``log-probs`` (rows must log-sum-exp to 0) or ``probs`` (rows sum to 1; zeros allowed).
        input_lengths: (B,) frames per utterance, 1..T; default T for all.
        target_lengths: (B,) labels per utterance; required with tensor targets for a batch.
        reduction: ``none``, ``sum``, or ``mean`` (each loss divided by its target length,
            at least 1, then averaged), as in torch.
        zero_infinity: report infeasible losses as 0 (``zeroed``) instead of ``inf``.
        compute_grad: also return ``grad`` (see ``CtcLossResult``). Magnitudes beyond the
            largest finite value of the output dtype saturate there.
    """
    if reduction not in REDUCTIONS:
        raise CtcToolError(f"`reduction` {reduction!r}: expected one of {', '.join(REDUCTIONS)}")
    x, single = _checks.batched(scores, name="scores", time_major=time_major)
    _checks.check_nonempty(x, "scores")
    B, T, C = x.shape
    _checks.check_blank(blank, C)
    in_lens = _checks.input_lengths(input_lengths, B, T, x.device)
    padded, tgt_lens = _checks.padded_targets(targets, target_lengths, B, x.device)
    _checks.check_labels(padded, tgt_lens, blank, C)
    _checks.check_finite(x, "scores")
    _checks.check_normalised(x, in_lens, input_kind, "scores")

    values = x.detach().to(torch.float64)
    if input_kind == "logits":
        values = values.log_softmax(-1)
    elif input_kind == "probs":
        values = values.log()  # exact zeros become -inf: probability 0
    wrt = None if not compute_grad else "probs" if input_kind == "probs" else "log_probs"
    log_likelihood, kernel_grad = _forward_backward(values, in_lens, padded, tgt_lens, blank, wrt)
    feasible = log_likelihood > -torch.inf
    needed = _checks.frames_needed(padded, tgt_lens)
    fill = 0.0 if zero_infinity else torch.inf
    losses = torch.where(feasible, -log_likelihood, torch.full_like(log_likelihood, fill))
    if reduction == "none":
        reduced = losses
    elif reduction == "sum":
        reduced = losses.sum()
    else:
        reduced = (losses / tgt_lens.clamp(min=1).to(losses.dtype)).mean()
    grad = None
    if compute_grad:
        weights = _reduction_weights(reduction, tgt_lens, B) * feasible
        grad = kernel_grad * weights[:, None, None]
        if input_kind == "logits":
            frame_mask = torch.arange(T, device=x.device)[None, :] < in_lens[:, None]
            grad = grad + values.exp() * (weights[:, None] * frame_mask)[:, :, None]
        grad = _saturated(grad, x.dtype)
        grad = grad[0] if single else grad.transpose(0, 1).contiguous() if time_major else grad
    return CtcLossResult(
        loss=reduced, losses=losses, input_lengths=in_lens, target_lengths=tgt_lens, frames_needed=needed,
        feasible=feasible, zeroed=~feasible & zero_infinity,
        reasons=_reasons(values, in_lens, padded, tgt_lens, needed, feasible), grad=grad,
    )


def _forward_backward(values, in_lens, padded, tgt_lens, blank, wrt):
    """The kernel for the values' device: numba on the CPU, vectorised torch elsewhere (same numbers)."""
    if values.device.type == "cpu":
        from ctctool.kernels.ctc_numba import ctc_forward_backward
    else:
        from ctctool.kernels.ctc_torch import ctc_forward_backward
    return ctc_forward_backward(values, in_lens, padded, tgt_lens, blank, wrt)


def _reasons(values, in_lens, padded, tgt_lens, needed, feasible) -> tuple[str, ...]:
    """Why each infeasible utterance has no path: frames missing, or labels of probability 0."""
    reasons = []
    for b in (~feasible).nonzero().flatten().tolist() if not bool(feasible.all()) else []:
        frames, length, need = int(in_lens[b]), int(tgt_lens[b]), int(needed[b])
        if frames < need:
            reasons.append((b, f"{length} labels with {need - length} repeats need {need} frames, the input has "
                               f"{frames} ({need - frames} missing)"))
            continue
        labels = padded[b, :length]
        never = torch.isneginf(values[b, :frames, labels]).all(dim=0)  # (L,) label with probability 0 throughout
        if bool(never.any()):
            j = int(never.nonzero()[0, 0])
            reasons.append((b, f"label {int(labels[j])} (position {j}) has probability 0 on every frame"))
        else:
            reasons.append((b, "every path of the target passes a frame where its label has probability 0"))
    by_utterance = dict(reasons)
    return tuple(by_utterance.get(b, "") for b in range(values.shape[0]))


def _reduction_weights(reduction: str, tgt_lens: torch.Tensor, B: int) -> torch.Tensor:
    """d(reduced loss) / d(loss of each utterance), (B,) float64."""
    if reduction == "mean":
        return 1.0 / (tgt_lens.clamp(min=1).to(torch.float64) * B)
    return torch.ones(B, dtype=torch.float64, device=tgt_lens.device)


def _saturated(grad: torch.Tensor, scores_dtype: torch.dtype) -> torch.Tensor:
    """``grad`` in the scores' dtype (float32 for half types), clamped to that dtype's finite range."""
    dtype = scores_dtype if scores_dtype in (torch.float32, torch.float64) else torch.float32
    largest = torch.finfo(dtype).max
    return grad.clamp(-largest, largest).to(dtype)
