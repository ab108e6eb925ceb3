"""``ctctool align``: forced alignment of a transcript to audio (with a model) or to saved emissions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Literal, Optional

import typer

from ctctool.alignment.options import MIN_CONFIDENCE, check_options
from ctctool.cli._common import (FRAME_SHIFT, OFFSET, UNIT_INTERVAL, BlankOption, DeviceOption, TokenizerOption,
                                check_files, reports_errors)

app = typer.Typer()
Format = Literal["json", "ctm", "srt", "vtt", "textgrid", "audacity", "tsv"]


@app.command("align")
@reports_errors(flags={"frame_offset": "--offset", "emissions": "the emissions", "log_probs": "the emissions"})
def align(
    paths: Annotated[Optional[List[Path]], typer.Argument(help="AUDIO TRANSCRIPT, or TRANSCRIPT alone with --emissions.", show_default=False)] = None,
    emissions: Annotated[Optional[Path], typer.Option(help="Log-probs (.npy, .npz or .pt), (T, C), instead of audio and a model.")] = None,
    frame_shift: Annotated[Optional[float], typer.Option(parser=FRAME_SHIFT, help="Seconds per frame of --emissions, e.g. 0.02.")] = None,
    offset: Annotated[float, typer.Option(parser=OFFSET, help="Seconds added to every time of --emissions (the model's frame offset).")] = 0.0,
    input_kind: Annotated[Literal["log-probs", "logits", "probs"], typer.Option(help="What --emissions holds.")] = "log-probs",
    key: Annotated[Optional[str], typer.Option(help="Array name inside an .npz or .pt dict.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary of --emissions: one token per line or JSON {token: id}. Default: blank + a-z ' ? ! space.")] = None,
    tokenizer: TokenizerOption = None,
    blank: BlankOption = None,
    model: Annotated[str, typer.Option(help="Acoustic model for audio: default, a ctctool checkpoint, or a wav2vec2-style directory.")] = "default",
    manifest: Annotated[Optional[Path], typer.Option(help="JSONL of items (audio_filepath, text, optional id), or an LJSpeech folder, to align into --out-dir.")] = None,
    out_dir: Annotated[Optional[Path], typer.Option(help="With --manifest: one output file per item; items already there are skipped.")] = None,
    output_format: Annotated[Format, typer.Option("--format", help="Output format.")] = "json",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here (atomically) instead of stdout.")] = None,
    min_confidence: Annotated[float, typer.Option(parser=UNIT_INTERVAL, help="Lines whose mean posterior is below this are flagged.")] = MIN_CONFIDENCE,
    star: Annotated[bool, typer.Option("--star", help="Put a * (absorbs speech the transcript lacks) at the start and end.")] = False,
    plot: Annotated[Optional[Path], typer.Option(help="Also draw the emissions, aligned tokens and words to this PNG (needs matplotlib).")] = None,
    romanize: Annotated[bool, typer.Option("--romanize", help="Romanise words the model cannot spell (any script: Cyrillic, Greek, Devanagari, Chinese...) with uroman, as the MMS recipe does; outputs keep the words as written. Needs the romanize extra.")] = False,
    language: Annotated[str, typer.Option(help="Language of the transcript's numbers (ISO code, e.g. ru, de, es): spelled with num2words (romanize extra); en by ctctool's own rules.")] = "en",
    revision: Annotated[Optional[str], typer.Option(help="Branch, tag or commit of a hub --model (owner/name).")] = None,
    audio_stream: Annotated[Optional[int], typer.Option(min=0, help="Audio stream of a video or multi-stream file (0: the first); read with FFmpeg (the av extra).")] = None,
    device: DeviceOption = "auto",
) -> None:
    """Timestamps of every word, character and line of a transcript (Viterbi over the CTC lattice)."""
    from ctctool.cli import _align_inputs as inputs
    from ctctool.errors import CtcToolError

    paths = paths or []
    if emissions is not None and frame_shift is None:
        raise CtcToolError("--emissions needs --frame-shift SECONDS (> 0), the time between frames, e.g. 0.02")
    check_options(min_confidence=min_confidence, frame_shift=frame_shift if emissions else 1.0, frame_offset=offset)
    spelling = inputs.spelling(romanize, language)
    if manifest is not None:
        if paths or emissions is not None or out_dir is None:
            raise typer.BadParameter("--manifest takes no AUDIO/TRANSCRIPT and needs --out-dir", param_hint="--manifest")
        if output is not None or plot is not None:
            raise typer.BadParameter("with --manifest, outputs go to --out-dir", param_hint="--output/--plot")
        inputs.align_manifest(manifest, out_dir, model, device, output_format, min_confidence, star, audio_stream,
                              revision, spelling)
        return
    if len(paths) != (1 if emissions is not None else 2):
        hint = "with --emissions, give only the TRANSCRIPT" if emissions else "expected AUDIO TRANSCRIPT (or --emissions FILE TRANSCRIPT)"
        raise typer.BadParameter(hint, param_hint="PATHS")
    check_files({"--output": output, "--plot": plot}, [*paths, emissions, vocab, tokenizer, Path(model)],
                stdout_carries="the alignment" if output is None else None)
    if plot is not None:
        from ctctool.io.plot import plot_file

        plot_file(plot)
    if emissions is not None:
        result, picture = inputs.from_emissions(emissions, paths[0], frame_shift, offset, input_kind, key, vocab,
                                                tokenizer, blank, device, min_confidence, star, spelling)
    else:
        result, picture = inputs.from_audio(paths[0], paths[1], model, device, min_confidence, star, audio_stream,
                                            revision, spelling)
    inputs.report(result, min_confidence)
    if plot is not None:
        inputs.draw(plot, result, picture, audio_stream)
    inputs.write(result, output_format, output, paths[0].stem)
