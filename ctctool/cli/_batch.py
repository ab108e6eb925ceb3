"""A manifest batch run on the command line: a progress bar, then a summary and the failures on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from ctctool.cli._common import shown
from ctctool.errors import CtcToolError


def run_manifest(manifest: Path, out_dir: Path, extension: str, make_work: Callable[[], Callable], verb: str) -> None:
    """Run ``make_work()`` (called once the manifest and the folder are checked: it may load a model) over the
    items of ``manifest`` into ``out_dir``; exit 1 when any item failed."""
    from rich.progress import Progress

    from ctctool.io.batch import run_batch
    from ctctool.io.manifest import read_items

    items = read_items(manifest)
    if not Path(out_dir).is_dir():
        raise CtcToolError(f"{out_dir}: no such folder; create it first")
    work = make_work()
    with Progress(transient=True) as progress:
        task = progress.add_task(verb, total=len(items))
        report = run_batch(items, out_dir, extension, work, on_item=lambda item: progress.advance(task),
                           describe=shown)
    print(f"{verb} {report.done}, skipped {report.skipped} already done, failed {len(report.failures)} of "
          f"{report.total} items", file=sys.stderr)
    for failure in report.failures[:10]:
        print(f"failed: {failure['id']}: {failure['error']}", file=sys.stderr)
    if report.failures:
        raise CtcToolError(f"{len(report.failures)} item(s) failed, listed in {report.failures_file}; fix them and "
                           f"run again (items already {verb} are skipped)")
