"""How many epochs of the stage-4 run fit in a time budget on this machine: trains the same network on the
same data for ``--probe-seconds`` (into a throw-away file), measures the steady pace, and prints the number.

    python recipes/default_model/gpu_epochs.py gpu-pack/train.jsonl --dev gpu-pack/dev.jsonl --budget 420

The stage-4 run then takes ``--epochs`` that number, so its learning-rate schedule ends when the time does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ctctool.training.batches import bucket_batches  # noqa: E402
from ctctool.training.corpus import read_corpus  # noqa: E402
from ctctool.training.loop import TrainConfig, durations, train  # noqa: E402
from ctctool.vocab import default_vocabulary  # noqa: E402


class _Enough(Exception):
    """Raised from the event hook to end the probe."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--budget", type=float, required=True, help="seconds the whole run may take")
    parser.add_argument("--probe-seconds", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=14)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    vocab = default_vocabulary()
    corpus, dev = read_corpus(args.data, vocab), read_corpus(args.dev, vocab)
    seconds = durations(list(corpus.utterances))
    marks = []

    def on_event(name: str, data: dict) -> None:
        if name == "step":
            marks.append((time.monotonic(), data["batch"]))
            if marks[-1][0] - marks[0][0] > args.probe_seconds:
                raise _Enough
        if name == "epoch":  # an epoch within the probe: its validation is part of the pace
            marks.append((time.monotonic(), marks[-1][1]))

    config = TrainConfig(epochs=1, preset=args.preset, features="logmel", workers=args.workers)
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        try:
            train(corpus, vocab, Path(folder) / "probe.pt", config, device=torch.device(args.device), on_event=on_event)
        except _Enough:
            pass
    setup = marks[0][0] - started
    t0, b0 = marks[len(marks) // 4]
    t1, b1 = marks[-1]
    per_batch = (t1 - t0) / max(1, b1 - b0)
    n_batches = len(bucket_batches(seconds, config.batch_seconds, torch.Generator()))
    # validation: about 10 ms per utterance; and the loader processes' start
    epoch_seconds = n_batches * per_batch + len(dev.utterances) * 0.01 + 3
    epochs = max(1, int((args.budget - setup) // epoch_seconds))
    print(f"{sum(seconds) / 3600:.2f} h in {n_batches} batches, {per_batch * 1000:.0f} ms a batch, set-up {setup:.0f} s: "
          f"about {epoch_seconds:.0f} s an epoch, {epochs} epochs in {args.budget:.0f} s", file=sys.stderr)
    print(epochs)


if __name__ == "__main__":
    main()
