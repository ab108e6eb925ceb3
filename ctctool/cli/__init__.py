"""The ``ctctool`` command line: one Typer app per command module, joined here.

Command modules import torch and numpy inside their functions only, so that
``ctctool --help`` stays fast.
"""

import typer

from ctctool.cli import align, decode, emissions, loss, train, transcribe, wer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Connectionist Temporal Classification toolkit: loss, forced alignment, decoding, WER, models.",
)
for command_module in (loss, align, decode, wer, train, transcribe, emissions):
    app.add_typer(command_module.app)


def main() -> None:
    """Entry point of the ``ctctool`` console script."""
    app(prog_name="ctctool")
