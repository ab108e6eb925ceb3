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
    device: DeviceOption = "auto",
) -> None:
    """One line of text per audio file (best label per frame, repeats merged, blanks dropped).

    A file that cannot be read is reported on stderr and the others go on; the exit code is then 1.
    """
    from ctctool.cli._common import resolve_device
    from ctctool.decode import greedy_decode
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
        text = acoustic.vocab.decode(greedy_decode(log_probs, blank=acoustic.vocab.blank)[0])
        text = " ".join(text.split())
        print(f"{path.stem} {text}" if keyed else text, flush=True)
    if failed:
        raise CtcToolError(f"{failed} of {len(audio)} files could not be transcribed (see above)")
