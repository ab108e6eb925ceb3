"""Local Hugging Face CTC checkpoints, offline: wav2vec2 and kin (HuBERT, WavLM), and Parakeet CTC.

transformers is an optional extra, imported only here. Both families keep their weights in
model.safetensors (or its sharded index) or pytorch_model.bin, and take the pad token
(``pad_token_id`` in config.json) as the CTC blank.

wav2vec2 family: config.json, vocab.json ({token: id}, ``|`` the word delimiter) and
preprocessor_config.json; the raw waveform goes in. One frame per product of ``conv_stride``
samples (320 at 16 kHz: 0.02 s); ``frame_offset`` centres each frame's interval on the receptive
field of the conv feature encoder (400 samples for wav2vec2, so 2.5 ms; see
``ctctool.models.base.receptive_field_offset``).

Parakeet CTC (``parakeet_ctc``, NVIDIA FastConformer): config.json, tokenizer.json (subword pieces
with the ``▁`` word-start marker, read by ``ctctool.io.tokenizer_file``) and the feature extractor's
settings (preprocessor_config.json, or processor_config.json as transformers 5 saves a processor).
The feature extractor's log-mel frames (``hop_length`` samples apart, each centred on its hop: a
centred STFT) go through ``log2(subsampling_factor)`` convolutions of stride
``subsampling_conv_stride``, each padded to stay centred: frame t sees mel frames centred on mel
frame ``t * stride ** layers`` (0.08 s per frame for Parakeet: 160 * 8 / 16000). ``frame_offset``
centres frame t's interval on that point, so it is minus half a frame (-0.04 s); NeMo's own
timestamps start frame t at ``t * frame_shift`` instead. Self-attention sees the whole input, so
the receptive field is only local in its convolutions.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from ctctool.alignment.timing import BoundaryCorrection
from ctctool.errors import CtcToolError, first_line
from ctctool.io.vocab_file import load_vocabulary
from ctctool.models.base import receptive_field, receptive_field_offset
from ctctool.vocab import Vocabulary

REQUIRED_FILES = ("config.json", "vocab.json", "preprocessor_config.json")
#: model_type of the checkpoints that take log-mel features and have a subword tokenizer.json.
MEL_SUBWORD_TYPES = ("parakeet_ctc",)
TOKENIZER_FILE = "tokenizer.json"
#: Where a feature extractor's settings may be: saved on its own, or within a processor's.
EXTRACTOR_FILES = ("preprocessor_config.json", "processor_config.json")
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
_EXPECTED_MEL = (
    "expected a Hugging Face Parakeet CTC checkpoint directory with config.json, tokenizer.json, "
    "preprocessor_config.json or processor_config.json, and model.safetensors or pytorch_model.bin"
)


@dataclass(frozen=True, eq=False)
class MelFrontEnd:
    """A transformers log-mel feature extractor and the strided convolutions after it (Parakeet's subsampling).

    ``layers`` convolutions of ``kernel`` and ``stride``, each padded by ``(kernel - 1) // 2`` on both sides.
    The extractor counts ``(samples + n_fft // 2 * 2 - n_fft) // hop_length`` mel frames as valid (its
    attention mask); the frames after them are padding, and so are the output frames they alone make.
    """

    extractor: object
    layers: int
    kernel: int
    stride: int

    @property
    def hop(self) -> int:
        """Samples between mel frames."""
        return int(self.extractor.hop_length)

    @property
    def centre(self) -> float:
        """Sample on which output frame 0 is centred (output frame t: ``centre + t * hop * stride ** layers``)."""
        shift = ((self.kernel - 1) / 2 - (self.kernel - 1) // 2) * sum(self.stride ** i for i in range(self.layers))
        return shift * self.hop

    def frames(self, samples: int) -> int:
        """T, the output frames that ``samples`` samples give (those the model's attention mask keeps)."""
        n_fft = int(self.extractor.n_fft)
        frames = max(0, (samples + n_fft // 2 * 2 - n_fft) // self.hop)
        padding = (self.kernel - 1) // 2
        for _ in range(self.layers):
            frames = (frames + 2 * padding - self.kernel) // self.stride + 1
        return frames

    @property
    def min_samples(self) -> int:
        """The shortest input with two valid mel frames (the extractor's per-bin variance needs two)."""
        n_fft = int(self.extractor.n_fft)
        return 2 * self.hop + n_fft - n_fft // 2 * 2

    def inputs(self, waveform: torch.Tensor, sample_rate: int, device: torch.device) -> dict[str, torch.Tensor]:
        """(samples,) waveform -> ``input_features`` (1, frames, mels) and ``attention_mask`` (1, frames) on ``device``."""
        features = self.extractor(waveform.detach().to("cpu", torch.float32).numpy(), sampling_rate=sample_rate,
                                  return_tensors="pt", return_attention_mask=True)
        return {"input_features": features["input_features"].to(device, torch.float32),
                "attention_mask": features["attention_mask"].to(device)}


@dataclass(frozen=True, eq=False)
class HfCtcModel:
    """An :class:`~ctctool.models.base.AcousticModel` over a transformers ``*ForCTC`` module.

    ``normalize``: scale each waveform to zero mean and unit variance first (the
    checkpoint's ``do_normalize``). ``min_samples``: the shortest input giving a frame.
    ``front_end``: the log-mel features the module takes instead of the waveform (Parakeet), or None.
    ``batchable``: padded batches give each waveform its own log-probs (a feature encoder normalised per frame,
    ``feat_extract_norm="layer"``, and an attention mask); otherwise ``batch_log_probs`` runs one at a time.
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
    front_end: MelFrontEnd | None = None
    batchable: bool = False

    def log_probs(self, waveform: torch.Tensor) -> torch.Tensor:
        """(samples,) float mono at ``sample_rate`` -> (T, C) float32 log-probs on ``device``."""
        self._check(waveform)
        if self.front_end is not None:
            inputs = self.front_end.inputs(waveform, self.sample_rate, self.device)
            with torch.inference_mode():
                logits = self.module(**inputs).logits[0, : self.front_end.frames(waveform.numel())]
            return torch.log_softmax(logits.float(), dim=-1)
        x = waveform.to(self.device, torch.float32)
        if self.normalize:
            x = normalize_waveform(x)
        with torch.inference_mode():
            logits = self.module(x[None]).logits[0]
        return torch.log_softmax(logits.float(), dim=-1)


    def batch_log_probs(self, waveforms: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """B (N_b,) waveforms -> B (T_b, C) log-probs, each equal to ``log_probs`` of its waveform alone to float
        rounding: one padded pass with an attention mask when the model is ``batchable``, else one by one (a
        GroupNorm feature encoder normalises over time, padding included; Parakeet's log-mel front end too)."""
        if not self.batchable or len(waveforms) < 2:
            return [self.log_probs(w) for w in waveforms]
        for waveform in waveforms:
            self._check(waveform)
        rows = [w.to(self.device, torch.float32) for w in waveforms]
        rows = [normalize_waveform(r) for r in rows] if self.normalize else rows
        lengths = torch.tensor([r.numel() for r in rows], device=self.device)
        padded = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)  # (B, N)
        mask = (torch.arange(padded.shape[1], device=self.device)[None, :] < lengths[:, None]).long()
        with torch.inference_mode():
            logits = self.module(padded, attention_mask=mask).logits  # (B, T, C)
            frames = self.module._get_feat_extract_output_lengths(lengths).tolist()
        return [torch.log_softmax(logits[b, :n].float(), dim=-1) for b, n in enumerate(frames)]

    def _check(self, waveform: torch.Tensor) -> None:
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
    if not (directory / "config.json").is_file():
        raise CtcToolError(f"{directory}: no config.json; {_EXPECTED}")
    if _model_type(directory / "config.json") in MEL_SUBWORD_TYPES:
        return _load_mel_model(directory, device, transformers)
    for name in REQUIRED_FILES:
        if not (directory / name).is_file():
            raise CtcToolError(f"{directory}: no {name}; {_EXPECTED}")
    config, extractor = _read_configs(directory, transformers, "config.json or preprocessor_config.json")
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
        batchable=getattr(config, "feat_extract_norm", None) == "layer",
    )


def _load_mel_model(directory: Path, device: torch.device, transformers) -> HfCtcModel:
    """A Parakeet CTC checkpoint: log-mel features in, subword pieces (tokenizer.json) out."""
    for names in ((TOKENIZER_FILE,), EXTRACTOR_FILES):
        if not any((directory / name).is_file() for name in names):
            raise CtcToolError(f"{directory}: no {' or '.join(names)}; {_EXPECTED_MEL}")
    config, extractor = _read_configs(directory, transformers, "config.json or the feature extractor's settings")
    encoder = config.encoder_config
    if not all(hasattr(extractor, name) for name in ("hop_length", "n_fft")):
        raise CtcToolError(f"{directory}: the feature extractor {type(extractor).__name__} has no hop_length and "
                           f"n_fft; {_EXPECTED_MEL}")
    front_end = MelFrontEnd(extractor, layers=int(math.log2(encoder.subsampling_factor)),
                            kernel=int(encoder.subsampling_conv_kernel_size), stride=int(encoder.subsampling_conv_stride))
    vocab = _subword_vocabulary(directory, config)
    module = _load_module(directory, transformers.MODEL_FOR_CTC_MAPPING[type(config)], config, transformers)
    sample_rate = int(extractor.sampling_rate)
    frame_shift = front_end.hop * front_end.stride ** front_end.layers / sample_rate
    return HfCtcModel(
        name=directory.resolve().name,
        vocab=vocab,
        sample_rate=sample_rate,
        frame_shift=frame_shift,
        frame_offset=front_end.centre / sample_rate - frame_shift / 2,
        normalize=False,
        min_samples=front_end.min_samples,
        module=module.to(device=device, dtype=torch.float32).eval(),
        device=device,
        front_end=front_end,
    )


def _model_type(path: Path) -> str | None:
    """config.json's model_type, or None when it cannot be read (the loader then reports why)."""
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None


def _read_configs(directory: Path, transformers, files: str):
    """The model's config and its feature extractor, as transformers reads them from ``directory``."""
    try:
        config = transformers.AutoConfig.from_pretrained(directory, local_files_only=True)
        extractor = transformers.AutoFeatureExtractor.from_pretrained(directory, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise CtcToolError(f"{directory}: unreadable {files} ({_first_line(exc)})") from exc
    except ImportError as exc:  # some transformers versions need librosa for Parakeet's feature extractor
        raise CtcToolError(f"{directory}: transformers cannot build the feature extractor ({_first_line(exc)}); "
                           "install what it names") from exc
    return config, extractor


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


def _subword_vocabulary(directory: Path, config) -> Vocabulary:
    from ctctool.io.tokenizer_file import load_tokenizer

    blank = config.pad_token_id
    if blank is None:
        raise CtcToolError(f"{directory}/config.json: no pad_token_id; the CTC blank of a Parakeet checkpoint is "
                           "its pad token")
    vocab = load_tokenizer(directory / TOKENIZER_FILE, blank=blank, classes=config.vocab_size)
    if vocab.size != config.vocab_size:
        raise CtcToolError(
            f"{directory}/{TOKENIZER_FILE}: {vocab.size} classes (pieces and the blank) but config.json has "
            f"vocab_size {config.vocab_size}; the model's output classes must match the vocabulary"
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
