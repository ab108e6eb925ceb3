"""``ctctool emissions``: log-probs of audio files, for ``loss``, ``align`` and ``decode``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ctctool.cli._common import DeviceOption, reports_errors

app = typer.Typer()


@app.command("emissions")
@reports_errors
def emissions(
    audio: Annotated[List[Path], typer.Argument(help="Audio files (wav, flac, ogg; any rate, mixed to mono).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output .npy (T, C) float32 log-probs, or .npz with metadata; one audio file only.")] = None,
    out_dir: Annotated[Optional[Path], typer.Option(help="Folder for <audio stem>.npy of each file.")] = None,
    model: Annotated[str, typer.Option(help="default, a ctctool checkpoint, or a wav2vec2-style directory.")] = "default",
    device: DeviceOption = "auto",
) -> None:
    """Log-probs (T, C) of each audio file; the frame shift and vocabulary size go to stderr."""
    from ctctool.errors import CtcToolError
    from ctctool.io.emissions import save_emissions
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import as_model

    if (output is None) == (out_dir is None):
        raise typer.BadParameter("give exactly one of --output (one file) or --out-dir", param_hint="--output")
    if output is not None and len(audio) != 1:
        raise typer.BadParameter("--output takes one audio file; use --out-dir for several", param_hint="--output")
    if out_dir is not None and not out_dir.is_dir():
        raise CtcToolError(f"{out_dir}: no such folder; create it first")
    acoustic = as_model(model, device)
    for path in audio:
        log_probs, _ = audio_log_probs(acoustic, path)
        target = output if output is not None else out_dir / f"{path.stem}.npy"
        frames, classes = save_emissions(target, log_probs, acoustic)
        print(f"{path} -> {target}: {frames} frames x {classes} classes, frame shift {acoustic.frame_shift} s "
              f"(pass --frame-shift {acoustic.frame_shift} to align)", file=sys.stderr)
