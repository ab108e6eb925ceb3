"""What every command shares: the error wrapper (library parameters shown as flags), --device, output helpers."""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
import typing
from typing import Annotated, Any, Callable, TypeVar

import typer

from ctctool.errors import MENTION, CtcToolError

F = TypeVar("F", bound=Callable[..., Any])

DeviceOption = Annotated[
    str,
    typer.Option(
        "--device",
        help="auto, cpu, cuda or cuda:N. auto picks the first GPU when there is one.",
        show_default=True,
    ),
]


def reports_errors(command: F = None, *, flags: dict[str, str] | None = None):
    """Turn a CtcToolError raised by ``command`` into ``error: ...`` and exit code 1.

    The library names its parameters in backticks (`zero_infinity=True`, `blank`); the message
    shows the command's flags instead (``--zero-infinity``, ``--blank``), found from the command's
    own options. ``flags`` adds mentions whose flag has another name: a parameter name, or a
    whole ``name=value`` mention, mapped to the text to show.
    """
    if command is None:
        return lambda function: reports_errors(function, flags=flags)
    options = {**_option_flags(command), **(flags or {})}

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _RUNNING.append(options)
        try:
            return command(*args, **kwargs)
        except CtcToolError as exc:
            print(f"error: {shown(exc)}", file=sys.stderr)
            raise typer.Exit(code=1) from None
        finally:
            _RUNNING.pop()

    return wrapper  # type: ignore[return-value]


#: The flags of the command that is running (see ``reports_errors``), innermost last.
_RUNNING: list[dict[str, str]] = []


def shown(error: CtcToolError) -> str:
    """The message of ``error`` as the running command spells its options: for errors a command reports
    and goes on (a file of a batch), as well as for the one that stops it."""
    return as_flags(str(error), _RUNNING[-1] if _RUNNING else {})


def as_flags(message: str, options: dict[str, str]) -> str:
    """``message`` with each backticked parameter mention shown as the command line spells it."""

    def shown(match: re.Match) -> str:
        whole, name, value = match.group(1), match.group(2), match.group(4)
        if whole in options:
            return options[whole]
        flag = options.get(name)
        if flag is None or not flag.startswith("-"):
            return flag or whole
        if value is None or value == "True":
            return flag
        return f"{flag} {value.strip(chr(39) + chr(34))}"

    return MENTION.sub(shown, message)


def _option_flags(command: Callable) -> dict[str, str]:
    """Parameter name -> its long flag (``--name``), or its metavar (``NAME``) for an argument."""
    flags = {}
    hints = typing.get_type_hints(command, include_extras=True)
    for name in inspect.signature(command).parameters:
        for info in getattr(hints.get(name), "__metadata__", ()):
            if isinstance(info, typer.models.ArgumentInfo):
                flags[name] = name.upper()
            elif isinstance(info, typer.models.OptionInfo):
                declared = [info.default] if isinstance(info.default, str) else []
                declared += list(info.param_decls or ())
                long = [d for d in declared if isinstance(d, str) and d.startswith("--")]
                flags[name] = long[0] if long else "--" + name.replace("_", "-")
    return flags


def print_json(payload: Any) -> None:
    """Write one JSON object to stdout (strict JSON: no NaN or Infinity)."""
    sys.stdout.write(json.dumps(payload, allow_nan=False, ensure_ascii=False) + "\n")
