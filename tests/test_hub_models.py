"""``--model owner/name``: a Hugging Face hub id resolved through the hub cache, tested offline.

A tiny random wav2vec2 CTC checkpoint is laid out as huggingface_hub lays out a download
(``$HF_HOME/hub/models--owner--name/snapshots/<commit>/`` and ``refs/main``); ctctool then runs in a
fresh process with ``HF_HOME`` pointing there and ``HF_HUB_OFFLINE=1``, so the id can only resolve
through the cache: the same path a download takes on its second use.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is not installed (pip install 'ctctool[hf]')")
pytest.importorskip("huggingface_hub", reason="huggingface_hub is not installed (pip install 'ctctool[hf]')")

from ctctool.models.hf import load_hf_model  # noqa: E402
from ctctool.models.windowed import windowed_log_probs  # noqa: E402
from test_hf_model import save_checkpoint  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def hub_home(tmp_path_factory):
    """An HF_HOME whose hub cache holds tiny-org/tiny-ctc at COMMIT, the main branch."""
    home = tmp_path_factory.mktemp("hf-home")
    repo = home / "hub" / "models--tiny-org--tiny-ctc"
    (repo / "snapshots").mkdir(parents=True)
    save_checkpoint(repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    return home


def run_offline(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_HUB_CACHE", None)
    return subprocess.run([sys.executable, "-m", "ctctool", *map(str, args)], env=env, capture_output=True, text=True)


def test_a_hub_id_resolves_through_the_cache_to_the_same_model(hub_home, tmp_path):
    """The emissions of --model tiny-org/tiny-ctc equal those of the snapshot folder loaded directly."""
    done = run_offline(hub_home, "emissions", EXAMPLES / "hello.wav", "-o", tmp_path / "e.npy",
                       "--model", "tiny-org/tiny-ctc", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    import numpy as np

    from ctctool.audio.loading import load_audio

    model = load_hf_model(hub_home / "hub" / "models--tiny-org--tiny-ctc" / "snapshots" / COMMIT, torch.device("cpu"))
    expected = windowed_log_probs(model, load_audio(EXAMPLES / "hello.wav", model.sample_rate))
    np.testing.assert_allclose(np.load(tmp_path / "e.npy"), expected.numpy(), atol=1e-5)


def test_a_revision_that_is_not_cached_offline_is_one_clear_line(hub_home):
    done = run_offline(hub_home, "transcribe", EXAMPLES / "hello.wav", "--model", "tiny-org/tiny-ctc",
                       "--revision", "v2", "--lm", "none")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: tiny-org/tiny-ctc (revision v2): not in the Hugging Face cache (")
    assert done.stderr.endswith("the hub cannot be reached (offline, or HF_HUB_OFFLINE=1); download it once with "
                                "network access ('hf download tiny-org/tiny-ctc'), or pass a local checkpoint "
                                "folder\n")


def test_a_model_never_downloaded_offline_is_one_clear_line(hub_home):
    done = run_offline(hub_home, "align", EXAMPLES / "hello.wav", EXAMPLES / "hello.txt",
                       "--model", "facebook/wav2vec2-base-960h")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: facebook/wav2vec2-base-960h: not in the Hugging Face cache (")


@pytest.mark.parametrize("spec", ["a/b..c", "a--b/c", "org/name-"])
def test_an_id_the_hub_refuses_is_one_line(spec):
    from helpers import run_cli

    result = run_cli("transcribe", EXAMPLES / "hello.wav", "--model", spec, "--lm", "none")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: {spec}: not a valid Hugging Face hub id (")
