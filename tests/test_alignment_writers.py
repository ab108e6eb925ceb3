"""Alignment writers against hand-written files, a TextGrid read back, and atomic writes."""

import json
import random
import re

import pytest

from ctctool import CtcToolError
from ctctool.io import alignment_writers
from ctctool.io.alignment_writers import FORMATS, WriteOptions, render_alignment, write_alignment
from ctctool.alignment.timing import AlignedTranscript, SpanTimes, TimedSpan

SHIFT = SpanTimes(0.02)  # 20 ms frames; times below are given in frames, as align.py produces them


def _span(text, start, end, score, flagged=False):
    return TimedSpan(text, SHIFT.seconds(start), SHIFT.seconds(end), score, flagged)


WORDS = (
    _span("Oh,", 5, 20, 0.91234),
    _span("say", 30, 45, 0.85),
    _span('"hi"', 50, 65, 0.5, True),
    _span("—", 65, 65, None),  # nothing to align: zero length at the end of the previous word
    _span("world", 90, 120, 0.77777),
)
SEGMENTS = (_span('Oh, say "hi" —', 5, 65, 0.75), _span("world", 90, 120, 0.77777))
CHARS = [("o", 5, 10), ("h", 15, 20), ("s", 30, 33), ("a", 36, 39), ("y", 42, 45), ("h", 50, 57)]
CHARS += [("i", 60, 65), ("w", 90, 95), ("o", 96, 100), ("r", 100, 108), ("l", 110, 115), ("d", 115, 120)]
RESULT = AlignedTranscript(
    words=WORDS,
    segments=SEGMENTS,
    tokens=tuple(_span(c, a, b, 0.6) for c, a, b in CHARS),
    duration=SHIFT.seconds(150),
    frame_shift=0.02,
    model="tiny-en",
    normalization=("Oh, -> oh", '"hi" -> hi', "— -> (nothing to align)"),
)


def test_srt():
    expected = "1\n00:00:00,100 --> 00:00:01,300\nOh, say \"hi\" —\n\n2\n00:00:01,800 --> 00:00:02,400\nworld\n"
    assert render_alignment(RESULT, "srt", "utt1") == expected


def test_vtt():
    expected = "WEBVTT\n\n00:00:00.100 --> 00:00:01.300\nOh, say \"hi\" —\n\n00:00:01.800 --> 00:00:02.400\nworld\n"
    assert render_alignment(RESULT, "vtt", "utt1") == expected


def test_ctm_gives_a_word_without_score_confidence_0():
    expected = (
        "utt1 1 0.100 0.300 Oh, 0.9123\n"
        "utt1 1 0.600 0.300 say 0.8500\n"
        'utt1 1 1.000 0.300 "hi" 0.5000\n'
        "utt1 1 1.300 0.000 — 0.0000\n"
        "utt1 1 1.800 0.600 world 0.7778\n"
    )
    assert render_alignment(RESULT, "ctm", "utt1", WriteOptions(ctm_words="original")) == expected


def test_ctm_words_are_normalized_for_sclite_by_default():
    """Punctuation at a word's edges goes (sclite would count 'again.' vs 'again' as an error); a word of
    punctuation alone is left out; inner marks stay."""
    expected = (
        "utt1 1 0.100 0.300 Oh 0.9123\n"
        "utt1 1 0.600 0.300 say 0.8500\n"
        "utt1 1 1.000 0.300 hi 0.5000\n"
        "utt1 1 1.800 0.600 world 0.7778\n"
    )
    assert render_alignment(RESULT, "ctm", "utt1") == expected
    inner = AlignedTranscript((TimedSpan("«don't»", 0.0, 1.0, 0.5), TimedSpan("e-mail.", 1.0, 2.0, 0.5)), (), (),
                              2.0, 0.02, "m")
    assert [line.split()[4] for line in render_alignment(inner, "ctm", "u").splitlines()] == ["don't", "e-mail"]


