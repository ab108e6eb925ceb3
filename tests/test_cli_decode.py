"""`ctctool decode` end to end on the planted alignment example, and its errors."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ctctool.decoding.beam import beam_search
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
    assert result.stderr == (f"error: {tmp_path / 'e.npy'}: scores have C=29 classes but the vocabulary has 31 "
                             "tokens; pass --vocab with one token per class\n")


def test_error_key_count(tmp_path):
    (tmp_path / "keys.txt").write_text("a\nb\n", encoding="utf-8")
    result = run_cli("decode", EMISSIONS, "--keyed", "--keys", tmp_path / "keys.txt")
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'keys.txt'}: 2 keys for 1 utterances; write one key per line\n"


def _emissions(frames, path):
    """Save (T, 31) log-probs for the default vocabulary from per-frame {character: logit} dicts."""
    from ctctool.vocab import default_vocabulary

    vocab = default_vocabulary()
    logits = torch.full((len(frames), vocab.size), -8.0)
    for t, scores in enumerate(frames):
        for token, value in scores.items():
            logits[t, vocab.id_of(token)] = value
    np.save(path, logits.log_softmax(-1).numpy())
    return path


def _spelled(text, blank_between=True):
    frames = []
    for ch in text:
        frames.append({ch: 0.0} if isinstance(ch, str) else ch)
        if blank_between:
            frames.append({"<blank>": 0.0})
    return frames


def test_lm_built_by_ctctool_lm_fixes_a_word(tmp_path):
    # "brown fox" where the acoustics lean to "brown fax"; the LM has only seen "fox" after "brown"
    frames = _spelled(["b", "r", "o", "w", "n", " ", "f", {"a": 0.0, "o": -0.5}, "x"])
    emissions = _emissions(frames, tmp_path / "e.npy")
    (tmp_path / "corpus.txt").write_text("the brown fox\nbrown fox jumps\na fax came\n" * 3, encoding="utf-8")
    built = run_cli("lm", tmp_path / "corpus.txt", "-o", tmp_path / "words.arpa", "--order", "2")
    assert built.exit_code == 0, built.stderr
    assert run_cli("decode", emissions).stdout == "brown fax\n"
    fused = run_cli("decode", emissions, "--lm", tmp_path / "words.arpa", "--json", "--alpha", "0.8", "--beta", "0.5")
    assert fused.exit_code == 0, fused.stderr
    (utterance,) = json.loads(fused.stdout)["utterances"]
    assert utterance["text"] == "brown fox"
    from ctctool.lm.arpa import read_arpa

    lm = read_arpa(tmp_path / "words.arpa")
    expected = 0.8 * lm.sentence_log10(["brown", "fox"]) * np.log(10) + 0.5 * 2
    assert utterance["nbest"][0]["lm_score"] == pytest.approx(expected, abs=1e-6)


def test_hotword_on_the_command_line(tmp_path):
    frames = _spelled(["d", "a", "s", "h", "w", {"a": 0.0, "o": -0.4}, "o", "d"])
    emissions = _emissions(frames, tmp_path / "e.npy")
    assert run_cli("decode", emissions).stdout == "dashwaod\n"
    boosted = run_cli("decode", emissions, "--hotword", "dashwood:5", "--json")
    (utterance,) = json.loads(boosted.stdout)["utterances"]
    assert (utterance["text"], utterance["nbest"][0]["hotword_score"]) == ("dashwood", 5.0)


def test_error_alpha_without_lm():
    result = run_cli("decode", EMISSIONS, "--alpha", "0.3")
    assert (result.exit_code, result.stderr) == (
        1, "error: --alpha weighs a language model, and there is none: pass --lm, or leave --alpha out\n")


def test_error_lm_is_not_arpa(tmp_path):
    (tmp_path / "words.txt").write_text("the quick brown fox\n", encoding="utf-8")
    result = run_cli("decode", EMISSIONS, "--lm", tmp_path / "words.txt")
    assert (result.exit_code, result.stderr) == (
        1, f"error: {tmp_path / 'words.txt'} line 1: text before \\data\\ ('the quick brown fox'); expected an ARPA "
           "language model\n")


def test_error_bad_hotword():
    result = run_cli("decode", EMISSIONS, "--hotword", "fox:lots")
    assert (result.exit_code, result.stderr) == (
        2, "error: Invalid value for '--hotword': hotword 'fox:lots': the boost after ':' must be a number, "
           "e.g. 'dashwood:5' (see 'ctctool decode --help')\n")


def test_error_kenlm_binary_cut_short(tmp_path):
    (tmp_path / "words.bin").write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\0\0\0")
    result = run_cli("decode", EMISSIONS, "--lm", tmp_path / "words.bin")
    assert (result.exit_code, result.stderr) == (
        1, f"error: {tmp_path / 'words.bin'}: the KenLM header is cut short; the file is truncated\n")
