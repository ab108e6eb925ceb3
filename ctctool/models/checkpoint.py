"""ctctool checkpoints: weights, vocabulary, feature settings and model config in one file.

Saved with ``torch.save`` (atomically) and loaded with ``torch.load(weights_only=True)``.
A training checkpoint also holds ``train_state`` (optimizer, position, RNG states)
for ``--resume``; an inference checkpoint (the shipped default model) does not.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from ctctool.alignment.timing import BoundaryCorrection
from ctctool._files import input_file
from ctctool.errors import CtcToolError, first_line
from ctctool.io.atomic import atomic_open
from ctctool.models.ds2 import DeepSpeech2, ModelConfig
from ctctool.models.features import FeatureConfig, compute_features
from ctctool.vocab import Vocabulary

FORMAT = "ctctool-checkpoint-1"


def save_checkpoint(path: str | os.PathLike, payload: dict) -> None:
    """Write ``payload`` (see ``checkpoint_payload``) to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        torch.save(payload, handle)


def checkpoint_payload(model: DeepSpeech2, features: FeatureConfig, vocab: Vocabulary, *, history=(),
                       train_state: dict | None = None, calibration: dict | None = None, half: bool = False) -> dict:
    """The dict a checkpoint file holds (tensors, numbers, strings, lists and dicts only)."""
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "model_config": model.config.to_dict(),
        "feature_config": features.to_dict(),
        "vocab": list(vocab.tokens),
        "blank": vocab.blank,
        "model_state": state,
        "history": list(history),
        "calibration": dict(calibration or {}),
    }
    if train_state is not None:
        payload["train_state"] = train_state
    return payload


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The payload of a ctctool checkpoint; any other file is a CtcToolError."""
    file = input_file(path, "a ctctool checkpoint file")
    try:
        payload = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad or unsafe files
        raise CtcToolError(f"{file}: not a ctctool checkpoint ({first_line(exc)})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CtcToolError(f"{file}: not a ctctool checkpoint (no {FORMAT!r} marker); train one with ctctool train")
    return payload


@dataclass
class CheckpointModel:
    """A DeepSpeech2-like checkpoint as an acoustic model: waveform -> (T', C) log-probs.

    ``frame_offset`` puts frame j's left edge at ``j * frame_shift + frame_offset``.
    ``calibration`` holds the word start/end corrections measured at training time, and the blank penalty
    chosen for decoding (``blank_penalty``).
    """

    name: str
    vocab: Vocabulary
    features: FeatureConfig
    network: DeepSpeech2
    device: torch.device
    calibration: dict = field(default_factory=dict)

    @property
    def sample_rate(self) -> int:
        return self.features.sample_rate

    @property
    def frame_shift(self) -> float:
        return self.features.frame_shift * self.network.config.time_stride

    @property
    def frame_offset(self) -> float:
        return self.features.frame_length / (2 * self.features.sample_rate) - self.frame_shift / 2

    @property
    def boundary_correction(self) -> BoundaryCorrection:
        """The word start/end corrections measured at training time (none for an uncalibrated model)."""
        return BoundaryCorrection.from_dict(self.calibration)

    @property
    def blank_penalty(self) -> float:
        """The blank penalty ``transcribe`` decodes with by default, chosen on the dev set (0 when none was)."""
        value = self.calibration.get("blank_penalty", 0.0)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise CtcToolError(f"{self.name}: the checkpoint's `blank_penalty` is {value!r}; expected a finite "
                               f"number (natural log)")
        return float(value)

    @torch.inference_mode()
    def log_probs(self, waveform: torch.Tensor) -> torch.Tensor:
        """(N,) float32 samples at ``sample_rate`` -> (T', C) log-probs on ``device``."""
        feats = compute_features(waveform.to(self.device), self.features)
        out, _ = self.network(feats.unsqueeze(0), torch.tensor([feats.shape[0]], device=self.device))
        return out[0].float()

    @torch.inference_mode()
    def batch_log_probs(self, waveforms: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """B (N_b,) float32 waveforms at ``sample_rate`` -> B (T'_b, C) log-probs on ``device``, in one pass over
        their features padded to (B, T, F): each equals ``log_probs`` of its waveform alone, to float rounding
        (features are normalised per utterance, the padding is masked, the GRUs see packed sequences). On a CPU
        the second convolution runs channels-last, its fast layout there."""
        feats = [compute_features(w.to(self.device), self.features) for w in waveforms]
        lengths = torch.tensor([f.shape[0] for f in feats], device=self.device)
        padded = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)  # (B, T, F)
        out, frames = self.network(padded, lengths, mask_padding=True,
                                   channels_last=self.device.type == "cpu")  # (B, T', C), (B,)
        return [out[b, :n].float().clone() for b, n in enumerate(frames.tolist())]


def model_from_checkpoint(path: str | os.PathLike, device: torch.device, name: str | None = None) -> CheckpointModel:
    """Load ``path`` for inference on ``device`` (weights in float32, eval mode)."""
    payload = load_checkpoint(path)
    vocab = Vocabulary(tuple(payload["vocab"]), blank=int(payload["blank"]))
    network = DeepSpeech2(ModelConfig.from_dict(payload["model_config"]))
    network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["model_state"].items()})
    network.to(device).eval()
    features = FeatureConfig(**payload["feature_config"])
    return CheckpointModel(name or Path(path).name, vocab, features, network, device, payload.get("calibration", {}))
