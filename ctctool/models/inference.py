"""Audio (a file or a waveform) to log-probs with an acoustic model, windowed so memory stays bounded."""

from __future__ import annotations

import torch

from ctctool.audio.loading import MIN_SAMPLE_RATE, load_audio
from ctctool.audio.resample import resample
from ctctool.errors import CtcToolError
from ctctool.models.base import AcousticModel
from ctctool.models.windowed import windowed_log_probs


def model_waveform(model: AcousticModel, audio, sample_rate: int | None = None, *,
                   audio_stream: int | None = None) -> torch.Tensor:
    """(samples,) float32 mono at the model's rate from an audio file, or from a (samples,) waveform at
    ``sample_rate`` Hz (default: the model's rate). ``audio_stream`` picks an audio stream of a container file
    (0, the default: the first; see ``ctctool.audio.loading.load_audio``)."""
    if isinstance(audio, torch.Tensor):
        if audio.dim() != 1 or not audio.is_floating_point() or audio.numel() == 0:
            raise CtcToolError(f"`audio`: expected a non-empty 1-D float waveform (samples,), found shape "
                               f"{tuple(audio.shape)} {str(audio.dtype).replace('torch.', '')}")
        if not bool(torch.isfinite(audio).all()):
            raise CtcToolError("`audio`: the waveform holds NaN or infinite samples; expected finite samples")
        rate = model.sample_rate if sample_rate is None else sample_rate
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < MIN_SAMPLE_RATE:
            raise CtcToolError(f"`sample_rate` {rate!r}: expected a whole number of Hz >= {MIN_SAMPLE_RATE} "
                               "(speech is usually 8000 to 48000 Hz)")
        return resample(audio.to(torch.float32), rate, model.sample_rate)
    if sample_rate is not None:
        raise CtcToolError("`sample_rate` describes a waveform; an audio file has its own rate: leave it out")
    return load_audio(audio, model.sample_rate, stream=audio_stream)


def audio_log_probs(model: AcousticModel, audio, sample_rate: int | None = None, *,
                    audio_stream: int | None = None) -> tuple[torch.Tensor, float]:
    """(T, C) log-probs of ``audio`` (a file path, or a waveform as for ``model_waveform``) and its
    duration in seconds."""
    waveform = model_waveform(model, audio, sample_rate, audio_stream=audio_stream)
    return windowed_log_probs(model, waveform), waveform.numel() / model.sample_rate
