"""A manifest batch run on the command line: a progress bar, then a summary and the failures on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from ctctool.cli._common import check_files, printable, shown
from ctctool.io.batch import FAILURES_FILE, run_batch
from ctctool.errors import CtcToolError


def run_manifest(manifest: Path, out_dir: Path, extension: str, make_work: Callable[[], Callable], verb: str, *,
                 prepare: Callable[[Sequence], None] | None = None, finish: Callable[[Sequence], None] | None = None,
                 also_written: Callable[[Any], Sequence[Path]] | None = None) -> None:
    """Run ``make_work()`` (called once the manifest and the folder are checked: it may load a model) over the
    items of ``manifest`` into ``out_dir``; exit 1 when any item failed. ``prepare(items)`` runs more checks
    before ``make_work``, ``finish(items)`` after the last item (failed or not); ``also_written(item)``: other
    files the work of an item writes, which must exist too for the item to count as done."""
    from rich.progress import Progress

    from ctctool.io.manifest import read_manifest_items
    from ctctool.io.paths import check_output_folder

    listed = read_manifest_items(manifest)
    if not listed.items and not listed.rejected:
        raise CtcToolError(f"{manifest}: no items; expected one JSON object per line with audio_filepath and text "
                           "(or an LJSpeech folder)")
    check_output_folder(out_dir, "--out-dir")
    check_files({"--out-dir failure report": Path(out_dir) / FAILURES_FILE}, [manifest])
    if prepare is not None:
        prepare(listed.items)
    work = make_work()
    with Progress(transient=True) as progress:
        task = progress.add_task(verb, total=len(listed.items))
        report = run_batch(listed.items, out_dir, extension, work, on_item=lambda item: progress.advance(task),
                           describe=shown, rejected=listed.rejected, inputs=(Path(manifest),),
                           also_written=also_written or (lambda item: ()))
    print(f"{verb} {report.done}, skipped {report.skipped} already done, failed {len(report.failures)} of "
          f"{report.total} items", file=sys.stderr)
    for failure in report.failures[:10]:
        line = failure["error"] if failure["id"] is None else f"{failure['id']}: {failure['error']}"
        print(f"failed: {printable(line)}", file=sys.stderr)
    if finish is not None:
        finish(listed.items)
    if report.failures:
        raise CtcToolError(f"{len(report.failures)} item(s) failed, listed in {report.failures_file}; fix them and "
                           f"run again (items already {verb} are skipped)")
