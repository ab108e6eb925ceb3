"""Subtitle layout (properties and hand-made cases), ASS karaoke read back with pysubs2, and re-timing an SRT or
WebVTT file end to end on the planted example."""

import re
import sys
from pathlib import Path

import pysubs2
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from ctctool import CtcToolError
from ctctool.alignment.timing import AlignedTranscript, TimedSpan
from ctctool.io.times import milliseconds
from ctctool.io.alignment_writers import WriteOptions, render_alignment
from ctctool.io.subtitles import (Cue, SubtitleCue, ass_escape, fill_gaps, layout_cues, read_subtitles,
                                  wrap_words)

from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import make_align_example  # noqa: E402  (the planted word times)

EMISSIONS = EXAMPLES / "align_emissions.npy"
PLANTED = make_align_example.PLANTED  # The quick brown / fox jumps over lazy
FAST = settings(max_examples=150, deadline=None, database=None,
                phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
                suppress_health_check=[HealthCheck.too_slow])


def _words(spec, start=0.0):
    """TimedSpans from ``[(text, seconds of silence before it, seconds long), ...]``."""
    words, t = [], start
    for text, pause, length in spec:
        t += pause
        words.append(TimedSpan(text, round(t, 3), round(t + length, 3), 0.9))
        t += length
    return words


def _result(words, word_segment, segment_texts):
    segments = []
    for k, text in enumerate(segment_texts):
        mine = [w for w, s in zip(words, word_segment) if s == k]
        segments.append(TimedSpan(text, mine[0].start, mine[-1].end, 0.9))
    return AlignedTranscript(tuple(words), tuple(segments), (), 60.0, 0.02, "m", (), tuple(word_segment))


def _srt_cues(text):
    """(start ms, end ms, text lines) of each cue of an SRT file, read with pysubs2 (an independent parser)."""
    return [(e.start, e.end, e.text.split("\\N")) for e in pysubs2.SSAFile.from_string(text, format_="srt").events]


# --- layout: properties -------------------------------------------------------------------------------------

word_texts = st.text(st.sampled_from("abcdefghij.,!?;:'\"-"), min_size=1, max_size=14)


@st.composite
def laid_out(draw):
    texts = draw(st.lists(word_texts, min_size=1, max_size=30))
    spec = [(t, draw(st.sampled_from([0.0, 0.02, 0.1, 0.4, 1.5])), draw(st.sampled_from([0.0, 0.1, 0.3, 0.9])))
            for t in texts]
    cuts = sorted(draw(st.sets(st.integers(1, len(texts) - 1), max_size=4))) if len(texts) > 1 else []
    word_segment = [sum(k >= c for c in cuts) for k in range(len(texts))]
    width = draw(st.integers(4, 45))
    lines = draw(st.none() | st.integers(1, 3))
    duration = draw(st.none() | st.sampled_from([0.5, 1.0, 2.5, 7.0]))
    gap = draw(st.sampled_from([0.0, 0.05, 0.2]))
    return _words(spec), word_segment, width, lines, duration, gap


@FAST
@given(laid_out())
@example(case=([TimedSpan(":", 0.0, 0.0, 0.9) for _ in range(6)] + [TimedSpan(":", 0.0, 0.1, 0.9)], [0] * 7, 4, 1, None, 0.05))
# (found by hypothesis: cues of zero-length words stacked at 0 s, each written 1 ms long after the one before)
def test_layout_keeps_every_word_once_in_order_within_the_limits(case):
    words, word_segment, width, lines, duration, gap = case
    cues = layout_cues(words, word_segment, max_line_width=width, max_lines=lines, max_cue_duration=duration)
    assert [w for cue in cues for w in cue.words] == words  # every word once, in order; cues keep to a segment
    segment_of = {id(w): s for w, s in zip(words, word_segment)}
    for cue in cues:
        assert len({segment_of[id(w)] for w in cue.words}) == 1
        assert [t for line in cue.lines for t in line.split(" ")] == [w.text for w in cue.words]  # no word split
        if len(cue.words) > 1:
            assert len(cue.lines) <= (lines or 2)
            assert all(len(line) <= width for line in cue.lines if " " in line)
            assert duration is None or round((cue.end - cue.start) * 1000) <= duration * 1000
    # Written as SRT and read back: one cue each, in order, never overlapping, at least min_gap apart.
    result = _result(words, word_segment, [f"s{k}" for k in range(max(word_segment) + 1)])
    options = WriteOptions(max_line_width=width, max_lines=lines, max_cue_duration=duration, min_gap=gap)
    written = _srt_cues(render_alignment(result, "srt", "u", options))
    assert [lines_ for _, _, lines_ in written] == [list(cue.lines) for cue in cues]
    assert all(end > start for start, end, _ in written)
    previous_end = 0
    for (start, end, _), cue in zip(written, cues):  # a cue starts with its words, or right after the cue before
        assert cue.end <= cue.start or start <= max(milliseconds(cue.start), previous_end)
        previous_end = end
    for (a_start, a_end, _), (b_start, _, _), cue in zip(written, written[1:], cues):
        # min_gap apart, or the earlier cue already cut to half its length (as written: a cue of unaligned words,
        # zero-length, is 1 ms long, pushed after the cue before)
        natural_end = max(milliseconds(cue.end), a_start + 1)
        assert b_start - a_end >= round(gap * 1000) or a_end - a_start <= (natural_end - a_start + 1) // 2 + 1


