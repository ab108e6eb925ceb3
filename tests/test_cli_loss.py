"""`ctctool loss` end to end: outputs, formats, and one test per error message."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ctctool import ctc_loss
from ctctool.vocab import default_vocabulary
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture()
def batch(tmp_path):
    """(N=2, T=30, C=31) logits in a .npy file and two text targets."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 30, 31)).astype(np.float32)
    np.save(tmp_path / "logits.npy", logits)
    (tmp_path / "targets.txt").write_text("hello\nab\n", encoding="utf-8")
    return tmp_path, logits


def _expected(logits, lines, **kwargs):
    vocab = default_vocabulary()
    return ctc_loss(torch.from_numpy(logits), [vocab.encode(line) for line in lines], input_kind="logits", **kwargs)


def test_example_runs_and_reports_the_infeasible_utterance():
    result = run_cli("loss", EXAMPLES / "emissions.npz", EXAMPLES / "targets.txt", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [u["feasible"] for u in payload["utterances"]] == [True, True, True, False]
    assert payload["loss"] is None  # the mean includes an infinite loss; JSON carries it as null
    assert result.stderr.endswith("examples/targets.txt line 4) is infeasible: 43 labels with 1 repeats need 44 "
                                  "frames, the input has 12 (32 missing); loss is inf\n")


def test_example_file_is_reproducible(tmp_path):
    bundled = dict(np.load(EXAMPLES / "emissions.npz"))
    subprocess.run([sys.executable, str(EXAMPLES / "make_loss_example.py"), str(tmp_path / "e.npz")], check=True)
    regenerated = dict(np.load(tmp_path / "e.npz"))
    assert bundled.keys() == regenerated.keys()
    for name in bundled:
        assert np.array_equal(bundled[name], regenerated[name])


def test_json_output_matches_the_library(batch):
    folder, logits = batch
    result = run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--json", "--reduction", "sum")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    expected = _expected(logits, ["hello", "ab"], reduction="sum")
    assert payload["loss"] == pytest.approx(float(expected.loss), rel=1e-6)
    first = payload["utterances"][0]
    assert first == {"index": 0, "loss": pytest.approx(float(expected.losses[0]), rel=1e-6),
                     "loss_per_token": pytest.approx(float(expected.losses[0]) / 5, rel=1e-6),
                     "input_length": 30, "target_length": 5, "frames_needed": 6, "feasible": True, "zeroed": False,
                     "reason": ""}


def test_table_output(batch):
    folder, logits = batch
    result = run_cli("loss", folder / "logits.npy", folder / "targets.txt")
    assert result.exit_code == 0
    expected = _expected(logits, ["hello", "ab"])
    assert f"mean loss: {float(expected.loss):.6f}" in result.stdout
    assert "frames needed" in result.stdout


def test_reduction_none_lists_every_loss(batch):
    folder, logits = batch
    payload = json.loads(run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--json",
                                 "--reduction", "none").stdout)
    assert payload["loss"] == pytest.approx(_expected(logits, ["hello", "ab"], reduction="none").losses.tolist(), rel=1e-6)


def test_grad_out_is_written_in_the_input_layout(batch):
    folder, logits = batch
    time_major = np.ascontiguousarray(logits.transpose(1, 0, 2))
    np.save(folder / "tm.npy", time_major)
    result = run_cli("loss", folder / "tm.npy", folder / "targets.txt", "--time-major", "--grad-out", folder / "g.npy")
    assert result.exit_code == 0, result.stderr
    grad = np.load(folder / "g.npy")
    expected = _expected(logits, ["hello", "ab"], compute_grad=True).grad.numpy().transpose(1, 0, 2)
    assert grad.shape == (30, 2, 31) and grad.dtype == np.float32
    assert np.allclose(grad, expected, atol=1e-7)


def test_batch_first_flag_is_still_accepted(batch):
    folder, logits = batch
    result = run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--batch-first", "--json")
    assert json.loads(result.stdout)["loss"] == pytest.approx(float(_expected(logits, ["hello", "ab"]).loss), rel=1e-6)


def test_npz_input_lengths_and_ids(tmp_path):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 20, 5)).astype(np.float64)
    np.savez(tmp_path / "s.npz", emissions=logits, input_lengths=np.array([20, 7]))
    (tmp_path / "ids.txt").write_text("1 2 2\n4\n", encoding="utf-8")
    payload = json.loads(run_cli("loss", tmp_path / "s.npz", tmp_path / "ids.txt", "--ids", "--json",
                                 "--reduction", "none").stdout)
    expected = ctc_loss(torch.from_numpy(logits), [[1, 2, 2], [4]], input_kind="logits",
                        input_lengths=[20, 7], reduction="none")
    assert payload["loss"] == pytest.approx(expected.losses.tolist(), rel=1e-12)
    assert [u["input_length"] for u in payload["utterances"]] == [20, 7]


