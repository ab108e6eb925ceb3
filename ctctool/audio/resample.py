"""Band-limited resampling: a Kaiser-windowed sinc filter applied polyphase.

Output sample n sits at input time ``n * orig_rate / new_rate`` (sample 0 stays at
time 0), and is ``sum_m x[m] * g(t_n - m)`` over the input samples m, the signal being
zero outside the recording. ``g`` is a lowpass at ``ROLLOFF`` times the lower Nyquist
frequency, truncated to ``ZERO_CROSSINGS`` zero crossings either side by a Kaiser
window (``KAISER_BETA`` gives about 90 dB of stopband attenuation).

With the rates reduced to ``up / down`` (44.1 kHz -> 16 kHz is 160 / 441), output
sample ``f * up + j`` is frame f, phase j, at input time ``f * down + j * down / up``:
every frame reads the same taps from a stretch of input that starts ``down`` samples
after the previous frame's. Splitting the input into ``down`` interleaved channels
makes all phases of all frames one stride-1 ``conv1d`` with ``up`` output channels.
Rate pairs whose conv weight would be too large (coprime rates such as 16000 ->
16001) gather each output's taps from a (phase, tap) table instead: slower, same
filter. Both work in blocks, so memory stays proportional to the audio.
"""

from __future__ import annotations

import functools
import math

import torch

from ctctool.errors import CtcToolError

#: Lowpass cutoff as a fraction of the lower of the two Nyquist frequencies.
ROLLOFF = 0.9
#: Zero crossings of the sinc kept on either side of its centre.
ZERO_CROSSINGS = 32
#: Kaiser window shape; about 90 dB of stopband attenuation.
KAISER_BETA = 9.0
#: Largest conv weight (phases x channels x taps) built; beyond it, the tap-table gather.
MAX_CONV_WEIGHT = 1 << 22
#: Input samples (conv) or gathered taps (table) handled per block.
BLOCK_ELEMENTS = 1 << 22


def resampled_length(num_samples: int, orig_rate: int, new_rate: int) -> int:
    """``round(num_samples * new_rate / orig_rate)``, halves rounded up, in exact integers."""
    return (2 * num_samples * new_rate + orig_rate) // (2 * orig_rate)


