"""Long audio through an acoustic model in overlapping windows, stitched frame by frame.

Windows start at whole multiples of the model's hop (``frame_shift * sample_rate``
samples), so frame t of a window starting at sample ``k * hop`` is global frame
``k + t``. Where two windows overlap, each frame comes from the window in which it
lies farther from the edge: the cut is the middle of the overlap. The last window is
aligned to the end of the audio. For a model built from unpadded or zero-padded
convolutions (wav2vec2's feature encoder) this gives exactly the frame count of a
single pass, and the same values wherever the model's context stays within half the
overlap; a model with global context (attention) sees only its window.
"""

from __future__ import annotations

import math

import torch

from ctctool.errors import CtcToolError
from ctctool.models.base import AcousticModel


#: Seconds of audio per window, and seconds two neighbouring windows share.
WINDOW_SECONDS = 30.0
OVERLAP_SECONDS = 4.0


def windowed_log_probs(
    model: AcousticModel,
    waveform: torch.Tensor,
    window_seconds: float = WINDOW_SECONDS,
    overlap_seconds: float = OVERLAP_SECONDS,
) -> torch.Tensor:
    """``model.log_probs`` of a (samples,) waveform of any length -> (T, C), in bounded memory.

    Audio no longer than one window is a single pass. ``overlap_seconds`` is rounded
    up, and ``window_seconds`` down, to whole frames.
    """
    if waveform.dim() != 1:
        raise CtcToolError(f"windowed log-probs: expected a 1-D waveform (samples,), found shape {tuple(waveform.shape)}")
    hop = _hop_samples(model)
    window = window_samples(model, window_seconds)
    overlap = math.ceil(overlap_seconds * model.sample_rate / hop) * hop
    if overlap_seconds < 0 or window <= overlap:
        raise CtcToolError(
            f"windowed log-probs: window {window_seconds} s and overlap {overlap_seconds} s need "
            f"0 <= overlap < window, in whole frames of {model.frame_shift} s"
        )
    total = waveform.numel()
    if total <= window:
        return model.log_probs(waveform)
    pieces: list[torch.Tensor] = []
    previous, previous_first, keep_from = None, 0, 0  # output, its first global frame, first frame not yet kept
    start = 0
    while True:
        last = start + window >= total
        if last:  # a whole window ending at the end, starting after the previous one
            start = max(previous_first * hop + hop, (total - window) // hop * hop)
        output = model.log_probs(waveform[start : total if last else start + window])
        first = start // hop
        if previous is not None:
            previous_end = previous_first + previous.shape[0]
            if first > previous_end:
                raise CtcToolError(
                    f"windowed log-probs: model {model.name} gave {previous.shape[0]} frames for a "
                    f"{window_seconds} s window, too few to overlap the next; use a longer overlap"
                )
            cut = (first + previous_end + 1) // 2
            pieces.append(previous[keep_from - previous_first : cut - previous_first])
            keep_from = cut
        if last:
            pieces.append(output[keep_from - first :])
            return torch.cat(pieces)
        previous, previous_first = output, first
        start += window - overlap


def window_samples(model: AcousticModel, window_seconds: float = WINDOW_SECONDS) -> int:
    """Samples of one window (whole frames): longer audio is windowed, shorter audio is one pass."""
    hop = _hop_samples(model)
    return math.floor(window_seconds * model.sample_rate / hop) * hop


def _hop_samples(model: AcousticModel) -> int:
    hop = model.frame_shift * model.sample_rate
    if round(hop) < 1 or abs(hop - round(hop)) > 1e-6 * hop:
        raise CtcToolError(
            f"model {model.name}: frame shift {model.frame_shift} s at {model.sample_rate} Hz is "
            f"{hop:g} samples; windowed inference needs a whole number of samples per frame"
        )
    return round(hop)
