"""The one exception type that ctctool raises for bad input.

The CLI turns a :class:`CtcToolError` into ``error: <message>`` on stderr and exit code 1.
Anything else escaping a command is a bug and keeps its traceback.

Messages name library parameters in backticks, `name` or `name=value` (``MENTION``), so that
a front end can show its own spelling: the command line shows `zero_infinity=True` as
``--zero-infinity`` and `blank` as ``--blank``.
"""

import re

#: A parameter mentioned in a message: `name` or `name=value`.
MENTION = re.compile(r"`(([A-Za-z_][A-Za-z0-9_]*)(=([^`]*))?)`")


#: Terminal control sequences (colours, bold) that some libraries put in their messages.
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of another library's error message, without control characters, for a one-line report."""
    text = _CONTROL.sub("", str(exc)).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:limit].strip()


class CtcToolError(ValueError):
    """Bad input or an impossible request, described in one line.

    A message names its subject (file, line, utterance), what was expected, what
    was found and, where there is one, the fix.
    """


def renamed(error: CtcToolError, names: dict[str, str]) -> CtcToolError:
    """``error`` with its parameter mentions renamed (`log_probs` -> `emissions`): for a caller whose own
    parameter carried the value. A new name that is not an identifier is written without backticks."""

    def rename(match: re.Match) -> str:
        new = names.get(match.group(2))
        if new is None:
            return match.group(0)
        text = new + (match.group(3) or "")
        return f"`{text}`" if new.isidentifier() else text

    return CtcToolError(MENTION.sub(rename, str(error)))
