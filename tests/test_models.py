"""The acoustic-model contract, windowed inference, and load_model's dispatch."""

import pytest
import torch

from ctctool.alignment.timing import BoundaryCorrection
from ctctool.models.base import AcousticModel, receptive_field, receptive_field_offset
from ctctool.models.loading import load_model
from ctctool.models.windowed import windowed_log_probs
from ctctool.vocab import Vocabulary
from helpers import raises_exactly

CPU = torch.device("cpu")


class ConvModel:
    """A deterministic model of local audio: a wav2vec2-like strided conv, then frame context.

    Layer 1 (kernel 400, stride 320, zero padding 200) turns samples into frames;
    layer 2 (kernel 5, padding 2) mixes each frame with two neighbours either side.
    Zero padding makes frames near the ends of an input differ from frames computed
    with real audio there, as a window's edge does.
    """

    name = "conv"
    sample_rate = 16000
    frame_shift = 0.02
    frame_offset = 0.0
    boundary_correction = BoundaryCorrection()

    def __init__(self, classes: int = 5):
        generator = torch.Generator().manual_seed(0)
        self.vocab = Vocabulary(("<blank>",) + tuple("abcdefghij"[: classes - 1]))
        self.w1 = torch.randn(8, 1, 400, generator=generator) / 20
        self.w2 = torch.randn(classes, 8, 5, generator=generator) / 3
        self.longest_input, self.shortest_input = 0, None

    def log_probs(self, waveform: torch.Tensor) -> torch.Tensor:
        self.longest_input = max(self.longest_input, waveform.numel())
        self.shortest_input = min(self.shortest_input or waveform.numel(), waveform.numel())
        hidden = torch.tanh(torch.nn.functional.conv1d(waveform[None, None], self.w1, stride=320, padding=200))
        logits = torch.nn.functional.conv1d(hidden, self.w2, padding=2)[0].T
        return torch.log_softmax(logits, dim=-1)


def audio(seconds: float, seed: int = 1) -> torch.Tensor:
    return torch.randn(round(seconds * 16000), generator=torch.Generator().manual_seed(seed))


def test_the_fake_model_satisfies_the_protocol():
    assert isinstance(ConvModel(), AcousticModel)