def test_ctm_lines_are_sorted_by_start():
    shuffled = AlignedTranscript((WORDS[4], WORDS[0]), (), (), 3.0, 0.02, "m")
    lines = render_alignment(shuffled, "ctm", "u").splitlines()
    assert [line.split()[4] for line in lines] == ["Oh", "world"]


def test_audacity():
    expected = (
        "0.100\t0.400\tOh,\n"
        "0.600\t0.900\tsay\n"
        '1.000\t1.300\t"hi"\n'
        "1.300\t1.300\t—\n"
        "1.800\t2.400\tworld\n"
    )
    assert render_alignment(RESULT, "audacity", "utt1") == expected


def test_tsv_leaves_a_missing_score_blank():
    expected = (
        "start\tend\tword\tscore\n"
        "0.100\t0.400\tOh,\t0.9123\n"
        "0.600\t0.900\tsay\t0.8500\n"
        '1.000\t1.300\t"""hi"""\t0.5000\n'
        "1.300\t1.300\t—\t\n"
        "1.800\t2.400\tworld\t0.7778\n"
    )
    assert render_alignment(RESULT, "tsv", "utt1") == expected


def test_tsv_reads_back_with_csv_even_when_a_quote_spans_words():
    """A quote that opens on one word and closes on a later one used to glue the rows between into one field."""
    import csv
    import io

    words = ('"Hello', "there,", 'friend"', "tab\there", "line\nbreak")
    result = AlignedTranscript(tuple(TimedSpan(w, i, i + 0.5, 0.5) for i, w in enumerate(words)), (), (), 6.0, 0.02, "m")
    rows = list(csv.reader(io.StringIO(render_alignment(result, "tsv", "u")), delimiter="\t"))
    assert [row[2] for row in rows[1:]] == list(words)


def test_json_reads_back_with_rounded_values():
    text = render_alignment(RESULT, "json", "utt1")
    doc = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))
    assert (doc["id"], doc["model"], doc["frame_shift"], doc["duration"]) == ("utt1", "tiny-en", 0.02, 3.0)
    assert doc["words"] == [
        {"word": "Oh,", "start": 0.1, "end": 0.4, "score": 0.9123, "flagged": False},
        {"word": "say", "start": 0.6, "end": 0.9, "score": 0.85, "flagged": False},
        {"word": '"hi"', "start": 1.0, "end": 1.3, "score": 0.5, "flagged": True},
        {"word": "—", "start": 1.3, "end": 1.3, "score": None, "flagged": False},
        {"word": "world", "start": 1.8, "end": 2.4, "score": 0.7778, "flagged": False},
    ]
    assert doc["segments"] == [
        {"text": 'Oh, say "hi" —', "start": 0.1, "end": 1.3, "score": 0.75, "flagged": False},
        {"text": "world", "start": 1.8, "end": 2.4, "score": 0.7778, "flagged": False},
    ]
    assert [(t["token"], t["start"], t["end"]) for t in doc["tokens"]] == [(c, a / 50, b / 50) for c, a, b in CHARS]
    assert doc["normalization"] == list(RESULT.normalization)


def _read_textgrid(text):
    """Tiny reader for the long text format: {tier name: [(xmin, xmax, text), ...]} and the grid's xmax."""
    tiers, grid_xmax, name = {}, None, None
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if m := re.fullmatch(r'\s*name = "(.*)" ', line):
            name = m.group(1)
            tiers[name] = []
        elif re.fullmatch(r"\s*intervals \[\d+\]:", line):
            xmin = float(re.fullmatch(r"\s*xmin = (\S+) ", lines[k + 1]).group(1))
            xmax = float(re.fullmatch(r"\s*xmax = (\S+) ", lines[k + 2]).group(1))
            quoted = re.fullmatch(r'\s*text = "(.*)" ', lines[k + 3]).group(1)
            tiers[name].append((xmin, xmax, quoted.replace('""', '"')))
        elif (m := re.fullmatch(r"xmax = (\S+) ", line)) and grid_xmax is None:
            grid_xmax = float(m.group(1))
    return tiers, grid_xmax


