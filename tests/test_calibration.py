"""Boundary corrections that depend on the gap beside an edge, and measuring them from timed words."""

import numpy as np
import pytest

from ctctool.alignment.calibration import EdgeErrors, edge_errors, fit_boundary_correction
from ctctool.alignment.timing import BoundaryCorrection, TimedSpan, edge_letter
from ctctool.errors import CtcToolError


def _bounds(spans):
    return [(s.text, round(s.start, 9), round(s.end, 9)) for s in spans]


def test_each_edge_takes_the_shift_of_the_gap_beside_it():
    correction = BoundaryCorrection(start=0.01, end=0.02, start_after_gap=((0.0, 0.03), (0.09, -0.01)),
                                    end_before_gap=((0.0, 0.01), (0.05, 0.04), (0.09, 0.06)))
    words = (TimedSpan("a", 0.10, 0.30, 1.0), TimedSpan("b", 0.32, 0.50, 1.0),  # gap 0.02
             TimedSpan("c", 0.56, 0.70, 1.0),  # gap 0.06 after "b"
             TimedSpan("-", 0.70, 0.70, None),  # not aligned: no one's neighbour
             TimedSpan("d", 1.00, 1.20, 1.0))  # gap 0.30 after "c"
    assert _bounds(correction.apply(words)) == [
        ("a", 0.11, 0.31),  # first start: `start`; end before a 0.02 gap: 0.01
        ("b", 0.35, 0.54),  # start after 0.02: 0.03; end before 0.06: 0.04
        ("c", 0.59, 0.76),  # start after 0.06: still 0.03 (below 0.09); end before 0.30: 0.06
        ("-", 0.70, 0.70),
        ("d", 0.99, 1.22),  # start after 0.30: -0.01; last end: `end`
    ]


def test_shifted_edges_that_cross_meet_halfway():
    correction = BoundaryCorrection(end_before_gap=((0.0, 0.05),), start_after_gap=((0.0, -0.01),))
    words = (TimedSpan("a", 0.0, 0.40, 1.0), TimedSpan("b", 0.42, 0.60, 1.0))
    # "a" would end at 0.45, "b" start at 0.41: both at 0.43
    assert _bounds(correction.apply(words)) == [("a", 0.0, 0.43), ("b", 0.43, 0.6)]


def test_a_gap_a_rounding_error_short_of_a_threshold_counts_as_reaching_it():
    correction = BoundaryCorrection(start_after_gap=((0.0, 0.0), (0.03, 0.01)))
    words = (TimedSpan("a", 0.0, 0.1, 1.0), TimedSpan("b", 0.1 + 0.03 - 1e-12, 0.3, 1.0))
    assert correction.apply(words)[1].start == pytest.approx(0.14)


def test_the_correction_round_trips_through_a_checkpoints_calibration():
    correction = BoundaryCorrection(0.018, 0.047, ((0.0, 0.03), (0.05, 0.009)), ((0.0, 0.029), (0.09, 0.068)))
    assert BoundaryCorrection.from_dict(correction.as_dict()) == correction
    assert BoundaryCorrection.from_dict({"word_start": 0.01, "word_end": 0.02}) == BoundaryCorrection(0.01, 0.02)
    assert BoundaryCorrection.from_dict({}) == BoundaryCorrection()


@pytest.mark.parametrize("pairs", [((0.05, 0.01), (0.0, 0.02)), ((0.0, 0.01), (0.0, 0.02)), ((-0.1, 0.0),),
                                   ((0.0, float("nan")),)])
def test_gap_tables_must_be_increasing_finite_and_not_negative(pairs):
    with pytest.raises(CtcToolError, match="`end_before_gap`: expected .* increasing"):
        BoundaryCorrection(end_before_gap=pairs)


