"""Token spans and merging, on paths written out frame by frame."""

import math

import pytest
import torch

from ctctool.alignment.spans import Span, TokenSpan, merge_spans, token_spans

from ctctool.alignment.timing import BoundaryCorrection, TimedSpan


def _spans(states, posteriors, tokens):
    return token_spans(torch.tensor(states), torch.tensor([math.log(p) for p in posteriors]), torch.tensor(tokens))


def test_token_spans_follow_label_states():
    # states: blank(0) a(1) a(1) blank(2) b(3) blank(4) b(5) b(5) -1 (padding)
    spans = _spans([0, 1, 1, 2, 3, 4, 5, 5, -1], [0.9, 0.5, 0.7, 0.9, 0.8, 0.9, 0.4, 0.6, 1.0],
                   [0, 7, 7, 0, 8, 0, 8, 8, -1])
    assert spans == (TokenSpan(7, 1, 3, pytest.approx(0.6)), TokenSpan(8, 4, 5, pytest.approx(0.8)),
                     TokenSpan(8, 6, 8, pytest.approx(0.5)))


def test_merge_weights_scores_by_frames_and_flags():
    spans = (TokenSpan(1, 0, 1, 0.9), TokenSpan(2, 1, 4, 0.5), TokenSpan(3, 6, 8, 0.2))
    merged = merge_spans(spans, [[0, 1], [], [2]], ["ab", "—", "c"], min_confidence=0.3)
    assert merged[0] == Span("ab", 0, 4, pytest.approx((0.9 + 3 * 0.5) / 4), False)
    assert merged[1] == Span("—", 4, 4, None, False)
    assert merged[2] == Span("c", 6, 8, pytest.approx(0.2), True)


def _bounds(spans):
    return [(s.text, round(s.start, 9), round(s.end, 9)) for s in spans]


def test_boundary_correction_shifts_apart_words_and_meets_touching_ones_between_the_shifted_edges():
    # starts move 36 ms earlier, ends 8 ms earlier (a model whose start spikes come late)
    correction = BoundaryCorrection(start=-0.036, end=-0.008)
    words = (TimedSpan("a", 0.02, 0.50, 1.0), TimedSpan("b", 0.50, 0.90, 1.0), TimedSpan("c", 1.40, 1.80, 1.0),
             TimedSpan("d", 1.80, 1.80, None), TimedSpan("e", 1.82, 2.00, 1.0))
    assert _bounds(correction.apply(words)) == [
        ("a", 0.0, 0.478),  # start clamped at 0; "a" touches "b": 0.492 and 0.464 meet at their middle
        ("b", 0.478, 0.892),  # the gap to "c" is wider than the shifts: both edges move by their own shift
        ("c", 1.364, 1.788),  # "c" ends at 1.792 after the shift, past "e"'s 1.784: they meet at 1.788
        ("d", 1.8, 1.8),  # not aligned: left as it is, and skipped as a neighbour
        ("e", 1.788, 1.992),
    ]


def test_boundary_correction_of_zero_is_the_identity():
    words = (TimedSpan("a", 0.1, 0.2, 0.5),)
    assert BoundaryCorrection().apply(words) == words


def test_merge_takes_a_units_edges_from_its_spoken_tokens_and_its_score_from_all():
    # "hi!": h (class 1) at frames 2-3, i (class 2) at 5-6, "!" (class 9) placed at 14-15 in the silence after
    spans = (TokenSpan(1, 2, 3, 0.9), TokenSpan(2, 5, 6, 0.7), TokenSpan(9, 14, 15, 0.1),
             TokenSpan(9, 20, 21, 0.2))
    merged = merge_spans(spans, [[0, 1, 2], [3]], ["hi!", "!"], silent=lambda token: token == 9)
    assert merged[0] == Span("hi!", 2, 6, pytest.approx((0.9 + 0.7 + 0.1) / 3), False)
    assert merged[1] == Span("!", 20, 21, pytest.approx(0.2), False)  # only marks: they are its edges
    assert merge_spans(spans, [[0, 1, 2]], ["hi!"])[0].end == 15  # without `silent`, the mark counts


