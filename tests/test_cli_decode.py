"""`ctctool decode` end to end on the planted alignment example, and its errors."""

import json
from pathlib import Path

import numpy as np
import torch

from ctctool.decode import beam_search
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EMISSIONS = EXAMPLES / "align_emissions.npy"  # planted path for "the quick brown fox jumps over lazy"


def test_greedy_reads_the_planted_text():
    result = run_cli("decode", EMISSIONS)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "the quick brown fox jumps over lazy\n"


def test_keyed_output_scores_with_wer(tmp_path):
    (tmp_path / "keys.txt").write_text("utt_a\n", encoding="utf-8")
    hyps = run_cli("decode", EMISSIONS, "--keyed", "--keys", tmp_path / "keys.txt", "--beam-width", "8")
    assert hyps.stdout == "utt_a the quick brown fox jumps over lazy\n"
    (tmp_path / "hyps.txt").write_text(hyps.stdout, encoding="utf-8")
    (tmp_path / "refs.txt").write_text("utt_a the quick brown fox jumps over the lazy dog\n", encoding="utf-8")
    scored = json.loads(run_cli("wer", tmp_path / "refs.txt", tmp_path / "hyps.txt", "--keyed", "--json").stdout)
    assert (scored["deletions"], scored["ref_words"]) == (2, 9)


def test_json_nbest_and_word_times():
    result = run_cli("decode", EMISSIONS, "--beam-width", "16", "--nbest", "3", "--json", "--frame-shift", "0.02")
    assert result.exit_code == 0, result.stderr
    (utterance,) = json.loads(result.stdout)["utterances"]
    expected = beam_search(torch.from_numpy(np.load(EMISSIONS)), beam_width=16, nbest=3)[0]
    assert [n["score"] for n in utterance["nbest"]] == [h.score for h in expected]
    assert len({n["text"] for n in utterance["nbest"]}) == 3
    assert utterance["text"] == "the quick brown fox jumps over lazy"
    first = utterance["words"][0]
    assert first == {"word": "the", "start_frame": 15, "end_frame": 31, "start": 0.3, "end": 0.62}


def test_error_vocabulary_size(tmp_path):
    np.save(tmp_path / "e.npy", np.zeros((10, 29), dtype=np.float32))
    result = run_cli("decode", tmp_path / "e.npy")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {tmp_path / 'e.npy'}: C=29 classes but the vocabulary has 31 tokens; "
                             "pass --vocab with one token per class\n")


def test_error_key_count(tmp_path):
    (tmp_path / "keys.txt").write_text("a\nb\n", encoding="utf-8")
    result = run_cli("decode", EMISSIONS, "--keyed", "--keys", tmp_path / "keys.txt")
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'keys.txt'}: 2 keys for 1 utterances; write one key per line\n"
