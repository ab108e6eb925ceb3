"""--romanize: transcripts in other scripts aligned with the English default model through uroman.

The speech is espeak-ng's (tests/data/scripts/make_speech.py made it); where each utterance starts and
ends is measured independently from the waveform's energy.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

pytest.importorskip("uroman", reason="the romanize extra is not installed (pip install -e '.[romanize]')")

from ctctool.text.normalize import Spelling, normalize_word  # noqa: E402
from ctctool.vocab import default_vocabulary  # noqa: E402
from helpers import run_cli  # noqa: E402

SPEECH = Path(__file__).resolve().parent / "data" / "scripts"
LANGUAGES = ("ru", "el", "hi")


def speech_span(wav: Path, threshold: float = 0.02) -> tuple[float, float]:
    """(first, last) second where the waveform's magnitude exceeds ``threshold``."""
    samples, rate = soundfile.read(wav, dtype="float32")
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return loud[0] / rate, loud[-1] / rate


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_is_aligned_in_order_within_the_speech(language):
    wav, text = SPEECH / f"{language}.wav", SPEECH / f"{language}.txt"
    result = run_cli("align", wav, text, "--romanize")
    assert result.exit_code == 0, result.stderr
    words = json.loads(result.stdout)["words"]
    assert [w["word"] for w in words] == text.read_text(encoding="utf-8").split()
    assert all(w["start"] < w["end"] for w in words)
    assert all(a["end"] <= b["start"] + 1e-9 for a, b in zip(words, words[1:]))
    onset, offset = speech_span(wav)
    assert abs(words[0]["start"] - onset) <= 0.15 and abs(words[-1]["end"] - offset) <= 0.2, (onset, offset, words)


@pytest.mark.parametrize("fmt", ["srt", "vtt", "textgrid", "ctm", "tsv", "audacity"])
def test_every_format_keeps_the_original_spelling(fmt):
    result = run_cli("align", SPEECH / "el.wav", SPEECH / "el.txt", "--romanize", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    for word in (SPEECH / "el.txt").read_text(encoding="utf-8").split():
        assert word in result.stdout, (fmt, word)


def test_without_romanize_nothing_in_another_script_can_be_aligned():
    result = run_cli("align", SPEECH / "ru.wav", SPEECH / "ru.txt")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {SPEECH / 'ru.txt'}: transcript: nothing to align (no word has a character of the vocabulary)")


def test_numbers_are_spelled_in_the_language_given():
    vocab = default_vocabulary()
    assert normalize_word("42", vocab, Spelling(language="de")) == ("zweiundvierzig",)
    assert normalize_word("42", vocab, Spelling(language="es")) == ("cuarenta", "y", "dos")
    assert normalize_word("42", vocab) == ("forty", "two")


@pytest.mark.parametrize("written, language, read", [
    ("1,5", "de", ("eins", "komma", "funf")),          # the comma is the decimal mark in German...
    ("1.000", "de", ("eintausend",)),                  # ...and a point groups thousands
    ("1.000,5", "de", ("eintausend", "komma", "funf")),
    ("2,5", "ru", ("dve", "tselykh", "pyat", "desyatykh")),
    ("1,000.5", "en", ("one", "thousand", "point", "five")),  # English: the other way round
])
def test_the_decimal_mark_follows_the_language(written, language, read):
    """Hand-checked readings (num2words' words, then accents stripped or romanised)."""
    assert normalize_word(written, default_vocabulary(), Spelling(romanize=language == "ru", language=language)) == read


def test_an_unknown_language_is_refused_before_any_work():
    result = run_cli("align", SPEECH / "ru.wav", SPEECH / "ru.txt", "--romanize", "--language", "xx")
    assert result.exit_code == 1 and result.stderr.startswith("error: --language 'xx': num2words spells no numbers")
