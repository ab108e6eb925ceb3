"""Local Hugging Face CTC checkpoints (wav2vec2, and kin such as HuBERT and WavLM), offline.

A checkpoint directory holds config.json, vocab.json ({token: id}),
preprocessor_config.json, and model.safetensors (or its sharded index) or
pytorch_model.bin. transformers is an optional extra, imported only here.

The blank is the pad token (``pad_token_id`` in config.json) and ``|`` the word
delimiter. One frame per product of ``conv_stride`` samples (320 at 16 kHz: 0.02 s);
``frame_offset`` centres each frame's interval on the receptive field of the conv
feature encoder (400 samples for wav2vec2, so 2.5 ms; see
``ctctool.models.base.receptive_field_offset``).
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from ctctool.alignment.timing import BoundaryCorrection
from ctctool.errors import CtcToolError, first_line
from ctctool.io.vocab_file import load_vocabulary
from ctctool.models.base import receptive_field, receptive_field_offset
from ctctool.vocab import Vocabulary

REQUIRED_FILES = ("config.json", "vocab.json", "preprocessor_config.json")
SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")
PICKLED_WEIGHTS = "pytorch_model.bin"
#: Parameters a CTC checkpoint may lack because inference never uses them (SpecAugment's mask).
UNUSED_AT_INFERENCE = "masked_spec_embed"
#: Added to the variance before the square root, as transformers' feature extractor does.
NORMALIZE_EPSILON = 1e-7
_EXPECTED = (
    "expected a Hugging Face CTC checkpoint directory with config.json, vocab.json, "
    "preprocessor_config.json and model.safetensors or pytorch_model.bin"
)


@dataclass(frozen=True, eq=False)
class HfCtcModel:
    """An :class:`~ctctool.models.base.AcousticModel` over a transformers ``*ForCTC`` module.

    ``normalize``: scale each waveform to zero mean and unit variance first (the
    checkpoint's ``do_normalize``). ``min_samples``: the shortest input giving a frame.
    """

    name: str
    vocab: Vocabulary
    sample_rate: int
    frame_shift: float
    frame_offset: float
    normalize: bool
    min_samples: int
    module: torch.nn.Module
    device: torch.device
    boundary_correction: BoundaryCorrection = BoundaryCorrection()

    def log_probs(self, waveform: torch.Tensor) -> torch.Tensor:
        """(samples,) float mono at ``sample_rate`` -> (T, C) float32 log-probs on ``device``."""
        if waveform.dim() != 1 or not waveform.is_floating_point():
            raise CtcToolError(
                f"model {self.name}: expected a 1-D float waveform (samples,), found shape "
                f"{tuple(waveform.shape)} {str(waveform.dtype).replace('torch.', '')}"
            )
        if waveform.numel() < self.min_samples:
            raise CtcToolError(
                f"model {self.name}: audio of {waveform.numel()} samples is shorter than one frame "
                f"({self.min_samples} samples, {self.min_samples / self.sample_rate:.3f} s at {self.sample_rate} Hz)"
            )
        x = waveform.to(self.device, torch.float32)
        if self.normalize:
            x = normalize_waveform(x)
        with torch.inference_mode():
            logits = self.module(x[None]).logits[0]
        return torch.log_softmax(logits.float(), dim=-1)


def normalize_waveform(waveform: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit (population) variance, as a wav2vec2 feature extractor with ``do_normalize``."""
    x = waveform.to(torch.float64)
    return ((x - x.mean()) / torch.sqrt(x.var(correction=0) + NORMALIZE_EPSILON)).to(torch.float32)


def load_hf_model(directory: str | os.PathLike, device: torch.device) -> HfCtcModel:
    """Load the checkpoint in ``directory`` onto ``device``, in eval mode, without network access."""
    directory = Path(directory)
    try:
        import transformers
    except ImportError as exc:
        raise CtcToolError(
            f"{directory}: loading a Hugging Face checkpoint needs transformers; pip install 'ctctool[hf]'"
        ) from exc
    for name in REQUIRED_FILES:
        if not (directory / name).is_file():
            raise CtcToolError(f"{directory}: no {name}; {_EXPECTED}")
    try:
        config = transformers.AutoConfig.from_pretrained(directory, local_files_only=True)
        extractor = transformers.AutoFeatureExtractor.from_pretrained(directory, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise CtcToolError(f"{directory}: unreadable config.json or preprocessor_config.json ({_first_line(exc)})") from exc
    model_class = transformers.MODEL_FOR_CTC_MAPPING.get(type(config), None)
    if model_class is None:
        raise CtcToolError(
            f"{directory}/config.json: model_type {config.model_type!r} has no CTC head in transformers; {_EXPECTED}"
        )
    vocab = _vocabulary(directory, config)
    module = _load_module(directory, model_class, config, transformers)
    sample_rate = int(extractor.sampling_rate)
    kernels, strides = tuple(config.conv_kernel), tuple(config.conv_stride)
    return HfCtcModel(
        name=directory.resolve().name,
        vocab=vocab,
        sample_rate=sample_rate,
        frame_shift=math.prod(strides) / sample_rate,
        frame_offset=receptive_field_offset(kernels, strides, sample_rate),
        normalize=bool(getattr(extractor, "do_normalize", False)),
        min_samples=receptive_field(kernels, strides),
        module=module.to(device=device, dtype=torch.float32).eval(),
        device=device,
    )


def _vocabulary(directory: Path, config) -> Vocabulary:
    blank = config.pad_token_id
    if blank is None:
        raise CtcToolError(
            f"{directory}/config.json: no pad_token_id; the CTC blank of a wav2vec2 checkpoint is its pad token"
        )
    vocab = load_vocabulary(directory / "vocab.json", blank=blank)
    if vocab.size != config.vocab_size:
        raise CtcToolError(
            f"{directory}/vocab.json: {vocab.size} tokens but config.json has vocab_size {config.vocab_size}; "
            "the model's output classes must match the vocabulary"
        )
    return vocab


def _load_module(directory: Path, model_class, config, transformers) -> torch.nn.Module:
    if any((directory / name).is_file() for name in SAFETENSORS_FILES):
        source, arguments = "model.safetensors", dict(local_files_only=True, use_safetensors=True)
        where = directory
    elif (directory / PICKLED_WEIGHTS).is_file():
        source, arguments = PICKLED_WEIGHTS, dict(state_dict=_load_pickled_weights(directory / PICKLED_WEIGHTS))
        where = None  # the state dict is already loaded, safely
    else:
        raise CtcToolError(f"{directory}: no model.safetensors or pytorch_model.bin; {_EXPECTED}")
    from safetensors import SafetensorError  # a dependency of transformers

    try:
        with _quiet_progress(transformers):
            module, info = model_class.from_pretrained(where, config=config, output_loading_info=True, **arguments)
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise CtcToolError(f"{directory}/{source}: cannot load the weights ({_first_line(exc)})") from exc
    missing = sorted(key for key in info["missing_keys"] if not key.endswith(UNUSED_AT_INFERENCE))
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise CtcToolError(
            f"{directory}/{source}: no weights for {shown}; expected a checkpoint fine-tuned for CTC"
        )
    return module


def _load_pickled_weights(path: Path) -> dict:
    """A pytorch_model.bin state dict, read with ``weights_only=True`` (tensors only, no code)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as exc:
        raise CtcToolError(
            f"{path}: not a weights-only PyTorch state dict ({_first_line(exc)}); "
            "convert the checkpoint to model.safetensors"
        ) from exc


@contextlib.contextmanager
def _quiet_progress(transformers):
    """Hide transformers' weight-loading progress bar, restoring the user's setting after."""
    logging = transformers.utils.logging
    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            logging.enable_progress_bar()


def _first_line(exc: BaseException) -> str:
    """The first sentence of an exception's message, without terminal colour codes."""
    return first_line(exc, limit=10_000).split(". ")[0].rstrip(". ")
