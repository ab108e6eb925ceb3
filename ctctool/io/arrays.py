"""Score arrays from .npy, .npz and .pt files, loaded without unpickling.

``.npy``/``.npz`` go through ``np.load(allow_pickle=False)``; ``.pt`` through
``torch.load(weights_only=True)``. An ``.npz`` or a ``.pt`` dict may also carry
``input_lengths`` (N,).
"""

from __future__ import annotations

import io
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ctctool.errors import CtcToolError, first_line
from ctctool._files import input_file

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
    file = input_file(path, "a .npy, .npz or .pt array file")
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


def _load_npy(file: Path) -> np.ndarray:
    with open(file, "rb") as handle:
        return _read_npy(handle, file.stat().st_size, str(file))


def _load_npz(file: Path) -> dict:
    try:
        with zipfile.ZipFile(file) as archive:
            entries = {}
            for info in archive.infolist():
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if _impossible_size(info):
                    raise CtcToolError(f"{file}:{name}: declares {info.file_size} bytes from {info.compress_size} "
                                       "compressed ones, more than compression allows; the archive is corrupt")
                with archive.open(info) as handle:
                    entries[name] = _read_npy(handle, info.file_size, f"{file}:{name}")
            return entries
    except (OSError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        raise CtcToolError(f"{file}: not a valid .npz file ({first_line(exc)})") from exc


#: Deflate never expands data more than about 1032:1, so a member declaring more is lying.
_MAX_DEFLATE_RATIO = 1100


def _impossible_size(info: zipfile.ZipInfo) -> bool:
    """A member whose declared size its compression cannot produce (stored: the same size; deflate: ~1032:1)."""
    if info.compress_type == zipfile.ZIP_STORED:
        return info.file_size != info.compress_size
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 4096
    return False


def _read_npy(handle, size: int, source: str) -> np.ndarray:
    """An .npy stream of ``size`` bytes, in native byte order: the header is checked against the size before
    anything is allocated, and object arrays (pickles) are refused unread."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise CtcToolError(f"{source}: .npy format version {version[0]}.{version[1]} is not supported; "
                               "save it with numpy.save")
    except EOFError:
        raise CtcToolError(f"{source}: not a valid .npy file (the header is cut short)") from None
    except CtcToolError:
        raise
    except Exception as exc:  # numpy parses the header with ast and tokenize: any of their errors
        raise CtcToolError(f"{source}: not a valid .npy file ({first_line(exc) or type(exc).__name__})") from None
    if dtype.hasobject:
        raise CtcToolError(f"{source}: holds pickled Python objects, which ctctool never loads; save a numeric array")
    if dtype.kind not in "biuf" or dtype.itemsize == 0 or any(n < 0 for n in shape):
        raise CtcToolError(f"{source}: holds a {dtype} array of shape {tuple(shape)}; expected a numeric array")
    expected = math.prod(shape) * dtype.itemsize
    available = size - handle.tell()
    if expected != available:
        what = "is cut short" if expected > available else "has extra bytes"
        raise CtcToolError(f"{source}: the header declares a {dtype} array of shape {tuple(shape)} ({expected} "
                           f"bytes), but {available} bytes follow it: the file {what}")
    data = handle.read(expected)
    if len(data) != expected:
        raise CtcToolError(f"{source}: the file is cut short ({len(data)} of {expected} bytes)")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return array.astype(dtype.newbyteorder("="), order="C")


def _load_pt(file: Path) -> dict:
    try:
        obj = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad or unsafe files
        raise CtcToolError(f"{file}: cannot load as a tensor file with weights_only=True ({first_line(exc)})") from exc
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
        if value.is_meta:
            raise CtcToolError(f"{name}: a tensor on the meta device holds no values; save a CPU tensor")
        if value.layout != torch.strided:
            raise CtcToolError(f"{name}: a {str(value.layout).replace('torch.', '')} tensor; save a dense one "
                               "(tensor.to_dense())")
        return value
    if value.dtype.kind not in "biuf":
        raise CtcToolError(f"{name}: expected a numeric array, found dtype {value.dtype}")
    return torch.from_numpy(np.ascontiguousarray(value))


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as the bytes of an .npy file: written in one go, so a pipe or a device can take them too."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
