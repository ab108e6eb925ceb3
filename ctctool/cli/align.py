"""``ctctool align``: forced alignment of a transcript to audio or to saved emissions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Literal, Optional

import typer

from ctctool.cli._common import DeviceOption, reports_errors
from ctctool.errors import CtcToolError

app = typer.Typer()
Format = Literal["json", "ctm", "srt", "vtt", "textgrid", "audacity", "tsv"]


@app.command("align")
@reports_errors
def align(
    paths: Annotated[Optional[List[Path]], typer.Argument(help="AUDIO TRANSCRIPT, or TRANSCRIPT alone with --emissions.", show_default=False)] = None,
    emissions: Annotated[Optional[Path], typer.Option(help="Log-probs (.npy, .npz or .pt), (T, C), instead of audio and a model.")] = None,
    frame_shift: Annotated[Optional[float], typer.Option(help="Seconds per frame of --emissions, e.g. 0.02.")] = None,
    offset: Annotated[float, typer.Option(help="Seconds added to every time (the model's frame offset).")] = 0.0,
    input_kind: Annotated[Literal["log-probs", "logits", "probs"], typer.Option(help="What --emissions holds.")] = "log-probs",
    key: Annotated[Optional[str], typer.Option(help="Array name inside an .npz or .pt dict.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary of --emissions: one token per line or JSON {token: id}. Default: blank + a-z ' ? ! space.")] = None,
    blank: Annotated[int, typer.Option(help="Class id of the blank token.")] = 0,
    model: Annotated[str, typer.Option(help="Acoustic model for audio input: default, a checkpoint file, or a wav2vec2-style directory.")] = "default",
    output_format: Annotated[Format, typer.Option("--format", help="Output format.")] = "json",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here (atomically) instead of stdout.")] = None,
    min_confidence: Annotated[float, typer.Option(help="Lines whose mean posterior is below this are flagged.")] = 0.2,
    star: Annotated[bool, typer.Option("--star", help="Put a * (absorbs speech the transcript lacks) at the start and end.")] = False,
    device: DeviceOption = "auto",
) -> None:
    """Timestamps of every word, character and line of a transcript (Viterbi over the CTC lattice)."""
    import sys

    from ctctool.cli._common import resolve_device
    from ctctool.io.alignment_writers import render_alignment, write_alignment
    from ctctool.io.text import read_text
    from ctctool.spans import SpanTimes
    from ctctool.timestamps import align_transcript, with_star_column
    from ctctool.transcript import STAR, prepare_transcript

    paths = paths or []
    if emissions is None:
        if len(paths) != 2:
            raise typer.BadParameter("expected AUDIO TRANSCRIPT (or --emissions FILE TRANSCRIPT)", param_hint="PATHS")
        raise CtcToolError(
            f"--model {model}: acoustic models are not available in this version of ctctool; "
            "pass --emissions FILE --frame-shift SECONDS with log-probs from your own model"
        )
    if len(paths) != 1:
        raise typer.BadParameter("with --emissions, give only the TRANSCRIPT", param_hint="PATHS")
    if frame_shift is None or frame_shift <= 0:
        raise CtcToolError("--emissions needs --frame-shift SECONDS (> 0), the time between frames, e.g. 0.02")
    transcript_path = paths[0]
    vocabulary = _vocabulary(vocab, blank)
    log_probs = _load_emissions(emissions, key, input_kind, vocabulary.size).to(resolve_device(device))
    text = read_text(transcript_path)
    if star:
        text = f"{STAR}\n{text}\n{STAR}"
    star_id = vocabulary.size if STAR in text.split() else None
    try:
        prepared = prepare_transcript(text, vocabulary, star_id=star_id)
    except CtcToolError as exc:
        raise CtcToolError(f"{transcript_path}: {exc}") from None
    if star_id is not None:
        log_probs = with_star_column(log_probs)
    try:
        result = align_transcript(log_probs, prepared, vocabulary, SpanTimes(frame_shift, offset),
                                  model=f"emissions:{emissions.name}", min_confidence=min_confidence)
    except CtcToolError as exc:
        raise CtcToolError(f"{transcript_path}: {exc}") from None
    if prepared.changes:
        shown = "; ".join(prepared.changes[:8]) + ("; ..." if len(prepared.changes) > 8 else "")
        print(f"note: normalised {len(prepared.changes)} word(s) to the vocabulary: {shown}", file=sys.stderr)
    for segment in result.segments:
        if segment.flagged:
            print(f"warning: line {segment.text[:40]!r} scores {segment.score:.3f} < --min-confidence "
                  f"{min_confidence}: it may not match the audio", file=sys.stderr)
    utterance_id = transcript_path.stem
    if output is None:
        sys.stdout.write(render_alignment(result, output_format, utterance_id))
    else:
        write_alignment(output, result, output_format, utterance_id)


def _vocabulary(vocab: Optional[Path], blank: int):
    from ctctool.io.vocab_file import load_vocabulary
    from ctctool.vocab import default_vocabulary

    return load_vocabulary(vocab, blank) if vocab else default_vocabulary(blank)


def _load_emissions(path: Path, key: Optional[str], input_kind: str, classes: int):
    from ctctool.io.arrays import load_scores
    from ctctool.loss import log_probs_from

    values = load_scores(path, key).values
    if values.dim() == 3 and values.shape[0] == 1:
        values = values[0]
    if values.dim() != 2:
        raise CtcToolError(f"{path}: expected one utterance of shape (T, C), found {tuple(values.shape)}")
    if values.shape[1] != classes:
        raise CtcToolError(
            f"{path}: C={values.shape[1]} classes but the vocabulary has {classes} tokens; pass --vocab with one token per class"
        )
    return log_probs_from(values, input_kind, name=str(path))