# --- layout: hand-made cases ---------------------------------------------------------------------------------

def _one_line_cues(texts, pauses, width):
    words = _words([(t, p, 0.3) for t, p in zip(texts, pauses)])
    return [(c.start, c.end, c.lines) for c in layout_cues(words, [0] * len(words), max_line_width=width,
                                                           max_lines=1)]


PAUSES = [0.0, 0.05, 0.05, 0.05, 0.05, 0.9, 0.05]  # a long pause before "here"


def test_a_cut_after_punctuation_beats_one_at_a_pause():
    cues = _one_line_cues("I said no, we wait here today".split(), PAUSES, width=20)
    assert cues == [(0.0, 1.0, ("I said no,",)), (1.05, 3.25, ("we wait here today",))]


def test_a_cut_at_the_longest_pause_beats_any_other():
    cues = _one_line_cues("I said no we wait here today".split(), PAUSES, width=20)
    assert cues == [(0.0, 1.7, ("I said no we wait",)), (2.6, 3.25, ("here today",))]


def test_a_cut_after_a_sentence_beats_one_after_a_comma():
    cues = _one_line_cues("Go, then. We wait here today".split(), [0.0] * 6, width=20)
    assert [c[2] for c in cues] == [("Go, then.",), ("We wait here today",)]


def test_a_line_that_fits_is_not_cut_even_at_a_long_pause():
    cues = _one_line_cues("We wait. Here".split(), [0.0, 0.0, 3.0], width=20)
    assert cues == [(0.0, 3.9, ("We wait. Here",))]


def test_a_cue_longer_than_max_cue_duration_is_cut():
    words = _words([("one", 0.0, 2.0), ("two", 0.1, 2.0), ("three", 0.5, 2.0), ("four", 0.1, 2.0)])
    cues = layout_cues(words, [0] * 4, max_cue_duration=5.0)
    assert [(c.start, c.end, c.lines) for c in cues] == [(0.0, 4.1, ("one two",)), (4.6, 8.7, ("three four",))]


def test_wrapped_lines_are_balanced_and_a_long_word_gets_its_own_line():
    assert wrap_words("The quick brown fox jumps".split(), 20) == ("The quick brown", "fox jumps")
    assert wrap_words("The office rested, and Grace shivered away".split(), 24) == ("The office rested,",
                                                                                "and Grace shivered away")
    assert wrap_words("short".split(), 20) == ("short",)
    assert wrap_words(["a", "supercalifragilistic", "b"], 10) == ("a", "supercalifragilistic", "b")


def test_a_cue_with_nothing_aligned_fills_the_time_between_its_neighbours():
    cues = [Cue(0.0, 1.0, ("a",)), Cue(1.0, 1.0, ("♪",)), Cue(1.0, 1.0, ("♪",)), Cue(2.0, 3.0, ("b",))]
    assert [(c.start, c.end) for c in fill_gaps(cues)] == [(0.0, 1.0), (1.0, 1.5), (1.5, 2.0), (2.0, 3.0)]
    assert [(c.start, c.end) for c in fill_gaps(cues[:2], duration=4.0)] == [(0.0, 1.0), (1.0, 4.0)]


def test_min_gap_ends_the_earlier_cue_sooner():
    words = _words([("Hello", 0.0, 1.0), ("there", 0.0, 1.0)])
    result = _result(words, [0, 1], ["Hello", "there"])
    written = _srt_cues(render_alignment(result, "srt", "u", WriteOptions(min_gap=0.25)))
    assert written == [(0, 750, ["Hello"]), (1000, 2000, ["there"])]


