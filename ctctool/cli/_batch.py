"""A manifest batch run on the command line: a progress bar, then a summary and the failures on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from ctctool.cli._common import check_files, printable, shown
from ctctool.io.batch import FAILURES_FILE, run_batch
from ctctool.errors import CtcToolError


def run_manifest(manifest: Path, out_dir: Path, extension: str, make_work: Callable[[], Callable], verb: str) -> None:
    """Run ``make_work()`` (called once the manifest and the folder are checked: it may load a model) over the
    items of ``manifest`` into ``out_dir``; exit 1 when any item failed."""
    from rich.progress import Progress

    from ctctool.io.manifest import read_manifest_items
    from ctctool.io.paths import check_output_folder

    listed = read_manifest_items(manifest)
    if not listed.items and not listed.rejected:
        raise CtcToolError(f"{manifest}: no items; expected one JSON object per line with audio_filepath and text "
                           "(or an LJSpeech folder)")
    check_output_folder(out_dir, "--out-dir")
    check_files({"--out-dir failure report": Path(out_dir) / FAILURES_FILE}, [manifest])
    work = make_work()
    with Progress(transient=True) as progress:
        task = progress.add_task(verb, total=len(listed.items))
        report = run_batch(listed.items, out_dir, extension, work, on_item=lambda item: progress.advance(task),
                           describe=shown, rejected=listed.rejected, inputs=(Path(manifest),))
    print(f"{verb} {report.done}, skipped {report.skipped} already done, failed {len(report.failures)} of "
          f"{report.total} items", file=sys.stderr)
    for failure in report.failures[:10]:
        line = failure["error"] if failure["id"] is None else f"{failure['id']}: {failure['error']}"
        print(f"failed: {printable(line)}", file=sys.stderr)
    if report.failures:
        raise CtcToolError(f"{len(report.failures)} item(s) failed, listed in {report.failures_file}; fix them and "
                           f"run again (items already {verb} are skipped)")
