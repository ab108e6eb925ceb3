"""What ctctool needs from an acoustic model, and the frame <-> time convention.

Frame t of a model's output covers ``frame_offset + t * frame_shift`` to
``frame_offset + (t + 1) * frame_shift`` seconds of its input, the convention of
``ctctool.alignment.timing.SpanTimes.seconds``. A model picks ``frame_offset`` so that this
interval is centred on what the frame sees (see ``receptive_field_offset``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch

from ctctool.alignment.timing import BoundaryCorrection
from ctctool.vocab import Vocabulary


@runtime_checkable
class AcousticModel(Protocol):
    """Audio in, CTC log-probs out.

    Attributes:
        name: shown in outputs, e.g. the checkpoint directory's name.
        vocab: the C output classes, with the blank id.
        sample_rate: Hz of the waveform ``log_probs`` expects.
        frame_shift: seconds between output frames.
        frame_offset: seconds added to ``frame_index * frame_shift``.
        boundary_correction: seconds added to aligned word and line starts and ends, the
            model's calibration of where its CTC spikes sit (``BoundaryCorrection()``: none).

    A model may also have ``blank_penalty``: the ``ctctool.decode`` blank penalty that ``transcribe`` uses
    by default (``model_blank_penalty``; 0 when it has none).
    """

    name: str
    vocab: Vocabulary
    sample_rate: int
    frame_shift: float
    frame_offset: float
    boundary_correction: BoundaryCorrection

    def log_probs(self, waveform: torch.Tensor) -> torch.Tensor:
        """(samples,) float32 mono at ``sample_rate`` -> (T, C) log-probs on the model's device."""
        ...


@dataclass(frozen=True)
class ModelInfo:
    """What turns a model's log-probs into times and text, without its weights: the attributes of an
    ``AcousticModel`` but ``log_probs``. Small and picklable, for workers that align or decode what another
    worker's model computed (``align_emissions(model=info)`` takes it)."""

    name: str
    vocab: Vocabulary
    sample_rate: int
    frame_shift: float
    frame_offset: float
    boundary_correction: BoundaryCorrection
    blank_penalty: float = 0.0


def model_info(model: AcousticModel) -> ModelInfo:
    """The ``ModelInfo`` of ``model``."""
    return ModelInfo(str(model.name), model.vocab, int(model.sample_rate), float(model.frame_shift),
                     float(model.frame_offset), model.boundary_correction, model_blank_penalty(model))


def model_blank_penalty(model) -> float:
    """The blank penalty ``transcribe`` decodes ``model``'s log-probs with by default: its ``blank_penalty``, or 0."""
    return float(getattr(model, "blank_penalty", 0.0) or 0.0)


def receptive_field(kernels: tuple[int, ...], strides: tuple[int, ...]) -> int:
    """Input samples seen by one output frame of a stack of unpadded 1-D convolutions."""
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides):
        field += (kernel - 1) * jump
        jump *= stride
    return field


def receptive_field_offset(kernels: tuple[int, ...], strides: tuple[int, ...], sample_rate: int) -> float:
    """``frame_offset`` that centres frame t's interval on the samples it sees.

    Frame t sees samples ``t * hop`` to ``t * hop + field``, centred on
    ``t * hop + field / 2``; its interval is ``hop`` long, so it starts ``(field - hop) / 2``
    samples after ``t * hop``. For wav2vec2 (field 400, hop 320 at 16 kHz) that is 2.5 ms.
    """
    hop = 1
    for stride in strides:
        hop *= stride
    return (receptive_field(kernels, strides) - hop) / 2 / sample_rate
