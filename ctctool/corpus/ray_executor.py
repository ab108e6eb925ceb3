"""The Ray executor: a streaming Ray Data pipeline over the groups of a run (the ray extra).

    groups --flat_map (CPU tasks)--> batches of audio --map (model actors, GPUs)--> log-probs
           --flat_map (CPU tasks)--> each item aligned or decoded, its files written --> outcomes (driver)

The stages are ``ctctool.corpus.stages``, as in the local executor, with the same groups and batches: so the
same bytes. Rows carry JSON text and raw float32 bytes only. Each model actor loads the model once on its own
device (``auto``: the GPU Ray gave it, if any); the driver loads it on the CPU only to check it and learn its
vocabulary and timing, which the finishing tasks need.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ctctool.corpus import stages
from ctctool.errors import CtcToolError


def run_ray(job, folder, model_spec, revision, device, groups: Sequence, *, batch_size: int, options,
            on_outcome: Callable[[stages.Outcome], None]) -> None:
    """Run ``groups`` (each: manifest positions, items, states) on a Ray cluster (``options``: a ``RayOptions``),
    reporting each item's outcome to ``on_outcome`` as the driver receives it."""
    ray = _ray()
    from ctctool.models.base import model_info
    from ctctool.models.loading import as_model
    from ctctool.models.windowed import window_samples

    with stages.torch_threads(1):
        probe = as_model(model_spec, "cpu", revision=revision)
    info, longest = model_info(probe), window_samples(probe)
    del probe
    started = not ray.is_initialized()
    if started:
        ray.init(address=options.address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        data = _quiet(ray)
        rows = [{"group": json.dumps({"indices": list(indices), "items": [_item_dict(i) for i in items],
                                      "states": list(states)}, ensure_ascii=False)}
                for indices, items, states in groups]
        dataset = (data.from_items(rows, override_num_blocks=max(1, len(rows)))
                   .flat_map(_load, fn_kwargs=dict(sample_rate=info.sample_rate, longest=longest,
                                                   batch_size=batch_size,
                                                   audio_stream=getattr(job, "audio_stream", None)), num_cpus=1)
                   .map(_ModelWorker, fn_constructor_kwargs=dict(spec=model_spec, device=device, revision=revision),
                        concurrency=options.workers, num_cpus=options.cpus_per_worker,
                        num_gpus=options.gpus_per_worker or None)
                   .flat_map(_finish, fn_kwargs=dict(job=job, folder=folder, info=info), num_cpus=1))
        with warnings.catch_warnings():  # Ray Data's advice on block counts and actor use: not the user's to act on
            warnings.simplefilter("ignore", UserWarning)
            for row in dataset.iter_rows():
                on_outcome(stages.Outcome(**json.loads(row["outcome"])))
    finally:
        if started:
            ray.shutdown()


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise CtcToolError("`executor=ray` needs Ray Data: pip install 'ctctool[ray]'") from None
    return ray


def _quiet(ray):
    """Ray Data with its progress bars and execution logs off (the run reports its own progress)."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return ray.data


def _item_dict(item) -> dict:
    return {"where": item.where, "id": item.id, "audio": str(item.audio), "text": item.text}


def _item(data: dict):
    from ctctool.io.manifest import ManifestItem

    return ManifestItem(data["where"], data["id"], Path(data["audio"]), data["text"])


def _outcome_row(outcome: stages.Outcome) -> dict:
    return {"kind": "outcomes", "meta": json.dumps([asdict(outcome)], ensure_ascii=False), "data": b"",
            "lengths": "[]"}


def _load(row: dict, *, sample_rate: int, longest: int, batch_size: int, audio_stream) -> list[dict]:
    """A group -> one row per batch to run (members and their audio) and one per outcome known already."""
    import torch

    torch.set_num_threads(1)
    group = json.loads(row["group"])
    items = [_item(d) for d in group["items"]]
    batches, outcomes = stages.load_group(group["indices"], items, group["states"], sample_rate=sample_rate,
                                          longest=longest, batch_size=batch_size, audio_stream=audio_stream)
    rows = [_outcome_row(o) for o in outcomes]
    for batch in batches:
        members = [{"index": m.index, "item": _item_dict(m.item), "done": m.done} for m in batch.members]
        rows.append({"kind": "batch", "meta": json.dumps(members, ensure_ascii=False),
                     "data": _pack([w.numpy() for w in batch.waveforms]),
                     "lengths": json.dumps([w.numel() for w in batch.waveforms])})
    return rows


class _ModelWorker:
    """A model actor: the model loaded once, then batches of audio in, log-probs out."""

    def __init__(self, spec, device, revision):
        import torch

        from ctctool.models.loading import as_model

        torch.set_num_threads(1)
        self.model = as_model(spec, device, revision=revision)

    def __call__(self, row: dict) -> dict:
        if row["kind"] != "batch":
            return row
        import torch

        members = json.loads(row["meta"])
        waveforms = [torch.from_numpy(a) for a in _unpack(row["data"], json.loads(row["lengths"]))]
        batch = stages.Batch(tuple(stages.Member(m["index"], _item(m["item"]), m["done"]) for m in members),
                             tuple(waveforms))
        try:
            results, refused = stages.run_model(self.model, batch)
        except Exception as exc:
            raise stages.out_of_memory(exc, batch) or exc
        by_index = {member.index: (log_probs, seconds) for member, log_probs, seconds in results}
        kept = [dict(m, seconds=by_index[m["index"]][1]) for m in members if m["index"] in by_index]
        arrays = [by_index[m["index"]][0].numpy() for m in kept]
        return {"kind": "log_probs", "meta": json.dumps({"members": kept, "refused": [asdict(o) for o in refused],
                                                         "classes": arrays[0].shape[1] if arrays else 0},
                                                        ensure_ascii=False),
                "data": _pack(arrays), "lengths": json.dumps([a.shape[0] for a in arrays])}


def _finish(row: dict, *, job, folder, info) -> list[dict]:
    """Log-probs -> each item finished and written; outcomes pass through. One row per outcome."""
    import torch

    torch.set_num_threads(1)
    if row["kind"] == "outcomes":
        return [{"outcome": json.dumps(o, ensure_ascii=False)} for o in json.loads(row["meta"])]
    meta = json.loads(row["meta"])
    outcomes = [stages.Outcome(**o) for o in meta["refused"]]
    frames = json.loads(row["lengths"])
    arrays = _unpack(row["data"], [n * meta["classes"] for n in frames])
    for m, array, n in zip(meta["members"], arrays, frames):
        member = stages.Member(m["index"], _item(m["item"]), m["done"])
        log_probs = torch.from_numpy(array.reshape(n, meta["classes"]))
        outcomes.append(stages.finish_item(job, folder, info, member, log_probs, m["seconds"]))
    return [{"outcome": json.dumps(asdict(o), ensure_ascii=False)} for o in outcomes]


def _pack(arrays: list) -> bytes:
    return b"".join(np.ascontiguousarray(a, dtype=np.float32).tobytes() for a in arrays)


def _unpack(data: bytes, sizes: list[int]) -> list[np.ndarray]:
    flat = np.frombuffer(data, dtype=np.float32)
    out, start = [], 0
    for size in sizes:
        out.append(flat[start:start + size].copy())
        start += size
    return out
