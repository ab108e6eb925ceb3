"""Small helpers shared by the tests."""

from __future__ import annotations

import re

import pytest
import torch
from typer.testing import CliRunner

from ctctool.cli import app
from ctctool.errors import CtcToolError

cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")


def run_cli(*args: str, stdin: str | bytes | None = None):
    """Run ``ctctool ARGS`` in-process (``stdin``: what standard input holds); returns the typer Result
    (stdout, stderr, exit_code)."""
    return CliRunner().invoke(app, [str(a) for a in args], prog_name="ctctool", input=stdin)


def raises_exactly(message: str):
    """``pytest.raises`` for a CtcToolError whose whole message is ``message``."""
    return pytest.raises(CtcToolError, match=f"^{re.escape(message)}$")
