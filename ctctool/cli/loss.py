"""``ctctool loss``: CTC loss (and gradients) of saved score arrays against a targets file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ctctool.cli._common import BlankOption, DeviceOption, TokenizerOption, check_files, reports_errors, scores_error

app = typer.Typer()


@app.command("loss")
@reports_errors(flags={"compute_grad=True": "--grad-out", "scores": "scores", "targets": "targets"})
def loss(
    scores: Annotated[Path, typer.Argument(help="Scores: .npy, .npz or .pt; (T, C) one utterance, (N, T, C) a batch, (T, N, C) with --time-major.")],
    targets: Annotated[Path, typer.Argument(help="One utterance per line: text (mapped through the vocabulary) or ids with --ids.")],
    input_kind: Annotated[Literal["logits", "log-probs", "probs"], typer.Option(help="What the scores are: logits get log_softmax; log-probs and probs must be normalised per frame (probs may hold exact zeros).")] = "logits",
    time_major: Annotated[bool, typer.Option("--time-major", help="3-D scores are (T, N, C), torch's CTCLoss layout, instead of (N, T, C).")] = False,
    batch_first: Annotated[bool, typer.Option("--batch-first", hidden=True, help="(N, T, C): the default; kept for old scripts.")] = False,
    key: Annotated[Optional[str], typer.Option(help="Array name inside an .npz or .pt dict; default: logits, log_probs, probs or emissions.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary file: one token per line (space as <space>) or JSON {token: id}. Default: blank + a-z ' ? ! space.")] = None,
    tokenizer: TokenizerOption = None,
    blank: BlankOption = None,
    ids: Annotated[bool, typer.Option("--ids", help="Targets are whitespace-separated integer class ids.")] = False,
    input_lengths: Annotated[Optional[Path], typer.Option(help="File of N integers, frames per utterance; default: the npz key input_lengths, else T.")] = None,
    reduction: Annotated[Literal["none", "mean", "sum"], typer.Option(help="As torch: mean divides each loss by its target length, then averages.")] = "mean",
    zero_infinity: Annotated[bool, typer.Option("--zero-infinity", help="Report infeasible losses as 0 instead of inf (they are still listed as infeasible).")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    grad_out: Annotated[Optional[Path], typer.Option(help="Write the gradient of the reduced loss w.r.t. the scores as given (.npy, same layout); 0 for infeasible utterances.")] = None,
    device: DeviceOption = "auto",
) -> None:
    """CTC loss of each utterance, the reduced loss, frames needed vs frames given, and why a target is infeasible."""
    from ctctool.cli._loss_output import print_loss_json, print_loss_table, warn_infeasible
    from ctctool.devices import resolve_device
    from ctctool.errors import CtcToolError
    from ctctool.io.arrays import load_scores
    from ctctool.io.grads import gradient_file, save_gradient
    from ctctool.io.targets import read_lengths, read_targets
    from ctctool.io.vocab_file import load_classes
    from ctctool.loss import ctc_loss

    if time_major and batch_first:
        raise typer.BadParameter("--batch-first (the default) and --time-major contradict each other", param_hint="--time-major")
    check_files({"--grad-out": grad_out}, [scores, targets, vocab, tokenizer, input_lengths],
                stdout_carries="the losses")
    if grad_out is not None:
        gradient_file(grad_out)
    target_device = resolve_device(device)
    loaded = load_scores(scores, key)
    vocabulary = None if ids else load_classes(vocab, tokenizer, blank=blank, classes=loaded.values.shape[-1])
    blank = vocabulary.blank if vocabulary is not None else blank or 0
    labels = read_targets(targets, loaded, vocab=vocabulary, blank=blank, ids=ids, time_major=time_major)
    lengths = read_lengths(input_lengths) if input_lengths else loaded.input_lengths
    try:
        result = ctc_loss(loaded.values.to(target_device), labels, input_kind=input_kind,
                          input_lengths=lengths, blank=blank, reduction=reduction, zero_infinity=zero_infinity,
                          time_major=time_major, compute_grad=grad_out is not None)
    except CtcToolError as exc:
        raise scores_error(exc, loaded.source, input_lengths) from None
    warn_infeasible(result, targets)
    if grad_out is not None:
        save_gradient(grad_out, result.grad, loaded.values.dtype)
    (print_loss_json if json_output else print_loss_table)(result, reduction)

