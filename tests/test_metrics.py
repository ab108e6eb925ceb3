"""ctctool.metrics: counts against a brute-force edit distance and jiwer, measures by hand."""

import random

import jiwer
import pytest

from ctctool.errors import CtcToolError
from ctctool.metrics import (
    NORMALIZE, align_words, bootstrap_interval, collapse_whitespace, compose, paired_bootstrap,
    remove_punctuation, score_corpus, to_lowercase,
)


def edit_distance(a, b) -> int:
    """Plain O(len(a) * len(b)) Levenshtein table: the oracle for every edit count."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def random_pairs(count: int, seed: int):
    rng = random.Random(seed)
    vocab = ["a", "b", "c", "dd", "eee", "f"]
    refs, hyps = [], []
    for _ in range(count):
        refs.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 9))))
        hyps.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 9))))
    return refs, hyps


def test_oracle_on_hand_computed_cases():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["x", "y"]) == 2
    assert edit_distance(["a", "b"], ["b"]) == 1


def test_counts_match_brute_force_and_jiwer_on_random_pairs():
    refs, hyps = random_pairs(300, seed=7)
    report = score_corpus(refs, hyps)
    for u, ref, hyp in zip(report.utterances, refs, hyps):
        assert u.errors == edit_distance(ref.split(), hyp.split())
        assert u.hits + u.substitutions + u.deletions == len(ref.split()) == u.ref_words
        assert u.hits + u.substitutions + u.insertions == len(hyp.split()) == u.hyp_words
        assert u.char_edits == edit_distance(ref, hyp)
        one = jiwer.process_words(ref, hyp)
        assert (u.hits, u.substitutions, u.deletions, u.insertions) == (
            one.hits, one.substitutions, one.deletions, one.insertions)
    pooled = jiwer.process_words(refs, hyps)
    assert (report.hits, report.substitutions, report.deletions, report.insertions) == (
        pooled.hits, pooled.substitutions, pooled.deletions, pooled.insertions)
    assert report.wer == pytest.approx(pooled.wer)
    assert report.mer == pytest.approx(pooled.mer)
    assert report.wip == pytest.approx(pooled.wip)
    assert report.cer == pytest.approx(jiwer.cer(refs, hyps))


def test_measures_by_hand():
    # a b c d -> a x c d e: H=3, S=1 (b->x), D=0, I=1 (e)
    report = score_corpus(["a b c d"], ["a x c d e"])
    assert (report.hits, report.substitutions, report.deletions, report.insertions) == (3, 1, 0, 1)
    assert report.wer == pytest.approx(2 / 4)
    assert report.mer == pytest.approx(2 / 5)
    assert report.wip == pytest.approx(3 / 4 * 3 / 5)
    assert report.wil == pytest.approx(1 - 0.45)
    assert report.cer == pytest.approx(3 / 7)  # "a b c d" -> "a x c d e": 1 sub + 2 inserted chars


def test_corpus_wer_is_pooled_not_a_mean_of_rates():
    report = score_corpus(["a", "b c d e"], ["x", "b c d e"])
    assert report.wer == pytest.approx(1 / 5)
    assert [u.wer for u in report.utterances] == [1.0, 0.0]


def test_all_unicode_whitespace_splits_words():
    refs = ["a\tb", "a\u00a0b", "a\u3000b  c\n"]
    hyps = ["a b", "a b", "a b c"]
    report = score_corpus(refs, hyps)
    assert [u.ref_words for u in report.utterances] == [2, 2, 3]
    assert report.errors == 0 and report.cer == 0.0
    assert report.utterances[2].reference == "a b c"


def test_empty_and_one_character_lines_are_utterances():
    report = score_corpus(["a", "", "b c", ""], ["a", "x y", "", ""])
    assert len(report.utterances) == 4
    empty_ref, deleted, both_empty = report.utterances[1:]
    assert (empty_ref.ref_words, empty_ref.insertions, empty_ref.wer) == (0, 2, 2.0)
    assert (deleted.deletions, deleted.wer) == (2, 1.0)
    assert (both_empty.errors, both_empty.wer, both_empty.cer) == (0, 0.0, 0.0)
    assert report.wer == pytest.approx(4 / 3)


def test_references_without_words_are_an_error():
    with pytest.raises(CtcToolError, match=r"^the references hold no words \(2 utterances"):
        score_corpus(["", " "], ["a", ""])


def test_length_mismatches_are_errors():
    with pytest.raises(CtcToolError, match=r"^2 references but 1 hypotheses; pass exactly one"):
        score_corpus(["a", "b"], ["a"])
    with pytest.raises(CtcToolError, match=r"^1 references but 2 keys; pass one key"):
        score_corpus(["a"], ["a"], keys=["k1", "k2"])


def test_keys_are_kept():
    report = score_corpus(["a", "b"], ["a", "c"], keys=["u1", "u2"])
    assert [(u.index, u.key) for u in report.utterances] == [(0, "u1"), (1, "u2")]
    assert score_corpus(["a"], ["a"]).utterances[0].key is None


def test_transforms():
    assert to_lowercase("ÀB c") == "àb c"
    assert remove_punctuation("Hello, world! «don't» 3$") == "Hello world dont 3$"
    assert collapse_whitespace("  a \t b\u00a0 ") == "a b"
    assert compose(to_lowercase, remove_punctuation)("A.B") == "ab"
    assert NORMALIZE("  Hello,   World! ") == "hello world"
    assert score_corpus(["Hello, world!"], ["hello world"]).wer == 1.0
    assert score_corpus(["Hello, world!"], ["hello world"], transform=NORMALIZE).wer == 0.0


def test_cer_uses_words_joined_by_single_spaces():
    report = score_corpus(["ab   cd"], ["ab cd"])
    assert (report.ref_chars, report.char_edits, report.cer) == (5, 0, 0.0)


def test_alignment_reproduces_texts_and_counts():
    refs, hyps = random_pairs(100, seed=3)
    for u in score_corpus(refs, hyps).utterances:
        columns = align_words(u.reference, u.hypothesis)
        assert [c.ref for c in columns if c.ref] == u.reference.split()
        assert [c.hyp for c in columns if c.hyp] == u.hypothesis.split()
        ops = [c.op for c in columns]
        assert (ops.count("="), ops.count("S"), ops.count("D"), ops.count("I")) == (
            u.hits, u.substitutions, u.deletions, u.insertions)


def test_alignment_of_a_known_pair():
    columns = align_words("the cat sat on the mat", "oh the bat sat on mat")
    marks = "".join(c.op for c in columns)
    assert marks == "I=S==D="
    assert (columns[0].ref, columns[0].hyp) == ("", "oh")
    assert (columns[2].ref, columns[2].hyp) == ("cat", "bat")
    assert (columns[5].ref, columns[5].hyp) == ("the", "")


def test_worst_orders_by_wer_then_errors_then_input():
    report = score_corpus(["a b", "a", "a b c d", "a b"], ["a b", "x", "x y c d", "a x"])
    assert [u.index for u in report.worst()] == [1, 2, 3, 0]
    assert [u.index for u in report.worst(2)] == [1, 2]


def test_bootstrap_is_reproducible_and_contains_the_estimate():
    refs, hyps = random_pairs(200, seed=11)
    report = score_corpus(refs, hyps)
    first = bootstrap_interval(report, 500, seed=5)
    assert first == bootstrap_interval(report, 500, seed=5)
    assert first != bootstrap_interval(report, 500, seed=6)
    assert first.low < report.wer < first.high
    assert (first.wer, first.resamples, first.seed, first.confidence) == (report.wer, 500, 5, 0.95)


def test_bootstrap_of_identical_utterances_collapses_to_the_estimate():
    report = score_corpus(["a b c d"] * 20, ["a x c d"] * 20)
    interval = bootstrap_interval(report, 100)
    assert interval.low == interval.high == report.wer == 0.25


def test_bootstrap_arguments_are_checked():
    report = score_corpus(["a"], ["a"])
    with pytest.raises(CtcToolError, match=r"^bootstrap resamples: expected at least 1, got 0"):
        bootstrap_interval(report, 0)
    with pytest.raises(CtcToolError, match=r"^bootstrap confidence: expected a value between 0"):
        bootstrap_interval(report, 10, confidence=1.5)


def test_paired_bootstrap_finds_the_clearly_better_system():
    refs, hyps_a = random_pairs(150, seed=1)
    hyps_b = [ref if i % 4 else hyp for i, (ref, hyp) in enumerate(zip(refs, hyps_a))]
    report_a, report_b = score_corpus(refs, hyps_a), score_corpus(refs, hyps_b)
    result = paired_bootstrap(report_a, report_b, 1000, seed=0)
    assert result.prob_b_better > 0.99
    assert result.delta_high < 0 and (result.wer_a, result.wer_b) == (report_a.wer, report_b.wer)
    assert paired_bootstrap(report_b, report_a, 1000, seed=0).prob_b_better < 0.01
    assert result == paired_bootstrap(report_a, report_b, 1000, seed=0)


def test_paired_bootstrap_needs_the_same_references():
    with pytest.raises(CtcToolError, match=r"^paired bootstrap: system A has 1 utterances and "
                                           r"system B 2, or their references differ"):
        paired_bootstrap(score_corpus(["a"], ["a"]), score_corpus(["a", "b"], ["a", "b"]), 10)


def test_score_systems_is_each_report_its_interval_and_the_paired_test():
    from ctctool.metrics import bootstrap_interval, paired_bootstrap, score_systems

    refs = ["a b c", "d e", "f g h i", ""]
    system_a = ["a b x", "d", "f g h i j", "k"]
    system_b = ["a b c", "d e", "f h i", ""]
    scores = score_systems(refs, [system_a, system_b], resamples=200, seed=3)
    report_a, report_b = score_corpus(refs, system_a), score_corpus(refs, system_b)
    assert scores.reports == (report_a, report_b)
    assert scores.intervals == (bootstrap_interval(report_a, 200, 3), bootstrap_interval(report_b, 200, 3))
    assert scores.paired == paired_bootstrap(report_a, report_b, 200, 3)
    assert report_a.errors == 4 and report_b.errors == 1  # by hand: S x, D e, I j, I k; D g
    alone = score_systems(refs, [system_a])
    assert alone.intervals == (None,) and alone.paired is None