def test_textgrid_tiers_tile_the_duration_and_hold_the_spans_in_order():
    text = render_alignment(RESULT, "textgrid", "utt1")
    assert text.startswith('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0 \nxmax = 3 \n')
    assert 'text = """hi""" ' in text  # Praat doubles a double quote
    tiers, grid_xmax = _read_textgrid(text)
    assert list(tiers) == ["segments", "words", "chars"] and grid_xmax == 3.0
    for name, intervals in tiers.items():
        assert intervals[0][0] == 0.0 and intervals[-1][1] == 3.0, name
        assert all(a[1] == b[0] for a, b in zip(intervals, intervals[1:])), name
        assert all(xmin < xmax for xmin, xmax, _ in intervals), name
    labelled = {name: [t for _, _, t in intervals if t] for name, intervals in tiers.items()}
    assert labelled["segments"] == [s.text for s in SEGMENTS]
    assert labelled["words"] == [w.text for w in WORDS if w.end > w.start]  # Praat has no zero-length interval
    assert labelled["chars"] == [c for c, _, _ in CHARS]
    assert [(a, b) for a, b, t in tiers["words"] if t == "say"] == [(0.6, 0.9)]


def _cue_ms(text):
    """(start, end) in ms of every cue of an SRT or VTT file, read back from the clock strings."""
    clock = r"(\d+):(\d\d):(\d\d)[,.](\d{3})"
    ms = lambda h, m, s, f: ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f)  # noqa: E731
    return [(ms(*g[:4]), ms(*g[4:])) for g in re.findall(clock + " --> " + clock, text)]


def test_zero_length_segment_gets_a_1_ms_cue_and_vtt_escapes_markup():
    segments = (TimedSpan("a < b & c", 0.0, 1.0, 0.9), TimedSpan("lost", 1.0, 1.0, None), TimedSpan("c", 1.0, 2.0, 0.8))
    result = AlignedTranscript((), segments, (), 2.0, 0.02, "m")
    expected = (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na &lt; b &amp; c\n\n"
        "00:00:01.000 --> 00:00:01.001\nlost\n\n00:00:01.001 --> 00:00:02.000\nc\n"
    )
    assert render_alignment(result, "vtt", "u") == expected


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_rounded_cues_never_end_before_they_start_or_overlap(fmt):
    rng = random.Random(7)
    cuts = [rng.uniform(0, 5) for _ in range(40)]
    cuts = sorted(cuts + [t + rng.uniform(0, 0.0015) for t in cuts[:20]])  # gaps under 1.5 ms
    cuts += [cuts[-1]] * 3  # a few zero-length segments at the end
    segments = tuple(TimedSpan(f"s{k}", a, b, 0.5) for k, (a, b) in enumerate(zip(cuts, cuts[1:])))
    cues = _cue_ms(render_alignment(AlignedTranscript((), segments, (), 6.0, 0.02, "m"), fmt, "u"))
    assert len(cues) == len(segments)
    assert all(end > start for start, end in cues)
    assert all(a[1] <= b[0] for a, b in zip(cues, cues[1:]))
    assert all(abs(start - s.start * 1000) <= 4 for (start, _), s in zip(cues, segments))


def test_write_alignment_writes_the_rendered_text(tmp_path):
    path = tmp_path / "a.TextGrid"
    write_alignment(path, RESULT, "textgrid", "utt1")
    assert path.read_bytes() == render_alignment(RESULT, "textgrid", "utt1").encode("utf-8")


def test_write_alignment_is_atomic_when_rendering_fails(tmp_path, monkeypatch):
    def broken(result, utterance_id, options):
        raise RuntimeError("renderer crashed")

    monkeypatch.setitem(alignment_writers._RENDERERS, "srt", broken)
    (tmp_path / "old.srt").write_text("old contents")
    for name in ("new.srt", "old.srt"):
        with pytest.raises(RuntimeError, match="renderer crashed"):
            write_alignment(tmp_path / name, RESULT, "srt", "utt1")
    assert [p.name for p in tmp_path.iterdir()] == ["old.srt"]
    assert (tmp_path / "old.srt").read_text() == "old contents"


