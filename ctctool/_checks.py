"""Validators shared by the loss, alignment and decoding: layout, finite values, blank, labels, lengths.

The one tensor layout of the library: (B, T, C) for a batch, (T, C) for one utterance.
torch's time-major (T, B, C) is accepted only when a caller asks for it (``time_major=True``).
Letters: B utterances, T frames, C classes (blank included), L target length, S = 2L + 1
lattice states.

Messages name the parameter in backticks (`blank`, `zero_infinity=True`), so that the
command line can show its own flag instead.
"""

from __future__ import annotations

import numpy as np
import torch

from ctctool.errors import CtcToolError

INPUT_KINDS: tuple[str, ...] = ("logits", "log-probs", "probs")
#: Score dtypes accepted (others, e.g. float8, have no kernels).
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
#: Largest |logsumexp(row)| accepted for log-probs (and |log(sum(row))| for probs), by dtype.
ROW_SUM_TOLERANCE = {torch.float16: 2e-2, torch.bfloat16: 5e-2, torch.float32: 1e-3, torch.float64: 1e-6}


def batched(scores, *, name: str, time_major: bool = False) -> tuple[torch.Tensor, bool]:
    """``scores`` as (B, T, C) and whether it was one (T, C) utterance.

    Args:
        scores: (T, C), or (B, T, C); (T, B, C) with ``time_major``.
        name: the parameter's name, for messages.
    """
    if not isinstance(scores, torch.Tensor):
        raise CtcToolError(f"`{name}`: expected a torch.Tensor, found {type(scores).__name__}")
    if scores.dtype not in FLOAT_DTYPES:
        raise CtcToolError(f"`{name}`: expected float16, bfloat16, float32 or float64 values, found {_dtype(scores)}")
    if scores.dim() == 2:
        if time_major:
            raise CtcToolError(f"`{name}`: `time_major=True` describes a batch (T, B, C), found one utterance "
                               f"{tuple(scores.shape)}; leave `time_major` out")
        return scores.unsqueeze(0), True
    if scores.dim() == 3:
        return (scores.transpose(0, 1) if time_major else scores), False
    layout = "(T, C) or (T, B, C)" if time_major else "(T, C) or (B, T, C)"
    raise CtcToolError(f"`{name}`: expected shape {layout}, found {scores.dim()} dimensions {tuple(scores.shape)}")


def check_nonempty(x: torch.Tensor, name: str) -> None:
    """(B, T, C) with B, T >= 1 and C >= 2 (a blank and at least one label)."""
    B, T, C = x.shape
    if B < 1 or T < 1 or C < 2:
        raise CtcToolError(f"`{name}`: expected at least 1 utterance, 1 frame and 2 classes (B, T, C), "
                           f"found {(B, T, C)}")


def check_classes(x: torch.Tensor, classes: int, name: str) -> None:
    """The last dimension of ``x`` holds one score per token of a vocabulary of ``classes`` tokens."""
    if x.shape[-1] != classes:
        raise CtcToolError(f"`{name}` have C={x.shape[-1]} classes but the vocabulary has {classes} tokens; "
                           "pass `vocab` with one token per class")


def check_finite(x: torch.Tensor, name: str) -> None:
    """(B, T, C) values must be finite; the message names the first bad frame."""
    finite = torch.isfinite(x)
    if not bool(finite.all()):
        b, t, c = (int(v) for v in (~finite).nonzero()[0])
        count = int((~finite).sum())
        raise CtcToolError(f"`{name}` holds {count} NaN or infinite value(s), the first at frame {t} of utterance "
                           f"{b}, class {c}; expected finite values")


def check_blank(blank: int, classes: int) -> None:
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < classes:
        raise CtcToolError(f"`blank` {blank!r} is outside the {classes} classes (ids 0 to {classes - 1})")


def input_lengths(lengths, B: int, T: int, device) -> torch.Tensor:
    """(B,) int64 frames per utterance, each in 1..T; T for every utterance when ``lengths`` is None."""
    if lengths is None:
        return torch.full((B,), T, dtype=torch.long, device=device)
    values = _integers(lengths, "input_lengths", B, device)
    values = values.long()
    bad = ((values < 1) | (values > T)).nonzero()
    if bad.numel():
        b = int(bad[0, 0])
        raise CtcToolError(f"utterance {b}: `input_lengths` {int(values[b])} is outside 1..T where T={T} frames")
    return values


