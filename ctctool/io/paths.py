"""What a command checks about its outputs before it reads or computes anything.

(Inputs are checked by :func:`ctctool._files.input_file`.)

- An output must be writable where it is named (its folder exists, it is not a folder), must not be
  one of the inputs (same file by device and inode: another spelling, a symbolic or a hard link),
  and no two outputs may be the same file.

The checks run before any long work, so a mistake costs seconds, not an epoch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

from ctctool.errors import CtcToolError
from ctctool.io.atomic import STDIO, written_in_place


def check_outputs(outputs: Mapping[str, str | os.PathLike | None], inputs: Iterable[str | os.PathLike | None],
                  stdout_carries: str | None = None) -> None:
    """Refuse, before any work, outputs that cannot be written or would destroy an input.

    ``outputs`` maps how each output is named to the user (``--output``, ``--csv``) to its path
    (``None``: not asked for); ``inputs`` are the files the command reads; ``stdout_carries`` says what
    the command prints on standard output (then no output may be ``-``).
    """
    for label, path in outputs.items():
        if stdout_carries is not None and path is not None and str(path) == STDIO:
            raise CtcToolError(f"{label} -: standard output already carries {stdout_carries}; write this to a file")
    named = [(label, Path(path)) for label, path in outputs.items() if path is not None and str(path) != STDIO]
    sources = [Path(path) for path in inputs if path is not None and str(path) != STDIO]
    for kind, paths in (("outputs", [p for p in outputs.values() if p is not None]), ("inputs", list(inputs))):
        if sum(str(path) == STDIO for path in paths if path is not None) > 1:
            stream = "standard output" if kind == "outputs" else "standard input"
            raise CtcToolError(f"'-' ({stream}) is given for two {kind}; it can be only one of them")
    for label, path in named:
        check_output(path, label)
        for source in sources:
            if _same_file(path, source):
                raise CtcToolError(f"{label} {path}: is the input file {source}; writing there would destroy it, "
                                   "so name another output file")
    for index, (label, path) in enumerate(named):
        for other_label, other in named[index + 1:]:
            if _same_file(path, other) or _same_place(path, other):
                raise CtcToolError(f"{label} {path} and {other_label} {other} are the same file; give each its own")


#: Longest file name most file systems take, in bytes.
MAX_NAME_BYTES = 255


def check_output(path: str | os.PathLike, label: str) -> Path:
    """``path`` when a file can be written there: its folder exists and is writable, and it is not a folder."""
    file = Path(path)
    if len(os.fsencode(file.name)) > MAX_NAME_BYTES:
        raise CtcToolError(f"{label} {file.name[:40]}...: the file name is {len(os.fsencode(file.name))} bytes; "
                           f"file systems allow {MAX_NAME_BYTES}")
    if file.is_dir():
        raise CtcToolError(f"{label} {file}: is a folder; expected a file name (e.g. {file / 'out'}.<ext>)")
    if written_in_place(file) and file.exists():
        return file  # a FIFO, a device, /dev/stdout: written to directly
    target = Path(os.path.realpath(file)) if file.is_symlink() else file
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CtcToolError(f"{label} {file}: folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CtcToolError(f"{label} {file}: folder {folder} is not writable")
    return file


def check_output_folder(folder: str | os.PathLike, label: str) -> Path:
    """``folder`` when it is a writable folder; made when it does not exist but the folder above it does (a
    mistyped parent is an error, so a typo never grows a tree of folders)."""
    path = Path(folder)
    if str(folder) == "-":
        raise CtcToolError(f"{label} -: expected a folder (one file per item), not standard output; name a folder")
    if not path.exists() and not path.is_symlink():
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise CtcToolError(f"{label} {path}: folder {parent} does not exist; create it first")
        try:
            path.mkdir(exist_ok=True)  # shards starting together may race to make it
        except OSError as exc:
            raise CtcToolError(f"{label} {path}: cannot make this folder ({exc.strerror})") from None
    if not path.is_dir():
        raise CtcToolError(f"{label} {path}: is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise CtcToolError(f"{label} {path}: folder is not writable")
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _same_place(a: Path, b: Path) -> bool:
    """Two outputs that do not exist yet but name the same place."""
    return os.path.realpath(a) == os.path.realpath(b)