@pytest.mark.parametrize("samples", [5 * 16000, 5 * 16000 + 1, 5 * 16000 + 319, 7 * 16000 + 320, 123457])
def test_windowed_equals_a_single_pass(samples):
    model = ConvModel()
    waveform = audio(samples / 16000)
    single = model.log_probs(waveform)
    stitched = windowed_log_probs(model, waveform, window_seconds=1.0, overlap_seconds=0.3)
    assert stitched.shape == single.shape == (samples // 320 + 1, 5)
    torch.testing.assert_close(stitched, single, rtol=0, atol=1e-5)
    assert model.longest_input <= samples  # the single pass
    windows = ConvModel()
    windowed_log_probs(windows, waveform, window_seconds=1.0, overlap_seconds=0.3)
    # Every window is one second; the last, aligned to the end, up to one hop more.
    assert windows.shortest_input == 16000 and windows.longest_input < 16000 + 320


def test_a_window_alone_differs_near_its_edge():
    """Without stitching, frames near a cut are wrong: the test above has teeth."""
    model = ConvModel()
    waveform = audio(3.0)
    single = model.log_probs(waveform)
    first_window = model.log_probs(waveform[:16000])
    assert not torch.allclose(first_window[-2:], single[48:50], atol=1e-3)
    torch.testing.assert_close(first_window[:45], single[:45], rtol=0, atol=1e-5)


def test_short_audio_is_one_pass():
    model = ConvModel()
    waveform = audio(0.9)
    torch.testing.assert_close(windowed_log_probs(model, waveform, 1.0, 0.2), model.log_probs(waveform))


def test_an_hour_of_frames_stitch_to_the_single_pass_count():
    model = ConvModel(classes=3)
    waveform = torch.zeros(3600 * 16000 + 77)
    stitched = windowed_log_probs(model, waveform)
    assert stitched.shape == (waveform.numel() // 320 + 1, 3)
    assert model.shortest_input == 30 * 16000 and model.longest_input < 30 * 16000 + 320


@pytest.mark.parametrize(
    "window,overlap",
    [(1.0, 1.0), (1.0, 2.0), (0.01, 0.0), (1.0, -0.5)],
)
def test_window_must_be_longer_than_overlap(window, overlap):
    message = (
        f"windowed log-probs: window {window} s and overlap {overlap} s need 0 <= overlap < window, "
        "in whole frames of 0.02 s"
    )
    with raises_exactly(message):
        windowed_log_probs(ConvModel(), audio(3.0), window, overlap)


def test_windowed_needs_whole_samples_per_frame():
    model = ConvModel()
    model.frame_shift = 0.02001
    message = (
        "model conv: frame shift 0.02001 s at 16000 Hz is 320.16 samples; "
        "windowed inference needs a whole number of samples per frame"
    )
    with raises_exactly(message):
        windowed_log_probs(model, audio(3.0))


def test_windowed_needs_a_waveform():
    message = "windowed log-probs: expected a 1-D waveform (samples,), found shape (2, 100)"
    with raises_exactly(message):
        windowed_log_probs(ConvModel(), torch.zeros(2, 100))


def test_wav2vec2_receptive_field_and_frame_offset():
    kernels, strides = (10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)
    # Worked by hand: 1 + 9*1 + 2*5 + 2*10 + 2*20 + 2*40 + 1*80 + 1*160.
    assert receptive_field(kernels, strides) == 400
    assert receptive_field_offset(kernels, strides, 16000) == pytest.approx((400 - 320) / 2 / 16000)


# --- load_model -----------------------------------------------------------------


def test_checkpoint_file_loads_as_a_model(tmp_path):
    from ctctool.models.checkpoint import checkpoint_payload, save_checkpoint
    from ctctool.models.ds2 import DeepSpeech2, model_config
    from ctctool.models.features import PRESET_FEATURES
    from ctctool.vocab import default_vocabulary

    features = PRESET_FEATURES["logmel"]
    network = DeepSpeech2(model_config("tiny", features.bins, 31)).eval()
    save_checkpoint(tmp_path / "m.pt", checkpoint_payload(network, features, default_vocabulary(), half=True))
    model = load_model(str(tmp_path / "m.pt"), CPU)
    assert isinstance(model, AcousticModel)
    assert (model.sample_rate, model.frame_shift, model.vocab.size) == (16_000, 0.02, 31)
    log_probs = model.log_probs(torch.randn(16_000))
    assert log_probs.shape == (49, 31)  # 1 + (16000 - 400) // 160 = 98 feature frames; (98 + 2*2 - 5) // 2 + 1 = 49
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(49), atol=1e-5)


def test_a_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with raises_exactly(f"{path}: not a ctctool checkpoint (no 'ctctool-checkpoint-1' marker); "
                        "train one with ctctool train"):
        load_model(str(path), CPU)


def test_missing_model(tmp_path):
    spec = str(tmp_path / "nowhere")
    message = (
        f"{spec}: no such file or directory; expected 'default', a ctctool checkpoint file, "
        "a wav2vec2-style checkpoint directory or a Hugging Face hub id (owner/name)"
    )
    with raises_exactly(message):
        load_model(spec, CPU)


def test_a_directory_goes_to_the_hugging_face_loader(tmp_path):
    pytest.importorskip("transformers", reason="transformers is not installed (pip install 'ctctool[hf]')")
    message = (
        f"{tmp_path}: no config.json; expected a Hugging Face CTC checkpoint directory with config.json, "
        "vocab.json, preprocessor_config.json and model.safetensors or pytorch_model.bin"
    )
    with raises_exactly(message):
        load_model(str(tmp_path), CPU)
