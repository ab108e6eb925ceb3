"""``ctctool loss``: CTC loss (and gradients) of saved score arrays against a targets file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ctctool.cli._common import DeviceOption, reports_errors
from ctctool.errors import CtcToolError

app = typer.Typer()


@app.command("loss")
@reports_errors
def loss(
    scores: Annotated[Path, typer.Argument(help="Scores: .npy, .npz or .pt; (T, C), (T, N, C), or (N, T, C) with --batch-first.")],
    targets: Annotated[Path, typer.Argument(help="One utterance per line: text (mapped through the vocabulary) or ids with --ids.")],
    input_kind: Annotated[Literal["logits", "log-probs", "probs"], typer.Option(help="What the scores are: logits get log_softmax; log-probs and probs must be normalised per frame.")] = "logits",
    batch_first: Annotated[bool, typer.Option("--batch-first", help="3-D scores are (N, T, C) instead of (T, N, C).")] = False,
    key: Annotated[Optional[str], typer.Option(help="Array name inside an .npz or .pt dict; default: logits, log_probs, probs or emissions.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary file: one token per line (space as <space>) or JSON {token: id}. Default: blank + a-z ' ? ! space.")] = None,
    blank: Annotated[int, typer.Option(help="Class id of the blank token.")] = 0,
    ids: Annotated[bool, typer.Option("--ids", help="Targets are whitespace-separated integer class ids.")] = False,
    input_lengths: Annotated[Optional[Path], typer.Option(help="File of N integers, frames per utterance; default: the npz key input_lengths, else T.")] = None,
    reduction: Annotated[Literal["none", "mean", "sum"], typer.Option(help="As torch: mean divides each loss by its target length, then averages.")] = "mean",
    zero_infinity: Annotated[bool, typer.Option("--zero-infinity", help="Set infeasible losses and their gradients to 0 (they are still reported).")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    grad_out: Annotated[Optional[Path], typer.Option(help="Write the gradient of the reduced loss w.r.t. the scores as given (.npy, same layout).")] = None,
    device: DeviceOption = "auto",
) -> None:
    """CTC loss of each utterance, the reduced loss, and frames needed vs frames given."""
    from ctctool.cli._loss_output import print_loss_json, print_loss_table, warn_infeasible
    from ctctool.cli._common import resolve_device
    from ctctool.io.arrays import load_scores
    from ctctool.io.grads import save_gradient
    from ctctool.io.targets import read_id_targets, read_lengths, read_text_targets
    from ctctool.io.vocab_file import load_vocabulary
    from ctctool.loss import ctc_loss
    from ctctool.vocab import default_vocabulary

    loaded = load_scores(scores, key)
    shape = tuple(loaded.values.shape)
    if len(shape) not in (2, 3):
        raise_shape(loaded.source, shape)
    n_utts = 1 if len(shape) == 2 else shape[0 if batch_first else 1]
    if ids:
        labels = read_id_targets(targets)
    else:
        vocabulary = load_vocabulary(vocab, blank) if vocab else default_vocabulary(blank)
        if shape[-1] != vocabulary.size:
            raise CtcToolError(
                f"{loaded.source}: C={shape[-1]} classes but the vocabulary has {vocabulary.size} tokens; "
                "pass --vocab with one token per class, or --ids for integer targets"
            )
        labels = read_text_targets(targets, vocabulary)
    check_counts(targets, len(labels), loaded.source, n_utts)
    lengths = read_lengths(input_lengths) if input_lengths else loaded.input_lengths
    target_device = resolve_device(device)
    result = ctc_loss(
        loaded.values.to(target_device), labels, input_kind=input_kind, input_lengths=lengths, blank=blank,
        reduction=reduction, zero_infinity=zero_infinity, batch_first=batch_first, compute_grad=grad_out is not None,
    )
    warn_infeasible(result, targets)
    if grad_out is not None:
        save_gradient(grad_out, result.grad, loaded.values.dtype)
    if json_output:
        print_loss_json(result, reduction)
    else:
        print_loss_table(result, reduction)


def raise_shape(source: str, shape: tuple) -> None:
    raise CtcToolError(
        f"{source}: expected 2 dimensions (T, C) or 3 dimensions (T, N, C), found shape {shape}; "
        "use --batch-first for (N, T, C)"
    )


def check_counts(targets: Path, n_lines: int, source: str, n_utts: int) -> None:
    if n_lines != n_utts:
        raise CtcToolError(
            f"{targets}: {n_lines} target lines but {source} holds {n_utts} utterance(s); "
            "write one line per utterance (an empty line is an empty target)"
        )
