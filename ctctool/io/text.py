"""Plain text files: read as UTF-8 lines, with errors that name the file and line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.atomic import STDIO
from ctctool._files import input_file


def read_bytes(path: str | os.PathLike) -> bytes:
    """The whole file as bytes (``-``: standard input); a missing, unreadable or non-regular file is a
    CtcToolError naming it."""
    if str(path) == STDIO:
        return sys.stdin.buffer.read()
    file = input_file(path, "a text file", fifo_hint="to pipe text in, give - and send it on standard input")
    try:
        return file.read_bytes()
    except OSError as exc:
        raise CtcToolError(f"{file}: cannot read ({exc.strerror})") from exc


BOM = b"\xef\xbb\xbf"


def decode_text(data: bytes, path: str | os.PathLike) -> str:
    """``data`` read from ``path`` as UTF-8 text (a BOM is dropped); bad UTF-8 names the line."""
    body = data[len(BOM):] if data.startswith(BOM) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise CtcToolError(
            f"{Path(path)} line {line}: not valid UTF-8 (byte 0x{body[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from exc


def read_text(path: str | os.PathLike) -> str:
    """The whole file as text; a missing file or bad UTF-8 is a CtcToolError naming it."""
    return decode_text(read_bytes(path), path)


def parse_json(text: str, where: str):
    """``text`` parsed as JSON; anything json rejects (bad syntax, a number of 5000 digits, nesting too deep)
    is a CtcToolError naming ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        place = f"column {exc.colno}" if exc.lineno == 1 else f"line {exc.lineno}, column {exc.colno}"
        raise CtcToolError(f"{where}: not valid JSON ({exc.msg} at {place})") from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise CtcToolError(f"{where}: not usable JSON ({reason})") from None


def split_lines(text: str) -> list[str]:
    """One entry per line, without line endings. An empty line is kept as ``""``.

    Only the newline that ends the last line is dropped, so ``"a\\n\\n"`` is two
    lines, ``"a"`` and ``""``.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_lines(path: str | os.PathLike) -> list[str]:
    """The file's lines, as :func:`split_lines` cuts them."""
    return split_lines(read_text(path))