def test_edge_errors_pair_each_edge_with_its_gap_and_skip_unaligned_words_and_unknown_edges():
    words = (TimedSpan("a", 0.10, 0.30, 1.0), TimedSpan("-", 0.30, 0.30, None), TimedSpan("b", 0.36, 0.50, 1.0),
             TimedSpan("c", 0.50, 0.80, 1.0))
    truth = [(0.12, 0.28), (0.3, 0.3), (None, 0.55), (0.49, None)]
    e = edge_errors(words, truth)
    np.testing.assert_allclose(e.starts, [-0.02, 0.01])
    np.testing.assert_allclose(e.start_gaps, [np.nan, 0.0])
    np.testing.assert_allclose(e.ends, [0.02, -0.05])
    np.testing.assert_allclose(e.end_gaps, [0.06, 0.0])
    with pytest.raises(CtcToolError, match="`truth`: expected one"):
        edge_errors(words, truth[:3])


def _set(rng, start_bias, end_bias, n=200):
    """Edges whose error is a known constant per gap (plus +-4 ms, as often each way), in shuffled order."""
    gaps = np.repeat([0.02, 0.04, 0.06, 0.08, 0.12, 0.3], 2 * (n // 12))
    noise = np.tile([-0.004, 0.004], gaps.size // 2)
    order = rng.permutation(gaps.size)
    gaps, noise = gaps[order], noise[order]
    starts = np.array([start_bias(g) for g in gaps]) + noise
    ends = np.array([end_bias(g) for g in gaps]) - noise
    return EdgeErrors(starts, gaps, ends, gaps)


def test_fitting_finds_each_ranges_median_error_and_averages_the_sets():
    rng = np.random.default_rng(0)
    one = _set(rng, lambda g: -0.02 if g < 0.05 else -0.005, lambda g: -0.03 - 0.1 * min(g, 0.2))
    two = _set(rng, lambda g: -0.04 if g < 0.05 else -0.025, lambda g: -0.05 - 0.1 * min(g, 0.2))
    c = fit_boundary_correction([one, two], frame_shift=0.02)
    # ranges in 20 ms frames: 0-1 (gap 0.02), 2 (0.04), 3-4 (0.06, 0.08), 5-9 (0.12), 10+ (0.3)
    assert [g for g, _ in c.start_after_gap] == pytest.approx([0.0, 0.03, 0.05, 0.09, 0.19])
    assert [s for _, s in c.start_after_gap] == pytest.approx([0.03, 0.03, 0.015, 0.015, 0.015])
    # ends: a range's median of -0.03 - 0.1 g and -0.05 - 0.1 g; 3-4 holds 0.06 and 0.08 equally often
    # (3-4 frames: errors -0.036 and -0.038, each +-0.004, so the median is -0.037, and -0.057 in set two)
    assert [s for _, s in c.end_before_gap] == pytest.approx([0.042, 0.044, 0.047, 0.052, 0.06])
    plain = fit_boundary_correction([one, two], frame_shift=0.02, by_gap=False)
    assert plain == BoundaryCorrection(c.start, c.end)
    assert plain.start == pytest.approx(-np.mean([np.median(one.starts), np.median(two.starts)]))


def test_a_range_with_too_few_edges_is_left_to_the_range_below():
    rng = np.random.default_rng(1)
    s = _set(rng, lambda g: -0.01, lambda g: -0.02, n=60)  # 10 edges at each gap
    keep = s.start_gaps < 0.25  # nothing in 10+ frames
    sparse = EdgeErrors(s.starts[keep], s.start_gaps[keep], s.ends, s.end_gaps)
    c = fit_boundary_correction([sparse], frame_shift=0.02, min_edges=5)
    assert [g for g, _ in c.start_after_gap] == pytest.approx([0.0, 0.03, 0.05, 0.09])
    words = (TimedSpan("a", 0.0, 0.2, 1.0), TimedSpan("b", 0.5, 0.7, 1.0))  # a 10+ frame gap: the 5-9 shift
    assert c.apply(words)[1].start == pytest.approx(0.5 + c.start_after_gap[-1][1])
    assert fit_boundary_correction([sparse], frame_shift=0.02, min_edges=1000).start_after_gap == ()


def test_the_fitted_correction_removes_a_gap_dependent_bias_from_aligned_words():
    # true words touch or sit 0.06-0.3 s apart; the "aligner" starts each word 10 ms late, and ends it 10 ms
    # early before a touching word but 60 ms early before a pause (as CTC spikes do): its gaps are 20 ms
    # between touching words (range 0-1 frames) and 130-370 ms at a pause (5-9 and 10+)
    rng = np.random.default_rng(2)
    utterances = []
    for _ in range(60):
        t, truth = 0.2, []
        for _ in range(8):
            length = rng.uniform(0.15, 0.5)
            truth.append((t, t + length))
            t += length + (0.0 if rng.random() < 0.5 else rng.uniform(0.06, 0.3))
        words = []
        for k, (a, b) in enumerate(truth):
            pause = k + 1 == len(truth) or truth[k + 1][0] - b > 0.05
            words.append(TimedSpan("w", a + 0.01, b - (0.06 if pause else 0.01), 1.0))
        utterances.append((tuple(words), truth))
    errors = EdgeErrors.join([edge_errors(w, t) for w, t in utterances])
    correction = fit_boundary_correction([errors], frame_shift=0.02)
    assert [g for g, _ in correction.end_before_gap] == pytest.approx([0.0, 0.09, 0.19])
    assert [s for _, s in correction.end_before_gap] == pytest.approx([0.01, 0.06, 0.06])
    corrected = EdgeErrors.join([edge_errors(correction.apply(w), t) for w, t in utterances])
    plain = BoundaryCorrection(-0.01, -float(np.median(errors.ends)))
    before = EdgeErrors.join([edge_errors(plain.apply(w), t) for w, t in utterances])
    inner_ends = ~np.isnan(corrected.end_gaps)
    assert np.abs(corrected.ends[inner_ends]).max() < 1e-6  # every inner end put back where it was
    assert np.abs(corrected.starts).max() < 1e-6
    assert np.abs(before.ends[inner_ends]).mean() > 0.01  # one shift for all ends cannot do that (25 ms off on half)


def test_a_gap_below_the_first_range_takes_the_plain_shift():
    correction = BoundaryCorrection(start=0.005, start_after_gap=((0.05, 0.02),))
    words = (TimedSpan("a", 0.0, 0.2, 1.0), TimedSpan("b", 0.22, 0.4, 1.0), TimedSpan("c", 0.5, 0.7, 1.0))
    assert [round(w.start, 9) for w in correction.apply(words)] == [0.005, 0.225, 0.52]


@pytest.mark.parametrize("kwargs, message", [
    ({"start": float("nan")}, "`start`: expected a finite shift"),
    ({"end_before_gap": ((0.0, 0.01, 0.02),)}, "`end_before_gap`: expected"),
    ({"start_after_gap": 0.5}, "`start_after_gap`: expected"),
])
def test_a_bad_correction_is_one_error_naming_its_parameter(kwargs, message):
    with pytest.raises(CtcToolError, match=message):
        BoundaryCorrection(**kwargs)


def test_a_calibration_without_tables_or_with_empty_ones_loads():
    assert BoundaryCorrection.from_dict({"word_start": 0.01, "word_start_after_gap": None}) == \
        BoundaryCorrection(0.01)


def test_bad_edge_errors_and_fit_settings_are_errors_naming_the_parameter():
    good = EdgeErrors([0.01] * 30, [0.02] * 30, [0.02] * 30, [0.02] * 30)
    with pytest.raises(CtcToolError, match="`start_gaps`: expected one gap per edge of `starts` \\(2\\), found 1"):
        EdgeErrors([0.0, 0.1], [0.02], [], [])
    with pytest.raises(CtcToolError, match="`ends`: expected finite"):
        EdgeErrors([], [], [float("nan")], [0.02])
    with pytest.raises(CtcToolError, match="`truth`: expected finite"):
        edge_errors((TimedSpan("a", 0.0, 0.1, 1.0),), [(float("nan"), 0.1)])
    with pytest.raises(CtcToolError, match="`sets`: expected at least one"):
        fit_boundary_correction([], frame_shift=0.02)
    with pytest.raises(CtcToolError, match=r"`sets\[1\]`: no exact word start or end"):
        fit_boundary_correction([good, EdgeErrors([], [], [0.01], [0.02])], frame_shift=0.02)
    with pytest.raises(CtcToolError, match="`frame_shift`: expected seconds > 0"):
        fit_boundary_correction([good], frame_shift=0)
    with pytest.raises(CtcToolError, match="`gap_frames`: expected increasing"):
        fit_boundary_correction([good], frame_shift=0.02, gap_frames=(0, 5, 2))
    assert EdgeErrors.join([good, good]).starts.shape == (60,)


def test_letter_shifts_add_to_the_gap_shift_by_the_words_first_and_last_letter():
    correction = BoundaryCorrection(start=0.01, end=0.02, start_after_gap=((0.0, 0.03),),
                                    start_by_letter={"a": 0.02, "t": -0.01}, end_by_letter={"s": 0.005})
    words = (TimedSpan("“Apples,", 0.10, 0.30, 1.0),  # first start 0.01 + "a" 0.02; end 0.02 + "s" 0.005
             TimedSpan("the", 0.50, 0.60, 1.0),  # start 0.03 (gap) - 0.01 ("t"); "e" has no end shift
             TimedSpan("42", 0.80, 0.90, 1.0))  # no letter listed: gap and end shifts only
    assert _bounds(correction.apply(words)) == [("“Apples,", 0.13, 0.325), ("the", 0.52, 0.62), ("42", 0.83, 0.92)]


def test_edge_letter_is_the_first_or_last_letter_or_digit_case_folded():
    assert [edge_letter("“Apple,"), edge_letter("trees,", last=True), edge_letter("..."), edge_letter("42nd"),
            edge_letter("Élan"), edge_letter("नमस्ते", last=True)] == ["a", "s", "", "4", "é", "त"]


def test_letter_tables_round_trip_and_bad_ones_are_errors():
    correction = BoundaryCorrection(0.01, 0.02, start_by_letter={"o": 0.011, "b": -0.02}, end_by_letter=[("n", 0.004)])
    assert correction.start_by_letter == (("b", -0.02), ("o", 0.011))  # sorted pairs, whatever the input
    assert BoundaryCorrection.from_dict(correction.as_dict()) == correction
    for table in ({"A": 0.01}, {"ab": 0.01}, {"a": float("inf")}, [("a", 0.01), ("a", 0.02)], 0.5):
        with pytest.raises(CtcToolError, match="`end_by_letter`: expected \\(letter, shift\\) pairs"):
            BoundaryCorrection(end_by_letter=table)


def test_edge_errors_record_each_edges_letter():
    words = (TimedSpan("Over", 0.10, 0.30, 1.0), TimedSpan("-", 0.30, 0.30, None), TimedSpan("bridges.", 0.36, 0.50, 1.0))
    e = edge_errors(words, [(0.09, 0.31), (None, None), (None, 0.52)])
    assert list(e.start_letters) == ["o"] and list(e.end_letters) == ["r", "s"]
    joined = EdgeErrors.join([e, EdgeErrors([0.01], [np.nan], [], [])])  # a set made without letters: ''
    assert list(joined.start_letters) == ["o", ""] and list(joined.end_letters) == ["r", "s"]
    with pytest.raises(CtcToolError, match="`start_letters`: expected one letter"):
        EdgeErrors([0.01, 0.02], [np.nan, 0.02], [], [], start_letters=["a"])


def test_the_fitted_letter_shifts_remove_a_letter_dependent_bias():
    # the "aligner" starts a word 40 ms late when it begins with a vowel, 5 ms early when with "t", 15 ms late
    # otherwise, and ends every word 20 ms early (30 ms after "s"); words are 40 ms or 300 ms apart, so the
    # aligned gaps differ with the letters too (a vowel's late start widens the gap before it)
    rng = np.random.default_rng(3)
    lexicon = ["apple", "orange", "tree", "table", "green", "bus", "leaf", "moss"]
    bias = {"a": 0.04, "o": 0.04, "t": -0.005}
    utterances = []
    for _ in range(40):
        t, words, truth = 0.1, [], []
        for word in rng.choice(lexicon, size=6):
            length = rng.uniform(0.2, 0.4)
            truth.append((t, t + length))
            words.append(TimedSpan(str(word), t + bias.get(word[0], 0.015), t + length - (0.03 if word[-1] == "s" else 0.02),
                                   1.0))
            t += length + rng.choice([0.04, 0.3])
        utterances.append((tuple(words), truth))
    errors = EdgeErrors.join([edge_errors(w, t) for w, t in utterances])
    correction = fit_boundary_correction([errors], frame_shift=0.02, min_edges=5)
    corrected = EdgeErrors.join([edge_errors(correction.apply(w), t) for w, t in utterances])
    assert np.abs(corrected.starts).max() < 1e-6 and np.abs(corrected.ends).max() < 1e-6
    shifts = dict(correction.start_by_letter)  # relative to a plain consonant: -25 ms for a vowel, +20 ms for "t"
    assert shifts["a"] - shifts["g"] == pytest.approx(-0.025, abs=1e-6)
    assert shifts["t"] - shifts["g"] == pytest.approx(0.02, abs=1e-6)
    gaps_only = fit_boundary_correction([errors], frame_shift=0.02, min_edges=5, by_letter=False)
    assert gaps_only.start_by_letter == () and gaps_only.end_by_letter == ()
    before = EdgeErrors.join([edge_errors(gaps_only.apply(w), t) for w, t in utterances])
    assert np.abs(before.starts).mean() > 0.005  # the gaps alone carry part of it: 7.7 ms are left
    # a letter with fewer edges than `min_letter_edges` gets no shift of its own
    sparse = fit_boundary_correction([errors], frame_shift=0.02, min_edges=5, min_letter_edges=10 ** 6)
    assert sparse.start_by_letter == () and sparse.end_by_letter == ()


def _aligned(words_and_gaps, start_bias, end_bias=0.02):
    """One utterance of an "aligner" with a letter-dependent start bias: (words, truth)."""
    t, words, truth = 0.1, [], []
    for word, gap in words_and_gaps:
        truth.append((t, t + 0.3))
        words.append(TimedSpan(word, t + start_bias(word), t + 0.3 - end_bias, 1.0))
        t += 0.3 + gap
    return tuple(words), truth


def test_sets_that_list_different_letters_still_share_one_fit():
    # "apple" is common only in set one, "leaf" only in set two: each letter has a say from one set, and the
    # gap shifts must mean the same in both sets for the sum to come out right
    def bias(word):
        return {"a": 0.04, "t": -0.005}.get(word[0], 0.015)
    def make(common, rare):
        out = []
        for k in range(24):  # 24 "tree", "green" and "moss" starts; 48 of the common word, 6 of the rare one
            words = [common, "tree", "green", common, "moss"] + ([rare] if k % 4 == 0 else [])
            out.append(_aligned([(w, 0.04 if (k + n) % 2 else 0.3) for n, w in enumerate(words)], bias))
        return out
    one, two = make("apple", "leaf"), make("leaf", "apple")
    sets = [EdgeErrors.join([edge_errors(w, t) for w, t in s]) for s in (one, two)]
    assert (sets[0].start_letters == "l").sum() < 15 <= (sets[1].start_letters == "l").sum()
    correction = fit_boundary_correction(sets, frame_shift=0.02, min_edges=5, min_letter_edges=15)
    assert {"a", "l"} <= set(dict(correction.start_by_letter))
    for s in (one, two):
        corrected = EdgeErrors.join([edge_errors(correction.apply(w), t) for w, t in s])
        inner = ~np.isnan(corrected.start_gaps)  # a first start takes the median shift over all starts
        assert np.abs(corrected.starts[inner]).max() < 1e-6


def test_a_range_with_too_few_edges_in_a_set_has_no_say_in_the_letter_fit():
    # set two holds one wild start (300 ms late) after a long gap; set one has 30 normal ones there
    rng = np.random.default_rng(5)
    gaps = np.repeat([0.04, 0.4], [120, 30])
    letters = rng.choice(list("abt"), size=gaps.size)
    starts = -np.where(letters == "a", 0.03, 0.01)
    one = EdgeErrors(starts, gaps, [-0.02] * 10, [0.04] * 10, start_letters=letters)
    two = EdgeErrors(np.r_[starts[:120], 0.3], np.r_[gaps[:120], 0.5], [-0.02] * 10, [0.04] * 10,
                     start_letters=np.r_[letters[:120], ["b"]])
    both = fit_boundary_correction([one, two], frame_shift=0.02, min_edges=20, min_letter_edges=15)
    alone = fit_boundary_correction([one], frame_shift=0.02, min_edges=20, min_letter_edges=15)
    assert [g for g, _ in both.start_after_gap] == pytest.approx([0.03, 0.19])  # ranges 2-9 and 10+ frames
    for c in (both, alone):  # after a long gap, "a" starts need +30 ms and "b" starts +10 ms, wild edge or not
        gap_shift, letter = dict(c.start_after_gap)[0.19], dict(c.start_by_letter)
        assert [gap_shift + letter["a"], gap_shift + letter["b"]] == pytest.approx([0.03, 0.01], abs=1e-6)


def test_a_letter_not_listed_gets_the_shift_of_an_average_edge():
    # one gap range; "a" edges need +30 ms, "b" edges +10 ms, and 4 "z" edges (too few to list) +50 ms
    letters = ["a"] * 40 + ["b"] * 40 + ["z"] * 4
    starts = [-0.03] * 40 + [-0.01] * 40 + [-0.05] * 4
    errors = EdgeErrors(starts, [0.04] * 84, [-0.02] * 10, [0.04] * 10, start_letters=letters)
    c = fit_boundary_correction([errors], frame_shift=0.02, min_edges=5, min_letter_edges=15)
    assert set(dict(c.start_by_letter)) == {"a", "b"}
    words = tuple(TimedSpan(w, 1.0 * k, 1.0 * k + 0.5, 1.0) for k, w in enumerate(["x", "apple", "bus", "zoo"]))
    shifted = [s.start - w.start for s, w in zip(c.apply(words), words)]
    # after a 0.5 s gap (the one range's shift): a, b as measured; z the mean over all 84 edges
    assert shifted[1:] == pytest.approx([0.03, 0.01, (40 * 0.03 + 40 * 0.01 + 4 * 0.05) / 84], abs=1e-6)


def test_a_bad_letter_table_or_letter_list_is_one_error():
    for table in ({"": 0.01}, {"a": "0.01"}, {1: 0.01}):
        with pytest.raises(CtcToolError, match="`start_by_letter`: expected"):
            BoundaryCorrection(start_by_letter=table)
    with pytest.raises(CtcToolError, match="`end_letters`: expected strings .*found 7"):
        EdgeErrors([], [], [0.01], [0.02], end_letters=[7])
    assert edge_letter("E\u0301cole") == edge_letter("École") == "é"  # decomposed or not: one key
    assert edge_letter("ﬅ", last=True) == "t" and edge_letter("ﬅ") == "s"
