"""Atomic file writes: a temporary file in the target folder, then a rename.

An output that is not a regular file (a FIFO, a device), or that lies under ``/dev`` or is a
``/proc/<pid>/fd/<n>`` descriptor
(``/dev/stdout`` is a link to whatever file descriptor 1 is, even a regular file), is written to
directly: renaming over it would replace the device node or detach the file from the descriptor.
An output that is a symbolic link replaces the file it points to and keeps the link. The output
``-`` is standard output, written in one piece once the whole output is ready.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from ctctool.errors import CtcToolError


#: The name of standard input (for an input) and standard output (for an output).
STDIO = "-"


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file next to ``path``; rename it over ``path`` only on success.

    A crash or an exception inside the block leaves ``path`` untouched and no
    temporary file behind.
    """
    binary = "b" in mode
    if str(path) == STDIO:
        buffer = io.BytesIO() if binary else io.StringIO()
        yield buffer
        sys.stdout.flush()
        data = buffer.getvalue()
        sys.stdout.buffer.write(data if binary else data.encode(encoding or "utf-8"))
        sys.stdout.buffer.flush()
        return
    if written_in_place(path):
        sys.stdout.flush()  # /dev/stdout shares the descriptor of sys.stdout: keep what was printed first
        with open(path, mode.replace("w", "a"), encoding=None if binary else encoding) as handle:
            yield handle
        return
    target = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CtcToolError(f"{path}: folder {folder} does not exist; create it first")
    if target.is_dir():
        raise CtcToolError(f"{path}: is a folder; expected a file name")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name[:64]}.", suffix=".tmp", dir=folder)
    os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes it 0600; give it a normal file's permissions
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


#: /proc/<pid>/fd/<n>: a file descriptor's own name.
_DESCRIPTOR = re.compile(r"^/proc/[^/]+/fd/\d+$")


def written_in_place(path: str | os.PathLike) -> bool:
    """Whether ``path`` is written directly rather than replaced: a path under /dev, a /proc/<pid>/fd/<n>
    descriptor, or an existing
    file (after links) that is neither regular nor a folder (a FIFO, a device, a socket)."""
    if os.path.abspath(path).startswith("/dev/") or _DESCRIPTOR.match(os.path.abspath(path)):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
