"""``run_corpus``: a manifest through a model and a job into an out-dir, in batches, for one shard, on an
executor; ``merge_shards``: one report and one output manifest from the shards of a split.

Before any work: the manifest is read (a bad line fails that item only), the out-dir is checked (it exists and
takes files; the failure report would not replace the manifest), the job checks its own outputs, and an item
whose output would be one of its inputs fails. Items whose outputs are all there are skipped: a stopped run
resumes where it was. Unsharded, the run rebuilds the job's output manifest at the end; a shard leaves that to
``merge_shards``, which runs once all shards have finished.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Callable

from ctctool.corpus import stages
from ctctool.corpus.plan import BATCH_SIZE, WHOLE, Shard, group_size, plan_groups, shard_groups
from ctctool.corpus.reports import (RunProgress, RunSummary, fingerprint, merged_progress, ordered_failures,
                                    read_shard_reports, report_names, summary_bytes, summary_record, write_failures)
from ctctool.errors import CtcToolError

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class RayOptions:
    """The Ray executor: the cluster (``address``: None starts a local instance, ``auto`` joins the running one),
    ``workers`` model actors with ``gpus_per_worker`` GPUs and ``cpus_per_worker`` CPUs each."""

    address: str | None = None
    workers: int = 1
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 1.0


@dataclass(frozen=True)
class _Listed:
    items: tuple
    rejected: tuple


def run_corpus(job, manifest, out_dir, *, model="default", device="cpu", revision: str | None = None,
               batch_size: int = BATCH_SIZE, shard: Shard = WHOLE, executor: str = "local",
               ray: RayOptions = RayOptions(), on_progress: Callable[[RunProgress], None] | None = None,
               describe: Callable[[str], str] = str) -> RunSummary:
    """Run ``job`` (``ctctool.corpus.jobs``) over the items of ``manifest`` (JSONL or an LJSpeech folder) into
    ``out_dir`` (a folder, or a URI pyarrow opens): the items of ``shard`` only, ``batch_size`` items per model
    pass, on ``executor`` (``local``: this process, with ``model`` on ``device``; ``ray``: ``ray``'s actors).

    ``on_progress`` hears the progress after each item; ``describe`` words each item's error for the report.
    Returns the summary; the failures are listed in the out-dir (see ``ctctool.corpus.reports``).
    """
    from ctctool.io.out_folder import output_folder

    if executor not in EXECUTORS:
        raise CtcToolError(f"`executor` {executor!r}: expected one of {', '.join(EXECUTORS)}")
    size = group_size(batch_size)
    listed = _read(manifest, job)
    folder = output_folder(out_dir)
    failures_name, summary_name = report_names(shard)
    _check_folder(folder, [failures_name, summary_name], manifest)
    job = job.prepare(listed.items, [manifest], folder)
    present = folder.names()
    planned = plan_groups([item.id for item in listed.items], size)
    groups = [(g, tuple(listed.items[i] for i in g), tuple(_state(job, folder, listed.items[i], present, manifest)
                                                          for i in g))
              for g in shard_groups(planned, shard)]
    rejected = [r for j, r in enumerate(listed.rejected) if j % shard.count == shard.index]
    total = sum(len(g) for g, _, _ in groups) + len(rejected)
    tracker = _Tracker(total, on_progress, describe, rejected)
    if all(state == stages.DONE for _, _, states in groups for state in states):
        for indices, items, _ in groups:  # nothing to do: no model to load, no cluster to start
            for index, item in zip(indices, items):
                tracker.add(stages.Outcome(index, item.id, item.where, stages.SKIPPED))
    elif executor == "ray":
        from ctctool.corpus.ray_executor import run_ray

        run_ray(job, folder, model, revision, device, groups, batch_size=batch_size, options=ray,
                on_outcome=tracker.add)
    else:
        _run_here(job, folder, model, device, revision, groups, batch_size, tracker.add)
    summary = tracker.summary(job, failures_name, folder, shard, batch_size, executor,
                              ray.workers if executor == "ray" else 1, listed)
    write_failures(folder, failures_name, summary.failures)
    if summary_name is not None:
        record = summary_record(summary, shard, fingerprint([i.id for i in listed.items], len(listed.rejected),
                                                            batch_size))
        folder.write_bytes(summary_name, summary_bytes(record))
        return replace(summary, notes=summary.notes + _idle_shards(len(planned), batch_size, shard))
    return replace(summary, notes=tuple(job.close(folder, listed.items)))


def _idle_shards(groups: int, batch_size: int, shard: Shard) -> tuple[str, ...]:
    """A note when the manifest has fewer groups than there are shards (some shards get no items)."""
    if groups >= shard.count:
        return ()
    return (f"the manifest makes {groups} group(s) of up to {group_size(batch_size)} items "
            f"({group_size(batch_size) // batch_size} batches of `batch_size={batch_size}`), fewer than the {shard.count} "
            f"shards: {shard.count - groups} shard(s) get no items; use fewer shards or a smaller `batch_size`",)


def merge_shards(job, manifest, out_dir, *, batch_size: int = BATCH_SIZE) -> RunSummary:
    """One ``failures.jsonl`` and the job's output manifest from the finished shards of a split in ``out_dir``
    (run with this ``manifest`` and ``batch_size``); a CtcToolError when a shard has not finished or an item is
    neither written nor listed as failed."""
    from ctctool.io.out_folder import output_folder

    listed = _read(manifest, job)
    folder = output_folder(out_dir)
    _check_folder(folder, [report_names(WHOLE)[0]], manifest)
    reports = read_shard_reports(folder, job.command,
                                 fingerprint([i.id for i in listed.items], len(listed.rejected), batch_size))
    present = folder.names()
    failed_ids = {f.get("id") for f in reports.failures}
    missing = [item for item in listed.items if not job.done(item, present) and item.id not in failed_ids]
    if missing:
        raise CtcToolError(f"{len(missing)} item(s) are neither written nor listed as failed (the first: "
                           f"{missing[0].where}, id {missing[0].id!r}): their shard stopped early; run it again, "
                           "then merge")
    failures = ordered_failures(reports.failures, {r.where: n for n, r in enumerate(listed.rejected)},
                                {item.id: n for n, item in enumerate(listed.items)})
    write_failures(folder, report_names(WHOLE)[0], failures)
    progress = merged_progress(reports, len(listed.items) + len(listed.rejected))
    notes = tuple(job.close(folder, listed.items))
    return RunSummary(job.command, job.verb, replace(progress, failed=len(failures)), tuple(failures),
                      folder.where(report_names(WHOLE)[0]), batch_size=batch_size, notes=notes,
                      shards=reports.count)


def _read(manifest, job) -> _Listed:
    from ctctool.io.manifest import read_manifest_items

    listed = read_manifest_items(manifest, needs_text=job.needs_text)
    if not listed.items and not listed.rejected:
        raise CtcToolError(f"{manifest}: no items; expected one JSON object per line with audio_filepath and text "
                           "(or an LJSpeech folder)")
    return _Listed(listed.items, listed.rejected)


def _check_folder(folder, reports: list, manifest) -> None:
    """The out-dir takes files, and no report of the run would replace the manifest."""
    folder.check("`out_dir`")
    local = folder.local_path()
    if local is not None:
        from ctctool.io.paths import check_outputs

        check_outputs({"`out_dir` failure report" if n.startswith("failures") else "`out_dir` summary": local / n
                       for n in reports if n is not None}, [manifest])


def _state(job, folder, item, present: set, manifest) -> str:
    """``done``, ``todo``, or the error of an item whose output would be one of its inputs."""
    local = folder.local_path()
    if local is not None:
        for name in job.outputs(item):
            target = local / name
            clash = next((p for p in (manifest, item.audio) if name in present and _same_file(target, p)), None)
            if clash is not None:
                return (f"{item.where}: the output {target} would be the input {clash}; give the item another id or "
                        "write to another folder")
    return stages.DONE if job.done(item, present) else stages.TODO


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _run_here(job, folder, model_spec, device, revision, groups, batch_size: int, on_outcome) -> None:
    """The local executor, with as many model threads as torch would use cores (two on a GPU: one loads audio
    while the other's batch runs)."""
    import torch

    from ctctool.corpus.local import run_local
    from ctctool.models.base import model_info
    from ctctool.models.loading import as_model
    from ctctool.models.windowed import window_samples

    cores = torch.get_num_threads()
    with stages.torch_threads(1):
        model = as_model(model_spec, device, revision=revision)
        on_gpu = getattr(getattr(model, "device", None), "type", "cpu") != "cpu"
        run_local(job, folder, model, model_info(model), groups, batch_size=batch_size,
                  longest=window_samples(model), on_outcome=on_outcome, model_threads=2 if on_gpu else cores)


class _Tracker:
    """Counts outcomes as they come, keeps the failures (worded by ``describe``), tells ``on_progress``."""

    def __init__(self, total: int, on_progress, describe, rejected):
        self.on_progress, self.describe = on_progress, describe
        self.started = time.monotonic()
        self.rejected = [{"id": r.id, "where": r.where, "error": describe(r.error)} for r in rejected]
        self.failed: list[tuple[int, dict]] = []  # (manifest position, failure)
        self.progress = RunProgress(total, failed=len(rejected))

    def add(self, outcome: stages.Outcome) -> None:
        p = self.progress
        if outcome.status == stages.FAILED:
            self.failed.append((outcome.index, {"id": outcome.id, "where": outcome.where,
                                                "error": self.describe(outcome.error)}))
            p = replace(p, failed=p.failed + 1)
        elif outcome.status == stages.SKIPPED:
            p = replace(p, skipped=p.skipped + 1)
        else:
            p = replace(p, done=p.done + 1, audio_seconds=p.audio_seconds + outcome.seconds)
        self.progress = replace(p, elapsed=time.monotonic() - self.started)
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def summary(self, job, failures_name, folder, shard, batch_size, executor, workers, listed) -> RunSummary:
        """The run's summary: failures in manifest order (rejected lines first, as they are read)."""
        failures = self.rejected + [f for _, f in sorted(self.failed, key=lambda pair: pair[0])]
        progress = replace(self.progress, elapsed=time.monotonic() - self.started)
        return RunSummary(job.command, job.verb, progress, tuple(failures), folder.where(failures_name),
                          shard=shard.label if shard.sharded else None, batch_size=batch_size, executor=executor,
                          workers=workers, shards=shard.count)
