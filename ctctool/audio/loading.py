"""Audio files (WAV, FLAC, OGG and whatever else libsndfile reads) as mono float32 tensors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile
import torch

from ctctool.errors import CtcToolError
from ctctool.audio.resample import resample


def load_audio(path: str | os.PathLike, sample_rate: int) -> torch.Tensor:
    """Read ``path`` as a (samples,) float32 CPU tensor, mono, at ``sample_rate`` Hz.

    Integer PCM is scaled to -1..1; channels are averaged; other rates are resampled
    with :func:`ctctool.audio.resample.resample`.
    """
    file = Path(path)
    if not file.is_file():
        raise CtcToolError(f"{file}: no such file" if not file.exists() else f"{file}: not a file")
    try:
        data, file_rate = soundfile.read(file, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        reason = " ".join(str(getattr(exc, "error_string", None) or exc).split()).rstrip(".")
        raise CtcToolError(f"{file}: not a readable audio file ({reason}); expected WAV, FLAC or OGG") from exc
    if data.shape[0] == 0:
        raise CtcToolError(f"{file}: no audio samples; expected a non-empty recording")
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    bad = np.flatnonzero(~np.isfinite(mono))
    if bad.size:
        first = int(bad[0])
        raise CtcToolError(
            f"{file}: sample {first} (at {first / file_rate:.3f} s) is NaN or infinite; "
            "expected finite audio samples"
        )
    waveform = torch.from_numpy(np.ascontiguousarray(mono))
    return resample(waveform, int(file_rate), sample_rate)
