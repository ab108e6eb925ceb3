"""Device names as the library and the command line take them: ``auto``, ``cpu``, ``cuda``, ``cuda:N``."""

from __future__ import annotations

import torch

from ctctool.errors import CtcToolError


def resolve_device(spec) -> "torch.device":
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (or a ``torch.device``) -> a ``torch.device``.

    ``auto`` is the first GPU when torch sees one, else the CPU; an explicit CUDA device
    without a GPU is an error, never a silent fallback.
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    text = str(spec).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise CtcToolError(
                f"`device={spec}`: no CUDA GPU is available to torch "
                f"(torch {torch.__version__}); use `device=cpu`, or `device=auto` to pick a GPU "
                "only when there is one"
            )
        if text == "cuda":
            return torch.device("cuda")
        index_text = text[len("cuda:"):]
        if not index_text.isdigit():
            raise CtcToolError(f"`device={spec}`: expected cuda:N with N a GPU index, e.g. cuda:0")
        index = int(index_text)
        count = torch.cuda.device_count()
        if index >= count:
            raise CtcToolError(
                f"`device={spec}`: GPU index {index} does not exist; this machine has {count} "
                f"GPU(s), indices 0 to {count - 1}"
            )
        return torch.device("cuda", index)
    raise CtcToolError(f"`device={spec}`: expected auto, cpu, cuda or cuda:N")
