"""Small helpers shared by the tests."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from ctctool.cli import app

cuda_only = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")


def run_cli(*args: str):
    """Run ``ctctool ARGS`` in-process; returns the typer Result (stdout, stderr, exit_code)."""
    return CliRunner().invoke(app, [str(a) for a in args])