def test_every_format_renders():
    assert all(render_alignment(RESULT, fmt, "utt1") for fmt in FORMATS)


def test_unknown_format_names_the_valid_ones(tmp_path):
    message = f"unknown alignment format 'xml'; expected one of: {', '.join(FORMATS)}"
    with pytest.raises(CtcToolError, match=re.escape(message)):
        write_alignment(tmp_path / "a.xml", RESULT, "xml", "utt1")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "word", "utterance_id", "subject"),
    [("ctm", "ok", "utt 1", "utterance id 'utt 1'"), ("ctm", "a b", "u", "word 'a b'"),
     ("audacity", "a\nb", "u", "word 'a\\nb'")],
)
def test_a_field_that_would_split_is_an_error(fmt, word, utterance_id, subject):
    result = AlignedTranscript((TimedSpan(word, 0.0, 1.0, 0.5),), (), (), 1.0, 0.02, "m")
    with pytest.raises(CtcToolError, match=re.escape(f"{fmt} output: {subject} is empty or contains whitespace")):
        render_alignment(result, fmt, utterance_id)


def test_textgrid_needs_a_positive_duration():
    result = AlignedTranscript((), (), (), 0.0, 0.02, "m")
    with pytest.raises(CtcToolError, match=r"textgrid output of 'u': duration must be > 0 seconds; got 0.0"):
        render_alignment(result, "textgrid", "u")


def test_json_refuses_a_non_finite_score():
    result = AlignedTranscript((TimedSpan("a", 0.0, 1.0, float("nan")),), (), (), 1.0, 0.02, "m")
    with pytest.raises(CtcToolError, match=r"json output of 'u': a time or score is not finite"):
        render_alignment(result, "json", "u")


def test_atomic_writes_follow_the_umask(tmp_path):
    import os

    from ctctool.io.atomic import atomic_open

    old = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "out.txt") as handle:
            handle.write("x")
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644


def test_whisperx_json_nests_words_in_their_segments():
    result = AlignedTranscript(WORDS, SEGMENTS, (), SHIFT.seconds(150), 0.02, "m", word_segment=(0, 0, 0, 0, 1))
    doc = json.loads(render_alignment(result, "whisperx", "u"))
    assert [s["text"] for s in doc["segments"]] == ['Oh, say "hi" —', "world"]
    assert [[w["word"] for w in s["words"]] for s in doc["segments"]] == [['Oh,', 'say', '"hi"', "—"], ["world"]]
    assert doc["segments"][0]["words"][0] == {"word": "Oh,", "start": 0.1, "end": 0.4, "score": 0.9123}
    assert doc["segments"][0]["words"][3] == {"word": "—"}  # nothing aligned: no times, as WhisperX writes it
    assert [w["word"] for w in doc["word_segments"]] == [w.text for w in WORDS]


@pytest.mark.parametrize("seconds, ms", [(0.0005, 1), (1.2344999, 1234), (1.2345, 1235), (2.0004999, 2000)])
def test_one_rounding_for_every_format(seconds, ms):
    """JSON, TSV, CTM, Audacity, TextGrid and SRT show the same millisecond for the same time."""
    word = TimedSpan("w", seconds, 3.0, 0.5)
    result = AlignedTranscript((word,), (TimedSpan("w", seconds, 3.0, 0.5),), (), 4.0, 0.02, "m")
    shown = f"{ms / 1000:.3f}"
    assert json.loads(render_alignment(result, "json", "u"))["words"][0]["start"] == ms / 1000
    assert render_alignment(result, "tsv", "u").splitlines()[1].split("\t")[0] == shown
    assert render_alignment(result, "ctm", "u").split()[2] == shown
    assert render_alignment(result, "audacity", "u").split("\t")[0] == shown
    assert f"xmin = {shown.rstrip('0').rstrip('.')} " in render_alignment(result, "textgrid", "u")
    srt_start = render_alignment(result, "srt", "u").splitlines()[1].split(" --> ")[0]
    assert srt_start == f"00:00:0{ms // 1000},{ms % 1000:03d}"
