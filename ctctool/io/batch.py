"""Batch runs over a manifest: one output file per item, resumable, failures listed, never a stop.

An item whose output file exists is skipped (so a stopped run resumes where it was); an
item whose work raises a ``CtcToolError``, and a line of the list that is not a usable item
(``RejectedItem``), is listed in ``failures.jsonl`` in the output folder (id, where, error) and
the run goes on. Each output is written atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.io.manifest import ManifestItem, RejectedItem

FAILURES_FILE = "failures.jsonl"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@dataclass(frozen=True)
class BatchReport:
    """What a batch run did: items done, skipped (already there), failed (with their errors)."""

    total: int
    done: int
    skipped: int
    failures: tuple[dict, ...]
    failures_file: Path


def run_batch(items: Sequence[ManifestItem], out_dir: Path, extension: str, work: Callable[[ManifestItem], str],
              on_item: Callable[[ManifestItem], None] = lambda item: None,
              describe: Callable[[CtcToolError], str] = str, rejected: Sequence[RejectedItem] = (),
              inputs: Sequence[Path] = (),
              also_written: Callable[[ManifestItem], Sequence[Path]] = lambda item: ()) -> BatchReport:
    """Write ``work(item)`` (the whole file text) to ``out_dir/<id>.<extension>`` for every item not yet done;
    ``describe`` words the error of an item that fails; ``rejected`` lines of the list count as failures.
    An item whose output file would be one of ``inputs`` (the list itself) or its own audio fails.
    ``also_written(item)``: files the work writes besides the output; an item is done when all exist too."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise CtcToolError(f"{out_dir}: no such folder; create it first")
    failures = [{"id": r.id, "where": r.where, "error": r.error} for r in rejected]
    done, skipped = 0, 0
    for item in items:
        target = out_dir / f"{item.id}.{extension}"
        clash = next((p for p in (*inputs, item.audio) if target.exists() and _same_file(target, p)), None)
        if clash is not None:
            failures.append({"id": item.id, "where": item.where, "error": f"{item.where}: the output {target} would "
                             f"be the input {clash}; give the item another id or write to another folder"})
        elif target.exists() and all(Path(p).exists() for p in also_written(item)):
            skipped += 1
        else:
            try:
                text = work(item)
                with atomic_open(target, "wb") as handle:
                    handle.write(text.encode("utf-8"))
                done += 1
            except CtcToolError as exc:
                failures.append({"id": item.id, "where": item.where, "error": describe(exc)})
            except OSError as exc:  # a full disk, a file that vanished: this item fails, the run goes on
                failures.append({"id": item.id, "where": item.where,
                                 "error": f"{exc.filename or target}: {exc.strerror or exc}"})
        on_item(item)
    report_file = out_dir / FAILURES_FILE
    if failures:
        with atomic_open(report_file, "w") as handle:
            handle.writelines(json.dumps(f, ensure_ascii=False) + "\n" for f in failures)
    elif report_file.exists():
        report_file.unlink()
    return BatchReport(len(items) + len(rejected), done, skipped, tuple(failures), report_file)
