"""The numba GRU for CPU inference gives torch's nn.GRU outputs, and the model picks it only where it may."""

from pathlib import Path

import pytest
import soundfile
import torch

from ctctool import CtcToolError
from ctctool.kernels.gru_numba import bidirectional_gru
from ctctool.models.ds2 import DeepSpeech2, model_config
from ctctool.models.features import compute_features
from ctctool.models.loading import load_model

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _torch_gru(rnn, x, lengths):
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    return torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


@pytest.mark.parametrize("inputs, hidden, layers, lengths", [
    (7, 5, 1, [9]), (40, 16, 2, [30, 1, 17]), (64, 33, 3, [12, 12]), (320, 128, 2, [200, 57, 3, 150])])
def test_equals_torch_gru(inputs, hidden, layers, lengths):
    torch.manual_seed(len(lengths) * 100 + hidden)
    rnn = torch.nn.GRU(inputs, hidden, num_layers=layers, batch_first=True, bidirectional=True).eval()
    with torch.no_grad():  # larger weights than the default init, so the gates saturate and cross zero
        for p in rnn.parameters():
            p.mul_(3)
    x = torch.randn(len(lengths), max(lengths), inputs)
    with torch.no_grad():
        expected = _torch_gru(rnn, x, torch.tensor(lengths))
    got = bidirectional_gru(rnn, x, torch.tensor(lengths))
    assert got.shape == expected.shape == (len(lengths), max(lengths), 2 * hidden)
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-5)
    for b, n in enumerate(lengths):
        assert torch.count_nonzero(got[b, n:]) == 0  # zero past each length, as pad_packed_sequence leaves it


def test_the_built_in_model_gives_the_same_log_probs_with_either_kernel():
    model = load_model("default", torch.device("cpu"))
    audio, _ = soundfile.read(EXAMPLES / "hello.wav", dtype="float32")
    features = compute_features(torch.from_numpy(audio), model.features)[None]
    lengths = torch.tensor([features.shape[1]])
    with torch.no_grad():
        by_torch, _ = model.network(features, lengths, rnn_kernel="torch")
        by_numba, _ = model.network(features, lengths, rnn_kernel="numba")
        by_auto, _ = model.network(features, lengths)
    torch.testing.assert_close(by_numba, by_torch, rtol=0, atol=1e-4)
    assert torch.equal(by_auto, by_numba)  # one sequence on the CPU: numba


def test_auto_keeps_torch_for_batches_training_and_gradients():
    torch.manual_seed(0)
    network = DeepSpeech2(model_config("tiny", 20, 6)).eval()
    x, lengths = torch.randn(3, 50, 20), torch.tensor([50, 40, 30])
    with torch.no_grad():
        assert torch.equal(network(x, lengths)[0], network(x, lengths, rnn_kernel="torch")[0])  # 3 sequences
        assert torch.equal(network(x[:1], lengths[:1])[0], network(x[:1], lengths[:1], rnn_kernel="numba")[0])
    network(x[:1], lengths[:1])[0].sum().backward()  # weights that want gradients: torch's GRU, which has them
    assert torch.count_nonzero(network.rnn.weight_hh_l0.grad) > 0
    network.requires_grad_(False)
    x.requires_grad_(True)
    network(x[:1], lengths[:1])[0].sum().backward()  # an input that wants them: the same
    assert x.grad is not None and torch.count_nonzero(x.grad) > 0


@pytest.mark.parametrize("setup", ["training", "gradients"])
def test_error_numba_outside_cpu_inference(setup):
    network = DeepSpeech2(model_config("tiny", 20, 6))
    x = torch.randn(1, 50, 20)
    if setup == "gradients":
        network.eval()
    with pytest.raises(CtcToolError, match="rnn_kernel 'numba' runs inference on the CPU only"):
        network(x, torch.tensor([50]), rnn_kernel="numba")


def test_error_unknown_kernel():
    network = DeepSpeech2(model_config("tiny", 20, 6)).eval()
    with pytest.raises(CtcToolError, match="rnn_kernel 'fast': expected auto, torch or numba"):
        network(torch.randn(1, 50, 20), torch.tensor([50]), rnn_kernel="fast")
