"""Kneser-Ney estimation: normalisation through the ARPA back-off route, hand-worked values,
ARPA round trips and the ``ctctool lm`` command."""

import gzip
import math
import random
from pathlib import Path

import pytest

from ctctool import CtcToolError
from ctctool.lm.arpa import read_arpa, write_arpa
from ctctool.io.corpus_text import read_sentences
from ctctool.lm.ngram import BOS, EOS, UNK
from ctctool.lm.estimate import BOS_LOG10, FALLBACK_DISCOUNT, estimate_ngram, kneser_ney
from tests.helpers import raises_exactly, run_cli


def _corpus(seed: int = 1, sentences: int = 400) -> list[list[str]]:
    """Seeded sentences over 400 Zipf-weighted words, each word followed half the time by the
    next one in the list: enough rare and repeated n-grams to estimate modified KN's discounts."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(400)]
    weights = [1 / (i + 1) for i in range(400)]
    out = []
    for _ in range(sentences):
        sentence = rng.choices(words, weights)
        for _ in range(rng.randint(0, 7)):
            follow = words[(int(sentence[-1][1:]) + 1) % 400]
            sentence.append(follow if rng.random() < 0.5 else rng.choices(words, weights)[0])
        out.append(sentence)
    return out


def _vocabulary(model) -> list[str]:
    return [words[0] for words in model.ngrams if len(words) == 1 and words[0] != BOS]


def _assert_normalised(model, tolerance=1e-6):
    """Every listed history (and the empty one) gives a distribution over V that sums to 1."""
    vocabulary = _vocabulary(model)
    histories = [()] + [words for words in model.ngrams if len(words) < model.order]
    for history in histories:
        total = math.fsum(10 ** model.log10_prob(word, history) for word in vocabulary)
        assert total == pytest.approx(1.0, abs=tolerance), history


# -- (a) normalisation through ctctool.lm's back-off scoring ------------------------------------

@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_history_sums_to_one_modified_kn(order):
    estimate = kneser_ney(_corpus(), order)
    assert estimate.fallback_orders == ()  # the discounts really were estimated at every order
    _assert_normalised(estimate.model)


def test_every_history_sums_to_one_with_a_fixed_discount():
    _assert_normalised(estimate_ngram(_corpus(1), 3, discount=0.9))


@pytest.mark.parametrize("min_count", [2, (1, 2), (3, 2, 5)])
def test_pruned_models_stay_normalised(min_count):
    estimate = kneser_ney(_corpus(2), 4, min_count=min_count)
    assert sum(estimate.pruned[1:]) > 0 and estimate.pruned[0] == 0
    _assert_normalised(estimate.model)


def test_pruning_drops_rare_ngrams_but_keeps_contexts_and_suffixes():
    full = estimate_ngram(_corpus(3), 3)
    pruned = estimate_ngram(_corpus(3), 3, min_count=2)
    assert len(pruned.ngrams) < len(full.ngrams)
    for words in pruned.ngrams:
        if len(words) > 1:
            assert words[:-1] in pruned.ngrams and words[1:] in pruned.ngrams, words
            # kept n-grams keep their interpolated probability
            assert pruned.ngrams[words][0] == full.ngrams[words][0]
    assert {w for w in full.ngrams if len(w) == 1} == {w for w in pruned.ngrams if len(w) == 1}


def test_special_words():
    model = estimate_ngram([["a", "b"], ["b"]], 2)
    assert model.ngrams[(BOS,)][0] == BOS_LOG10 and model.ngrams[(BOS,)][1] < 0
    assert EOS in model and UNK in model
    # <unk> has the smallest unigram probability, and unseen words score as <unk>
    assert model.ngrams[(UNK,)][0] == min(p for w, (p, _) in model.ngrams.items() if len(w) == 1 and w != (BOS,))
    assert model.log10_prob("zebra", ["a"]) == model.log10_prob(UNK, ["a"])


def test_unk_in_the_text_is_counted():
    # <s> a <unk> </s> | <s> a b </s>, D = 0.5: continuation counts a 1, <unk> 1, b 1, </s> 2 (total 5);
    # V = {a, <unk>, b, </s>}; gamma() = 4 * 0.5 / 5 = 0.4; P(<unk>) = 0.5 / 5 + 0.4 / 4 = 0.2
    model = estimate_ngram([["a", UNK], ["a", "b"]], 2, discount=0.5)
    assert model.log10_prob(UNK) == pytest.approx(math.log10(0.2), abs=1e-12)
    assert model.log10_prob("zebra") == model.log10_prob(UNK)
    _assert_normalised(model)


# -- (b) values worked out by hand ---------------------------------------------------------------

def test_bigram_kneser_ney_by_hand():
    # "a b", "a b", "b" padded: <s> a b </s> | <s> a b </s> | <s> b </s>, fixed discount D = 0.5.
    # Bigram counts: <s> a: 2, a b: 2, b </s>: 3, <s> b: 1.
    # Unigram continuation counts: a 1 (after <s>), b 2 (after a, <s>), </s> 1 (after b); total 4.
    # V = {a, b, </s>, <unk>}, |V| = 4; gamma() = 3 * 0.5 / 4 = 0.375, uniform share 0.375 / 4 = 0.09375.
    model = estimate_ngram([["a", "b"], ["a", "b"], ["b"]], 2, discount=0.5)
    p_a = (1 - 0.5) / 4 + 0.09375  # 0.21875
    p_b = (2 - 0.5) / 4 + 0.09375  # 0.46875
    p_eos = (1 - 0.5) / 4 + 0.09375  # 0.21875
    p_unk = 0.09375
    assert p_a + p_b + p_eos + p_unk == 1.0
    for word, p in [("a", p_a), ("b", p_b), (EOS, p_eos), (UNK, p_unk)]:
        assert model.log10_prob(word) == pytest.approx(math.log10(p), abs=1e-12)
    # context <s>: counts a 2, b 1, A = 3, gamma = (0.5 + 0.5) / 3
    gamma_bos = 1 / 3
    p_a_bos = (2 - 0.5) / 3 + gamma_bos * p_a  # 0.5729166...
    p_b_bos = (1 - 0.5) / 3 + gamma_bos * p_b  # 0.3229166...
    # context a: b 2, A = 2, gamma = 0.5 / 2;  context b: </s> 3, A = 3, gamma = 0.5 / 3
    p_b_a = (2 - 0.5) / 2 + 0.25 * p_b  # 0.8671875
    p_eos_b = (3 - 0.5) / 3 + (0.5 / 3) * p_eos  # 0.8697916...
    assert model.log10_prob("a", [BOS]) == pytest.approx(math.log10(p_a_bos), abs=1e-12)
    assert model.log10_prob("b", [BOS]) == pytest.approx(math.log10(p_b_bos), abs=1e-12)
    assert model.ngrams[(BOS,)][1] == pytest.approx(math.log10(gamma_bos), abs=1e-12)
    # unseen bigram a a: back-off weight gamma(a) = 0.25 times P(a)
    assert model.log10_prob("a", ["a"]) == pytest.approx(math.log10(0.25 * p_a), abs=1e-12)
    assert model.sentence_log10(["a", "b"]) == pytest.approx(math.log10(p_a_bos * p_b_a * p_eos_b), abs=1e-12)


def test_modified_discounts_by_hand():
    # Unigram model, so adjusted counts are raw counts. One sentence:
    # a..f once each and </s> once (t1 = 7), g h twice (t2 = 2), i thrice (t3 = 1), j four times (t4 = 1).
    sentence = list("abcdef") + ["g", "g", "h", "h"] + ["i"] * 3 + ["j"] * 4
    estimate = kneser_ney([sentence], 1)
    # Y = 7 / (7 + 2 * 2) = 7/11; D1 = 1 - 2 Y 2/7 = 7/11; D2 = 2 - 3 Y 1/2 = 23/22; D3 = 3 - 4 Y 1/1 = 5/11
    assert estimate.discounts == (pytest.approx((7 / 11, 23 / 22, 5 / 11), abs=1e-12),)
    assert estimate.fallback_orders == ()
    # 18 tokens (17 words and </s>); gamma = (7 * 7/11 + 2 * 23/22 + 2 * 5/11) / 18 = 41/99
    # |V| = 10 words + </s> + <unk> = 12
    gamma, vocabulary = 41 / 99, 12
    model = estimate.model
    assert model.log10_prob("j") == pytest.approx(math.log10((4 - 5 / 11) / 18 + gamma / vocabulary), abs=1e-12)
    assert model.log10_prob("g") == pytest.approx(math.log10((2 - 23 / 22) / 18 + gamma / vocabulary), abs=1e-12)
    assert model.log10_prob(UNK) == pytest.approx(math.log10(gamma / vocabulary), abs=1e-12)


def test_degenerate_count_of_counts_fall_back():
    estimate = kneser_ney([["a", "b"], ["a", "c"]], 2)
    assert estimate.fallback_orders == (1, 2)
    assert estimate.discounts == ((FALLBACK_DISCOUNT,) * 3,) * 2
    _assert_normalised(estimate.model)


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: estimate_ngram([["a"]], 0), "order 0: expected an integer >= 1"),
    (lambda: estimate_ngram([["a"]], 2, discount=1.5),
     "discount 1.5: expected a number in (0, 1], or None to estimate them"),
    (lambda: estimate_ngram([["a"]], 2, min_count=0),
     "min_count 0: expected integers >= 1, one for all orders from 2 up or one per order"),
    (lambda: estimate_ngram([[], []], 2), "no words to count: the sentences are empty; give at least one word"),
    (lambda: estimate_ngram([["a"], "b c"], 2),
     "sentence 2: expected a sequence of words, found a string; split it into words first, e.g. text.split()"),
    (lambda: estimate_ngram([["a"], ["b", BOS]], 2),
     "sentence 2: word '<s>': <s> is reserved for the sentence start; remove it"),
    (lambda: estimate_ngram([["a", EOS, "b"]], 2),
     "sentence 1: word '</s>': </s> is reserved for the sentence end; remove it"),
    (lambda: estimate_ngram([["a"], ["b c"]], 2),
     "sentence 2: word 'b c': a word must be a non-empty string without whitespace"),
])
def test_errors(call, message):
    with raises_exactly(message):
        call()


# -- (c) ARPA round trips -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lm.arpa", "lm.arpa.gz"])
def test_write_read_round_trip(tmp_path, name):
    model = estimate_ngram(_corpus(4), 3, min_count=(1, 2))
    written = write_arpa(model, tmp_path / name)
    assert written == tmp_path / name and not list(tmp_path.glob(".*.tmp"))
    back = read_arpa(written)
    assert back.order == 3 and back.ngrams.keys() == model.ngrams.keys()
    for words, (prob, backoff) in model.ngrams.items():
        assert back.ngrams[words] == (pytest.approx(prob, rel=1e-6), pytest.approx(backoff, rel=1e-6, abs=1e-12))
    _assert_normalised(back, tolerance=1e-5)
    if name.endswith(".gz"):
        assert gzip.decompress(written.read_bytes()).startswith(b"\\data\\\nngram 1=")


def test_arpa_text_layout(tmp_path):
    model = estimate_ngram([["a", "b"], ["a", "b"], ["b"]], 2, discount=0.5)
    text = write_arpa(model, tmp_path / "lm.arpa").read_text(encoding="utf-8")
    assert text.startswith("\\data\\\nngram 1=5\nngram 2=4\n\n\\1-grams:\n-99\t<s>\t-0.4771213\n")
    # log10 p(</s>) = log10 0.21875 = -0.66005...; </s> is never a context, so it has no back-off weight;
    # <s>'s back-off weight is log10 gamma(<s>) = log10 1/3 = -0.47712...
    assert "\n-0.6600519\t</s>\n" in text and text.endswith("\n\\end\\\n")


def test_corrupt_gzip_is_one_line_error(tmp_path):
    (tmp_path / "lm.arpa.gz").write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(CtcToolError, match=r"lm.arpa.gz: not a readable gzip file \(.*\); expected an ARPA file or "
                                        r"\.arpa\.gz$"):
        read_arpa(tmp_path / "lm.arpa.gz")


# -- the corpus reader ----------------------------------------------------------------------------

def test_read_sentences_plain_and_metadata(tmp_path):
    (tmp_path / "c.txt").write_text("The cat\n\n  sat\ton the\u00a0mat \n", encoding="utf-8")
    assert read_sentences(tmp_path / "c.txt", lowercase=True) == [["the", "cat"], ["sat", "on", "the", "mat"]]
    (tmp_path / "metadata.csv").write_text("id1|Dr. Smith|Doctor Smith\nid2|two words|\nid3|only text\n",
                                           encoding="utf-8")
    assert read_sentences(tmp_path / "metadata.csv", metadata=True) == [
        ["Doctor", "Smith"], ["two", "words"], ["only", "text"]]


def test_read_sentences_metadata_needs_bars(tmp_path):
    (tmp_path / "metadata.csv").write_text("id1|a|a\nno bars here\n", encoding="utf-8")
    with raises_exactly(f"{tmp_path / 'metadata.csv'} line 2: expected id|text|normalized (LJSpeech metadata.csv), "
                        "found no '|'; leave `metadata` out for one sentence a line"):
        read_sentences(tmp_path / "metadata.csv", metadata=True)


# -- (d) the command ------------------------------------------------------------------------------

@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _assert_error(result, line: str):
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {line}\n" and result.stdout == ""


def test_cli_empty_corpus(workdir):
    Path("empty.txt").write_text("\n  \n", encoding="utf-8")
    _assert_error(run_cli("lm", "empty.txt", "-o", "lm.arpa"), "empty.txt: no words; expected text, one sentence a line")
    assert not Path("lm.arpa").exists()


def test_cli_empty_metadata(workdir):
    Path("metadata.csv").write_text("", encoding="utf-8")
    _assert_error(run_cli("lm", "--metadata", "metadata.csv", "-o", "lm.arpa"),
                  "metadata.csv: no words; expected id|text|normalized rows")


def test_cli_missing_file(workdir):
    _assert_error(run_cli("lm", "missing.txt", "-o", "lm.arpa"), "missing.txt: no such file")


def test_cli_missing_output_folder(workdir):
    Path("c.txt").write_text("a b\n", encoding="utf-8")
    _assert_error(run_cli("lm", "c.txt", "-o", "nowhere/lm.arpa"),
                  "--output nowhere/lm.arpa: folder nowhere does not exist; create it first")


def test_cli_bad_discount(workdir):
    Path("c.txt").write_text("a b\n", encoding="utf-8")
    result = run_cli("lm", "c.txt", "-o", "lm.arpa", "--discount", "0")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("error: Invalid value for '--discount': expected a number in (0, 1], found 0 "
                             "(see 'ctctool lm --help')\n")


def test_cli_order_zero_is_a_usage_error(workdir):
    Path("c.txt").write_text("a b\n", encoding="utf-8")
    assert run_cli("lm", "c.txt", "-o", "lm.arpa", "--order", "0").exit_code == 2


def test_cli_writes_the_model_of_all_files(workdir):
    Path("metadata.csv").write_text("x1|The cat.|The cat\nx2|A dog|a dog\n", encoding="utf-8")
    Path("more.csv").write_text("x3|THE END|The end\n", encoding="utf-8")
    result = run_cli("lm", "--metadata", "--lowercase", "metadata.csv", "more.csv", "-o", "words.arpa", "--order", "2")
    assert result.exit_code == 0, result.output
    # words: the cat a dog end (5) + </s> + <unk> + <s> = 8 unigrams;
    # bigrams: <s> the, the cat, cat </s>, <s> a, a dog, dog </s>, the end, end </s> = 8
    assert result.stderr == ("wrote words.arpa: 8 1-grams, 8 2-grams from 3 sentences, 6 words; "
                             f"discount {FALLBACK_DISCOUNT} at order(s) 1, 2 (count-of-counts too sparse)\n")
    assert result.stdout == ""
    model = read_arpa("words.arpa")
    expected = estimate_ngram([["the", "cat"], ["a", "dog"], ["the", "end"]], 2)
    assert model.ngrams.keys() == expected.ngrams.keys()
    assert model.sentence_log10(["the", "cat"]) == pytest.approx(expected.sentence_log10(["the", "cat"]), abs=1e-5)


def test_cli_min_count_per_order(workdir):
    Path("c.txt").write_text("\n".join(" ".join(s) for s in _corpus(5)) + "\n", encoding="utf-8")
    result = run_cli("lm", "c.txt", "-o", "lm.arpa.gz", "--min-count", "1", "--min-count", "2")
    assert result.exit_code == 0, result.output
    expected = estimate_ngram(_corpus(5), 3, min_count=(1, 2))
    assert read_arpa("lm.arpa.gz").ngrams.keys() == expected.ngrams.keys()
