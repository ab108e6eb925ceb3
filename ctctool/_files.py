"""Inputs read whole: an existing regular file, or one line saying what it is instead.

A folder, a FIFO or a device is refused from its ``stat`` alone, without being opened, so a FIFO
can never hang a run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ctctool.errors import CtcToolError


def input_file(path: str | os.PathLike, expected: str = "a file", fifo_hint: str = "") -> Path:
    """``path`` when it names an existing regular file (after symbolic links); else a CtcToolError naming it
    (for a FIFO, with ``fifo_hint`` added: what to give instead)."""
    file = Path(path)
    if str(file) == "-":
        raise CtcToolError(f"-: standard input is for text inputs (a transcript, targets, references...); "
                           f"name {expected} instead")
    try:
        mode = os.stat(file).st_mode
    except FileNotFoundError:
        raise CtcToolError(f"{file}: no such file") from None
    except ValueError:  # os.stat refuses a path with a NUL character
        raise CtcToolError(f"{file!r}: a file name cannot hold a NUL character") from None
    except OSError as exc:
        raise CtcToolError(f"{file}: cannot read ({exc.strerror}); expected {expected}") from None
    if stat.S_ISDIR(mode):
        raise CtcToolError(f"{file}: is a folder; expected {expected}")
    if not stat.S_ISREG(mode):
        hint = f" ({fifo_hint})" if fifo_hint and stat.S_ISFIFO(mode) else ""
        raise CtcToolError(f"{file}: is a {_kind(mode)}, not a regular file; expected {expected}{hint}")
    return file


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"