def padded_targets(targets, target_lengths, B: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L_max) int64 padded targets and (B,) lengths from any accepted form.

    Forms: a list of B label lists; a padded (B, L_max) tensor with ``target_lengths``; a
    concatenated (sum L,) tensor with ``target_lengths``; for B = 1, one (L,) tensor or list.
    """
    if not isinstance(targets, torch.Tensor):
        try:
            rows = list(targets)
            if B == 1 and all(_is_label(v) for v in rows):
                rows = [rows]  # the (L,) labels of the one utterance
            rows = [[_label(v) for v in _row(row)] for row in rows]
        except TypeError:
            raise CtcToolError("`targets`: expected a list of label lists or 1-D integer tensors (one per "
                               "utterance), or an integer tensor") from None
        if len(rows) != B:
            raise CtcToolError(f"`targets`: {len(rows)} label sequences for {B} utterances; expected one per utterance")
        width = max(1, max((len(row) for row in rows), default=0))
        padded = torch.tensor([row + [0] * (width - len(row)) for row in rows], dtype=torch.long)
        lengths = torch.tensor([len(row) for row in rows], dtype=torch.long)
        return padded.to(device), lengths.to(device)
    if targets.is_floating_point() or targets.dtype == torch.bool:
        raise CtcToolError(f"`targets`: expected integer labels, found {_dtype(targets)}")
    targets = targets.to(device=device, dtype=torch.long)
    if target_lengths is None:
        if targets.dim() == 1 and B == 1:
            return targets.unsqueeze(0), torch.tensor([targets.numel()], device=device)
        raise CtcToolError("`target_lengths` is required with tensor `targets` for a batch")
    if targets.dim() not in (1, 2):
        raise CtcToolError(f"`targets`: expected 1 or 2 dimensions, found shape {tuple(targets.shape)}")
    lengths = _integers(target_lengths, "target_lengths", B, device)
    if bool((lengths < 0).any()):
        raise CtcToolError(f"utterance {int((lengths < 0).nonzero()[0, 0])}: negative `target_lengths`")
    if targets.dim() == 2:
        if targets.shape[0] != B:
            raise CtcToolError(f"`targets`: padded targets have {targets.shape[0]} rows for {B} utterances")
        if bool((lengths > targets.shape[1]).any()):
            b = int((lengths > targets.shape[1]).nonzero()[0, 0])
            raise CtcToolError(f"utterance {b}: `target_lengths` {int(lengths[b])} exceeds the padded width "
                               f"{targets.shape[1]} of `targets`")
        return targets, lengths
    if targets.dim() == 1:
        total = int(lengths.sum())
        if total != targets.numel():
            raise CtcToolError(f"`targets`: concatenated targets hold {targets.numel()} labels but `target_lengths` "
                               f"add up to {total}")
        width = max(1, int(lengths.max()) if B else 1)
        valid = torch.arange(width, device=device)[None, :] < lengths[:, None]
        padded = torch.zeros((B, width), dtype=torch.long, device=device)
        padded[valid] = targets
        return padded, lengths
    raise CtcToolError(f"`targets`: expected 1 or 2 dimensions, found shape {tuple(targets.shape)}")


def check_labels(padded: torch.Tensor, lengths: torch.Tensor, blank: int, classes: int) -> None:
    """Every label is a class id below ``classes`` other than the blank."""
    valid = torch.arange(padded.shape[1], device=padded.device)[None, :] < lengths[:, None]
    bad = valid & ((padded == blank) | (padded < 0) | (padded >= classes))
    if bool(bad.any()):
        b, j = (int(v) for v in bad.nonzero()[0])
        label = int(padded[b, j])
        reason = "is the blank id" if label == blank else f"is outside 0..{classes - 1} (C={classes} classes)"
        raise CtcToolError(f"utterance {b}: label {label} at position {j} {reason}; `targets` hold non-blank "
                           "class ids below C")


def frames_needed(padded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B,) fewest frames each target fits in: L plus one blank per pair of equal adjacent labels."""
    if padded.shape[1] < 2:
        return lengths.clone()
    same = padded[:, 1:] == padded[:, :-1]
    inside = torch.arange(1, padded.shape[1], device=padded.device)[None, :] < lengths[:, None]
    return lengths + (same & inside).sum(dim=1)


