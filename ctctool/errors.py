"""The one exception type that ctctool raises for bad input.

The CLI turns a :class:`CtcToolError` into ``error: <message>`` on stderr and exit
code 1. Anything else escaping a command is a bug and keeps its traceback.
"""


class CtcToolError(ValueError):
    """Bad input or an impossible request, described in one line.

    A message names its subject (file, line, utterance), what was expected, what
    was found and, where there is one, the fix.
    """
