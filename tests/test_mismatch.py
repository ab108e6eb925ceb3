"""Lines the audio does not hold: flagged without pulling their neighbours; stars between lines; one timeline.

The planted example (examples/make_align_example.py) speaks "the quick brown fox jumps over lazy" with known word
times; transcripts here replace, drop or add lines around it.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ctctool.alignment.pipeline import align_audio, align_emissions
from ctctool.vocab import default_vocabulary

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import make_align_example  # noqa: E402  (the planted word times)

PLANTED = dict(zip("the quick brown fox jumps over lazy".split(), make_align_example.PLANTED))
LOG_PROBS = torch.from_numpy(np.load(EXAMPLES / "align_emissions.npy"))


def _align(text, **options):
    return align_emissions(LOG_PROBS, text, vocab=default_vocabulary(), frame_shift=0.02, **options)


def _times(result, line):
    return [(w.text, pytest.approx(w.start), pytest.approx(w.end))
            for w, k in zip(result.words, result.word_segment) if k == line]


def test_a_replaced_line_is_flagged_and_its_neighbours_keep_their_own_audio():
    """'brown fox' is spoken but the middle line says something else: before, its letters squeezed into the
    speech and pulled 'the quick' and 'jumps over lazy' out of place."""
    result = _align("the quick\nhello there world\njumps over lazy")
    assert [s.flagged for s in result.segments] == [False, True, False]
    assert result.segments[1].score < 0.2 < min(result.segments[0].score, result.segments[2].score)
    assert _times(result, 0) == [(w, *PLANTED[w]) for w in ("the", "quick")]
    assert _times(result, 2) == [(w, *PLANTED[w]) for w in ("jumps", "over", "lazy")]
    brown_start, fox_end = PLANTED["brown"][0], PLANTED["fox"][1]
    wrong = result.segments[1]
    assert brown_start - 0.1 <= wrong.start <= wrong.end <= fox_end + 0.1  # inside the speech it stands for
    assert [w.text for w in result.words] == "the quick hello there world jumps over lazy".split()


def test_a_line_pulled_by_a_wrong_neighbour_is_restored():
    """Both lines around the unexplained speech score badly at first; only the wrong one stays flagged."""
    result = _align("the quick brown\nnothing like it\nfox jumps over lazy")
    assert [s.flagged for s in result.segments] == [False, True, False]
    assert _times(result, 2)[0] == ("fox", *PLANTED["fox"])


def test_every_line_wrong_is_every_line_flagged():
    result = _align("never said\nat all here")
    assert all(s.flagged for s in result.segments)


def test_stars_between_lines_leave_extra_speech_out():
    """'brown fox' is not in the transcript: with a star between the lines it is left out, and the lines keep
    their own times."""
    result = _align("the quick\njumps over lazy", star="between-lines")
    assert not any(s.flagged for s in result.segments)
    assert _times(result, 0) == [(w, *PLANTED[w]) for w in ("the", "quick")]
    assert _times(result, 1) == [(w, *PLANTED[w]) for w in ("jumps", "over", "lazy")]


def test_star_lines_are_not_segments():
    result = _align("the quick brown\nfox jumps over lazy", star="both")
    assert [s.text for s in result.segments] == ["the quick brown", "fox jumps over lazy"]


def test_one_timeline_every_character_in_its_word_and_every_word_in_its_line():
    """The built-in model's boundary correction moves words; characters and lines move with them."""
    result = align_audio(EXAMPLES / "hello.wav", (EXAMPLES / "hello.txt").read_text(encoding="utf-8"))
    assert len(result.tokens) == len(result.token_word) and len(result.words) == len(result.word_segment)
    for token, w in zip(result.tokens, result.token_word):
        word = result.words[w]
        assert word.start <= token.start <= token.end <= word.end
    for word, line in zip(result.words, result.word_segment):
        assert result.segments[line].start <= word.start <= word.end <= result.segments[line].end
    firsts = {w: t for t, w in reversed(list(enumerate(result.token_word)))}
    assert all(result.tokens[t].start == result.words[w].start for w, t in firsts.items())


@pytest.mark.parametrize("kind", ["noise", "silence", "tone"])
def test_audio_without_the_speech_is_flagged(kind):
    """Whole files of noise, silence or a tone against a real transcript: every line is flagged."""
    rate, seconds = 16000, 4.0
    t = np.arange(int(rate * seconds)) / rate
    audio = {"noise": np.random.default_rng(0).normal(0, 0.1, t.size),
             "silence": np.zeros(t.size) + 1e-4 * np.random.default_rng(1).normal(size=t.size),
             "tone": 0.3 * np.sin(2 * np.pi * 440 * t)}[kind]
    text = (EXAMPLES / "hello.txt").read_text(encoding="utf-8")
    result = align_audio(torch.from_numpy(audio.astype(np.float32)), text, sample_rate=rate)
    assert all(s.flagged for s in result.segments), [s.score for s in result.segments]


def test_a_line_with_no_audio_before_the_speech_leaves_the_next_line_in_place():
    """An extra first line, then one with nothing to align: the run of replaced lines spans the unalignable one."""
    result = _align("zzz qqq xxx\n---\nthe quick brown\nfox jumps over lazy")
    assert [s.flagged for s in result.segments] == [True, False, False, False]
    assert _times(result, 2) == [(w, *PLANTED[w]) for w in ("the", "quick", "brown")]
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    for word, line in zip(result.words, result.word_segment):
        assert result.segments[line].start <= word.start <= word.end <= result.segments[line].end


@pytest.mark.parametrize("text", ["the quick brown\n*\nfox jumps over lazy", "*\nthe quick brown\nfox jumps over lazy\n*"])
def test_a_line_of_stars_absorbs_speech_and_is_not_a_segment(text):
    result = _align(text)
    assert [s.text for s in result.segments] == ["the quick brown", "fox jumps over lazy"]
    assert _times(result, 1) == [(w, *PLANTED[w]) for w in ("fox", "jumps", "over", "lazy")]


def test_a_transcript_of_stars_alone_is_refused():
    from ctctool import CtcToolError

    with pytest.raises(CtcToolError, match=r"transcript: nothing to align: it holds only stars \(\*\); expected the words"):
        _align("*\n* *")
