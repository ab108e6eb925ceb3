"""Progress, summaries and failure reports of corpus runs, per shard, and their merge.

An unsharded run lists its failures in ``failures.jsonl`` (as every batch run does). Shard K of N lists them in
``failures.shard-K-of-N.jsonl`` and writes ``summary.shard-K-of-N.json`` (its counts, audio seconds, wall-clock
seconds and a fingerprint of the manifest); ``merge`` checks that every shard of the split finished and every
item is written or listed, and writes the one ``failures.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Sequence

from ctctool.corpus.plan import Shard
from ctctool.errors import CtcToolError
from ctctool.io.out_folder import jsonl_bytes
from ctctool.io.text import decode_text, parse_json

FAILURES_FILE = "failures.jsonl"
_SUMMARY = re.compile(r"^summary\.shard-(\d+)-of-(\d+)\.json$")


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: items finished of ``total`` (``done`` now, ``skipped`` as done before, ``failed``),
    ``audio_seconds`` of the items done and ``elapsed`` wall-clock seconds."""

    total: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    elapsed: float = 0.0

    @property
    def finished(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def audio_hours(self) -> float:
        return self.audio_seconds / 3600.0

    @property
    def real_time_factor(self) -> float | None:
        """Wall-clock seconds per second of audio done (below 1: faster than real time); None before any."""
        return self.elapsed / self.audio_seconds if self.audio_seconds > 0 else None

    @property
    def files_per_second(self) -> float | None:
        worked = self.done + self.failed
        return worked / self.elapsed if worked and self.elapsed > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far (skipped items cost nothing); None before any item is worked."""
        worked = self.done + self.failed
        if worked == 0:
            return None
        return self.elapsed / worked * (self.total - self.finished)


@dataclass(frozen=True)
class RunSummary:
    """What a run (or the merge of a split's shards) did: its progress at the end, the failures (``id``,
    ``where``, ``error``) and where they are listed, and notes on the manifests it rebuilt."""

    command: str
    verb: str
    progress: RunProgress
    failures: tuple[dict, ...]
    failures_file: str | None
    shard: str | None = None
    batch_size: int | None = None
    executor: str = "local"
    workers: int = 1
    notes: tuple[str, ...] = ()
    shards: int = 1

    def as_dict(self) -> dict:
        p = self.progress
        return {"command": self.command, "shard": self.shard, "shards": self.shards, "executor": self.executor,
                "workers": self.workers, "batch_size": self.batch_size, "items": p.total, "done": p.done,
                "skipped": p.skipped, "failed": p.failed, "audio_seconds": round(p.audio_seconds, 3),
                "audio_hours": round(p.audio_hours, 6), "wall_seconds": round(p.elapsed, 3),
                "real_time_factor": _rounded(p.real_time_factor), "files_per_second": _rounded(p.files_per_second),
                "failures_file": self.failures_file if self.failures else None}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def report_names(shard: Shard) -> tuple[str, str | None]:
    """The failure report and the summary file (None unsharded) of ``shard``."""
    if not shard.sharded:
        return FAILURES_FILE, None
    return f"failures.shard-{shard.index}-of-{shard.count}.jsonl", f"summary.shard-{shard.index}-of-{shard.count}.json"


def fingerprint(ids: Sequence[str], rejected: int, batch_size: int) -> str:
    """What a split depends on: the items' ids, the rejected lines and the batch size (SHA-1, hex)."""
    digest = hashlib.sha1(f"{batch_size}\n{rejected}\n".encode("utf-8"))
    for item_id in ids:
        digest.update(item_id.encode("utf-8") + b"\n")
    return digest.hexdigest()


def ordered_failures(failures: Sequence[dict], rejected_order: dict[str, int], item_order: dict[str, int]) -> list:
    """Failures in the order of the manifest: rejected lines first (by ``where``), then items (by id)."""
    def key(failure):
        if failure.get("id") in item_order and failure.get("where") not in rejected_order:
            return 1, item_order[failure["id"]]
        return 0, rejected_order.get(failure.get("where"), -1)
    return sorted(failures, key=key)


def write_failures(folder, name: str, failures: Sequence[dict]) -> None:
    """List ``failures`` in ``name``, or remove a stale list when there are none."""
    if failures:
        folder.write_bytes(name, jsonl_bytes(failures))
    else:
        folder.remove(name)


def summary_record(summary: RunSummary, shard: Shard, fingerprint_text: str) -> dict:
    return {**summary.as_dict(), "shard": [shard.index, shard.count], "fingerprint": fingerprint_text}


@dataclass(frozen=True)
class ShardReports:
    """The summaries of one split (of ``count`` shards) found in an out-dir, and their failures."""

    count: int
    summaries: dict = field(default_factory=dict)  # shard index -> summary record
    failures: tuple[dict, ...] = ()


def read_shard_reports(folder, command: str, fingerprint_text: str) -> ShardReports:
    """The shard summaries and failure reports in ``folder`` of a split of ``command`` over the manifest whose
    fingerprint is ``fingerprint_text``; a CtcToolError when a shard is missing or belongs to another run."""
    found = {}
    for name in sorted(folder.names()):
        match = _SUMMARY.match(name)
        if match:
            found[name] = (int(match.group(1)), int(match.group(2)))
    if not found:
        raise CtcToolError(f"{folder.where()}: no shard summaries (summary.shard-K-of-N.json); run the shards first, "
                           "each with its own `shard`")
    counts = sorted({count for _, count in found.values()})
    if len(counts) > 1:
        raise CtcToolError(f"{folder.where()}: summaries of splits into {' and '.join(map(str, counts))} shards; "
                           "remove the summary.shard-*.json files of the split you no longer use")
    count = counts[0]
    summaries = {}
    for name, (index, _) in found.items():
        record = parse_json(decode_text(folder.read_bytes(name), folder.where(name)), folder.where(name))
        if not isinstance(record, dict) or record.get("command") != command:
            raise CtcToolError(f"{folder.where(name)}: not the summary of a {command} shard; remove it")
        if record.get("fingerprint") != fingerprint_text:
            raise CtcToolError(f"{folder.where(name)}: this shard ran over another manifest or batch size; run it "
                               "again with this manifest and `batch_size`, or remove the file")
        summaries[index] = record
    missing = [k for k in range(count) if k not in summaries]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise CtcToolError(f"{folder.where()}: shard(s) {shown} of {count} have not finished (no "
                           f"summary.shard-K-of-{count}.json): run them, then merge again")
    failures = []
    for index in range(count):
        name = report_names(Shard(index, count))[0]
        if summaries[index].get("failed") and not folder.exists(name):
            raise CtcToolError(f"{folder.where(name)}: missing, but shard {index}/{count} had failures; run it again")
        if folder.exists(name):
            text = decode_text(folder.read_bytes(name), folder.where(name))
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    failures.append(parse_json(line, f"{folder.where(name)} line {number}"))
    return ShardReports(count, summaries, tuple(failures))


def merged_progress(reports: ShardReports, total: int) -> RunProgress:
    """The progress of a whole split: counts and audio summed, wall-clock the slowest shard's."""
    records = reports.summaries.values()
    return RunProgress(total=total, done=sum(r.get("done", 0) for r in records),
                       skipped=sum(r.get("skipped", 0) for r in records),
                       failed=sum(r.get("failed", 0) for r in records),
                       audio_seconds=sum(r.get("audio_seconds", 0.0) for r in records),
                       elapsed=max(r.get("wall_seconds", 0.0) for r in records))


def summary_bytes(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False, allow_nan=False, indent=1) + "\n").encode("utf-8")
