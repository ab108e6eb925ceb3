"""Length-bucketed batches and augmentation: speed perturbation, telephone band, reverberation, noise,
SpecAugment."""

from __future__ import annotations

import math

import torch

from ctctool.audio.resample import resample


def bucket_batches(durations: list[float], max_seconds: float, generator: torch.Generator) -> list[list[int]]:
    """Batches of utterance indices of similar length, each holding at most ``max_seconds`` of
    padded audio (longest item x batch size), in a random order drawn from ``generator``."""
    order = sorted(range(len(durations)), key=lambda i: durations[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = durations[index]  # sorted: the newest item is the longest
        if current and longest * (len(current) + 1) > max_seconds:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


SPEED_FACTORS = (0.85, 0.9, 0.95, 1.05, 1.1, 1.15)  # rates with small ratios to 16 kHz: cheap polyphase filters


def perturb_speed(waveform: torch.Tensor, sample_rate: int, generator: torch.Generator) -> torch.Tensor:
    """Play the (samples,) ``waveform`` faster or slower by a factor drawn from ``SPEED_FACTORS``: tempo,
    pitch and formants (the apparent vocal-tract length) move together, as Kaldi's speed perturbation."""
    factor = SPEED_FACTORS[int(torch.randint(len(SPEED_FACTORS), (1,), generator=generator))]
    return resample(waveform, round(sample_rate * factor), sample_rate)


def telephone_band(waveform: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """The (samples,) ``waveform`` sent through an 8 kHz channel (nothing above 4 kHz), at ``sample_rate``."""
    if sample_rate <= 8000:
        return waveform
    return resample(resample(waveform, sample_rate, 8000), 8000, sample_rate)[: waveform.numel()]


def add_reverb(waveform: torch.Tensor, sample_rate: int, generator: torch.Generator) -> torch.Tensor:
    """Convolve with a synthetic room response: exponentially decaying noise, RT60 0.1-0.4 s,
    mixed 30-70 % wet; the level of the result matches the input's peak."""
    rt60 = 0.1 + 0.3 * float(torch.rand(1, generator=generator))
    length = int(rt60 * sample_rate)
    t = torch.arange(length, dtype=torch.float32) / sample_rate
    response = torch.randn(length, generator=generator) * torch.exp(-6.9 * t / rt60)
    response[0] = 1.0
    response /= response.norm()
    n = waveform.numel() + length - 1
    size = 1 << math.ceil(math.log2(n))
    wet = torch.fft.irfft(torch.fft.rfft(waveform, size) * torch.fft.rfft(response, size), size)[: waveform.numel()]
    mix = 0.3 + 0.4 * float(torch.rand(1, generator=generator))
    out = (1 - mix) * waveform + mix * wet
    return out * (waveform.abs().max() / out.abs().max().clamp(min=1e-9))


def add_noise(waveform: torch.Tensor, snr_db: float, generator: torch.Generator) -> torch.Tensor:
    """White Gaussian noise at ``snr_db`` relative to the waveform's mean power."""
    power = waveform.pow(2).mean().clamp(min=1e-10)
    noise = torch.randn(waveform.shape, generator=generator) * torch.sqrt(power / 10 ** (snr_db / 10))
    return waveform + noise


def spec_augment(features: torch.Tensor, generator: torch.Generator, time_masks: int = 2, freq_masks: int = 2,
                 max_time: int = 20, max_freq: int = 10) -> torch.Tensor:
    """(T, F) features with a few time and frequency stripes set to 0 (the normalised mean)."""
    out = features.clone()
    T, F = out.shape
    for _ in range(freq_masks):
        width = int(torch.randint(0, max_freq + 1, (1,), generator=generator))
        start = int(torch.randint(0, max(1, F - width), (1,), generator=generator))
        out[:, start : start + width] = 0
    for _ in range(time_masks):
        width = int(torch.randint(0, min(max_time, T // 5) + 1, (1,), generator=generator))
        start = int(torch.randint(0, max(1, T - width), (1,), generator=generator))
        out[start : start + width] = 0
    return out
