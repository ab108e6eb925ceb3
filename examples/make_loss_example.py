"""Regenerate examples/emissions.npz: logits of a mock CTC model for examples/targets.txt.

Each utterance's logits favour one valid frame alignment of its target (a peak per
label, blanks between), plus Gaussian noise; the last utterance gets too few frames
for its target, so ``ctctool loss`` reports it as infeasible.

Run: python examples/make_loss_example.py [OUT.npz]   (deterministic: seed 2026)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ctctool.vocab import default_vocabulary

HERE = Path(__file__).parent
SEED = 2026
T = 120  # frames, 20 ms each: 2.4 s


def aligned_logits(rng: np.random.Generator, labels: list[int], frames: int, classes: int) -> np.ndarray:
    """(frames, classes) logits peaking on an evenly spread path through ``labels``."""
    logits = rng.normal(0.0, 1.0, size=(frames, classes)).astype(np.float32)
    path = np.zeros(frames, dtype=np.int64)  # blank everywhere ...
    if labels:
        starts = np.linspace(0, frames, num=len(labels) + 1)[:-1].astype(int)
        for start, label in zip(starts, labels):
            path[start : start + 2] = label  # ... but two frames per label
    logits[np.arange(frames), path] += 6.0
    return logits


def main(out: Path = HERE / "emissions.npz") -> None:
    vocab = default_vocabulary()
    lines = (HERE / "targets.txt").read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(SEED)
    input_lengths = np.array([T] * (len(lines) - 1) + [12], dtype=np.int64)
    logits = np.zeros((len(lines), T, vocab.size), dtype=np.float32)  # (N, T, C): batch first
    for n, (line, frames) in enumerate(zip(lines, input_lengths)):
        labels = vocab.encode(line) if n < len(lines) - 1 else []
        logits[n, :frames] = aligned_logits(rng, labels, int(frames), vocab.size)
    np.savez(out, logits=logits, input_lengths=input_lengths)


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:2]))
