"""What every command shares: the error wrapper, the --device option, output helpers."""

from __future__ import annotations

import functools
import json
import math
import sys
from typing import Annotated, Any, Callable, TypeVar

import typer

from ctctool.errors import CtcToolError

F = TypeVar("F", bound=Callable[..., Any])

DeviceOption = Annotated[
    str,
    typer.Option(
        "--device",
        help="auto, cpu, cuda or cuda:N. auto picks the first GPU when there is one.",
        show_default=True,
    ),
]


def reports_errors(command: F) -> F:
    """Turn a CtcToolError raised by ``command`` into ``error: ...`` and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CtcToolError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(code=1) from None

    return wrapper  # type: ignore[return-value]


def resolve_device(spec: str):
    """Map a --device value to a ``torch.device``; explicit CUDA without a GPU is an error."""
    import torch

    text = spec.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise CtcToolError(
                f"--device {spec}: no CUDA GPU is available to torch "
                f"(torch {torch.__version__}); use --device cpu, or --device auto to pick a GPU "
                "only when there is one"
            )
        if text == "cuda":
            return torch.device("cuda")
        index_text = text[len("cuda:"):]
        if not index_text.isdigit():
            raise CtcToolError(f"--device {spec}: expected cuda:N with N a GPU index, e.g. cuda:0")
        index = int(index_text)
        count = torch.cuda.device_count()
        if index >= count:
            raise CtcToolError(
                f"--device {spec}: GPU index {index} does not exist; this machine has {count} "
                f"GPU(s), indices 0 to {count - 1}"
            )
        return torch.device("cuda", index)
    raise CtcToolError(f"--device {spec}: expected auto, cpu, cuda or cuda:N")


def json_number(value: float) -> float | None:
    """A float for JSON: non-finite values (inf, nan) become null, which JSON can carry."""
    return value if math.isfinite(value) else None


def print_json(payload: Any) -> None:
    """Write one JSON object to stdout (strict JSON: no NaN or Infinity)."""
    sys.stdout.write(json.dumps(payload, allow_nan=False, ensure_ascii=False) + "\n")