def check_normalised(x: torch.Tensor, lengths: torch.Tensor, input_kind: str, name: str) -> None:
    """Rows of (B, T, C) log-probs must log-sum-exp to 0, rows of probs lie in [0, 1] and sum to 1
    (within ``ROW_SUM_TOLERANCE``); frames past ``lengths`` are not checked; logits are not."""
    if input_kind not in INPUT_KINDS:
        raise CtcToolError(f"`input_kind` {input_kind!r}: expected one of {', '.join(INPUT_KINDS)}")
    if input_kind == "logits":
        return
    B, T, C = x.shape
    frame_mask = torch.arange(T, device=x.device)[None, :] < lengths[:, None]
    values = x.to(torch.float64)
    if input_kind == "probs":
        if bool((values < 0).any()) or bool((values > 1).any()):
            raise CtcToolError(f"`{name}`: `input_kind=probs` needs values in [0, 1]; these look like logits or "
                               "log-probs, so pass `input_kind=logits` or `input_kind=log-probs`")
        row_error = values.sum(-1).log().abs()
    else:
        if bool((values > ROW_SUM_TOLERANCE[x.dtype]).any()):
            raise CtcToolError(f"`{name}`: `input_kind=log-probs` needs values <= 0; these look like logits, "
                               "so pass `input_kind=logits`")
        row_error = torch.logsumexp(values, dim=-1).abs()
    row_error = torch.where(frame_mask, row_error, torch.zeros_like(row_error))
    worst = int(row_error.flatten().argmax())
    if float(row_error.flatten()[worst]) > ROW_SUM_TOLERANCE[x.dtype]:
        b, t = divmod(worst, T)
        total = "sum of probabilities" if input_kind == "probs" else "probability mass exp(logsumexp)"
        mass = float(values[b, t].sum() if input_kind == "probs" else values[b, t].exp().sum())
        raise CtcToolError(f"`{name}`: frame {t} of utterance {b}: {total} is {mass:.6g}, expected 1 for "
                           f"`input_kind={input_kind}`; pass `input_kind=logits` if the rows are not normalised")


def log_probs_from(scores: torch.Tensor, input_kind: str, *, name: str = "log_probs",
                   time_major: bool = False) -> torch.Tensor:
    """Validated log-probs of ``scores`` in the same shape, (T, C) or (B, T, C) (float64 stays float64,
    other dtypes become float32): log_softmax of logits and of half-precision log-probs (normalised only to
    their precision), the log of probs (0 -> about -87 in float32)."""
    x, single = batched(scores, name=name, time_major=time_major)
    check_nonempty(x, name)
    check_finite(x, name)
    check_normalised(x, torch.full((x.shape[0],), x.shape[1], device=x.device), input_kind, name)
    values = x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)
    if input_kind == "logits" or (input_kind == "log-probs" and x.dtype in (torch.float16, torch.bfloat16)):
        values = values.log_softmax(-1)  # half-precision log-probs: normalised again at the working precision
    elif input_kind == "probs":
        values = values.clamp(min=torch.finfo(values.dtype).tiny).log()
    return values[0] if single else values


def _integers(values, name: str, count: int, device) -> torch.Tensor:
    """(count,) int64 from a sequence or tensor of integers; anything else is a CtcToolError naming ``name``."""
    try:
        tensor = torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        too_big = isinstance(values, (list, tuple)) and any(isinstance(v, int) and abs(v) >= 2**63 for v in values)
        found = "a value beyond 64-bit integers" if too_big else type(values).__name__
        raise CtcToolError(f"`{name}`: expected {count} integers (one per utterance), found {found}") from None
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool or tensor.dim() != 1 \
            or tensor.numel() != count:
        raise CtcToolError(f"`{name}`: expected {count} integers (one per utterance), found shape "
                           f"{tuple(tensor.shape)} {_dtype(tensor)}")
    if tensor.dtype in (torch.uint32, torch.uint64) and bool((tensor.to(torch.float64) >= 2.0**63).any()):
        raise CtcToolError(f"`{name}`: a value beyond 64-bit integers; expected {count} integers (one per utterance)")
    return tensor.to(device=device, dtype=torch.long)


def _is_label(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dim() == 0 and not value.is_floating_point() and value.dtype != torch.bool
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _row(row):
    """The labels of one utterance: a sequence, or a 1-D integer tensor."""
    if isinstance(row, torch.Tensor):
        if row.dim() != 1 or row.is_floating_point() or row.dtype == torch.bool:
            raise TypeError
        return row.tolist()
    return row


def _label(value) -> int:
    if not _is_label(value):
        raise TypeError
    return int(value)


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).replace("torch.", "")
