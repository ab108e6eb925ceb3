"""CTC loss with validation, feasibility report and exact gradients.

Shapes: T frames, N utterances, C classes (blank included), S padded target
length, L one utterance's target length.

The loss is ``torch.nn.functional.ctc_loss``. What this module adds:

* validation that torch skips (labels equal to blank or >= C, lengths, finite values,
  normalised rows for log-probs and probs);
* the feasibility of every utterance: a target of L labels with R adjacent repeats
  needs at least L + R frames;
* the gradient with respect to the array as given. torch's CTC gradient is only
  right with respect to logits when ``log_softmax`` is in the graph. Here the array is
  always passed through ``log_softmax``; its gradient is ``w * (softmax - gamma)``
  where ``gamma`` is the state occupancy and ``w`` the weight of the utterance in
  the reduction. ``gamma`` does not change when a row of scores is shifted, so the
  gradient with respect to log-probs is ``-w * gamma`` and with respect to probs
  ``-w * gamma / probs``, whatever the row sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import torch
import torch.nn.functional as F

from ctctool.errors import CtcToolError

InputKind = Literal["logits", "log-probs", "probs"]
Reduction = Literal["none", "mean", "sum"]
INPUT_KINDS: tuple[str, ...] = ("logits", "log-probs", "probs")
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")
#: Largest |logsumexp(row)| accepted for log-probs (and |log(sum(row))| for probs).
ROW_SUM_TOLERANCE = {torch.float16: 2e-2, torch.bfloat16: 5e-2, torch.float32: 1e-3, torch.float64: 1e-6}


@dataclass(frozen=True)
class CtcLossResult:
    """Losses of N utterances and their reduction.

    Attributes:
        loss: the reduced loss: a scalar for ``mean``/``sum``, (N,) for ``none``.
        losses: (N,) per-utterance negative log-likelihood; ``inf`` when infeasible,
            0 when zeroed by ``zero_infinity``.
        input_lengths: (N,) frames used per utterance.
        target_lengths: (N,) labels per utterance (L).
        frames_needed: (N,) L + adjacent repeats: the fewest frames that fit the target.
        feasible: (N,) bool, ``input_lengths >= frames_needed``.
        zeroed: (N,) bool, infeasible losses set to 0 by ``zero_infinity``.
        grad: gradient of the reduced loss (of the sum of losses for ``none``) with
            respect to the scores as given, same shape and layout, or None.
    """

    loss: torch.Tensor
    losses: torch.Tensor
    input_lengths: torch.Tensor
    target_lengths: torch.Tensor
    frames_needed: torch.Tensor
    feasible: torch.Tensor
    zeroed: torch.Tensor
    grad: torch.Tensor | None = None


def frames_needed(labels: Sequence[int] | torch.Tensor) -> int:
    """Fewest frames a CTC path of ``labels`` needs: L plus one blank per adjacent repeat."""
    labels = torch.as_tensor(labels)
    repeats = int((labels[1:] == labels[:-1]).sum()) if labels.numel() > 1 else 0
    return int(labels.numel()) + repeats


def ctc_loss(
    scores: torch.Tensor,
    targets: torch.Tensor | Sequence[Sequence[int]],
    *,
    input_kind: InputKind,
    input_lengths: torch.Tensor | Sequence[int] | None = None,
    target_lengths: torch.Tensor | Sequence[int] | None = None,
    blank: int = 0,
    reduction: Reduction = "mean",
    zero_infinity: bool = False,
    batch_first: bool = False,
    compute_grad: bool = False,
) -> CtcLossResult:
    """CTC loss of ``targets`` under ``scores``, validated, with an optional exact gradient.

    Args:
        scores: (T, C) one utterance, (T, N, C), or (N, T, C) with ``batch_first``;
            float16/bfloat16/float32 are computed in float32, float64 in float64.
        targets: padded (N, S) with ``target_lengths``, concatenated (sum L,) with
            ``target_lengths``, (L,) for a (T, C) input, or a list of N label lists.
        input_kind: what ``scores`` holds: ``logits`` (log_softmax is applied),
            ``log-probs`` (rows must log-sum-exp to 0) or ``probs`` (rows sum to 1).
        input_lengths: (N,) frames per utterance, 1..T; default T for all.
        target_lengths: (N,) labels per utterance; required for tensor targets of N > 1.
        reduction: ``none``, ``sum``, or ``mean`` (each loss divided by its target
            length, at least 1, then averaged), as in torch.
        zero_infinity: set the loss (and gradient) of infeasible utterances to 0.
        compute_grad: also return ``grad`` (see CtcLossResult).
    """
    if input_kind not in INPUT_KINDS:
        raise CtcToolError(f"input kind {input_kind!r}: expected one of {', '.join(INPUT_KINDS)}")
    if reduction not in REDUCTIONS:
        raise CtcToolError(f"reduction {reduction!r}: expected one of {', '.join(REDUCTIONS)}")
    x, restore = _to_time_major(scores, batch_first)
    T, N, C = x.shape
    if not 0 <= blank < C:
        raise CtcToolError(f"blank id {blank} is outside the {C} classes of the scores (ids 0 to {C - 1})")
    in_lens = _input_lengths(input_lengths, N, T, x.device)
    if scores.dim() == 2 and not isinstance(targets, torch.Tensor) and all(isinstance(v, int) for v in targets):
        targets = [list(targets)]  # (L,) labels of the single utterance
    padded, tgt_lens = _padded_targets(targets, target_lengths, N, x.device)
    _check_labels(padded, tgt_lens, blank, C)
    _check_values(x, in_lens, input_kind)

    needed = _frames_needed_batch(padded, tgt_lens)
    feasible = in_lens >= needed
    if compute_grad and input_kind == "probs" and bool((x == 0).any()):
        raise CtcToolError(
            "scores hold probabilities equal to 0, where the gradient with respect to probs is undefined; "
            "pass logits (or log-probs) instead to get a gradient"
        )
    if compute_grad and not zero_infinity and not bool(feasible.all()):
        first = int((~feasible).nonzero()[0, 0])
        raise CtcToolError(
            f"utterance {first} is infeasible (its loss is inf), so the gradient is undefined; "
            "pass --zero-infinity to zero infeasible losses and their gradients"
        )

    compute_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    values = x.detach().to(compute_dtype)
    if input_kind == "probs":
        values = values.log()
    leaf = values.clone().requires_grad_(compute_grad)
    with torch.set_grad_enabled(compute_grad):
        normalised = F.log_softmax(leaf, dim=-1)
        raw = F.ctc_loss(normalised, padded, in_lens, tgt_lens, blank=blank, reduction="none", zero_infinity=True)
        # Undo the row shift of log_softmax for log-probs and probs: each path has one
        # score per frame, so the loss moves by the sum of the row log-sum-exps.
        if input_kind != "logits":
            row_lse = torch.logsumexp(values, dim=-1)  # (T, N)
            frame_mask = torch.arange(T, device=x.device)[:, None] < in_lens[None, :]
            shift = (row_lse * frame_mask).sum(dim=0)
        else:
            shift = torch.zeros_like(raw)
        weights = _reduction_weights(reduction, tgt_lens, N, compute_dtype) * feasible
        grad = None
        if compute_grad:
            (raw * weights).sum().backward()
            grad = leaf.grad
            if input_kind != "logits":
                grad = grad - normalised.detach().exp() * (weights[None, :, None] * frame_mask[:, :, None])
            if input_kind == "probs":
                grad = grad / values.exp()
            grad = restore(grad.to(x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32))

    fill = 0.0 if zero_infinity else float("inf")
    losses = torch.where(feasible, raw.detach() - shift.detach(), torch.full_like(raw, fill))
    if reduction == "none":
        reduced = losses
    elif reduction == "sum":
        reduced = losses.sum()
    else:
        reduced = (losses / tgt_lens.clamp(min=1).to(losses.dtype)).mean()
    return CtcLossResult(
        loss=reduced,
        losses=losses,
        input_lengths=in_lens,
        target_lengths=tgt_lens,
        frames_needed=needed,
        feasible=feasible,
        zeroed=~feasible & zero_infinity,
        grad=grad,
    )


def log_probs_from(scores: torch.Tensor, input_kind: InputKind, *, name: str = "scores") -> torch.Tensor:
    """Validated log-probs of (T, C) or (T, N, C) ``scores`` (float64 stays float64, else float32)."""
    if input_kind not in INPUT_KINDS:
        raise CtcToolError(f"input kind {input_kind!r}: expected one of {', '.join(INPUT_KINDS)}")
    x, restore = _to_time_major(scores, batch_first=False)
    try:
        _check_values(x, torch.full((x.shape[1],), x.shape[0], device=x.device), input_kind)
    except CtcToolError as exc:
        raise CtcToolError(f"{name}: {exc}".replace(f"{name}: scores", name)) from None
    values = x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)
    if input_kind == "logits":
        values = values.log_softmax(-1)
    elif input_kind == "probs":
        values = values.clamp(min=torch.finfo(values.dtype).tiny).log()  # a probability of 0 -> about -87
    return restore(values)


def _to_time_major(scores: torch.Tensor, batch_first: bool):
    """(T, N, C) view of ``scores`` and a function that puts a (T, N, C) tensor back."""
    if not isinstance(scores, torch.Tensor):
        raise CtcToolError(f"scores: expected a torch.Tensor, found {type(scores).__name__}")
    if not scores.is_floating_point():
        raise CtcToolError(f"scores: expected floating-point values, found {str(scores.dtype).replace('torch.', '')}")
    if scores.dim() == 2:
        return scores.unsqueeze(1), lambda t: t.squeeze(1)
    if scores.dim() == 3:
        if batch_first:
            return scores.transpose(0, 1), lambda t: t.transpose(0, 1).contiguous()
        return scores, lambda t: t
    raise CtcToolError(
        f"scores: expected 2 dimensions (T, C) or 3 dimensions (T, N, C), found {scores.dim()} "
        f"with shape {tuple(scores.shape)}"
    )


def _input_lengths(input_lengths, N: int, T: int, device) -> torch.Tensor:
    if input_lengths is None:
        return torch.full((N,), T, dtype=torch.long, device=device)
    lens = torch.as_tensor(input_lengths).to(device=device)
    if lens.is_floating_point() or lens.dim() != 1 or lens.numel() != N:
        raise CtcToolError(f"input lengths: expected {N} integers (one per utterance), found shape {tuple(lens.shape)} {lens.dtype}")
    lens = lens.long()
    bad = ((lens < 1) | (lens > T)).nonzero()
    if bad.numel():
        n = int(bad[0, 0])
        raise CtcToolError(f"utterance {n}: input length {int(lens[n])} is outside 1..T where T={T} frames")
    return lens


def _padded_targets(targets, target_lengths, N: int, device):
    """(N, S) int64 padded targets and (N,) lengths from any accepted target form."""
    if not isinstance(targets, torch.Tensor):
        rows = [list(map(int, row)) for row in targets]
        if len(rows) != N:
            raise CtcToolError(f"targets: {len(rows)} label sequences for {N} utterances; expected one per utterance")
        width = max(1, max((len(row) for row in rows), default=0))
        padded = torch.tensor([row + [0] * (width - len(row)) for row in rows], dtype=torch.long)
        lengths = torch.tensor([len(row) for row in rows], dtype=torch.long)
        return padded.to(device), lengths.to(device)
    if targets.is_floating_point():
        raise CtcToolError(f"targets: expected integer labels, found {targets.dtype}")
    targets = targets.to(device=device, dtype=torch.long)
    if target_lengths is None:
        if targets.dim() == 1 and N == 1:
            return targets.unsqueeze(0), torch.tensor([targets.numel()], device=device)
        raise CtcToolError("targets: target_lengths is required for a batch of tensor targets")
    lengths = torch.as_tensor(target_lengths).to(device=device)
    if lengths.is_floating_point() or lengths.dim() != 1 or lengths.numel() != N:
        raise CtcToolError(f"target lengths: expected {N} integers (one per utterance), found shape {tuple(lengths.shape)}")
    lengths = lengths.long()
    if bool((lengths < 0).any()):
        raise CtcToolError(f"utterance {int((lengths < 0).nonzero()[0, 0])}: negative target length")
    if targets.dim() == 2:
        if targets.shape[0] != N:
            raise CtcToolError(f"targets: padded targets have {targets.shape[0]} rows for {N} utterances")
        if bool((lengths > targets.shape[1]).any()):
            n = int((lengths > targets.shape[1]).nonzero()[0, 0])
            raise CtcToolError(f"utterance {n}: target length {int(lengths[n])} exceeds the padded width S={targets.shape[1]}")
        return targets, lengths
    if targets.dim() == 1:
        total = int(lengths.sum())
        if total != targets.numel():
            raise CtcToolError(f"targets: concatenated targets hold {targets.numel()} labels but target lengths add up to {total}")
        width = max(1, int(lengths.max()) if N else 1)
        positions = torch.arange(width, device=device)
        valid = positions[None, :] < lengths[:, None]
        padded = torch.zeros((N, width), dtype=torch.long, device=device)
        padded[valid] = targets
        return padded, lengths
    raise CtcToolError(f"targets: expected 1 or 2 dimensions, found shape {tuple(targets.shape)}")


def _check_labels(padded: torch.Tensor, lengths: torch.Tensor, blank: int, C: int) -> None:
    valid = torch.arange(padded.shape[1], device=padded.device)[None, :] < lengths[:, None]
    bad = valid & ((padded == blank) | (padded < 0) | (padded >= C))
    if bool(bad.any()):
        n, j = (int(v) for v in bad.nonzero()[0])
        label = int(padded[n, j])
        reason = "is the blank id" if label == blank else f"is outside 0..{C - 1} (C={C} classes)"
        raise CtcToolError(f"utterance {n}: label {label} at position {j} {reason}; targets hold non-blank ids below C")


def _check_values(x: torch.Tensor, in_lens: torch.Tensor, input_kind: str) -> None:
    finite = torch.isfinite(x)
    if not bool(finite.all()):
        t, n, c = (int(v) for v in (~finite).nonzero()[0])
        count = int((~finite).sum())
        raise CtcToolError(f"scores hold {count} NaN or infinite values, the first at frame {t} of utterance {n}, class {c}; scores must be finite")
    if input_kind == "logits":
        return
    T = x.shape[0]
    frame_mask = torch.arange(T, device=x.device)[:, None] < in_lens[None, :]
    values = x.to(torch.float64)
    if input_kind == "probs":
        if bool((values < 0).any()) or bool((values > 1).any()):
            raise CtcToolError("scores: --input-kind probs needs values in [0, 1]; these look like logits or log-probs, so pass --input-kind logits or log-probs")
        row_error = values.sum(-1).log().abs()
    else:
        if bool((values > ROW_SUM_TOLERANCE[x.dtype]).any()):
            raise CtcToolError("scores: --input-kind log-probs needs values <= 0; these look like logits, so pass --input-kind logits")
        row_error = torch.logsumexp(values, dim=-1).abs()
    row_error = torch.where(frame_mask, row_error, torch.zeros_like(row_error))
    worst = int(row_error.flatten().argmax())
    if float(row_error.flatten()[worst]) > ROW_SUM_TOLERANCE[x.dtype]:
        t, n = divmod(worst, x.shape[1])
        total = "sum of probabilities" if input_kind == "probs" else "probability mass exp(logsumexp)"
        mass = float(values[t, n].sum() if input_kind == "probs" else values[t, n].exp().sum())
        raise CtcToolError(
            f"frame {t} of utterance {n}: {total} is {mass:.6g}, expected 1 for --input-kind {input_kind}; "
            "pass --input-kind logits if the rows are not normalised"
        )


def _frames_needed_batch(padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    if padded.shape[1] < 2:
        return lengths.clone()
    same = padded[:, 1:] == padded[:, :-1]
    inside = torch.arange(1, padded.shape[1], device=padded.device)[None, :] < lengths[:, None]
    return lengths + (same & inside).sum(dim=1)


def _reduction_weights(reduction: str, tgt_lens: torch.Tensor, N: int, dtype) -> torch.Tensor:
    """d(reduced loss) / d(loss of each utterance), (N,)."""
    if reduction == "mean":
        return 1.0 / (tgt_lens.clamp(min=1).to(dtype) * N)
    return torch.ones(N, dtype=dtype, device=tgt_lens.device)
