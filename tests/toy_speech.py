"""A toy 'speech' corpus for training tests: every letter is a tone burst, a space is silence.

No synthesiser needed: the audio is a deterministic function of the text, so a tiny
CTC model can learn it in a few dozen steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

SAMPLE_RATE = 16_000
TONES = {"a": 400.0, "b": 900.0, "c": 1800.0, "d": 3200.0}
LETTER_SECONDS = 0.12
GAP_SECONDS = 0.05


def render(text: str) -> np.ndarray:
    """Float32 waveform of ``text`` (letters of TONES and spaces)."""
    pieces = [np.zeros(int(0.1 * SAMPLE_RATE), dtype=np.float32)]
    t = np.arange(int(LETTER_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.hanning(t.size)
    for char in text:
        if char == " ":
            pieces.append(np.zeros(int(2 * GAP_SECONDS * SAMPLE_RATE), dtype=np.float32))
            continue
        pieces.append((0.5 * envelope * np.sin(2 * np.pi * TONES[char] * t)).astype(np.float32))
        pieces.append(np.zeros(int(GAP_SECONDS * SAMPLE_RATE), dtype=np.float32))
    pieces.append(np.zeros(int(0.1 * SAMPLE_RATE), dtype=np.float32))
    return np.concatenate(pieces)


def make_corpus(folder: Path, count: int = 24, seed: int = 0) -> list[str]:
    """Write an LJSpeech-style corpus (metadata.csv + wavs/) of ``count`` random phrases."""
    rng = np.random.default_rng(seed)
    (folder / "wavs").mkdir(parents=True, exist_ok=True)
    letters = sorted(TONES)
    lines, texts = [], []
    for index in range(count):
        words = ["".join(rng.choice(letters, size=rng.integers(1, 4))) for _ in range(rng.integers(1, 4))]
        text = " ".join(words)
        soundfile.write(folder / "wavs" / f"u{index:03d}.wav", render(text), SAMPLE_RATE, subtype="PCM_16")
        lines.append(f"u{index:03d}|{text}|{text}")
        texts.append(text)
    (folder / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return texts