def test_pt_bfloat16_log_probs_with_vocab_file(tmp_path):
    log_probs = torch.randn(15, 4, generator=torch.Generator().manual_seed(2)).log_softmax(-1).to(torch.bfloat16)
    torch.save({"log_probs": log_probs}, tmp_path / "s.pt")
    (tmp_path / "vocab.txt").write_text("<pad>\na\nb\n<space>\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("ab a\n", encoding="utf-8")
    result = run_cli("loss", tmp_path / "s.pt", tmp_path / "t.txt", "--vocab", tmp_path / "vocab.txt",
                     "--input-kind", "log-probs", "--json", "--grad-out", tmp_path / "g.npy")
    assert result.exit_code == 0, result.stderr
    expected = ctc_loss(log_probs, [[1, 2, 3, 1]], input_kind="log-probs", compute_grad=True)
    assert json.loads(result.stdout)["loss"] == pytest.approx(float(expected.loss), rel=1e-6)
    assert np.load(tmp_path / "g.npy").dtype == np.float32


def test_pipe_delimiter_vocabulary_maps_spaces(tmp_path):
    np.save(tmp_path / "s.npy", np.zeros((10, 4), dtype=np.float32))
    (tmp_path / "vocab.txt").write_text("<pad>\na\nb\n|\n", encoding="utf-8")
    (tmp_path / "t.txt").write_text("a b\n", encoding="utf-8")
    payload = json.loads(run_cli("loss", tmp_path / "s.npy", tmp_path / "t.txt", "--vocab", tmp_path / "vocab.txt",
                                 "--json").stdout)
    assert payload["utterances"][0]["target_length"] == 3


def test_zero_infinity_reports_zeroed(batch):
    folder, _ = batch
    (folder / "lengths.txt").write_text("30\n1\n", encoding="utf-8")
    result = run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--input-lengths", folder / "lengths.txt",
                     "--zero-infinity", "--json")
    assert result.exit_code == 0
    utterance = json.loads(result.stdout)["utterances"][1]
    assert utterance["feasible"] is False and utterance["zeroed"] is True and utterance["loss"] == 0.0
    assert result.stderr == (f"warning: utterance 1 ({folder / 'targets.txt'} line 2) is infeasible: 2 labels with 0 "
                             "repeats need 2 frames, the input has 1 (1 missing); loss zeroed by --zero-infinity\n")


def _error(result, message):
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.stdout + result.stderr


def test_error_vocabulary_size(batch, tmp_path):
    np.save(tmp_path / "c32.npy", np.zeros((5, 32), dtype=np.float32))
    (tmp_path / "t.txt").write_text("a\n", encoding="utf-8")
    _error(run_cli("loss", tmp_path / "c32.npy", tmp_path / "t.txt"),
           f"{tmp_path / 'c32.npy'}: C=32 classes but the vocabulary has 31 tokens; "
           "pass --vocab with one token per class, or --ids for integer targets")


def test_error_unknown_character(batch):
    folder, _ = batch
    (folder / "bad.txt").write_text("hello\nnaïve\n", encoding="utf-8")
    _error(run_cli("loss", folder / "logits.npy", folder / "bad.txt"),
           f"{folder / 'bad.txt'} line 2: character 'ï' (U+00EF) is not in the vocabulary (31 tokens); "
           "remove or replace them, or pass a --vocab that has them")


def test_error_more_target_lines_than_utterances(batch):
    folder, _ = batch
    (folder / "three.txt").write_text("a\nb\nc\n", encoding="utf-8")
    _error(run_cli("loss", folder / "logits.npy", folder / "three.txt"),
           f"{folder / 'three.txt'}: 3 target lines but {folder / 'logits.npy'} holds 2 utterance(s) (2, 30, 31); "
           "write one line per utterance (an empty line is an empty target)")


def test_error_time_major_array_without_the_flag(batch):
    folder, logits = batch
    np.save(folder / "tm.npy", np.ascontiguousarray(logits.transpose(1, 0, 2)))
    _error(run_cli("loss", folder / "tm.npy", folder / "targets.txt"),
           f"{folder / 'targets.txt'}: 2 target lines but {folder / 'tm.npy'} holds 30 utterance(s) (30, 2, 31); "
           "write one line per utterance (an empty line is an empty target); the scores look time-major "
           "(T, N, C): pass --time-major")


def test_error_id_equal_to_blank(batch):
    folder, _ = batch
    (folder / "ids.txt").write_text("1 2\n3 0 4\n", encoding="utf-8")
    _error(run_cli("loss", folder / "logits.npy", folder / "ids.txt", "--ids"),
           f"{folder / 'ids.txt'} line 2: label 0 is the blank id; targets hold non-blank class ids below C=31 of "
           f"{folder / 'logits.npy'}")


