"""Acoustic features computed with torch (any device): the recipe's spectrogram, or log-mel.

Shapes: N samples in, T feature frames x F bins out. Both kinds are normalised per
utterance and per bin (zero mean, unit variance over time), as the Keras CTC ASR
recipe does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from ctctool.errors import CtcToolError


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes features.

    ``spectrogram``: |STFT| ** 0.5 with a ``frame_length`` Hann window zero-padded to
    ``n_fft`` (the recipe: 256 / 160 / 384 at 16 kHz, 193 bins). ``logmel``: log of
    ``n_mels`` HTK mel bands of the power spectrum.
    """

    kind: str = "spectrogram"
    sample_rate: int = 16_000
    frame_length: int = 256  # samples per analysis window
    hop_length: int = 160  # samples between frames (10 ms at 16 kHz)
    n_fft: int = 384
    n_mels: int = 80

    def __post_init__(self) -> None:
        if self.kind not in ("spectrogram", "logmel"):
            raise CtcToolError(f"feature kind {self.kind!r}: expected spectrogram or logmel")
        if self.n_fft < self.frame_length:
            raise CtcToolError(f"n_fft {self.n_fft} is shorter than the frame length {self.frame_length}")

    @property
    def bins(self) -> int:
        """F, the number of feature bins per frame."""
        return self.n_fft // 2 + 1 if self.kind == "spectrogram" else self.n_mels

    @property
    def frame_shift(self) -> float:
        """Seconds between feature frames."""
        return self.hop_length / self.sample_rate

    def frames(self, samples: int) -> int:
        """T for a waveform of ``samples`` samples (frames whose window fits, at least 1)."""
        return max(1, 1 + (samples - self.frame_length) // self.hop_length)

    def to_dict(self) -> dict:
        return asdict(self)


PRESET_FEATURES = {
    "spectrogram": FeatureConfig(),
    "logmel": FeatureConfig(kind="logmel", frame_length=400, n_fft=512, n_mels=80),
}


def mel_filterbank(config: FeatureConfig, device=None) -> torch.Tensor:
    """(n_fft // 2 + 1, n_mels) triangular HTK-mel filters from 0 Hz to Nyquist."""

    def to_mel(hz):
        return 2595.0 * math.log10(1.0 + hz / 700.0)

    bins = config.n_fft // 2 + 1
    fft_hz = torch.linspace(0, config.sample_rate / 2, bins, dtype=torch.float64)
    mel_points = torch.linspace(to_mel(0.0), to_mel(config.sample_rate / 2), config.n_mels + 2, dtype=torch.float64)
    hz_points = 700.0 * (10 ** (mel_points / 2595.0) - 1.0)
    lower, centre, upper = hz_points[:-2], hz_points[1:-1], hz_points[2:]
    rising = (fft_hz[:, None] - lower[None, :]) / (centre - lower)[None, :]
    falling = (upper[None, :] - fft_hz[:, None]) / (upper - centre)[None, :]
    return torch.clamp(torch.minimum(rising, falling), min=0.0).to(torch.float32).to(device)


VTL_BREAK = 0.8  # the warp is a plain scaling below this share of Nyquist (times min(1, factor))


def warp_frequencies(spectrum: torch.Tensor, factor: float) -> torch.Tensor:
    """(T, K) magnitude spectrum (bins 0 Hz .. Nyquist) -> (T, K) with its frequency axis stretched by
    ``factor``: what was at frequency f appears at ``factor * f`` (vocal-tract-length perturbation, Jaitly
    and Hinton 2013). Piecewise linear, so that Nyquist stays at Nyquist: a plain scaling up to
    ``VTL_BREAK * min(1, factor)`` of Nyquist, then a straight line to Nyquist. Values between bins are
    interpolated linearly. ``factor`` 1 returns the spectrum unchanged."""
    if not 0.5 <= factor <= 2.0:
        raise CtcToolError(f"vocal-tract-length factor {factor}: expected 0.5 to 2")
    if factor == 1.0:
        return spectrum
    last = spectrum.shape[-1] - 1
    out_bin = torch.arange(last + 1, dtype=torch.float64, device=spectrum.device)
    knee = VTL_BREAK * min(1.0, factor) * last  # output bin where the scaling ends
    source = torch.where(out_bin <= knee, out_bin / factor,
                         knee / factor + (last - knee / factor) * (out_bin - knee) / (last - knee))
    low = source.floor().long().clamp(0, last)
    high = (low + 1).clamp(max=last)
    weight = (source - low).to(spectrum.dtype)
    return spectrum[..., low] * (1 - weight) + spectrum[..., high] * weight


ENVELOPE_QUEFRENCY = 0.0025  # seconds: cepstral coefficients below this are the spectral envelope


def shift_pitch(spectrum: torch.Tensor, factor: float, sample_rate: int) -> torch.Tensor:
    """(T, K) magnitude spectrum (bins 0 Hz .. Nyquist, K = n_fft // 2 + 1 for an even n_fft) -> (T, K) with
    its harmonics moved to ``factor`` times their frequency and its spectral envelope (formants) kept: a
    pitch shift.

    The log spectrum is split by cepstral liftering into an envelope (quefrencies below
    ``ENVELOPE_QUEFRENCY``, 2.5 ms: voices below about 400 Hz have their pitch period above it) and the rest,
    the fine structure that holds the harmonics; only the fine structure is stretched along the frequency axis
    (what was at f appears at ``factor * f``; where that reads past the top of the source, only the envelope
    is left). It needs a window long enough to resolve the harmonics: the logmel preset's 25 ms does for most
    voices, the spectrogram preset's 16 ms hardly for low ones. ``factor`` 1 returns the spectrum unchanged."""
    if not 0.5 <= factor <= 2.0:
        raise CtcToolError(f"pitch factor {factor}: expected 0.5 to 2")
    if factor == 1.0:
        return spectrum
    last = spectrum.shape[-1] - 1
    n_fft = 2 * last
    log_magnitude = torch.log(spectrum.to(torch.float64) + 1e-10)
    cepstrum = torch.fft.irfft(log_magnitude, n=n_fft)  # (T, n_fft), real and even
    cut = min(n_fft // 2, max(1, round(ENVELOPE_QUEFRENCY * sample_rate)))
    lifter = torch.zeros(n_fft, dtype=torch.float64, device=spectrum.device)
    lifter[:cut] = 1.0
    lifter[n_fft - cut + 1 :] = 1.0
    envelope = torch.fft.rfft(cepstrum * lifter, n=n_fft).real  # (T, K)
    fine = log_magnitude - envelope
    source = torch.arange(last + 1, dtype=torch.float64, device=spectrum.device) / factor
    low = source.floor().long().clamp(0, last)
    high = (low + 1).clamp(max=last)
    weight = source - low
    moved = (fine[..., low] * (1 - weight) + fine[..., high] * weight) * (source <= last)
    return torch.exp(envelope + moved).to(spectrum.dtype)


def compute_features(waveform: torch.Tensor, config: FeatureConfig, *, vtl_factor: float = 1.0,
                     pitch_factor: float = 1.0) -> torch.Tensor:
    """(N,) float waveform at ``config.sample_rate`` -> (T, F) normalised features, on its device.
    Training augmentation: ``pitch_factor`` other than 1 first moves the spectrum's harmonics and keeps its
    envelope (``shift_pitch``); ``vtl_factor`` other than 1 then warps its whole frequency axis
    (``warp_frequencies``)."""
    if waveform.dim() != 1:
        raise CtcToolError(f"waveform: expected one channel of shape (N,), found {tuple(waveform.shape)}")
    audio = waveform.to(torch.float32)
    if audio.numel() < config.frame_length:
        audio = torch.nn.functional.pad(audio, (0, config.frame_length - audio.numel()))
    frames = audio.unfold(0, config.frame_length, config.hop_length)  # (T, frame_length)
    window = torch.hann_window(config.frame_length, periodic=True, device=audio.device)
    spectrum = torch.fft.rfft(frames * window, n=config.n_fft).abs()  # (T, n_fft // 2 + 1)
    spectrum = warp_frequencies(shift_pitch(spectrum, pitch_factor, config.sample_rate), vtl_factor)
    if config.kind == "spectrogram":
        features = spectrum.pow(0.5)
    else:
        features = torch.log(spectrum.pow(2) @ mel_filterbank(config, audio.device) + 1e-6)
    mean = features.mean(dim=0, keepdim=True)
    std = features.std(dim=0, keepdim=True, unbiased=False)
    # a bin constant over the utterance (digital silence) is 0, not float rounding over a tiny deviation
    constant = std <= 1e-5 * (1.0 + mean.abs())
    return torch.where(constant, 0.0, (features - mean) / std.clamp_min(1e-30))