def test_min_gap_never_starts_a_cue_after_its_words():
    """A gap larger than half the earlier cue: the earlier cue keeps half its length, the next starts on time."""
    words = _words([("Hello", 0.0, 1.0), ("there", 0.0, 1.0)])
    result = _result(words, [0, 1], ["Hello", "there"])
    written = _srt_cues(render_alignment(result, "srt", "u", WriteOptions(min_gap=100.0)))
    assert written == [(0, 500, ["Hello"]), (1000, 2000, ["there"])]


def test_without_word_segments_layout_falls_back_to_one_cue_per_segment():
    words = _words([("Hello", 0.0, 1.0), ("there", 0.0, 1.0)])
    result = AlignedTranscript(tuple(words), (TimedSpan("Hello there", 0.0, 2.0, 0.9),), (), 2.0, 0.02, "m")
    assert render_alignment(result, "srt", "u", WriteOptions(max_line_width=5)) == render_alignment(result, "srt", "u")


@pytest.mark.parametrize("options, message", [
    (WriteOptions(max_lines=2), "`max_lines` needs `max_line_width` (lines are made by wrapping at that width)"),
    (WriteOptions(max_line_width=0), "`max_line_width` 0: expected a whole number >= 1"),
    (WriteOptions(max_cue_duration=0.0), "`max_cue_duration` 0.0: expected seconds > 0, e.g. 7"),
    (WriteOptions(min_gap=-1.0), "`min_gap` -1.0: expected seconds >= 0, e.g. 0.08"),
])
def test_layout_limits_out_of_range_are_errors(options, message):
    result = _result(_words([("a", 0.0, 1.0)]), [0], ["a"])
    with pytest.raises(CtcToolError, match=f"^{re.escape(message)}$"):
        render_alignment(result, "srt", "u", options)


# --- ASS ------------------------------------------------------------------------------------------------------

def _libass_text(text):
    """(override tags, visible text) of an ASS event text as libass reads it: {...} blocks hold tags; outside,
    \\N is a line break and \\{ \\} are braces (libass's get_next_char)."""
    tags, visible, k = [], [], 0
    while k < len(text):
        if text[k] == "{":
            close = text.index("}", k)
            tags.append(text[k + 1:close])
            k = close + 1
        elif text.startswith(("\\N", "\\{", "\\}"), k):
            visible.append({"N": "\n", "{": "{", "}": "}"}[text[k + 1]])
            k += 2
        else:
            visible.append(text[k])
            k += 1
    return tags, "".join(visible).replace("\u2060", "")


def _karaoke(text):
    return [int(cs) for cs in re.findall(r"\{\\k(\d+)\}", text)]


def test_ass_reads_back_with_karaoke_tags_that_sum_to_each_cue():
    words = _words([("The", 0.3, 0.32), ("quick", 0.04, 0.44), ("brown", 0.02, 0.28), ("fox,", 0.4, 0.5),
                    ("jumps", 0.04, 0.26)])
    result = _result(words, [0, 0, 0, 1, 1], ["The quick brown", "fox, jumps"])
    text = render_alignment(result, "ass", "utt", WriteOptions(max_line_width=10))
    subs = pysubs2.SSAFile.from_string(text)
    assert subs.info["Title"] == "utt"
    events = [(e.start, e.end, e.plaintext) for e in subs.events]
    assert events == [(300, 1400, "The quick\nbrown"), (1800, 2600, "fox, jumps")]
    assert [_karaoke(e.text) for e in subs.events] == [[32, 4, 44, 2, 28], [50, 4, 26]]
    for event in subs.events:
        assert sum(_karaoke(event.text)) * 10 == event.end - event.start
    assert subs.events[0].text == "{\\k32}The {\\k4}{\\k44}quick\\N{\\k2}{\\k28}brown"


def test_ass_words_cannot_inject_override_tags():
    nasty = ["{\\an8}up", "a\\Nb", "back\\", "}{"]
    words = _words([(w, 0.1, 0.2) for w in nasty])
    result = _result(words, [0] * 4, [" ".join(nasty)])
    event = pysubs2.SSAFile.from_string(render_alignment(result, "ass", "u")).events[0]
    tags, visible = _libass_text(event.text)
    assert all(re.fullmatch(r"\\k\d+", tag) for tag in tags)
    assert sum(_karaoke(event.text)) * 10 == event.end - event.start
    assert visible == " ".join(nasty)
    assert ass_escape("\\k1") == "\\\u2060k1"