def resample(waveform: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Resample a (samples,) float tensor from ``orig_rate`` to ``new_rate`` Hz.

    Returns ``waveform`` itself when the rates are equal; otherwise a new float32
    tensor of ``resampled_length`` samples on the same device.
    """
    for name, rate in (("orig_rate", orig_rate), ("new_rate", new_rate)):
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            raise CtcToolError(f"resample: {name} must be a positive whole number of Hz, found {rate!r}")
    if waveform.dim() != 1 or not waveform.is_floating_point():
        raise CtcToolError(
            f"resample: expected a 1-D float waveform (samples,), found shape {tuple(waveform.shape)} "
            f"{str(waveform.dtype).replace('torch.', '')}"
        )
    if orig_rate == new_rate:
        return waveform
    gcd = math.gcd(orig_rate, new_rate)
    up, down = new_rate // gcd, orig_rate // gcd
    out_len = resampled_length(waveform.numel(), orig_rate, new_rate)
    x = waveform.to(torch.float32)
    reach = math.ceil(_half_width(up, down))
    conv_taps = -(-(2 * reach + down + 1) // down)
    if up * down * conv_taps <= MAX_CONV_WEIGHT:
        return _resample_conv(x, up, down, out_len)
    return _resample_gather(x, up, down, out_len)


def lowpass_taps(offsets: torch.Tensor, cutoff: float, half_width: float) -> torch.Tensor:
    """The filter ``g`` at ``offsets`` (output time minus input time, in input samples).

    ``g(u) = cutoff * sinc(cutoff * u) * kaiser(u / half_width)``, zero for
    ``|u| >= half_width``. Its taps for one output sample sum to about 1; the
    resampler scales them to exactly 1, so a constant stays constant.
    """
    offsets = offsets.to(torch.float64)
    ratio = (offsets / half_width).clamp(-1.0, 1.0)
    window = torch.special.i0(KAISER_BETA * torch.sqrt(1.0 - ratio * ratio)) / torch.special.i0(
        torch.tensor(KAISER_BETA, dtype=torch.float64)
    )
    taps = cutoff * torch.sinc(cutoff * offsets) * window
    return torch.where(offsets.abs() < half_width, taps, torch.zeros_like(taps))


def _cutoff(up: int, down: int) -> float:
    """Lowpass cutoff in units of the input Nyquist frequency."""
    return ROLLOFF * min(1.0, up / down)


def _half_width(up: int, down: int) -> float:
    """Input samples either side of an output sample that the filter reaches."""
    return ZERO_CROSSINGS / _cutoff(up, down)


@functools.lru_cache(maxsize=16)
def _conv_weight(up: int, down: int) -> torch.Tensor:
    """(up, down, taps): weight[j, r, q] = g(time of phase j - input sample q*down + r - reach)."""
    half_width = _half_width(up, down)
    reach = math.ceil(half_width)
    taps = -(-(2 * reach + down + 1) // down)
    phase_times = torch.arange(up, dtype=torch.float64) * down / up + reach
    samples = torch.arange(taps * down, dtype=torch.float64)
    table = lowpass_taps(phase_times[:, None] - samples[None, :], _cutoff(up, down), half_width)
    table = table / table.sum(dim=1, keepdim=True)  # every phase passes DC exactly
    return table.reshape(up, taps, down).transpose(1, 2).contiguous().to(torch.float32)


@functools.lru_cache(maxsize=16)
def _tap_table(up: int, down: int) -> torch.Tensor:
    """(up, width): table[j, k] = g(j / up + reach - k), the taps of phase j."""
    half_width = _half_width(up, down)
    reach = math.ceil(half_width)
    phases = torch.arange(up, dtype=torch.float64) / up + reach
    table = lowpass_taps(phases[:, None] - torch.arange(2 * reach + 2)[None, :], _cutoff(up, down), half_width)
    return (table / table.sum(dim=1, keepdim=True)).to(torch.float32)


def _resample_conv(x: torch.Tensor, up: int, down: int, out_len: int) -> torch.Tensor:
    # Padded sample p is input sample p - reach; channel r of step q is padded sample
    # q*down + r, so frame f reads steps f .. f + taps - 1 of every channel.
    weight = _conv_weight(up, down).to(x.device)
    taps = weight.shape[2]
    reach = math.ceil(_half_width(up, down))
    frames = -(-out_len // up)
    steps = frames + taps - 1
    padded = x.new_zeros(steps * down)
    kept = min(x.numel(), padded.numel() - reach)
    padded[reach : reach + kept] = x[:kept]
    channels = padded.reshape(steps, down).T  # (down, steps)
    block = max(1, BLOCK_ELEMENTS // down)
    out = x.new_empty(frames, up)
    for start in range(0, frames, block):
        stop = min(start + block, frames)
        piece = channels[:, start : stop + taps - 1].contiguous()
        with torch.backends.cudnn.flags(enabled=torch.backends.cudnn.enabled, allow_tf32=False):  # full float32 on GPUs
            out[start:stop] = torch.nn.functional.conv1d(piece[None], weight)[0].T
    return out.reshape(-1)[:out_len]


def _resample_gather(x: torch.Tensor, up: int, down: int, out_len: int) -> torch.Tensor:
    table = _tap_table(up, down).to(x.device)
    width = table.shape[1]
    reach = math.ceil(_half_width(up, down))
    padded = torch.cat([x.new_zeros(reach), x, x.new_zeros(width)])
    tap_index = torch.arange(width, device=x.device)
    block = max(1, BLOCK_ELEMENTS // width)
    out = x.new_empty(out_len)
    for start in range(0, out_len, block):
        n = torch.arange(start, min(start + block, out_len), device=x.device, dtype=torch.int64)
        # Output n is at input time base + phase / up; input base - reach + k is padded base + k.
        base, phase = (n * down) // up, (n * down) % up
        out[start : start + n.numel()] = (padded[base[:, None] + tap_index] * table[phase]).sum(dim=1)
    return out