def test_aligned_words_end_at_their_last_letter_not_at_a_mark_placed_in_the_silence_after():
    from ctctool.alignment.pipeline import align_emissions
    from ctctool.alignment.spans import unspoken_classes
    from ctctool.vocab import default_vocabulary

    vocab = default_vocabulary()
    assert {vocab.tokens[i] for i in unspoken_classes(vocab)} == {"'", "?", "!", " "}
    h, i, bang = vocab.id_of("h"), vocab.id_of("i"), vocab.id_of("!")
    frames = 20
    probs = torch.full((frames, vocab.size), 1e-4)
    probs[:, vocab.blank] = 1.0
    probs[3, h] = probs[6, i] = 50.0  # h at frame 3, i at frame 6, then silence; "!" is nowhere likely
    probs[17, bang] = 2e-4  # a hair likelier at frame 17: the forced path puts the mark there
    result = align_emissions((probs / probs.sum(-1, keepdim=True)).log(), "hi!", vocab=vocab, frame_shift=0.02)
    word = result.words[0]
    assert (round(word.start, 9), round(word.end, 9)) == (0.06, 0.14)  # frames 3 to 7, not to 18
    assert [(t.text, round(t.start, 9), round(t.end, 9)) for t in result.tokens] == [
        ("h", 0.06, 0.08), ("i", 0.12, 0.14), ("!", 0.14, 0.14)]


def test_decoded_words_end_at_their_last_letter_too():
    from ctctool.decoding.words import WordFrames, word_frames
    from ctctool.vocab import default_vocabulary

    vocab = default_vocabulary()
    probs = torch.full((20, vocab.size), 1e-4)
    probs[:, vocab.blank] = 1.0
    probs[3, vocab.id_of("h")] = probs[6, vocab.id_of("i")] = 50.0
    probs[17, vocab.id_of("!")] = 2e-4
    log_probs = (probs / probs.sum(-1, keepdim=True)).log()
    labels = [vocab.id_of(c) for c in "hi!"]
    assert word_frames(log_probs, labels, vocab) == (WordFrames("hi!", 3, 7),)  # the mark sits at frame 17
    assert word_frames(log_probs, [vocab.id_of("!")], vocab) == (WordFrames("!", 17, 18),)


def test_letters_numbers_and_combining_vowel_signs_are_spoken_and_punctuation_is_not():
    from ctctool.alignment.spans import unspoken_classes
    from ctctool.vocab import Vocabulary

    vocab = Vocabulary(("<blank>", "\u0915", "\u093e", "?", "\u0964", " ", "7", "\u2581", "\u2581the", "'"), blank=0)
    # Devanagari ka and the vowel sign aa (a combining mark) speak; the danda, a lone word-start marker, a space
    # and an apostrophe do not
    assert {vocab.tokens[i] for i in unspoken_classes(vocab)} == {"?", "\u0964", " ", "\u2581", "'"}


def test_a_word_with_a_leading_mark_starts_at_its_first_letter():
    spans = (TokenSpan(27, 1, 2, 0.5), TokenSpan(20, 4, 5, 0.9), TokenSpan(9, 6, 7, 0.9))  # ' t i
    merged = merge_spans(spans, [[0, 1, 2]], ["'ti"], silent=lambda token: token == 27)
    assert (merged[0].start, merged[0].end) == (4, 7)


def test_a_corrected_last_word_never_ends_after_the_audio():
    from ctctool.alignment.pipeline import align_emissions
    from ctctool.vocab import default_vocabulary

    vocab = default_vocabulary()
    probs = torch.full((10, vocab.size), 1e-4)
    probs[:, vocab.blank] = 1.0
    probs[2, vocab.id_of("h")] = probs[9, vocab.id_of("i")] = 50.0  # "i" on the last frame
    log_probs = (probs / probs.sum(-1, keepdim=True)).log()
    late = BoundaryCorrection(start=0.0, end=0.05)
    result = align_emissions(log_probs, "hi", vocab=vocab, frame_shift=0.02, correction=late)
    assert (round(result.words[0].start, 9), round(result.words[0].end, 9)) == (0.04, 0.2)  # not 0.25
    assert round(result.segments[0].end, 9) == 0.2


def test_a_transcribed_last_word_never_ends_after_the_audio():
    from types import SimpleNamespace

    from ctctool.decoding.transcribe import transcribe_log_probs
    from ctctool.vocab import default_vocabulary

    vocab = default_vocabulary()
    probs = torch.full((10, vocab.size), 1e-4)
    probs[:, vocab.blank] = 1.0
    probs[2, vocab.id_of("h")] = probs[9, vocab.id_of("i")] = 50.0
    model = SimpleNamespace(name="toy", vocab=vocab, frame_shift=0.02, frame_offset=0.0,
                            boundary_correction=BoundaryCorrection(start=0.0, end=0.05))
    result = transcribe_log_probs((probs / probs.sum(-1, keepdim=True)).log(), model)
    assert result.text == "hi"
    assert (round(result.words[0].start, 9), round(result.words[0].end, 9)) == (0.04, 0.2)  # not 0.25
