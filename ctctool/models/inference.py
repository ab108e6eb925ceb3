"""Audio files to log-probs with an acoustic model (windowed, so memory stays bounded)."""

from __future__ import annotations

import os

import torch

from ctctool.audio.loading import load_audio
from ctctool.models.base import AcousticModel
from ctctool.models.windowed import windowed_log_probs


def audio_log_probs(model: AcousticModel, path: str | os.PathLike) -> tuple[torch.Tensor, float]:
    """(T, C) log-probs of the audio file at ``path`` and its duration in seconds."""
    waveform = load_audio(path, model.sample_rate)
    return windowed_log_probs(model, waveform), waveform.numel() / model.sample_rate
