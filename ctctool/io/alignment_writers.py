"""Alignment output formats: JSON, NIST CTM, SRT, WebVTT, Praat TextGrid, Audacity labels, TSV.

Every renderer takes an :class:`AlignedTranscript` (times in seconds) and returns the
whole file text. Subtitle and CTM times go through integer milliseconds, so rounding
can never put an end before its start.

Format decisions:

- srt/vtt: one cue per segment, strictly in order: a cue starts no earlier than the
  previous cue ends, and lasts at least 1 ms (a zero-length segment, a line with
  nothing aligned, gets 1 ms rather than being dropped).
- ctm: the confidence of a word with no score (nothing aligned) is 0.
- textgrid: Praat intervals need xmax > xmin, so zero-length spans are left out;
  spans are clipped to [0, duration] and to the end of the previous interval.
- audacity, tsv, ctm: one line per word, ordered by start time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.io.times import milliseconds as _ms, rounded_seconds as _seconds
from ctctool.io.subtitles import (Cue, SubtitleCue, ass_event_text, ass_file, check_layout, layout_cues,
                                  retimed_cues, segment_cues)
from ctctool.io.html_page import render_html
from ctctool.alignment.timing import AlignedTranscript, TimedSpan

FORMATS = ("json", "ctm", "srt", "vtt", "ass", "textgrid", "audacity", "tsv", "whisperx", "html")
#: The file extension of each format (a batch run names each item's file ``<id>.<extension>``).
EXTENSIONS = {"json": "json", "ctm": "ctm", "srt": "srt", "vtt": "vtt", "textgrid": "TextGrid",
              "audacity": "txt", "tsv": "tsv", "whisperx": "json", "ass": "ass", "html": "html"}


@dataclass(frozen=True)
class WriteOptions:
    """How an alignment is written, beyond its format.

    ``ctm_words``: CTM words ``normalized`` (punctuation at their edges dropped, as sclite references
    are) or ``original``. Subtitles: ``max_line_width`` characters per line and ``max_lines`` lines per
    cue (None: one line per transcript line, as written), ``max_cue_duration`` seconds (None: no
    limit), ``min_gap`` seconds between cues. ``audio``: the audio file aligned, and ``destination``:
    the output file (for formats that refer to the audio by a path relative to the output).
    """

    ctm_words: str = "normalized"
    max_line_width: int | None = None
    max_lines: int | None = None
    max_cue_duration: float | None = None
    min_gap: float = 0.0
    audio: str | None = None
    destination: str | None = None
    #: The cues of a subtitle file being re-timed (its cue texts were aligned as the transcript's lines):
    #: srt, vtt and ass write one cue per cue, with its own text (see ``ctctool.io.subtitles``).
    cues: tuple[SubtitleCue, ...] | None = None




def _by_time(spans: Sequence[TimedSpan]) -> list[TimedSpan]:
    return sorted(spans, key=lambda span: (span.start, span.end))


def _one_field(text: str, fmt: str, what: str, forbidden: str) -> str:
    """``text`` unchanged, or an error when it would split a field of ``fmt``."""
    if not text or any(char in forbidden for char in text):
        raise CtcToolError(
            f"{fmt} output: {what} {text!r} is empty or contains whitespace that would split its field; "
            "remove it or pick another format"
        )
    return text


def render_json(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """One object; times rounded to ms (3 decimals), scores to 4 decimals, a missing score is null."""

    def score(span: TimedSpan) -> float | None:
        return None if span.score is None else round(span.score, 4)

    def times(span: TimedSpan) -> dict:
        return {"start": _seconds(span.start), "end": _seconds(span.end), "score": score(span)}

    document = {
        "id": utterance_id,
        "model": result.model,
        "frame_shift": result.frame_shift,
        "duration": _seconds(result.duration),
        "words": [{"word": w.text, **times(w), "flagged": w.flagged} for w in result.words],
        "segments": [{"text": s.text, **times(s), "flagged": s.flagged} for s in result.segments],
        "tokens": [{"token": t.text, **times(t)} for t in result.tokens],
        "normalization": list(result.normalization),
    }
    try:
        return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=2) + "\n"
    except ValueError as exc:
        raise CtcToolError(f"json output of {utterance_id!r}: a time or score is not finite ({exc})") from exc


def render_ctm(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """NIST CTM: ``<id> 1 <start> <duration> <word> <confidence>``, seconds at 3 decimals. With
    ``ctm_words="normalized"`` a word loses the punctuation at its edges (``again.`` -> ``again``, as
    sclite's references have it) and a word of punctuation alone is left out."""
    if options.ctm_words not in ("normalized", "original"):
        raise CtcToolError(f"`ctm_words` {options.ctm_words!r}: expected 'normalized' or 'original'")
    channel_id = _one_field(utterance_id, "ctm", "utterance id", " \t\r\n")
    lines = []
    for word in _by_time(result.words):
        start = _ms(word.start)
        length = max(_ms(word.end) - start, 0)
        confidence = 0.0 if word.score is None else min(max(word.score, 0.0), 1.0)
        text = word.text if options.ctm_words == "original" else _without_edge_punctuation(word.text)
        if not text:
            continue
        text = _one_field(text, "ctm", "word", " \t\r\n")
        lines.append(f"{channel_id} 1 {start / 1000:.3f} {length / 1000:.3f} {text} {confidence:.4f}\n")
    return "".join(lines)


def _without_edge_punctuation(word: str) -> str:
    """``word`` without the punctuation and symbols at its start and end (inner ones stay: ``don't``, ``e-mail``)."""
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(word[end - 1])[0] in "PS":
        end -= 1
    return word[start:end]


def _cues(result: AlignedTranscript, options: WriteOptions, fmt: str) -> list[tuple[int, int, Cue]]:
    """(start ms, end ms, cue), in order, each at least 1 ms long, none starting before the previous ends.

    One cue per segment, as written; with ``options.cues``, one per re-timed cue; with a line width or cue
    duration limit (and the segment of each word known), the cues of ``layout_cues``. A cue closer than
    ``options.min_gap`` to the next ends earlier, keeping at least half its length (the gap is smaller where
    that is not enough: a cue never starts after its first word).
    """
    check_layout(options.max_line_width, options.max_lines, options.max_cue_duration, options.min_gap)
    word_segment = result.word_segment if len(result.word_segment) == len(result.words) else ()
    if (options.max_line_width or options.max_cue_duration) and word_segment:
        cues = layout_cues(result.words, word_segment, max_line_width=options.max_line_width,
                           max_lines=options.max_lines, max_cue_duration=options.max_cue_duration,
                           duration=result.duration)
    elif options.cues is not None:
        cues = retimed_cues(options.cues, result.segments, result.words, word_segment, fmt, result.duration)
    else:
        cues = tuple(sorted(segment_cues(result.segments, result.words, word_segment),
                            key=lambda cue: (cue.start, cue.end)))
    gap = _ms(options.min_gap)
    out: list[tuple[int, int, Cue]] = []
    for cue in cues:
        start, end = _ms(cue.start), _ms(cue.end)
        if out:
            previous_start, previous_end, previous = out[-1]
            if gap and previous_end > start - gap:  # the earlier cue ends sooner, down to half its length
                keep = max((previous_end - previous_start + 1) // 2, 1)
                previous_end = min(previous_end, max(start - gap, previous_start + keep))
                out[-1] = (previous_start, previous_end, previous)
            start = max(start, previous_end)  # never later than its words: the gap is then smaller
        out.append((start, max(end, start + 1), cue))
    return out


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def render_srt(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line between cues."""
    blocks = [
        f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n" + "".join(line + "\n" for line in cue.lines)
        for n, (start, end, cue) in enumerate(_cues(result, options, "srt"), start=1)
    ]
    return "\n".join(blocks)


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """WebVTT: a ``WEBVTT`` header, then cues ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` (``&``, ``<``, ``>`` escaped,
    except in a re-timed cue's own text, which is WebVTT already)."""
    blocks = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n"
        + "".join((line if cue.markup else _vtt_text(line)) + "\n" for line in cue.lines)
        for start, end, cue in _cues(result, options, "vtt")
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def render_ass(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """Advanced SubStation Alpha (pysubs2): the cues of srt, times in centiseconds, each word with a karaoke
    ``{\\k}`` tag (see ``ctctool.io.subtitles.ass_event_text``)."""
    events, previous_end = [], 0
    for start, end, cue in _cues(result, options, "ass"):
        first = max((start + 5) // 10, previous_end)
        last = max((end + 5) // 10, first + 1)
        events.append((first, last, ass_event_text(cue, first, last)))
        previous_end = last
    return ass_file(events, utterance_id)


def _praat_number(seconds: float) -> str:
    return f"{_seconds(seconds):.3f}".rstrip("0").rstrip(".") or "0"


def _praat_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _tiling(spans: Sequence[TimedSpan], duration: float) -> list[tuple[float, float, str]]:
    """Intervals that tile [0, duration]: the spans with non-zero length, gaps as empty text."""
    intervals, cursor = [], 0.0
    for span in _by_time(spans):
        start, end = max(span.start, cursor), min(span.end, duration)
        if end <= start:
            continue
        if start > cursor:
            intervals.append((cursor, start, ""))
        intervals.append((start, end, span.text))
        cursor = end
    if cursor < duration:
        intervals.append((cursor, duration, ""))
    return intervals


def render_textgrid(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """Praat TextGrid, long text format: interval tiers "segments", "words" and "chars"."""
    if not result.duration > 0:
        raise CtcToolError(f"textgrid output of {utterance_id!r}: duration must be > 0 seconds; got {result.duration}")
    xmax = _praat_number(result.duration)
    tiers = (("segments", result.segments), ("words", result.words), ("chars", result.tokens))
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {xmax} ",
        "tiers? <exists> ",
        f"size = {len(tiers)} ",
        "item []: ",
    ]
    for number, (name, spans) in enumerate(tiers, start=1):
        intervals = _tiling(spans, result.duration)
        lines += [
            f"    item [{number}]:",
            '        class = "IntervalTier" ',
            f"        name = {_praat_string(name)} ",
            "        xmin = 0 ",
            f"        xmax = {xmax} ",
            f"        intervals: size = {len(intervals)} ",
        ]
        for k, (start, end, text) in enumerate(intervals, start=1):
            lines += [
                f"        intervals [{k}]:",
                f"            xmin = {_praat_number(start)} ",
                f"            xmax = {_praat_number(end)} ",
                f"            text = {_praat_string(text)} ",
            ]
    return "\n".join(lines) + "\n"


def render_audacity(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """Audacity label track: ``start<TAB>end<TAB>word``, seconds at 3 decimals."""
    lines = []
    for w in _by_time(result.words):
        text = _one_field(w.text, "audacity", "word", "\t\r\n")
        lines.append(f"{_seconds(w.start):.3f}\t{_seconds(w.end):.3f}\t{text}\n")
    return "".join(lines)


def render_tsv(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """``start<TAB>end<TAB>word<TAB>score`` with a header, written by the csv module (a field holding a quote,
    a tab or a line break is quoted, as csv readers and pandas expect); seconds at 3 decimals, score at 4
    (empty: none)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["start", "end", "word", "score"])
    for w in _by_time(result.words):
        score = "" if w.score is None else f"{w.score:.4f}"
        writer.writerow([f"{_seconds(w.start):.3f}", f"{_seconds(w.end):.3f}", w.text, score])
    return out.getvalue()


def render_whisperx(result: AlignedTranscript, utterance_id: str, options: WriteOptions = WriteOptions()) -> str:
    """WhisperX's JSON: ``segments`` (``start``, ``end``, ``text``, ``words``: ``word``, ``start``, ``end``,
    ``score``) and ``word_segments`` (every word); times rounded as in every format. A word with nothing aligned
    has no times or score, as WhisperX writes it."""
    def word(span: TimedSpan) -> dict:
        if span.score is None:
            return {"word": span.text}
        return {"word": span.text, "start": _seconds(span.start), "end": _seconds(span.end),
                "score": round(span.score, 4)}

    members: list[list[dict]] = [[] for _ in result.segments]
    every = [word(w) for w in result.words]
    for entry, line in zip(every, result.word_segment):
        members[line].append(entry)
    segments = [{"start": _seconds(s.start), "end": _seconds(s.end), "text": s.text, "words": words}
                for s, words in zip(result.segments, members)]
    return json.dumps({"segments": segments, "word_segments": every}, ensure_ascii=False, allow_nan=False,
                      indent=2) + "\n"


_RENDERERS: dict[str, Callable[[AlignedTranscript, str, WriteOptions], str]] = {
    "json": render_json,
    "ctm": render_ctm,
    "srt": render_srt,
    "vtt": render_vtt,
    "ass": render_ass,
    "textgrid": render_textgrid,
    "audacity": render_audacity,
    "tsv": render_tsv,
    "whisperx": render_whisperx,
    "html": render_html,
}


def render_alignment(result: AlignedTranscript, fmt: str, utterance_id: str,
                     options: WriteOptions = WriteOptions()) -> str:
    """The whole text of ``result`` as a file in format ``fmt`` (one of ``FORMATS``)."""
    if fmt not in _RENDERERS:
        raise CtcToolError(f"unknown alignment format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    return _RENDERERS[fmt](result, utterance_id, options)


def write_alignment(path: str | os.PathLike, result: AlignedTranscript, fmt: str, utterance_id: str,
                    options: WriteOptions = WriteOptions()) -> None:
    """Write ``render_alignment(result, fmt, utterance_id, options)`` to ``path`` atomically, as UTF-8 with ``\\n``
    line ends."""
    with atomic_open(path, "wb") as handle:
        handle.write(render_alignment(result, fmt, utterance_id, options).encode("utf-8"))
