"""KenLM binary models (tests/data/kenlm, made by KenLM's build_binary from the ARPA files beside them),
against ctctool's own ARPA reader of the same n-grams."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ctctool import CtcToolError, Vocabulary
from ctctool.decoding.beam import beam_search
from ctctool.lm.arpa import read_arpa
from ctctool.lm.kenlm_binary import load_kenlm, read_kenlm_header, read_kenlm_vocabulary
from helpers import run_cli

DATA = Path(__file__).parent / "data" / "kenlm"
BINARIES = ["ab.probing.binary", "ab.trie.binary", "ab.quant.binary"]
VOCAB = Vocabulary(("<blank>", "a", "b", " "))


def _arpa_words(arpa):
    return {g[0] for g in read_arpa(DATA / arpa).ngrams if len(g) == 1}


@pytest.mark.parametrize("name", [*BINARIES, "fox.binary"])
def test_header_and_words_match_the_arpa_file(name):
    arpa = "fox.arpa" if name == "fox.binary" else "ab.arpa"
    header = read_kenlm_header(DATA / name)
    ngrams = read_arpa(DATA / arpa).ngrams
    assert header.counts == tuple(sum(len(g) == n for g in ngrams) for n in range(1, header.order + 1))
    assert header.model_type == {"ab.probing.binary": "probing", "ab.trie.binary": "trie",
                                 "ab.quant.binary": "quantized trie", "fox.binary": "probing"}[name]
    words = read_kenlm_vocabulary(DATA / name)
    assert words[0] == "<unk>" and set(words) == _arpa_words(arpa)


def test_error_truncated_words(tmp_path):
    data = (DATA / "ab.trie.binary").read_bytes()
    (tmp_path / "cut.binary").write_bytes(data[:-6])  # loses the last two words, "bab" and "b"
    with pytest.raises(CtcToolError, match=r"cut.binary: the 9 words at the end of this KenLM binary are missing or cut "
                                           r"short; the file is truncated or damaged$"):
        read_kenlm_vocabulary(tmp_path / "cut.binary")


def test_error_incomplete_build(tmp_path):
    (tmp_path / "half.binary").write_bytes(b"mmap lm http://kheafield.com/code incomplete\n" + bytes(200))
    with pytest.raises(CtcToolError, match=r"half.binary: an incomplete KenLM binary \(build_binary failed or was "
                                           r"stopped\); build it again$"):
        read_kenlm_header(tmp_path / "half.binary")


def test_error_binary_without_words(tmp_path):
    data = bytearray((DATA / "ab.trie.binary").read_bytes())
    data[56 + 32 + 12] = 0  # FixedWidthParameters.has_vocabulary
    (tmp_path / "nowords.binary").write_bytes(bytes(data))
    with pytest.raises(CtcToolError, match=r"nowords.binary: this KenLM binary does not store its words"):
        read_kenlm_vocabulary(tmp_path / "nowords.binary")


def test_error_without_the_kenlm_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "kenlm", None)  # import kenlm raises ImportError
    with pytest.raises(CtcToolError, match=r"ab.trie.binary: a KenLM binary model needs the optional kenlm package: "
                                           r"pip install 'ctctool\[kenlm\]', or pass the ARPA file it was built from$"):
        load_kenlm(DATA / "ab.trie.binary")


needs_kenlm = pytest.mark.skipif(importlib.util.find_spec("kenlm") is None,
                                 reason="the kenlm extra is not installed (pip install -e '.[test]' installs it)")


@needs_kenlm
@pytest.mark.parametrize("name", BINARIES)
def test_scores_equal_the_arpa_back_off(name):
    model, arpa = load_kenlm(DATA / name), read_arpa(DATA / "ab.arpa")
    rng = np.random.default_rng(3)
    choices = ["a", "b", "ab", "ba", "aab", "bab", "zz", "</s>"]
    for _ in range(50):
        words = list(rng.choice(choices, size=rng.integers(1, 6)))
        context = ["<s>", *words[:-1]]
        assert model.log10_prob(words[-1], context) == pytest.approx(arpa.log10_prob(words[-1], context), abs=1e-6)
        sentence = [w for w in words if w != "</s>"]
        assert model.sentence_log10(sentence) == pytest.approx(arpa.sentence_log10(sentence), abs=1e-5)
    assert "bab" in model and "zz" not in model


@needs_kenlm
@pytest.mark.parametrize("name", BINARIES)
def test_beam_search_with_a_binary_equals_the_arpa_file(name):
    model, arpa = load_kenlm(DATA / name), read_arpa(DATA / "ab.arpa")
    for seed in range(12):
        log_probs = torch.randn(2, 24, 4, generator=torch.Generator().manual_seed(seed)).mul(2).log_softmax(-1)
        options = dict(beam_width=8, nbest=3, vocab=VOCAB, alpha=0.7, beta=0.3, input_lengths=[24, 17])
        for ours, theirs in zip(beam_search(log_probs, lm=arpa, **options), beam_search(log_probs, lm=model, **options)):
            assert [h.labels for h in ours] == [h.labels for h in theirs]
            for a, b in zip(ours, theirs):
                assert (b.score, b.lm_score, b.acoustic_score) == pytest.approx((a.score, a.lm_score, a.acoustic_score),
                                                                                abs=1e-5)


@needs_kenlm
def test_lm_score_of_a_binary_equals_the_arpa_sentence_score():
    # "ba ab", one frame per label: the LM term is alpha ln P(ba ab </s> | <s>) + 2 beta
    log_probs = torch.full((5, 4), -20.0)
    log_probs[torch.arange(5), torch.tensor([2, 1, 3, 1, 2])] = 0.0
    model = load_kenlm(DATA / "ab.probing.binary")
    ((best, *_),) = beam_search(log_probs.log_softmax(-1), beam_width=4, vocab=VOCAB, lm=model, alpha=0.5, beta=0.25)
    assert VOCAB.decode(best.labels) == "ba ab"
    expected = 0.5 * math.log(10) * read_arpa(DATA / "ab.arpa").sentence_log10(["ba", "ab"]) + 2 * 0.25
    assert best.lm_score == pytest.approx(expected, abs=1e-5)


@needs_kenlm
def test_cli_decode_with_a_binary(tmp_path):
    from test_cli_decode import _emissions, _spelled

    frames = _spelled(["b", "r", "o", "w", "n", " ", "f", {"a": 0.0, "o": -0.5}, "x"])
    emissions = _emissions(frames, tmp_path / "e.npy")
    fused = run_cli("decode", emissions, "--lm", DATA / "fox.binary", "--json", "--alpha", "0.8", "--beta", "0.5")
    assert fused.exit_code == 0, fused.stderr
    (utterance,) = json.loads(fused.stdout)["utterances"]
    assert utterance["text"] == "brown fox"
    expected = 0.8 * read_arpa(DATA / "fox.arpa").sentence_log10(["brown", "fox"]) * math.log(10) + 0.5 * 2
    assert utterance["nbest"][0]["lm_score"] == pytest.approx(expected, abs=1e-5)
