"""Hugging Face hub ids (``facebook/wav2vec2-base-960h``) -> a local checkpoint folder in the hub cache.

``huggingface_hub`` (installed with the ``hf`` extra) downloads on first use when online and keeps
the files in its cache (``HF_HOME``, ``HF_HUB_CACHE``); with ``HF_HUB_OFFLINE=1``, or without a
network, a model already in the cache is used as it is. Only what a CTC checkpoint needs is fetched:
the JSON configuration and vocabulary files and the safetensors weights, or ``pytorch_model.bin``
when the repository has no safetensors.
"""

from __future__ import annotations

import re
from pathlib import Path

from ctctool.errors import CtcToolError, first_line

#: ``owner/name`` as the hub spells repository ids.
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
CONFIG_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt"]
PICKLED_WEIGHTS = "pytorch_model.bin"


def is_hub_id(spec: str) -> bool:
    """Whether ``spec`` reads as a hub repository id (and names no local path)."""
    return bool(HUB_ID.match(spec)) and not Path(spec).exists()


def hub_checkpoint(repo_id: str, revision: str | None = None) -> Path:
    """The local folder of ``repo_id`` at ``revision`` (default: the main branch) in the hub cache,
    downloading what is missing when the hub can be reached."""
    try:
        import huggingface_hub
        from huggingface_hub import errors
    except ImportError:
        raise CtcToolError(f"{repo_id}: a Hugging Face hub id needs the hf extra: pip install 'ctctool[hf]'") from None
    where = f"{repo_id}" + (f" (revision {revision})" if revision else "")
    try:
        folder = Path(huggingface_hub.snapshot_download(repo_id, revision=revision, allow_patterns=CONFIG_PATTERNS))
        if not any(folder.glob("*.safetensors")) and not (folder / PICKLED_WEIGHTS).is_file():
            huggingface_hub.hf_hub_download(repo_id, PICKLED_WEIGHTS, revision=revision)
        return folder
    except errors.HFValidationError as exc:
        raise CtcToolError(f"{repo_id}: not a valid Hugging Face hub id ({first_line(exc)}); expected owner/name, "
                           "or a local path") from None
    except errors.RepositoryNotFoundError:
        raise CtcToolError(f"{where}: no such model on the Hugging Face hub (or it is private: log in with "
                           "'hf auth login')") from None
    except errors.RevisionNotFoundError:
        raise CtcToolError(f"{where}: no such revision of this model on the hub") from None
    except errors.GatedRepoError:
        raise CtcToolError(f"{where}: a gated model: accept its terms on the hub, then log in with "
                           "'hf auth login'") from None
    except errors.LocalEntryNotFoundError:
        raise CtcToolError(f"{where}: not in the Hugging Face cache ({huggingface_hub.constants.HF_HUB_CACHE}) and "
                           "the hub cannot be reached (offline, or HF_HUB_OFFLINE=1); download it once with network "
                           f"access ('hf download {repo_id}'), or pass a local checkpoint folder") from None
    except errors.EntryNotFoundError:
        raise CtcToolError(f"{where}: the repository has neither safetensors weights nor {PICKLED_WEIGHTS}; "
                           "expected a CTC checkpoint") from None
    except (errors.HfHubHTTPError, OSError) as exc:
        raise CtcToolError(f"{where}: cannot fetch it from the Hugging Face hub ({first_line(exc)})") from None
