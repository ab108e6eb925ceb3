"""Regenerate examples/align_emissions.npy: log-probs with a planted path for align_transcript.txt.

Each word of the transcript gets a known time span (``PLANTED`` below, seconds, 20 ms
frames). Inside a word, its characters follow each other evenly (a spike frame then
blank frames; the last character holds to the word's end); a space token spikes on
the frame before each word, and the other frames between words are blank. On top
of the planted path the log-probs carry Gaussian noise, so ``ctctool align
--emissions`` has to find the path; the tests check that it recovers every planted
word time.

Run: python examples/make_align_example.py [OUT.npy]   (deterministic: seed 11)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ctctool.vocab import default_vocabulary

HERE = Path(__file__).parent
SEED = 11
FRAME_SHIFT = 0.02  # seconds per frame
DURATION = 4.0  # seconds
#: (start, end) in seconds of each word of align_transcript.txt, in order.
PLANTED = [(0.30, 0.62), (0.66, 1.10), (1.12, 1.40), (1.80, 2.30), (2.34, 2.60), (2.62, 3.10), (3.20, 3.70)]


def planted_frames(words: list[str], vocab) -> np.ndarray:
    """(T,) class id of every frame: each character owns an equal share of its word's frames."""
    frames = np.full(int(round(DURATION / FRAME_SHIFT)), vocab.blank, dtype=np.int64)
    for index, (word, (start, end)) in enumerate(zip(words, PLANTED)):
        first, last = int(round(start / FRAME_SHIFT)), int(round(end / FRAME_SHIFT))
        if index:
            frames[first - 1] = vocab.encode(" ")[0]  # the space between words, just before the word
        bounds = np.linspace(first, last, num=len(word) + 1).round().astype(int)
        for char, begin, stop in zip(word, bounds[:-1], bounds[1:]):
            frames[begin] = vocab.encode(char)[0]  # a spike, then blanks ...
        frames[bounds[-2] : last] = vocab.encode(word[-1])[0]  # ... but the last character lasts to the word's end
    return frames


def main(out: Path = HERE / "align_emissions.npy") -> None:
    vocab = default_vocabulary()
    words = (HERE / "align_transcript.txt").read_text(encoding="utf-8").split()
    frames = planted_frames([w.lower().strip(",.") for w in words], vocab)
    rng = np.random.default_rng(SEED)
    logits = rng.normal(0.0, 1.0, size=(len(frames), vocab.size))
    logits[np.arange(len(frames)), frames] += 7.0
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.save(out, log_probs.astype(np.float32))


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:2]))
