"""Beam search with a word n-gram LM and hotwords, against brute force and ARPA back-off scoring."""

import math
import random

import pytest
import torch

from ctctool import CtcToolError, Vocabulary
from ctctool.decoding.beam import beam_search, compiled_lm
from ctctool.decoding.hotwords import parse_hotword
from ctctool.lm.arpa import read_arpa
from ctctool.kernels.ngram_score import score_word
from oracles import TOY_ARPA as ARPA, best_per_text, fused_scores

LN10 = math.log(10)

VOCAB = Vocabulary(("<blank>", "a", "b", " "))


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    path = tmp_path_factory.mktemp("lm") / "lm.arpa"
    path.write_text(ARPA, encoding="utf-8")
    return read_arpa(path)


@pytest.mark.parametrize("seed", range(40))
def test_kernel_scores_equal_arpa_back_off(lm, seed):
    tables = compiled_lm(lm, VOCAB)
    rng = random.Random(seed)
    words = [rng.choice(["a", "b", "ab", "ba", "aab", "<unk>", "</s>", "zz"]) for _ in range(6)]
    ids = {w: i for i, w in enumerate(sorted(g[0] for g in lm.ngrams if len(g) == 1))}
    state, context = tables.start_state, ["<s>"]
    for word in words:
        score, state = score_word(tables.as_tuple(), state, ids.get(word, -1))
        assert score == pytest.approx(lm.log10_prob(word, context) * LN10, abs=1e-12), (words, word)
        context.append(word)


def _words(text):
    return text.split()


def _lm_score(lm, words, alpha, beta, oov_penalty):
    """alpha ln P_LM(words) + beta words + the penalty for each word the LM does not list."""
    oov = sum(w not in lm for w in words)
    return alpha * lm.sentence_log10(words) * LN10 + beta * len(words) + oov_penalty * oov


