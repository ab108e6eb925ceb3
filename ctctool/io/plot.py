"""Alignment plots (optional extra: matplotlib): emissions with the aligned tokens, waveform with words.

Shapes: T frames, C classes, N samples.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.alignment.timing import AlignedTranscript


def plot_file(path: str | os.PathLike) -> Path:
    """``path`` when a plot can be written there (a .png name, matplotlib installed); check it before working."""
    file = Path(path)
    if file.suffix.lower() != ".png" and str(file) != "-":
        raise CtcToolError(f"{file}: plots are written as PNG; give a file name ending in .png")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CtcToolError("`plot` needs matplotlib, an optional extra: pip install 'ctctool[plot]'") from None
    return file


def write_plot(path: str | os.PathLike, result: AlignedTranscript, log_probs: torch.Tensor, vocab_tokens,
               times_offset: float, waveform: torch.Tensor | None = None, sample_rate: int | None = None) -> None:
    """A PNG with the (T, C) log-probs, the aligned tokens on top, and the (N,) waveform with word spans."""
    file = plot_file(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if waveform is not None else 1
    figure, axes = plt.subplots(panels, 1, figsize=(max(8.0, min(40.0, result.duration * 2.5)), 2.6 * panels),
                                sharex=True, squeeze=False)
    top = axes[0][0]
    values = log_probs.detach().float().cpu().T.numpy()  # (C, T)
    extent = (times_offset, times_offset + values.shape[1] * result.frame_shift, values.shape[0] - 0.5, -0.5)
    top.imshow(values, aspect="auto", extent=extent, cmap="magma", vmin=-12, vmax=0, interpolation="nearest")
    index = {token: i for i, token in enumerate(vocab_tokens)}
    for token in result.tokens:
        row = index.get(token.text)
        if row is not None:
            top.add_patch(matplotlib.patches.Rectangle((token.start, row - 0.5), token.end - token.start, 1.0,
                                                       fill=False, edgecolor="cyan", linewidth=0.8))
    top.set_ylabel("class")
    top.set_title(f"log-probs and aligned tokens ({result.model})")
    if waveform is not None:
        bottom = axes[1][0]
        samples = waveform.detach().float().cpu().numpy()
        bottom.plot([i / sample_rate for i in range(0, len(samples), max(1, len(samples) // 20000))],
                    samples[:: max(1, len(samples) // 20000)], linewidth=0.4, color="0.3")
        for word in result.words:
            if word.end > word.start:
                bottom.axvspan(word.start, word.end, alpha=0.15, color="tab:blue")
                bottom.text((word.start + word.end) / 2, 0.9 * float(abs(samples).max() or 1), word.text,
                            ha="center", va="top", fontsize=7)
        bottom.set_ylabel("waveform")
    axes[-1][0].set_xlabel("seconds")
    figure.tight_layout()
    with atomic_open(file, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)
