"""The ``ctctool`` command line: one Typer app per command module, joined here.

Command modules import torch and numpy inside their functions only, so that
``ctctool --help`` stays fast.
"""

import atexit
import os
import signal
import sys

import typer

from ctctool.cli import align, decode, emissions, lm, loss, train, transcribe, wer
from ctctool.cli._common import OneLineErrors

app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Connectionist Temporal Classification toolkit: loss, forced alignment, decoding, WER, models.",
)
for command_module in (loss, align, decode, wer, lm, train, transcribe, emissions):
    app.add_typer(command_module.app)


def _print_version(value: bool) -> None:
    if value:
        import ctctool

        print(f"ctctool {ctctool.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    """Connectionist Temporal Classification toolkit: loss, forced alignment, decoding, WER, models."""


def main() -> None:
    """Entry point of the ``ctctool`` console script."""
    if hasattr(signal, "SIGPIPE"):  # a reader that goes away (| head) ends the run quietly, as for any Unix tool
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app(prog_name="ctctool")
        code = 0
    except SystemExit as exc:
        code = exc.code
    _exit(code)


def _exit(code) -> None:
    """Leave the process. Once torch is loaded, tearing its modules down at interpreter exit takes
    about 0.4 s, longer than many commands: so flush, run the atexit handlers, and end the process
    without the teardown (every output file is complete by now: they are renamed into place)."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    torch = sys.modules.get("torch")
    if torch is None or (torch.distributed.is_available() and torch.distributed.is_initialized()):
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)
