"""Score arrays from .npy, .npz and .pt files, loaded without unpickling.

``.npy``/``.npz`` go through ``np.load(allow_pickle=False)``; ``.pt`` through
``torch.load(weights_only=True)``. An ``.npz`` or a ``.pt`` dict may also carry
``input_lengths`` (N,).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ctctool.errors import CtcToolError

#: Keys searched, in order, for the score array in an .npz or a .pt dict.
ARRAY_KEYS = ("logits", "log_probs", "probs", "emissions")
#: Key of the optional per-utterance frame counts.
LENGTHS_KEY = "input_lengths"
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


@dataclass(frozen=True)
class LoadedArray:
    """A score array as stored (dtype kept), with its optional ``input_lengths`` (N,)."""

    values: torch.Tensor
    input_lengths: torch.Tensor | None
    source: str


def load_scores(path: str | os.PathLike, key: str | None = None) -> LoadedArray:
    """Load the score array of ``path``; ``key`` picks the entry of an .npz or .pt dict."""
    file = Path(path)
    if not file.is_file():
        raise CtcToolError(f"{file}: no such file" if not file.exists() else f"{file}: not a file")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        entries = {None: _load_npy(file)}
    elif suffix == ".npz":
        entries = _load_npz(file)
    elif suffix in (".pt", ".pth"):
        entries = _load_pt(file)
    else:
        raise CtcToolError(f"{file}: unknown array format {suffix or '(no suffix)'}; expected .npy, .npz or .pt")
    values, source = _pick(file, entries, key)
    lengths = entries.get(LENGTHS_KEY)
    if lengths is not None:
        lengths = _as_tensor(file, LENGTHS_KEY, lengths)
        if lengths.is_floating_point() or lengths.dim() != 1:
            raise CtcToolError(f"{file}: {LENGTHS_KEY} must be a 1-D integer array, found {tuple(lengths.shape)} {lengths.dtype}")
    tensor = _as_tensor(file, source, values)
    if tensor.dtype not in FLOAT_DTYPES:
        raise CtcToolError(
            f"{source}: expected floating-point scores (float16, bfloat16, float32 or float64), "
            f"found {str(tensor.dtype).replace('torch.', '')}"
        )
    return LoadedArray(tensor, lengths, source)


def _load_npy(file: Path):
    try:
        return np.load(file, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CtcToolError(f"{file}: holds pickled Python objects, which ctctool never loads; save a numeric array") from exc
        raise CtcToolError(f"{file}: not a valid .npy file ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise CtcToolError(f"{file}: not a valid .npy file ({exc})") from exc


def _load_npz(file: Path) -> dict:
    try:
        with np.load(file, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CtcToolError(f"{file}: holds pickled Python objects, which ctctool never loads; save numeric arrays") from exc
        raise CtcToolError(f"{file}: not a valid .npz file ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise CtcToolError(f"{file}: not a valid .npz file ({exc})") from exc


def _load_pt(file: Path) -> dict:
    try:
        obj = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad or unsafe files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CtcToolError(f"{file}: cannot load as a tensor file with weights_only=True ({first_line[:160]})") from exc
    if isinstance(obj, torch.Tensor):
        return {None: obj}
    if isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj)
    raise CtcToolError(f"{file}: expected a tensor or a dict of tensors, found {type(obj).__name__}")


def _pick(file: Path, entries: dict, key: str | None):
    if None in entries:
        if key is not None:
            raise CtcToolError(f"{file}: holds a single array, so `key={key}` does not apply; drop `key`")
        return entries[None], str(file)
    names = [name for name in entries if name != LENGTHS_KEY]
    if key is not None:
        if key not in entries:
            raise CtcToolError(f"{file}: no array named {key!r}; it holds {', '.join(map(repr, entries)) or 'nothing'}")
        return entries[key], f"{file}:{key}"
    for candidate in ARRAY_KEYS:
        if candidate in entries:
            return entries[candidate], f"{file}:{candidate}"
    if len(names) == 1:
        return entries[names[0]], f"{file}:{names[0]}"
    raise CtcToolError(
        f"{file}: cannot tell which array holds the scores among {', '.join(map(repr, names)) or 'no arrays'}; "
        f"name it with `key`, or store it as one of {', '.join(ARRAY_KEYS)}"
    )


def _as_tensor(file: Path, name, value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if value.dtype.kind not in "biuf":
        raise CtcToolError(f"{name}: expected a numeric array, found dtype {value.dtype}")
    return torch.from_numpy(np.ascontiguousarray(value))