def test_ass_without_pysubs2_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pysubs2", None)
    result = _result(_words([("a", 0.0, 1.0)]), [0], ["a"])
    with pytest.raises(CtcToolError, match=re.escape("ass output needs pysubs2: pip install 'ctctool[subtitles]'")):
        render_alignment(result, "ass", "u")


# --- reading SRT and WebVTT ---------------------------------------------------------------------------------

def test_read_srt_keeps_lines_and_strips_markup_for_alignment():
    cues = read_subtitles("\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i>,\r\n{\\an8}<b>world</b>\r\n\r\n"
                          "2\n0:00:03.000 --> 0:00:04.000 X1:1\n♪♪\n", "a.srt", "srt")
    assert cues == (SubtitleCue(1, 1, ("<i>Hello</i>,", "{\\an8}<b>world</b>"), ("Hello,", "world"), "srt"),
                    SubtitleCue(2, 6, ("♪♪",), ("♪♪",), "srt"))
    assert cues[0].text == "Hello, world"


def test_read_vtt_skips_notes_and_decodes_entities():
    text = ("WEBVTT - a film\nKind: captions\n\nNOTE a note\nstill the note\n\nintro\n00:01.000 --> 00:02.000 "
            "align:start\n<v Bob>Tom &amp; Jerry</v>\n\n01:00:03.000 --> 01:00:04.000\n<c.loud>Go!</c>\n")
    cues = read_subtitles(text, "a.vtt", "vtt")
    assert [(c.number, c.line, c.lines, c.text) for c in cues] == [
        (1, 7, ("<v Bob>Tom &amp; Jerry</v>",), "Tom & Jerry"), (2, 11, ("<c.loud>Go!</c>",), "Go!")]


@pytest.mark.parametrize("text, fmt, message", [
    ("1\n00:00:01,000 --> 00:00:02,000\nHello\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n", "srt",
     "f line 5: cue 1: a time line inside the cue's text; put a blank line between two cues"),
    ("1\n00:00:01,000 -> 00:00:02,000\nHello\n", "srt",
     "f line 2: cue 1: expected times like 00:00:01,000 --> 00:00:04,000, found '00:00:01,000 -> 00:00:02,000'"),
    ("1\n00:00:01,000 --> 00:00:02,000\nA\n\n00:00:03,000 --> 00:00:04,000\nB\n", "srt",
     "f line 5: cue 2: expected the cue number, found a time line; each cue is a number, a line "
     "00:00:01,000 --> 00:00:04,000, its text, then a blank line"),
    ("1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:03,000 --> 00:00:04,000\n", "srt",
     "f line 5: cue 2 has no text; delete the cue or give it its text"),
    ("\n\n", "srt", "f: no cues; expected srt cues (a line 00:00:01,000 --> 00:00:04,000, then the text)"),
    ("WEBVTT\n\n00:01.000 --> 00:02.000\nA\n\n00:03.000 --> 0:04.000\nB\n", "vtt",
     "f line 6: cue 2: expected times like 00:00:01.000 --> 00:00:04.000, found '00:03.000 --> 0:04.000'"),
    ("1\n00:00:01.000 --> 00:00:02.000\nA\n", "vtt",
     "f line 1: expected the WEBVTT header, found '1'; a WebVTT file starts with the line WEBVTT"),
])
def test_malformed_subtitles_are_one_line_errors(text, fmt, message):
    with pytest.raises(CtcToolError, match=f"^{re.escape(message)}$"):
        read_subtitles(text, "f", fmt)


# --- re-timing end to end -------------------------------------------------------------------------------------

OLD_SRT = """1
00:00:05,000 --> 00:00:07,000
<i>The quick</i>
brown

2
00:00:07,500 --> 00:00:08,000
♪♪

3
00:00:10,000 --> 00:00:12,000
{\\an8}fox jumps
over lazy
"""


def _retime(tmp_path, name, text, *extra):
    old, new = tmp_path / name, tmp_path / f"new{Path(name).suffix}"
    old.write_text(text, encoding="utf-8")
    result = run_cli("align", "--emissions", EMISSIONS, "--frame-shift", "0.02", old, "-o", new, *extra)
    return result, new


def test_retiming_an_srt_keeps_each_cue_and_gives_it_the_planted_times(tmp_path):
    result, new = _retime(tmp_path, "old.srt", OLD_SRT, "--format", "srt")
    assert result.exit_code == 0, result.stderr
    written = new.read_text(encoding="utf-8")
    blocks = [block.split("\n") for block in written.rstrip("\n").split("\n\n")]
    assert [b[0] for b in blocks] == ["1", "2", "3"]
    assert [b[2:] for b in blocks] == [["<i>The quick</i>", "brown"], ["♪♪"], ["{\\an8}fox jumps", "over lazy"]]
    ms = [(round(a * 1000), round(b * 1000)) for a, b in PLANTED]
    assert [(s, e) for s, e, _ in _srt_cues(written)] == [(ms[0][0], ms[2][1]), (ms[2][1], ms[3][0]),
                                                         (ms[3][0], ms[6][1])]


