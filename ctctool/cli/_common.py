"""What every command shares: the error wrapper (library parameters shown as flags), --device, output helpers."""

from __future__ import annotations

import errno
import functools
import inspect
import json
import math
import re
import sys
import typing
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, TypeVar

import typer
from typer.core import TyperGroup

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

TokenizerOption = Annotated[
    Optional[Path],
    typer.Option(
        help="Subword tokenizer of the scores: a SentencePiece .model or a tokenizer.json. The classes are its pieces "
             "in id order plus a blank (appended after them unless --blank or a <blk> piece says otherwise); with "
             "--vocab, the vocabulary's classes. Needs the subword extra.",
    ),
]
BlankOption = Annotated[
    Optional[int],
    typer.Option(
        min=0,
        help="Class id of the blank token. Default: 0, or with --tokenizer after the pieces.",
        show_default=False,
    ),
]


class OneLineErrors(TyperGroup):
    """The command group: a usage error (bad flag, bad value) is one ``error: ...`` line and exit code 2,
    like every other error, instead of click's usage box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False,
                                **extra)
        except _CLICK_EXCEPTION as exc:
            context = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
                print(context.get_help())
            else:
                command = context.command_path if context is not None else prog_name or "ctctool"
                print(f"error: {printable(_one_line(exc.format_message()))} (see '{command} --help')",
                      file=sys.stderr)
            code = exc.exit_code
        except typer.Abort:
            print("error: aborted", file=sys.stderr)
            code = 1
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            code = 1  # the reader of stdout went away (| head): nothing more to say
        sys.exit(code if isinstance(code, int) else 0)


#: click's ClickException, as the installed typer ships it (its own copy of click, or click itself).
_CLICK_EXCEPTION = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _one_line(message: str) -> str:
    return " ".join(message.split())


class Number:
    """The parser of a float option that must be finite and within bounds: ``nan``, ``inf`` and out-of-range
    values are usage errors that name the flag (``typer.Option(parser=POSITIVE)``)."""

    def __init__(self, low: float | None = None, high: float | None = None, *, low_open: bool = False,
                 high_open: bool = False, minus_infinity: bool = False):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.minus_infinity = minus_infinity
        self.__name__ = "FLOAT"  # the metavar typer shows

    def __call__(self, value) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise typer.BadParameter(f"{value!r} is not a number; expected {self.describe()}") from None
        if self.minus_infinity and number == -math.inf:
            return number
        if not math.isfinite(number) or self.out_of_range(number):
            raise typer.BadParameter(f"expected {self.describe()}, found {value}")
        return number

    def out_of_range(self, number: float) -> bool:
        too_low = self.low is not None and (number <= self.low if self.low_open else number < self.low)
        too_high = self.high is not None and (number >= self.high if self.high_open else number > self.high)
        return too_low or too_high

    def describe(self) -> str:
        return self.bounds() + (" or -inf" if self.minus_infinity else "")

    def bounds(self) -> str:
        if self.low is not None and self.high is not None:
            return (f"a number in {'(' if self.low_open else '['}{self.low:g}, "
                    f"{self.high:g}{')' if self.high_open else ']'}")
        if self.low is not None:
            return f"a number {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"a number {'<' if self.high_open else '<='} {self.high:g}"
        return "a finite number"


#: Float options by what they may hold.
FINITE = Number()
POSITIVE = Number(0.0, low_open=True)
NON_NEGATIVE = Number(0.0)
LOG_PROB = Number(high=0.0, minus_infinity=True)
FRAME_SHIFT = Number(0.0, 10.0, low_open=True)  # seconds per frame
OFFSET = Number(-86400.0, 86400.0)  # seconds added to times: within a day
UNIT_INTERVAL = Number(0.0, 1.0)


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
        except OSError as exc:  # the system refused: a full disk, a read-only folder, a vanished file
            if exc.errno == errno.EPIPE:
                raise
            place = f"{exc.filename}: " if exc.filename else ""
            print(f"error: {printable(place + (exc.strerror or str(exc)))}", file=sys.stderr)
            raise typer.Exit(code=1) from None
        finally:
            _RUNNING.pop()

    return wrapper  # type: ignore[return-value]


#: The flags of the command that is running (see ``reports_errors``), innermost last.
_RUNNING: list[dict[str, str]] = []


def shown(error: CtcToolError) -> str:
    """The message of ``error`` as the running command spells its options: for errors a command reports
    and goes on (a file of a batch), as well as for the one that stops it."""
    return printable(as_flags(str(error), _RUNNING[-1] if _RUNNING else {}))


def printable(text: str) -> str:
    """``text`` with control characters, invisible format characters and undecodable bytes of file names shown
    as escapes (``\\x1b``, ``\\n``, ``\\xff``), so that a message stays one visible line."""
    return "".join(_escaped(ch) if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in text)


def _escaped(char: str) -> str:
    if "\udc80" <= char <= "\udcff":  # a byte of a file name that is not UTF-8 (surrogateescape)
        return f"\\x{ord(char) - 0xDC00:02x}"
    return char.encode("unicode_escape").decode("ascii")


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


def each_file(paths: list, work: Callable[[Any], None], failed_summary: str) -> None:
    """``work(path)`` for each of ``paths``: with several, a file that fails is reported on a ``failed:`` line
    and the others go on, then ``N of M files {failed_summary}`` stops the command (exit 1); with one, its
    error is the command's."""
    failed = 0
    for path in paths:
        try:
            work(path)
        except CtcToolError as exc:
            if len(paths) == 1:
                raise
            print(f"failed: {shown(exc)}", file=sys.stderr)
            failed += 1
    if failed:
        raise CtcToolError(f"{failed} of {len(paths)} files {failed_summary}")


def check_hotwords(values: list[str] | None) -> list[str] | None:
    """The callback of ``--hotword``: each 'word:boost' is checked at parse time (a usage error naming the flag)."""
    from ctctool.decoding.hotwords import parse_hotword

    for spec in values or []:
        try:
            parse_hotword(spec)
        except CtcToolError as exc:
            raise typer.BadParameter(str(exc)) from None
    return values


def scores_error(error: CtcToolError, source: str, lengths_file) -> CtcToolError:
    """A library error about scores (from ``source``) with their frame counts: it names the scores, or the
    ``--input-lengths`` file when it is about the counts that file gave."""
    from ctctool.errors import renamed

    if lengths_file is None:  # the lengths, if any, came from the array file
        return CtcToolError(f"{source}: {renamed(error, {'input_lengths': 'its input_lengths array'})}")
    if "`input_lengths" in str(error):
        return CtcToolError(f"{lengths_file}: {error} (scores: {source})")
    return CtcToolError(f"{source}: {error}")


def check_files(outputs: dict[str, Any], inputs: list[Any], stdout_carries: str | None = None) -> None:
    """Before any work: every output can be written, none is an input, and none is ``-`` when standard output
    already carries ``stdout_carries`` (see ``ctctool.io.paths``)."""
    from ctctool.io.paths import check_outputs

    check_outputs(outputs, inputs, stdout_carries)


def print_json(payload: Any) -> None:
    """Write one JSON object to stdout (strict JSON: no NaN or Infinity)."""
    sys.stdout.write(json.dumps(payload, allow_nan=False, ensure_ascii=False) + "\n")
