"""Gradient arrays written as .npy, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ctctool.errors import CtcToolError
from ctctool.io.arrays import npy_bytes
from ctctool.io.atomic import STDIO, atomic_open

#: numpy dtype of a saved gradient, by the dtype of the scores it belongs to.
_SAVED_DTYPE = {torch.float16: np.float16, torch.bfloat16: np.float32, torch.float32: np.float32, torch.float64: np.float64}


def save_gradient(path: str | os.PathLike, grad: torch.Tensor, scores_dtype: torch.dtype) -> None:
    """Save ``grad`` as .npy in the dtype of the scores (float32 for bfloat16, which numpy lacks)."""
    file = gradient_file(path)
    array = grad.detach().cpu().numpy().astype(_SAVED_DTYPE[scores_dtype], copy=False)
    with atomic_open(file, "wb") as handle:
        handle.write(npy_bytes(array))


def gradient_file(path: str | os.PathLike) -> Path:
    """``path`` when it can name a gradient file (.npy); check it before computing."""
    file = Path(path)
    if file.suffix.lower() != ".npy" and str(file) != STDIO:
        raise CtcToolError(f"{file}: gradients are written as .npy; give a file name ending in .npy")
    return file

