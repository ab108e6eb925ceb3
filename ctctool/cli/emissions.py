"""``ctctool emissions``: log-probs of audio files, for ``loss``, ``align`` and ``decode``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ctctool.cli._common import DeviceOption, reports_errors
from ctctool.errors import CtcToolError

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
    import numpy as np

    from ctctool.cli._common import resolve_device
    from ctctool.io.atomic import atomic_open
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import load_model

    if (output is None) == (out_dir is None):
        raise typer.BadParameter("give exactly one of --output (one file) or --out-dir", param_hint="--output")
    if output is not None and len(audio) != 1:
        raise typer.BadParameter("--output takes one audio file; use --out-dir for several", param_hint="--output")
    if out_dir is not None and not out_dir.is_dir():
        raise CtcToolError(f"{out_dir}: no such folder; create it first")
    acoustic = load_model(model, resolve_device(device))
    for path in audio:
        log_probs, _ = audio_log_probs(acoustic, path)
        target = output if output is not None else out_dir / f"{path.stem}.npy"
        array = log_probs.cpu().numpy().astype(np.float32)
        with atomic_open(target, "wb") as handle:
            if target.suffix.lower() == ".npz":
                np.savez(handle, log_probs=array, frame_shift=np.float64(acoustic.frame_shift),
                         frame_offset=np.float64(acoustic.frame_offset), blank=np.int64(acoustic.vocab.blank),
                         vocab=np.array(acoustic.vocab.tokens))
            else:
                np.save(handle, array, allow_pickle=False)
        print(f"{path} -> {target}: {array.shape[0]} frames x {array.shape[1]} classes, frame shift "
              f"{acoustic.frame_shift} s (pass --frame-shift {acoustic.frame_shift} to align)", file=sys.stderr)