@pytest.mark.parametrize("seed", range(12))
def test_unpruned_fused_beam_equals_brute_force(lm, seed):
    g = torch.Generator().manual_seed(seed)
    lp = (torch.randn(5, 4, generator=g, dtype=torch.float64) * 2).log_softmax(-1)
    alpha, beta, oov_penalty = 0.7, 0.4 + 0.1 * seed, -0.5 * (seed % 3)
    truth = fused_scores(lp.tolist(), VOCAB, lm, alpha, beta, oov_penalty)
    ranked = best_per_text(truth, VOCAB, 4)
    (hypotheses,) = beam_search(lp, beam_width=4**5, nbest=4, token_min_log_prob=-math.inf, vocab=VOCAB, lm=lm,
                                alpha=alpha, beta=beta, oov_penalty=oov_penalty)
    assert [h.labels for h in hypotheses] == ranked
    assert [h.score for h in hypotheses] == pytest.approx([truth[r] for r in ranked], abs=1e-9)
    for h in hypotheses:
        assert h.score == pytest.approx(h.acoustic_score + h.lm_score + h.hotword_score, abs=1e-12)
        words = _words(VOCAB.decode(h.labels))
        assert h.lm_score == pytest.approx(_lm_score(lm, words, alpha, beta, oov_penalty), abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_unpruned_hotword_beam_equals_brute_force(seed):
    g = torch.Generator().manual_seed(100 + seed)
    lp = (torch.randn(5, 4, generator=g, dtype=torch.float64) * 2).log_softmax(-1)
    hotwords = {"ab": 2.0, "b": 0.5}
    truth = fused_scores(lp.tolist(), VOCAB, hotwords=hotwords)
    ranked = best_per_text(truth, VOCAB, 3)
    (hypotheses,) = beam_search(lp, beam_width=4**5, nbest=3, token_min_log_prob=-math.inf, vocab=VOCAB,
                                hotwords=hotwords)
    assert [h.labels for h in hypotheses] == ranked
    assert [h.score for h in hypotheses] == pytest.approx([truth[r] for r in ranked], abs=1e-9)


def _planted(frames, vocab, peak=0.0, floor=-8.0):
    """(T, C) log-probs from a list of per-frame {token: log-prob} dicts (others at ``floor``)."""
    lp = torch.full((len(frames), vocab.size), floor, dtype=torch.float64)
    for t, scores in enumerate(frames):
        for token, value in scores.items():
            lp[t, vocab.id_of(token)] = value
    return lp.log_softmax(-1)


def test_hotword_rescues_a_rare_name():
    vocab = Vocabulary(("<blank>", *"adhosw", " "))
    # "dashwood" where the acoustics lean to "dashwaod" on one frame
    frames = [{c: 0.0} for c in "dashw"] + [{"a": 0.0, "o": -0.4}, {"<blank>": 0.0}] + [{c: 0.0} for c in "od"]
    lp = _planted(frames, vocab)
    (plain,) = beam_search(lp, beam_width=8, vocab=vocab)
    (boosted,) = beam_search(lp, beam_width=8, vocab=vocab, hotwords=dict([parse_hotword("dashwood:5")]))
    assert vocab.decode(plain[0].labels) == "dashwaod"
    assert vocab.decode(boosted[0].labels) == "dashwood"
    assert boosted[0].hotword_score == 5.0


def test_hotword_phrase_spans_the_delimiter():
    vocab = Vocabulary(("<blank>", *"nweyork", " "))
    frames = [{c: 0.0} for c in "new "] + [{"y": 0.0}, {"o": 0.0}, {"<blank>": 0.0}, {"r": -0.3, "o": 0.0}, {"k": 0.0}]
    lp = _planted(frames, vocab)
    (plain,) = beam_search(lp, beam_width=8, vocab=vocab)
    (boosted,) = beam_search(lp, beam_width=8, vocab=vocab, hotwords={"new york": 3.0})
    assert vocab.decode(plain[0].labels) == "new yook"
    assert vocab.decode(boosted[0].labels) == "new york"
    assert boosted[0].hotword_score == 3.0


def test_lm_prefers_the_likely_word(lm):
    # the second word is "a" or "ab" with "ab" slightly more likely acoustically;
    # the LM makes "a b" after <s> a far likelier than "a ab"
    frames = [{"a": 0.0}, {" ": 0.0}, {"a": 0.0}, {"b": -0.1, " ": -0.3}, {"b": 0.0}]
    lp = _planted(frames, VOCAB)
    (plain,) = beam_search(lp, beam_width=8, vocab=VOCAB)
    (fused,) = beam_search(lp, beam_width=8, vocab=VOCAB, lm=lm, alpha=1.0, beta=0.0, oov_penalty=0.0)
    assert VOCAB.decode(plain[0].labels) == "a ab"
    assert VOCAB.decode(fused[0].labels) == "a a b"


@pytest.mark.parametrize("spec, message", [
    ("dashwood:x", "hotword 'dashwood:x': the boost after ':' must be a number, e.g. 'dashwood:5'"),
    (":5", "hotword ':5': expected 'word:boost' with a word and a boost in (0, 1000], e.g. 'dashwood:5'"),
    ("dashwood:-1", "hotword 'dashwood:-1': expected 'word:boost' with a word and a boost in (0, 1000], "
                    "e.g. 'dashwood:5'"),
    ("dashwood:1e308", "hotword 'dashwood:1e308': expected 'word:boost' with a word and a boost in (0, 1000], "
                       "e.g. 'dashwood:5'"),
])
def test_bad_hotwords(spec, message):
    with pytest.raises(CtcToolError) as err:
        parse_hotword(spec)
    assert str(err.value) == message


def test_hotword_without_a_default_boost_gets_five():
    assert parse_hotword("new  york") == ("new york", 5.0)


def test_alpha_needs_an_lm():
    with pytest.raises(CtcToolError, match="`alpha` weighs a language model, and there is none: pass `lm`"):
        beam_search(torch.zeros(3, 4).log_softmax(-1), alpha=0.5, vocab=VOCAB)


def test_lm_words_the_vocabulary_cannot_spell(lm):
    vocab = Vocabulary(("<blank>", "x", " "))
    with pytest.raises(CtcToolError, match="none of its 8 words can be spelled"):
        beam_search(torch.zeros(3, 3).log_softmax(-1), vocab=vocab, lm=lm)
