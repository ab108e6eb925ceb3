"""Emissions files: (T, C) float32 log-probs as .npy, or .npz with the model's frame timing and vocabulary."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch

from ctctool.io.atomic import atomic_open
from ctctool.io.arrays import npy_bytes


def save_emissions(path: str | os.PathLike, log_probs: torch.Tensor, model) -> tuple[int, int]:
    """Write (T, C) ``log_probs`` atomically; an .npz also holds ``frame_shift``, ``frame_offset``,
    ``blank`` and ``vocab`` of ``model``. Returns (T, C)."""
    target = Path(path)
    array = log_probs.detach().cpu().numpy().astype(np.float32)
    if target.suffix.lower() == ".npz":
        buffer = io.BytesIO()
        np.savez(buffer, log_probs=array, frame_shift=np.float64(model.frame_shift),
                 frame_offset=np.float64(model.frame_offset), blank=np.int64(model.vocab.blank),
                 vocab=np.array(model.vocab.tokens))
        data = buffer.getvalue()
    else:
        data = npy_bytes(array)
    with atomic_open(target, "wb") as handle:
        handle.write(data)
    return array.shape[0], array.shape[1]
