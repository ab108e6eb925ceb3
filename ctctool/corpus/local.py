"""The local executor: one process, the model on one device, a pipeline of threads.

``model_threads`` threads each take the next batch (one of them reads the next group's audio and cuts it into
batches when the last is taken) and run the model on it; meanwhile the calling thread aligns or decodes each
item and writes its files (numba and Python). torch releases the GIL in its kernels, so on a CPU batches go
through the model side by side, one core each; every torch op runs on one thread (``stages.torch_threads``), so
a batch's log-probs are the same bits whichever thread, and however many, ran it. At most ``AHEAD`` batches per
thread wait to be finished.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Sequence

from ctctool.corpus import stages

#: Batches of log-probs each model thread may run ahead of the items being finished.
AHEAD = 2


def run_local(job, folder, model, info, groups: Sequence, *, batch_size: int, longest: int,
              on_outcome: Callable[[stages.Outcome], None], model_threads: int = 1) -> None:
    """Run ``groups`` (each: manifest positions, items, states) through ``model`` (``info``: its ``ModelInfo``)
    and ``job`` into ``folder``, reporting each item's outcome to ``on_outcome`` as it comes."""
    threads = max(1, model_threads)
    channel: queue.Queue = queue.Queue(maxsize=AHEAD * threads)
    stop = threading.Event()
    taking = threading.Lock()

    def work():
        """Outcomes known before the model, and batches, group after group."""
        for indices, items, states in groups:
            batches, outcomes = stages.load_group(indices, items, states, sample_rate=info.sample_rate,
                                                  longest=longest, batch_size=batch_size,
                                                  audio_stream=getattr(job, "audio_stream", None))
            if outcomes:
                yield "outcomes", outcomes
            for batch in batches:
                yield "batch", batch

    pending = work()

    def put(kind, payload) -> bool:
        while not stop.is_set():
            try:
                channel.put((kind, payload), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def take():
        with taking:  # one thread reads the next group's audio while the others run their batches
            return next(pending, None)

    def produce() -> None:
        try:
            while (task := take()) is not None and not stop.is_set():
                kind, payload = task
                if kind == "batch":
                    try:
                        payload = stages.run_model(model, payload)
                    except Exception as exc:  # out of memory: one line; anything else is a bug, with its traceback
                        raise stages.out_of_memory(exc, payload) or exc
                if not put(kind, payload):
                    return
            put("end", None)
        except BaseException as exc:  # handed to the calling thread, which raises it
            put("error", exc)

    loaders = [threading.Thread(target=produce, name=f"ctctool-loader-{n}", daemon=True) for n in range(threads)]
    for loader in loaders:
        loader.start()
    try:
        running = threads
        while running:
            kind, payload = channel.get()
            if kind == "end":
                running -= 1
            elif kind == "error":
                raise payload
            elif kind == "outcomes":
                for outcome in payload:
                    on_outcome(outcome)
            else:
                results, refused = payload
                for outcome in refused:
                    on_outcome(outcome)
                for member, log_probs, seconds in results:
                    on_outcome(stages.finish_item(job, folder, info, member, log_probs, seconds))
    finally:
        stop.set()
        for loader in loaders:
            loader.join()
