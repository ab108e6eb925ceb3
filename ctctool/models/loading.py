"""``--model SPEC`` -> an acoustic model: ``default``, a checkpoint file, or a checkpoint directory."""

from __future__ import annotations

from pathlib import Path

import torch

from ctctool._files import input_file
from ctctool.errors import CtcToolError
from ctctool.models.base import AcousticModel
from ctctool.models.hub import hub_checkpoint, is_hub_id

#: The spec that names the bundled English model, and where its weights are.
DEFAULT_MODEL = "default"
DEFAULT_MODEL_FILE = Path(__file__).resolve().parent / "default_en.pt"
def load_model(spec: str, device: torch.device, *, revision: str | None = None) -> AcousticModel:
    """Load the acoustic model named by ``spec`` onto ``device``.

    ``spec`` is ``default`` (the bundled English model), a ctctool checkpoint file, a local
    Hugging Face wav2vec2-style CTC checkpoint directory, or a hub id (``facebook/wav2vec2-base-960h``,
    at ``revision``: a branch, tag or commit) resolved through the Hugging Face cache
    (``ctctool.models.hub``).
    """
    if spec == DEFAULT_MODEL:
        return _load_default(device)
    path = Path(spec)
    if revision is not None and (path.exists() or not is_hub_id(spec)):
        raise CtcToolError(f"`revision` {revision}: a revision applies to a hub id (owner/name), not to {spec}")
    if path.is_dir() or is_hub_id(spec):
        from ctctool.models.hf import load_hf_model

        return load_hf_model(path if path.is_dir() else hub_checkpoint(spec, revision), device)
    if not path.exists():
        raise CtcToolError(
            f"{spec}: no such file or directory; expected 'default', a ctctool checkpoint file, "
            "a wav2vec2-style checkpoint directory or a Hugging Face hub id (owner/name)"
        )
    return _load_checkpoint(input_file(path, "a ctctool checkpoint file or a wav2vec2-style directory"), device)


def as_model(model, device="cpu", *, revision: str | None = None) -> AcousticModel:
    """``model`` itself when it is an acoustic model; else the model its spec names (see ``load_model``; a hub
    id at ``revision``), loaded onto ``device`` (``auto``, ``cpu``, ``cuda``, ``cuda:N`` or a ``torch.device``)."""
    if isinstance(model, (str, Path)):
        from ctctool.devices import resolve_device

        return load_model(str(model), resolve_device(device), revision=revision)
    missing = [name for name in ("vocab", "sample_rate", "frame_shift", "frame_offset", "boundary_correction",
                                 "log_probs") if not hasattr(model, name)]
    if missing:
        raise CtcToolError(f"`model`: expected a model spec or an acoustic model (see ctctool.AcousticModel); "
                           f"{type(model).__name__} has no {', '.join(missing)}")
    return model


def default_model_file(instead: str = "pass `model` with a checkpoint file or a local wav2vec2 CTC checkpoint directory") -> Path:
    """The bundled model's weights; a CtcToolError (suggesting ``instead``) when the installation lacks them."""
    if not DEFAULT_MODEL_FILE.is_file():
        raise CtcToolError(f"the default English model is missing from this installation ({DEFAULT_MODEL_FILE}); "
                           f"reinstall ctctool, or {instead}")
    return DEFAULT_MODEL_FILE


def _load_default(device: torch.device) -> AcousticModel:
    from ctctool.models.checkpoint import model_from_checkpoint

    return model_from_checkpoint(default_model_file(), device, name="default")


def _load_checkpoint(path: Path, device: torch.device) -> AcousticModel:
    from ctctool.models.checkpoint import model_from_checkpoint

    return model_from_checkpoint(path, device)
