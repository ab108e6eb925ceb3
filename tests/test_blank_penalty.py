"""The blank penalty of decoding (``decode(blank_penalty=)``, ``--blank-penalty``) and a model's own default."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import ctctool
from ctctool.decoding.decoder import decode
from ctctool.errors import CtcToolError
from ctctool.models.base import model_blank_penalty, model_info
from ctctool.models.checkpoint import model_from_checkpoint
from ctctool.vocab import Vocabulary
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
VOCAB = Vocabulary(("<b>", "a", "b", " "))


def _frames(*rows):
    """Log-probs of rows of probabilities (a 0 becomes 0.001, then each row is normalised: ratios stay)."""
    probs = torch.tensor(rows, dtype=torch.float64).clamp(min=1e-3)
    return torch.log(probs / probs.sum(-1, keepdim=True))


# "a" loses frame 1 to the blank by ln(0.55) - ln(0.45) = 0.20; a penalty of 0.5 turns it round
HESITANT = _frames([0.1, 0.8, 0.05, 0.05], [0.55, 0.45, 0.0, 0.0], [0.9, 0.05, 0.05, 0.0],
                   [0.1, 0.05, 0.8, 0.05], [0.55, 0.0, 0.45, 0.0], [0.9, 0.0, 0.05, 0.05])


def test_a_penalty_above_the_blanks_lead_lets_the_letter_through():
    # by hand: frame 1 is the blank by ln(0.55 / 0.45) = 0.20 and frame 2 by ln(0.6 / 0.4) = 0.41; greedy reads
    # a <b> <b> a = "aa"; with 0.5 off the blank both frames read "a": a a a a = "a"
    two = _frames([0.1, 0.9, 0.0, 0.0], [0.55, 0.45, 0.0, 0.0], [0.6, 0.4, 0.0, 0.0], [0.1, 0.9, 0.0, 0.0])
    assert decode(two, vocab=VOCAB).text == "aa"
    assert decode(two, vocab=VOCAB, blank_penalty=0.5).text == "a"
    assert decode(two, vocab=VOCAB, blank_penalty=0.3).text == "aa"  # 0.3: frame 1 flips, frame 2 does not


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("penalty", [-0.7, 0.3, 1.2])
def test_decoding_with_a_penalty_is_decoding_the_penalised_log_probs(seed, penalty):
    g = torch.Generator().manual_seed(seed)
    log_probs = torch.log_softmax(2.0 * torch.randn(30, 4, generator=g, dtype=torch.float64), -1)
    shifted = log_probs.clone()
    shifted[:, 0] -= penalty
    # greedy by hand: argmax per frame, merge repeats, drop blanks
    best = shifted.argmax(-1).tolist()
    labels = [c for i, c in enumerate(best) if c != 0 and (i == 0 or best[i - 1] != c)]
    assert decode(log_probs, vocab=VOCAB, blank_penalty=penalty).labels == tuple(labels)
    # the search of the penalised rows (renormalised: the same ranking on every frame)
    searched = decode(log_probs, vocab=VOCAB, blank_penalty=penalty, beam_width=8, words=False)
    assert searched.labels == decode(shifted, vocab=VOCAB, input_kind="logits", beam_width=8, words=False).labels


def test_a_greedy_hypothesis_is_scored_and_timed_on_the_log_probs_as_given():
    plain = decode(HESITANT, vocab=VOCAB)
    penalised = decode(HESITANT, vocab=VOCAB, blank_penalty=0.5)
    assert penalised.score == pytest.approx(plain.score) and penalised.words == plain.words


@pytest.mark.parametrize("bad", [math.nan, math.inf, "0.5", True])
def test_a_bad_penalty_is_an_error_naming_it(bad):
    with pytest.raises(CtcToolError, match="`blank_penalty` .*: expected a finite number"):
        decode(HESITANT, vocab=VOCAB, blank_penalty=bad)


def test_a_penalty_may_be_any_real_number_type():
    want = decode(HESITANT, vocab=VOCAB, blank_penalty=0.5).labels
    for value in (np.float32(0.5), np.float64(0.5)):
        assert decode(HESITANT, vocab=VOCAB, blank_penalty=value).labels == want
    assert decode(HESITANT, vocab=VOCAB, blank_penalty=np.int64(1)).labels == \
        decode(HESITANT, vocab=VOCAB, blank_penalty=1.0).labels


def test_the_cli_takes_a_penalty_and_refuses_a_bad_one(tmp_path):
    scores = tmp_path / "s.npy"
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("<b>\na\nb\n|\n")
    two = _frames([0.1, 0.9, 0.0, 0.0], [0.55, 0.45, 0.0, 0.0], [0.6, 0.4, 0.0, 0.0], [0.1, 0.9, 0.0, 0.0])
    np.save(scores, two.exp().numpy().astype(np.float32)[None])
    plain = run_cli("decode", scores, "--input-kind", "probs", "--vocab", vocab_file)
    penalised = run_cli("decode", scores, "--input-kind", "probs", "--vocab", vocab_file, "--blank-penalty", "0.5")
    assert plain.exit_code == penalised.exit_code == 0, plain.stderr + penalised.stderr
    assert plain.stdout.strip() == "aa" and penalised.stdout.strip() == "a"
    bad = run_cli("decode", scores, "--input-kind", "probs", "--vocab", vocab_file, "--blank-penalty", "nan")
    assert bad.exit_code == 2 and "--blank-penalty" in bad.stderr


def test_the_built_in_model_decodes_with_its_own_penalty_by_default():
    model = ctctool.load_model("default", torch.device("cpu"))
    assert model.blank_penalty == 0.5 and model_blank_penalty(model_info(model)) == 0.5
    log_probs, _ = ctctool.audio_log_probs(model, EXAMPLES / "hello.wav")
    from ctctool.decoding.transcribe import transcribe_log_probs

    assert transcribe_log_probs(log_probs, model).text == decode(log_probs, vocab=model.vocab, blank_penalty=0.5).text
    assert transcribe_log_probs(log_probs, model, blank_penalty=0.0).text == decode(log_probs, vocab=model.vocab).text
    assert transcribe_log_probs(log_probs, model_info(model)).text == transcribe_log_probs(log_probs, model).text


def test_a_checkpoint_without_a_penalty_has_none_and_a_bad_one_is_an_error(tmp_path):
    from ctctool.models.checkpoint import checkpoint_payload, load_checkpoint, save_checkpoint

    default = Path(ctctool.__file__).parent / "models" / "default_en.pt"
    payload = load_checkpoint(default)
    model = model_from_checkpoint(default, torch.device("cpu"))
    for value, expected in ((None, 0.0), ("x", None), (math.inf, None)):
        calibration = dict(payload["calibration"])
        calibration.pop("blank_penalty")
        if value is not None:
            calibration["blank_penalty"] = value
        path = tmp_path / "m.pt"
        save_checkpoint(path, checkpoint_payload(model.network, model.features, model.vocab, calibration=calibration))
        loaded = model_from_checkpoint(path, torch.device("cpu"))
        if expected is None:
            with pytest.raises(CtcToolError, match="the checkpoint's `blank_penalty` is .*expected a finite number"):
                loaded.blank_penalty
        else:
            assert loaded.blank_penalty == expected


def test_transcribe_takes_a_penalty_on_the_command_line():
    model = ctctool.load_model("default", torch.device("cpu"))
    log_probs, _ = ctctool.audio_log_probs(model, EXAMPLES / "hello.wav")
    for penalty in ("0", "1.5"):
        result = run_cli("transcribe", EXAMPLES / "hello.wav", "--blank-penalty", penalty)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == decode(log_probs, vocab=model.vocab, blank_penalty=float(penalty)).text
    bad = run_cli("transcribe", EXAMPLES / "hello.wav", "--blank-penalty", "inf")
    assert bad.exit_code == 2 and "--blank-penalty" in bad.stderr
