"""``--manifest`` runs on the command line: the options every batch command shares, shards from torchrun's
environment, progress on stderr, then a summary (``--json``: on stdout) and the failures."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ctctool.cli._common import NON_NEGATIVE, POSITIVE, print_json, printable, shown
from ctctool.corpus.plan import BATCH_SIZE
from ctctool.errors import CtcToolError

BatchSizeOption = Annotated[int, typer.Option(min=1, help="With --manifest: items per pass of the model, grouped by duration and padded; 1: one file at a time.")]
def _check_shard(value: Optional[str]) -> Optional[str]:
    """The callback of ``--shard``: K/N checked as the command line is parsed (a usage error naming the flag)."""
    if value is not None:
        from ctctool.corpus.plan import parse_shard

        try:
            parse_shard(value)
        except CtcToolError as exc:
            raise typer.BadParameter(str(exc).replace("`shard` ", "")) from None
    return value


ShardOption = Annotated[Optional[str], typer.Option(callback=_check_shard, help="With --manifest: do only shard K of N (K from 0), e.g. $SLURM_ARRAY_TASK_ID/64; the shards' outputs together are the whole run's. Under torchrun each process takes its RANK of WORLD_SIZE (of this shard). Then --merge-reports.")]
ExecutorOption = Annotated[Literal["local", "ray"], typer.Option(help="With --manifest: run here (the model on --device), or on a Ray cluster (needs the ray extra).")]
RayAddressOption = Annotated[Optional[str], typer.Option(help="--executor ray: the cluster to join (auto: the running one, or ray://host:port); default: a new local instance.")]
WorkersOption = Annotated[int, typer.Option(min=1, help="--executor ray: model workers (actors).")]
GpusOption = Annotated[float, typer.Option(parser=NON_NEGATIVE, help="--executor ray: GPUs per model worker (0: the model runs on CPUs).")]
CpusOption = Annotated[float, typer.Option(parser=POSITIVE, help="--executor ray: CPUs per model worker.")]
JsonSummaryOption = Annotated[bool, typer.Option("--json", help="With --manifest: print the run's summary as one JSON object on stdout.")]
MergeOption = Annotated[bool, typer.Option("--merge-reports", help="With --manifest and --out-dir: after all shards have finished, write one failures.jsonl and the output manifest, and print one summary.")]

#: Seconds between progress lines when stderr is not a terminal (a SLURM log).
PLAIN_EVERY = 30.0


@dataclass(frozen=True)
class BatchFlags:
    """The shared options of a --manifest run, as given."""

    batch_size: int = BATCH_SIZE
    shard: Optional[str] = None
    executor: str = "local"
    ray_address: Optional[str] = None
    workers: int = 1
    num_gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0
    json: bool = False
    merge_reports: bool = False

    def check_unused(self) -> None:
        """Without --manifest, these options mean nothing: a usage error names them."""
        defaults = BatchFlags()
        given = ["--" + name.replace("_", "-") for name in ("batch_size", "shard", "executor", "ray_address",
                                                             "workers", "num_gpus_per_worker", "cpus_per_worker",
                                                             "json", "merge_reports")
                 if getattr(self, name) != getattr(defaults, name)]
        if given:
            raise typer.BadParameter("applies to --manifest runs", param_hint="/".join(given))


def run_manifest(job, manifest: Path, out_dir, model: str, device: str, revision, flags: BatchFlags) -> None:
    """Run ``job`` over ``manifest`` into ``out_dir`` as ``flags`` say (or merge the shards' reports); print the
    summary; exit 1 when any item failed."""
    from ctctool.corpus.plan import WHOLE, parse_shard
    from ctctool.corpus.runner import RayOptions, merge_shards, run_corpus

    if flags.merge_reports:
        if flags.shard is not None or flags.executor != "local":
            raise typer.BadParameter("merges what the shards wrote: give only --manifest and --out-dir",
                                     param_hint="--merge-reports")
        _finish(merge_shards(job, manifest, out_dir, batch_size=flags.batch_size), flags.json, merged=True)
        return
    shard = parse_shard(flags.shard) if flags.shard is not None else WHOLE
    inner = torchrun_shard()
    if inner is not None:
        if flags.executor == "ray":
            raise CtcToolError("--executor ray starts its own workers: run it once, not under torchrun")
        shard, device = shard.within(inner), torchrun_device(device)
    ray = RayOptions(flags.ray_address, flags.workers, flags.num_gpus_per_worker, flags.cpus_per_worker)
    if flags.executor == "ray":
        device = ray_device(device, flags.num_gpus_per_worker)
    display = ProgressDisplay(job.verb, shard.label if shard.sharded else None)
    try:
        summary = run_corpus(job, manifest, out_dir, model=model, device=device, revision=revision,
                             batch_size=flags.batch_size, shard=shard, executor=flags.executor, ray=ray,
                             on_progress=display.update, describe=lambda text: shown(CtcToolError(text)))
    finally:
        display.close()
    _finish(summary, flags.json, torchrun=inner is not None)


def torchrun_shard():
    """The ``Shard`` of this process under torchrun (``RANK`` of ``WORLD_SIZE`` > 1), or None."""
    from ctctool.corpus.plan import Shard

    world, rank = os.environ.get("WORLD_SIZE"), os.environ.get("RANK")
    if world is None or rank is None:
        return None
    if not (world.isdigit() and rank.isdigit() and int(rank) < int(world)):
        raise CtcToolError(f"RANK={rank!r} and WORLD_SIZE={world!r} in the environment: expected 0 <= RANK < "
                           "WORLD_SIZE, whole numbers (as torchrun sets them)")
    return Shard(int(rank), int(world)) if int(world) > 1 else None


def torchrun_device(device: str) -> str:
    """``--device`` of this torchrun process: its ``LOCAL_RANK``'s GPU for ``auto`` or ``cuda`` when there are
    GPUs, else as given."""
    local = os.environ.get("LOCAL_RANK", "0")
    if device not in ("auto", "cuda") or not local.isdigit():
        return device
    import torch

    if not torch.cuda.is_available():
        return device
    return f"cuda:{int(local) % torch.cuda.device_count()}"


def ray_device(device: str, gpus: float) -> str:
    """The device the Ray workers load the model on: where their resources are (``auto`` finds the GPU)."""
    if device.startswith("cuda") and not gpus:
        raise CtcToolError(f"--device {device}: with --executor ray, the workers get GPUs through "
                           "--num-gpus-per-worker (e.g. 1); the driver needs none")
    if device == "cpu" and gpus:
        raise CtcToolError("--device cpu with --num-gpus-per-worker: the GPUs would sit idle; leave --device out")
    return device


class ProgressDisplay:
    """Progress on stderr: a live line on a terminal, else a plain line every ``PLAIN_EVERY`` seconds."""

    def __init__(self, verb: str, shard: str | None):
        from rich.console import Console

        self.verb, self.prefix = verb, f"shard {shard}: " if shard else ""
        self.console = Console(stderr=True)
        self.live = None
        self.last = time.monotonic()
        if self.console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn

            self.live = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[stats]}"),
                                 console=self.console, transient=True)
            self.live.start()
            self.task = self.live.add_task(self.prefix + verb, total=None, stats="")

    def update(self, progress) -> None:
        now = time.monotonic()
        if self.live is not None:
            if now - self.last >= 0.2 or progress.finished == progress.total:
                self.live.update(self.task, completed=progress.finished, total=progress.total,
                                 stats=describe_progress(progress))
                self.last = now
        elif now - self.last >= PLAIN_EVERY:
            print(f"progress: {self.prefix}{self.verb} {describe_progress(progress)}", file=sys.stderr, flush=True)
            self.last = now

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


def describe_progress(p) -> str:
    """``120/800 items (2 failed), 0.33 h of audio, RTF 0.021, ETA 0:12:00``."""
    parts = [f"{p.finished}/{p.total} items" + (f" ({p.failed} failed)" if p.failed else ""),
             f"{p.audio_hours:.2f} h of audio"]
    if p.real_time_factor is not None:
        parts.append(f"RTF {p.real_time_factor:.3f}")
    if p.eta_seconds is not None:
        parts.append(f"ETA {_clock(p.eta_seconds)}")
    return ", ".join(parts)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _finish(summary, as_json: bool, merged: bool = False, torchrun: bool = False) -> None:
    """The summary and the first failures on stderr (and the JSON summary on stdout); exit 1 on failures, except
    under ``torchrun``: it stops every rank as soon as one exits non-zero, so a rank with bad items would stop
    the others' good work (``--merge-reports`` exits 1 for them)."""
    p = summary.progress
    where = f"shard {summary.shard}: " if summary.shard else (f"{summary.shards} shards: " if merged else "")
    print(f"{where}{summary.verb} {p.done}, skipped {p.skipped} already done, failed {p.failed} of {p.total} items",
          file=sys.stderr)
    if p.done:
        rate = f", {p.files_per_second:.2f} files/s" if p.files_per_second else ""
        print(f"note: {where}{p.audio_hours:.4f} h of audio in {p.elapsed:.1f} s{rate}, real-time factor "
              f"{p.real_time_factor:.4f}", file=sys.stderr)
    for failure in summary.failures[:10]:
        line = failure["error"] if failure["id"] is None else f"{failure['id']}: {failure['error']}"
        print(f"failed: {printable(line)}", file=sys.stderr)
    for note in summary.notes:
        print(f"note: {shown(CtcToolError(note))}", file=sys.stderr)
    if as_json:
        print_json(summary.as_dict())
    if summary.failures and torchrun:
        print(f"note: {where}{len(summary.failures)} item(s) failed, listed in {summary.failures_file}; this rank "
              "exits 0 so that torchrun lets the other ranks finish; --merge-reports exits 1 while items fail",
              file=sys.stderr)
    elif summary.failures:
        raise CtcToolError(f"{len(summary.failures)} item(s) failed, listed in {summary.failures_file}; fix them and "
                           f"run again (items already {summary.verb} are skipped)")
