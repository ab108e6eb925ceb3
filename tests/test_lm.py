"""The ARPA reader and n-gram scoring against sums worked out by hand."""

import pytest

from ctctool import CtcToolError
from ctctool.lm.arpa import read_arpa

ARPA = """\\data\\
ngram 1=5
ngram 2=3

\\1-grams:
-1.0 <s> -0.5
-0.7 </s>
-0.6 the -0.3
-0.9 cat -0.2
-1.2 <unk>

\\2-grams:
-0.2 <s> the
-0.4 the cat
-0.3 cat </s>

\\end\\
"""


@pytest.fixture()
def model(tmp_path):
    (tmp_path / "lm.arpa").write_text(ARPA, encoding="utf-8")
    return read_arpa(tmp_path / "lm.arpa")


def test_listed_bigrams(model):
    # P(the | <s>) P(cat | the) P(</s> | cat)
    assert model.sentence_log10(["the", "cat"]) == pytest.approx(-0.2 - 0.4 - 0.3)


def test_backoff(model):
    # P(cat | <s>) = bo(<s>) P(cat); P(the | cat) = bo(cat) P(the); P(</s> | the) = bo(the) P(</s>)
    assert model.sentence_log10(["cat", "the"]) == pytest.approx((-0.5 - 0.9) + (-0.2 - 0.6) + (-0.3 - 0.7))


def test_unknown_word_is_unk(model):
    # P(dog | <s>) = bo(<s>) P(<unk>); P(</s> | <unk>) = P(</s>) (no back-off weight for <unk>)
    assert model.sentence_log10(["dog"]) == pytest.approx((-0.5 - 1.2) + (-0.7))
    assert model.order == 2 and "cat" in model and "dog" not in model


def test_without_unk_unknown_words_get_a_fixed_penalty(tmp_path):
    text = ARPA.replace("ngram 1=5", "ngram 1=4").replace("-1.2 <unk>\n", "")
    (tmp_path / "lm.arpa").write_text(text, encoding="utf-8")
    assert read_arpa(tmp_path / "lm.arpa").log10_prob("dog", ["<s>"]) == -10.0


def test_trigram_context_is_cut_to_the_order(model):
    assert model.log10_prob("cat", ["<s>", "cat", "the"]) == pytest.approx(-0.4)


def test_error_count_mismatch(tmp_path):
    (tmp_path / "lm.arpa").write_text(ARPA.replace("ngram 2=3", "ngram 2=4"), encoding="utf-8")
    with pytest.raises(CtcToolError, match=r"lm.arpa line 17: the \\2-grams: section lists 3 n-grams, but \\data\\ \(\S*lm.arpa line 3\) announces 4$"):
        read_arpa(tmp_path / "lm.arpa")


def test_error_bad_line(tmp_path):
    (tmp_path / "lm.arpa").write_text(ARPA.replace("-0.4 the cat", "-0.4 the"), encoding="utf-8")
    with pytest.raises(CtcToolError, match=r"lm.arpa line 14: a 2-gram line holds a log10 probability, 2 words"):
        read_arpa(tmp_path / "lm.arpa")


def test_error_not_arpa(tmp_path):
    (tmp_path / "lm.arpa").write_text("hello\n", encoding="utf-8")
    with pytest.raises(CtcToolError, match=r"lm.arpa line 1: text before \\data\\ \('hello'\); expected an ARPA language model$"):
        read_arpa(tmp_path / "lm.arpa")