def test_retiming_a_vtt_keeps_its_markup_and_to_ass_gives_karaoke(tmp_path):
    text = ("WEBVTT\n\nNOTE made by hand\n\nc1\n00:09.000 --> 00:10.000 line:0\n<v Ann>The <i>quick</i></v>\nbrown\n\n"
            "00:11.000 --> 00:12.000\nfox jumps over lazy\n")
    result, new = _retime(tmp_path, "old.vtt", text, "--format", "vtt")
    assert result.exit_code == 0, result.stderr
    assert new.read_text(encoding="utf-8") == (
        "WEBVTT\n\n00:00:00.300 --> 00:00:01.400\n<v Ann>The <i>quick</i></v>\nbrown\n\n"
        "00:00:01.800 --> 00:00:03.700\nfox jumps over lazy\n")
    result, new = _retime(tmp_path, "old.vtt", text, "--format", "ass")
    assert result.exit_code == 0, result.stderr
    events = pysubs2.load(str(new)).events
    assert [(e.start, e.end, e.plaintext) for e in events] == [(300, 1400, "The quick\nbrown"),
                                                               (1800, 3700, "fox jumps over lazy")]
    assert [sum(_karaoke(e.text)) * 10 for e in events] == [1100, 1900]


def test_retiming_keeps_a_cue_that_does_not_match_and_flags_it(tmp_path):
    text = "1\n00:00:01,000 --> 00:00:02,000\nThe quick brown\n\n2\n00:00:03,000 --> 00:00:04,000\nzzz zzz\nzzz zzz\n"
    result, new = _retime(tmp_path, "old.srt", text, "--format", "srt")
    assert result.exit_code == 0, result.stderr
    assert [lines for _, _, lines in _srt_cues(new.read_text(encoding="utf-8"))] == [["The quick brown"],
                                                                                    ["zzz zzz", "zzz zzz"]]
    assert "warning: line 'zzz zzz zzz zzz' scores" in result.stderr


def test_retiming_with_a_line_width_lays_the_cues_out_again(tmp_path):
    result, new = _retime(tmp_path, "old.srt", OLD_SRT, "--format", "srt", "--max-line-width", "10",
                          "--max-lines", "1")
    assert result.exit_code == 0, result.stderr
    assert [lines for _, _, lines in _srt_cues(new.read_text(encoding="utf-8"))] == [
        ["The quick"], ["brown"], ["♪♪"], ["fox jumps"], ["over lazy"]]


def test_a_malformed_srt_is_one_error_line_and_writes_nothing(tmp_path):
    result, new = _retime(tmp_path, "old.srt", "1\n00:00:01,000 --> 00:00:02,000\nA\n\nB\n", "--format", "srt")
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'old.srt'} line 5: cue 2: expected the cue number, found 'B'; each " \
                            "cue is a number, a line 00:00:01,000 --> 00:00:04,000, its text, then a blank line\n"
    assert not new.exists()


def test_align_wraps_cues_from_the_command_line():
    result = run_cli("align", "--emissions", EMISSIONS, "--frame-shift", "0.02", EXAMPLES / "align_transcript.txt",
                     "--format", "srt", "--max-line-width", "10", "--min-gap", "0.1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ("1\n00:00:00,300 --> 00:00:01,400\nThe quick\nbrown\n\n"
                             "2\n00:00:01,800 --> 00:00:03,700\nfox jumps\nover lazy\n")


@pytest.mark.parametrize("args, code, message", [
    (["--format", "srt", "--max-lines", "2"], 1,
     "error: --max-lines needs --max-line-width (lines are made by wrapping at that width)"),
    (["--format", "json", "--max-line-width", "42"], 2,
     "error: Invalid value for --max-line-width/--max-lines/--max-cue-duration/--min-gap: apply to --format srt, "
     "vtt or ass, without --manifest (see 'ctctool align --help')"),
])
def test_layout_option_errors(args, code, message):
    result = run_cli("align", "--emissions", EMISSIONS, "--frame-shift", "0.02", EXAMPLES / "align_transcript.txt",
                     *args)
    assert result.exit_code == code
    assert result.stderr.splitlines()[-1] == message
