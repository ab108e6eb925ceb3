"""A DeepSpeech2-like CTC acoustic model: 2 Conv2D + BatchNorm + ReLU, bidirectional GRUs, dense.

Shapes: B utterances, T feature frames, F bins, T' = ceil(T / time_stride) output
frames, C classes (blank included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ctctool.errors import CtcToolError


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the network. Kernels and strides are (time, frequency)."""

    input_bins: int
    classes: int
    conv_channels: int = 32
    conv1_kernel: tuple[int, int] = (11, 41)
    conv1_stride: tuple[int, int] = (2, 2)
    conv2_kernel: tuple[int, int] = (11, 21)
    conv2_stride: tuple[int, int] = (1, 2)
    rnn_layers: int = 5
    rnn_units: int = 512
    dense_units: int = 1024
    dropout: float = 0.5

    @property
    def time_stride(self) -> int:
        return self.conv1_stride[0] * self.conv2_stride[0]

    def output_frames(self, frames: torch.Tensor | int, convolutions: int = 2):
        """T' for T input frames after the first ``convolutions`` convs (each pads by kernel // 2)."""
        layers = ((self.conv1_kernel, self.conv1_stride), (self.conv2_kernel, self.conv2_stride))
        for kernel, stride in layers[:convolutions]:
            pad = kernel[0] // 2
            frames = (frames + 2 * pad - kernel[0]) // stride[0] + 1
        return frames

    def to_dict(self) -> dict:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


#: Size presets: ``recipe`` is the Keras recipe's full size; ``small`` trains on a CPU; ``medium`` (about
#: three times ``small``) still transcribes about 50 times faster than real time on one CPU core.
PRESETS = {
    "recipe": dict(conv_channels=32, conv1_kernel=(11, 41), conv2_kernel=(11, 21), rnn_layers=5, rnn_units=512,
                   dense_units=1024, dropout=0.5),
    "small": dict(conv_channels=16, conv1_kernel=(11, 21), conv2_kernel=(11, 11), rnn_layers=2, rnn_units=128,
                  dense_units=256, dropout=0.1),
    "medium": dict(conv_channels=16, conv1_kernel=(11, 21), conv2_kernel=(11, 11), rnn_layers=3, rnn_units=192,
                   dense_units=384, dropout=0.1),
    "tiny": dict(conv_channels=4, conv1_kernel=(5, 9), conv2_kernel=(5, 5), rnn_layers=1, rnn_units=32,
                 dense_units=32, dropout=0.0),
}


def model_config(preset: str, input_bins: int, classes: int, **overrides) -> ModelConfig:
    """The ``preset`` sizes for ``input_bins`` features and ``classes`` outputs, with overrides."""
    if preset not in PRESETS:
        raise CtcToolError(f"model preset {preset!r}: expected one of {', '.join(PRESETS)}")
    return ModelConfig(input_bins=input_bins, classes=classes, **{**PRESETS[preset], **overrides})


class DeepSpeech2(nn.Module):
    """(B, T, F) features -> (B, T', C) log-probs."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config
        self.conv = nn.Sequential(
            nn.Conv2d(1, c.conv_channels, c.conv1_kernel, c.conv1_stride,
                      padding=(c.conv1_kernel[0] // 2, c.conv1_kernel[1] // 2), bias=False),
            nn.BatchNorm2d(c.conv_channels),
            nn.ReLU(),
            nn.Conv2d(c.conv_channels, c.conv_channels, c.conv2_kernel, c.conv2_stride,
                      padding=(c.conv2_kernel[0] // 2, c.conv2_kernel[1] // 2), bias=False),
            nn.BatchNorm2d(c.conv_channels),
            nn.ReLU(),
        )
        bins = c.input_bins
        for kernel, stride in ((c.conv1_kernel, c.conv1_stride), (c.conv2_kernel, c.conv2_stride)):
            bins = (bins + 2 * (kernel[1] // 2) - kernel[1]) // stride[1] + 1
        self.rnn = nn.GRU(c.conv_channels * bins, c.rnn_units, num_layers=c.rnn_layers, batch_first=True,
                          bidirectional=True, dropout=c.dropout if c.rnn_layers > 1 else 0.0)
        self.head = nn.Sequential(
            nn.Linear(2 * c.rnn_units, c.dense_units), nn.ReLU(), nn.Dropout(c.dropout),
            nn.Linear(c.dense_units, c.classes),
        )

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, *, mask_padding: bool = False,
                channels_last: bool = False, rnn_kernel: str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probs (B, T', C) and output lengths (B,) for features (B, T, F) of ``lengths`` frames.

        ``mask_padding``: zero each utterance's frames past its own length between the two convolutions, as
        the second one's zero padding does for an utterance alone; so an utterance padded in a batch gets the
        log-probs it gets alone, to float rounding. Without it (training so far) the first block's output on
        the padding (BatchNorm's shift through ReLU, not zero) reaches the last frames of shorter utterances.
        ``channels_last``: run the second convolution on (B, T1, F1, channels) memory, where oneDNN's CPU kernel
        for few channels is about three times faster (the same values, to float rounding).
        ``rnn_kernel``: ``torch`` (``nn.GRU``), ``numba`` (``ctctool.kernels.gru_numba``: inference on the CPU,
        about twice as fast for one sequence, the same values to float rounding), or ``auto``: numba for one
        or two sequences on the CPU in eval mode without gradients, else torch.
        """
        x = self.conv[:3](features.unsqueeze(1))  # (B, channels, T1, F1)
        if mask_padding:
            valid = self.config.output_frames(lengths, convolutions=1)  # (B,)
            keep = torch.arange(x.shape[2], device=x.device)[None, :] < valid[:, None]  # (B, T1)
            x = x * keep[:, None, :, None].to(x.dtype)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.conv[3:](x)  # (B, channels, T', F')
        B, channels, T, bins = x.shape
        x = x.permute(0, 2, 1, 3).reshape(B, T, channels * bins)
        out_lengths = self.config.output_frames(lengths).clamp(min=1, max=T)
        if self._numba_rnn(rnn_kernel, x):
            from ctctool.kernels.gru_numba import bidirectional_gru

            x = bidirectional_gru(self.rnn, x, out_lengths)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x, out_lengths.cpu(), batch_first=True, enforce_sorted=False)
            x, _ = self.rnn(packed)
            x, _ = nn.utils.rnn.pad_packed_sequence(x, batch_first=True, total_length=T)
        return self.head(x).log_softmax(dim=-1), out_lengths

    def _numba_rnn(self, kernel: str, x: torch.Tensor) -> bool:
        if kernel not in ("auto", "torch", "numba"):
            raise CtcToolError(f"rnn_kernel {kernel!r}: expected auto, torch or numba")
        wants_gradients = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in self.rnn.parameters()))
        usable = x.device.type == "cpu" and not self.training and not wants_gradients
        if kernel == "numba" and not usable:
            raise CtcToolError("rnn_kernel 'numba' runs inference on the CPU only: call model.eval(), keep the "
                               "input on the CPU and run under torch.no_grad()")
        return kernel == "numba" or (kernel == "auto" and usable and x.shape[0] <= 2)