def test_error_id_not_an_integer(batch):
    folder, _ = batch
    (folder / "ids.txt").write_text("1 2\n3 x\n", encoding="utf-8")
    _error(run_cli("loss", folder / "logits.npy", folder / "ids.txt", "--ids"),
           f"{folder / 'ids.txt'} line 2: 'x' is not an integer; expected whitespace-separated class ids")


def test_error_input_length_beyond_T(batch):
    folder, _ = batch
    (folder / "lengths.txt").write_text("30\n31\n", encoding="utf-8")
    _error(run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--input-lengths", folder / "lengths.txt"),
           f"{folder / 'lengths.txt'}: utterance 1: --input-lengths 31 is outside 1..T where T=30 frames "
           f"(scores: {folder / 'logits.npy'})")


def test_error_nan(tmp_path):
    array = np.zeros((5, 31), dtype=np.float32)
    array[3, 4] = np.inf
    np.save(tmp_path / "s.npy", array)
    (tmp_path / "t.txt").write_text("a\n", encoding="utf-8")
    _error(run_cli("loss", tmp_path / "s.npy", tmp_path / "t.txt"),
           f"{tmp_path / 's.npy'}: scores holds 1 NaN or infinite value(s), the first at frame 3 of utterance 0, "
           "class 4; expected finite values")


def test_error_wrong_ndim(tmp_path):
    np.save(tmp_path / "s.npy", np.zeros(5, dtype=np.float32))
    (tmp_path / "t.txt").write_text("a\n", encoding="utf-8")
    _error(run_cli("loss", tmp_path / "s.npy", tmp_path / "t.txt"),
           f"{tmp_path / 's.npy'}: expected (T, C) or (N, T, C) scores, found shape (5,)")


def test_error_pickled_array_is_never_loaded(tmp_path):
    np.save(tmp_path / "s.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "t.txt").write_text("a\n", encoding="utf-8")
    _error(run_cli("loss", tmp_path / "s.npy", tmp_path / "t.txt"),
           f"{tmp_path / 's.npy'}: holds pickled Python objects, which ctctool never loads; save a numeric array")


def test_error_missing_file(tmp_path):
    (tmp_path / "t.txt").write_text("a\n", encoding="utf-8")
    _error(run_cli("loss", tmp_path / "nope.npy", tmp_path / "t.txt"), f"{tmp_path / 'nope.npy'}: no such file")


def test_error_integer_scores(tmp_path):
    np.save(tmp_path / "s.npy", np.zeros((5, 31), dtype=np.int32))
    (tmp_path / "t.txt").write_text("a\n", encoding="utf-8")
    _error(run_cli("loss", tmp_path / "s.npy", tmp_path / "t.txt"),
           f"{tmp_path / 's.npy'}: expected floating-point scores (float16, bfloat16, float32 or float64), found int32")


def test_error_npz_without_known_key(tmp_path):
    np.savez(tmp_path / "s.npz", a=np.zeros((5, 31)), b=np.zeros((5, 31)))
    (tmp_path / "t.txt").write_text("a\n", encoding="utf-8")
    _error(run_cli("loss", tmp_path / "s.npz", tmp_path / "t.txt"),
           f"{tmp_path / 's.npz'}: cannot tell which array holds the scores among 'a', 'b'; name it with --key, "
           "or store it as one of logits, log_probs, probs, emissions")


def test_gradient_of_an_infeasible_utterance_is_zero(batch):
    folder, logits = batch
    (folder / "lengths.txt").write_text("30\n1\n", encoding="utf-8")
    result = run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--input-lengths", folder / "lengths.txt",
                     "--grad-out", folder / "g.npy", "--reduction", "none")
    assert result.exit_code == 0, result.stderr
    grad = np.load(folder / "g.npy")
    assert not grad[1].any() and grad[0].any()
    expected = _expected(logits, ["hello", "ab"], input_lengths=[30, 1], reduction="none", compute_grad=True)
    assert np.allclose(grad, expected.grad.numpy(), atol=1e-7)
    assert list(folder.glob(".g.npy*")) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without a GPU")
def test_error_explicit_cuda_without_gpu(batch):
    folder, _ = batch
    _error(run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--device", "cuda"),
           f"--device cuda: no CUDA GPU is available to torch (torch {torch.__version__}); use --device cpu, "
           "or --device auto to pick a GPU only when there is one")


def test_error_bad_device_name(batch):
    folder, _ = batch
    _error(run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--device", "gpu"),
           "--device gpu: expected auto, cpu, cuda or cuda:N")


def test_usage_error_exits_2(batch):
    folder, _ = batch
    result = run_cli("loss", folder / "logits.npy", folder / "targets.txt", "--reduction", "avg")
    assert result.exit_code == 2
