"""The steps of a corpus run, the same for every executor: load a group's audio and cut it into batches, run
the model on a batch, finish an item (align or decode it, write its files).

An item that fails at a step becomes an ``Outcome`` with its error, and the others go on. Every step runs with
one torch thread per worker (``torch_threads``): CPU kernels give the same bits whatever the machine's core
count, so that executors and shards write the same bytes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Sequence

import torch

from ctctool.corpus.plan import cut_batches
from ctctool.errors import CtcToolError

#: Item states before any work: to do, or done already (its outputs are there); any other text is its error.
TODO, DONE = "todo", "done"
#: Outcomes of an item.
WRITTEN, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass(frozen=True)
class Outcome:
    """What became of one item (``index``: its position in the manifest's items) or rejected line (-1):
    ``status`` ``done``, ``skipped`` (done before) or ``failed`` (``error``); ``seconds`` of audio it had."""

    index: int
    id: str | None
    where: str
    status: str
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Member:
    """An item of a batch: its position in the manifest, the item, and whether its outputs are there already."""

    index: int
    item: object
    done: bool


@dataclass(frozen=True)
class Batch:
    """Items that go through the model together, and their (N_b,) waveforms at the model's rate."""

    members: tuple[Member, ...]
    waveforms: tuple[torch.Tensor, ...]


@contextlib.contextmanager
def torch_threads(count: int = 1):
    """Run the block with ``count`` torch threads (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def failed(index: int, item, error: str) -> Outcome:
    return Outcome(index, item.id, item.where, FAILED, error)


def load_group(indices: Sequence[int], items: Sequence, states: Sequence[str], *, sample_rate: int, longest: int,
               batch_size: int, audio_stream: int | None = None) -> tuple[list[Batch], list[Outcome]]:
    """The batches of a group (items at manifest positions ``indices``, in ``states``) whose items are not all
    done, and the outcomes of the others: items that failed before or while loading, and done ones whose batch
    needs no work. Audio is read at ``sample_rate``; ``longest``: samples of one model window."""
    from ctctool.audio.loading import load_audio

    loaded, outcomes = [], []
    for index, item, state in zip(indices, items, states):
        if state not in (TODO, DONE):
            outcomes.append(failed(index, item, state))
            continue
        try:
            waveform = load_audio(item.audio, sample_rate, stream=audio_stream)
        except CtcToolError as exc:
            outcomes.append(Outcome(index, item.id, item.where, SKIPPED) if state == DONE
                            else failed(index, item, str(exc)))
            continue
        except OSError as exc:
            outcomes.append(failed(index, item, _os_error(exc, item.audio)))
            continue
        loaded.append((Member(index, item, state == DONE), waveform))
    batches = []
    for positions in cut_batches([w.numel() for _, w in loaded], batch_size, longest):
        members = tuple(loaded[p][0] for p in positions)
        if all(m.done for m in members):
            outcomes.extend(Outcome(m.index, m.item.id, m.item.where, SKIPPED) for m in members)
        else:
            batches.append(Batch(members, tuple(loaded[p][1] for p in positions)))
    return batches, outcomes


def run_model(model, batch: Batch) -> tuple[list[tuple[Member, torch.Tensor, float]], list[Outcome]]:
    """(member, (T, C) CPU log-probs, seconds of audio) of each item of ``batch``, and the outcomes of items the
    model refused. A batch the model refuses goes again one item at a time, so only the bad item fails."""
    from ctctool.models.batched import batched_log_probs

    seconds = [w.numel() / model.sample_rate for w in batch.waveforms]
    try:
        outputs = _on_cpu(batched_log_probs(model, batch.waveforms))
        return [(m, lp, s) for m, lp, s in zip(batch.members, outputs, seconds)], []
    except CtcToolError as exc:
        if len(batch.members) == 1:
            return [], [failed(batch.members[0].index, batch.members[0].item, str(exc))]
    results, outcomes = [], []
    for member, waveform, duration in zip(batch.members, batch.waveforms, seconds):
        try:
            results.append((member, _on_cpu(batched_log_probs(model, [waveform]))[0], duration))
        except CtcToolError as exc:
            outcomes.append(failed(member.index, member.item, str(exc)))
    return results, outcomes


def _on_cpu(outputs: list[torch.Tensor]) -> list[torch.Tensor]:
    return [o.detach().to("cpu", torch.float32) for o in outputs]


def out_of_memory(error: BaseException, batch: Batch) -> CtcToolError | None:
    """A one-line error for a batch that did not fit the device's memory, or None for any other error."""
    kinds = tuple(k for k in (getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None))
                  if k is not None)
    if not kinds or not isinstance(error, kinds):
        return None
    longest = max(w.numel() for w in batch.waveforms)
    return CtcToolError(f"out of device memory on a batch of {len(batch.members)} item(s) of up to {longest} samples; "
                        "lower `batch_size`")


def finish_item(job, folder, model, member: Member, log_probs: torch.Tensor, seconds: float) -> Outcome:
    """``job.finish`` of one item, its files written into ``folder`` (its own file last); a done item is skipped."""
    item = member.item
    if member.done:
        return Outcome(member.index, item.id, item.where, SKIPPED)
    name = None
    try:
        for name, data in job.finish(item, log_probs, seconds, model, folder):
            folder.write_bytes(name, data)
    except CtcToolError as exc:
        return failed(member.index, item, str(exc))
    except OSError as exc:  # a full disk, a file that vanished: this item fails, the run goes on
        return failed(member.index, item, _os_error(exc, folder.where(name or "")))
    return Outcome(member.index, item.id, item.where, WRITTEN, seconds=seconds)


def _os_error(exc: OSError, where) -> str:
    return f"{exc.filename or where}: {exc.strerror or exc}"
