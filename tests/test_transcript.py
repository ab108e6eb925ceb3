"""Transcript normalisation and number words, against hand-written expectations."""

import pytest
import torch

from ctctool import CtcToolError
from ctctool.text.numbers import cardinal, ordinal, spell_number, year
from ctctool.alignment.transcript import prepare_transcript
from ctctool.text.normalize import normalize_word
from ctctool.vocab import Vocabulary, default_vocabulary


@pytest.mark.parametrize("number, words", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (42, "forty two"), (100, "one hundred"),
    (115, "one hundred fifteen"), (7_000_021, "seven million twenty one"),
    (1_002_003_004, "one billion two million three thousand four"),
])
def test_cardinal(number, words):
    assert cardinal(number) == words


@pytest.mark.parametrize("number, words", [(1999, "nineteen ninety nine"), (1905, "nineteen oh five"),
                                           (1900, "nineteen hundred"), (2000, "two thousand"),
                                           (2005, "two thousand five"), (2024, "twenty twenty four")])
def test_year(number, words):
    assert year(number) == words


@pytest.mark.parametrize("number, words", [(1, "first"), (2, "second"), (3, "third"), (12, "twelfth"),
                                           (21, "twenty first"), (40, "fortieth"), (100, "one hundredth")])
def test_ordinal(number, words):
    assert ordinal(number) == words


@pytest.mark.parametrize("text, words", [("1,500", "one thousand five hundred"), ("1500", "fifteen hundred"),
                                         ("3.14", "three point one four"), ("22nd", "twenty second"),
                                         ("12,34", None), ("abc", None)])
def test_spell_number(text, words):
    assert spell_number(text) == words


@pytest.mark.parametrize("word, pieces", [
    ("hello", ("hello",)), ("Hello,", ("hello",)), ("café", ("cafe",)), ("42", ("forty", "two")),
    ("50%", ("fifty", "percent")), ("&", ("and",)), ("—", ()), ("well-known", ("well", "known")),
    ("don't", ("don't",)), ("1999.", ("nineteen", "ninety", "nine")),
])
def test_normalize_word_default_vocabulary(word, pieces):
    assert normalize_word(word, default_vocabulary()) == pieces


@pytest.mark.parametrize("word, pieces", [
    ("straße", ("strasse",)), ("Øster", ("oster",)), ("æble", ("aeble",)), ("Łódź", ("lodz",)),
    ("don’t", ("don't",)), ("‘quoted’", ("'quoted'",)), ("þorn", ("thorn",)), ("naïve", ("naive",)),
    ("Москва", ()), ("東京", ()),  # other scripts need romanisation (--romanize), not a letter table
])
def test_letters_without_decomposition_are_transliterated(word, pieces):
    assert normalize_word(word, default_vocabulary()) == pieces


def test_capitals_only_vocabulary_gets_the_words_in_capitals():
    vocab = Vocabulary(("<pad>", "A", "B", "E", "H", "L", "O", "'", "|"))
    assert normalize_word("hello", vocab) == ("HELLO",)
    assert normalize_word("Hello!", vocab) == ("HELLO",)
    assert normalize_word("straße", Vocabulary(("<pad>", "A", "E", "R", "S", "T", "|"))) == ("STRASSE",)


def test_a_character_the_vocabulary_has_keeps_its_accent():
    vocab = Vocabulary(("<pad>", "a", "c", "f", "é", "ø", "|"))
    assert normalize_word("café’ø", vocab) == ("caféø",)


def test_capital_vocabulary_keeps_case():
    vocab = Vocabulary(("<pad>", "A", "B", "a", "b", "|"))
    assert normalize_word("Ab.", vocab) == ("Ab",)


def test_prepare_maps_labels_back_to_words_and_lines():
    vocab = default_vocabulary()
    prepared = prepare_transcript("Hi there\n\n  — 2 \n", vocab)
    assert prepared.lines == ("Hi there", "— 2")
    assert [(w.text, w.line, w.pieces) for w in prepared.words] == [
        ("Hi", 0, ("hi",)), ("there", 0, ("there",)), ("—", 1, ()), ("2", 1, ("two",))]
    assert vocab.decode(prepared.labels) == "hi there two"
    space = -1
    assert prepared.label_word == (0, 0, space, 1, 1, 1, 1, 1, space, 3, 3, 3)
    assert prepared.changes == ("'Hi' -> 'hi'", "'—' -> (not aligned)", "'2' -> 'two'")


def test_pipe_delimiter_vocabulary():
    vocab = Vocabulary(("<pad>", "a", "b", "|"))
    prepared = prepare_transcript("ab ba", vocab)
    assert prepared.labels == (1, 2, 3, 2, 1)


def test_star_word_becomes_the_star_label():
    vocab = default_vocabulary()
    prepared = prepare_transcript("* a *", vocab, star_id=31)
    assert prepared.labels == (31, 30, 1, 30, 31)


def test_nothing_to_align_is_an_error():
    with pytest.raises(CtcToolError, match=r"transcript: nothing to align"):
        prepare_transcript("— …\n", default_vocabulary())


@pytest.mark.parametrize("star_token", ["<star>", "*"])
def test_a_models_own_star_class_is_used(star_token):
    """MMS_FA-style vocabularies carry a trained star class: the star label is that class, scored by the model,
    not an appended column (which scores STAR_LOG_PROB = -0.5 on every frame). On frames 0-9 (untranscribed
    speech) 'h' scores ln 0.57 and the model's star ln 0.43: its own star keeps one frame, the word delimiter
    the next, and 'h' the rest; an appended star (ln 0.61, above 'h') takes all ten (the delimiter then takes
    frame 10, where it costs least)."""
    from ctctool.alignment.lines import STAR_LOG_PROB
    from ctctool.alignment.pipeline import align_emissions

    lp = torch.full((20, 5), -30.0)
    lp[:10, 1], lp[:10, 4] = 0.0, -0.3
    lp[10:15, 1], lp[15:, 2] = 0.0, 0.0
    lp = lp.log_softmax(-1)
    assert lp[0, 4] < lp[0, 1] < STAR_LOG_PROB
    own = align_emissions(lp, "* hi", vocab=Vocabulary(("<blank>", "h", "i", " ", star_token)), frame_shift=1.0)
    assert [(w.text, w.start, w.end) for w in own.words] == [("hi", 2.0, 20.0)]
    appended = align_emissions(lp, "* hi", vocab=Vocabulary(("<blank>", "h", "i", " ", "<pad>")), frame_shift=1.0)
    assert [(w.text, w.start, w.end) for w in appended.words] == [("hi", 11.0, 20.0)]
