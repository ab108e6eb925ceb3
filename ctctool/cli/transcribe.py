"""``ctctool transcribe``: text of audio files with an acoustic model (greedy decoding)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List

import typer

from ctctool.cli._common import DeviceOption, reports_errors
from ctctool.errors import CtcToolError

app = typer.Typer()


@app.command("transcribe")
@reports_errors
def transcribe(
    audio: Annotated[List[Path], typer.Argument(help="Audio files (wav, flac, ogg; any rate, mixed to mono).")],
    model: Annotated[str, typer.Option(help="default, a ctctool checkpoint, or a wav2vec2-style directory.")] = "default",
    keyed: Annotated[bool, typer.Option("--keyed", help="Print '<file stem> <text>' lines, ready for ctctool wer --keyed.")] = False,
    beam_width: Annotated[int, typer.Option(min=1, help="1: greedy (best label per frame); more: CTC prefix beam search of this width.")] = 1,
    device: DeviceOption = "auto",
) -> None:
    """One line of text per audio file (greedy, or prefix beam search with --beam-width).

    A file that cannot be read is reported on stderr and the others go on; the exit code is then 1.
    """
    from ctctool.cli._common import resolve_device
    from ctctool.decode import beam_search, greedy_decode
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import load_model

    acoustic = load_model(model, resolve_device(device))
    failed = 0
    for path in audio:
        try:
            log_probs, _ = audio_log_probs(acoustic, path)
        except CtcToolError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        blank = acoustic.vocab.blank
        if beam_width > 1:
            labels = beam_search(log_probs, beam_width=beam_width, blank=blank)[0][0].labels
        else:
            labels = greedy_decode(log_probs, blank=blank)[0]
        text = acoustic.vocab.decode(labels)
        text = " ".join(text.split())
        print(f"{path.stem} {text}" if keyed else text, flush=True)
    if failed:
        raise CtcToolError(f"{failed} of {len(audio)} files could not be transcribed (see above)")
