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

import json
import math
import os
from typing import Callable, Sequence

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.alignment.timing import AlignedTranscript, TimedSpan

FORMATS = ("json", "ctm", "srt", "vtt", "textgrid", "audacity", "tsv")


def _ms(seconds: float) -> int:
    """Seconds -> whole milliseconds, half up."""
    return math.floor(seconds * 1000 + 0.5)


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


def render_json(result: AlignedTranscript, utterance_id: str) -> str:
    """One object; times rounded to ms (3 decimals), scores to 4 decimals, a missing score is null."""

    def score(span: TimedSpan) -> float | None:
        return None if span.score is None else round(span.score, 4)

    def times(span: TimedSpan) -> dict:
        return {"start": round(span.start, 3), "end": round(span.end, 3), "score": score(span)}

    document = {
        "id": utterance_id,
        "model": result.model,
        "frame_shift": result.frame_shift,
        "duration": round(result.duration, 3),
        "words": [{"word": w.text, **times(w)} for w in result.words],
        "segments": [{"text": s.text, **times(s), "flagged": s.flagged} for s in result.segments],
        "tokens": [{"token": t.text, **times(t)} for t in result.tokens],
        "normalization": list(result.normalization),
    }
    try:
        return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=2) + "\n"
    except ValueError as exc:
        raise CtcToolError(f"json output of {utterance_id!r}: a time or score is not finite ({exc})") from exc


def render_ctm(result: AlignedTranscript, utterance_id: str) -> str:
    """NIST CTM: ``<id> 1 <start> <duration> <word> <confidence>``, seconds at 3 decimals."""
    channel_id = _one_field(utterance_id, "ctm", "utterance id", " \t\r\n")
    lines = []
    for word in _by_time(result.words):
        start = _ms(word.start)
        length = max(_ms(word.end) - start, 0)
        confidence = 0.0 if word.score is None else min(max(word.score, 0.0), 1.0)
        text = _one_field(word.text, "ctm", "word", " \t\r\n")
        lines.append(f"{channel_id} 1 {start / 1000:.3f} {length / 1000:.3f} {text} {confidence:.4f}\n")
    return "".join(lines)


def _cues(segments: Sequence[TimedSpan]) -> list[tuple[int, int, str]]:
    """(start ms, end ms, text) per segment: in order, non-overlapping, each at least 1 ms long."""
    cues, previous_end = [], 0
    for segment in _by_time(segments):
        start = max(_ms(segment.start), previous_end)
        end = max(_ms(segment.end), start + 1)
        cues.append((start, end, segment.text))
        previous_end = end
    return cues


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def render_srt(result: AlignedTranscript, utterance_id: str) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line between cues."""
    blocks = [
        f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}\n"
        for n, (start, end, text) in enumerate(_cues(result.segments), start=1)
    ]
    return "\n".join(blocks)


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(result: AlignedTranscript, utterance_id: str) -> str:
    """WebVTT: a ``WEBVTT`` header, then cues ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` (``&``, ``<``, ``>`` escaped)."""
    blocks = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{_vtt_text(text)}\n"
        for start, end, text in _cues(result.segments)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def _praat_number(seconds: float) -> str:
    return f"{seconds:.6f}".rstrip("0").rstrip(".") or "0"


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


def render_textgrid(result: AlignedTranscript, utterance_id: str) -> str:
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


def render_audacity(result: AlignedTranscript, utterance_id: str) -> str:
    """Audacity label track: ``start<TAB>end<TAB>word``, seconds at 6 decimals."""
    lines = []
    for w in _by_time(result.words):
        text = _one_field(w.text, "audacity", "word", "\t\r\n")
        lines.append(f"{w.start:.6f}\t{w.end:.6f}\t{text}\n")
    return "".join(lines)


def render_tsv(result: AlignedTranscript, utterance_id: str) -> str:
    """``start<TAB>end<TAB>word<TAB>score`` with a header; seconds at 3 decimals, score at 4 (blank: none)."""
    lines = ["start\tend\tword\tscore\n"]
    for w in _by_time(result.words):
        score = "" if w.score is None else f"{w.score:.4f}"
        text = _one_field(w.text, "tsv", "word", "\t\r\n")
        lines.append(f"{_ms(w.start) / 1000:.3f}\t{_ms(w.end) / 1000:.3f}\t{text}\t{score}\n")
    return "".join(lines)


_RENDERERS: dict[str, Callable[[AlignedTranscript, str], str]] = {
    "json": render_json,
    "ctm": render_ctm,
    "srt": render_srt,
    "vtt": render_vtt,
    "textgrid": render_textgrid,
    "audacity": render_audacity,
    "tsv": render_tsv,
}


def render_alignment(result: AlignedTranscript, fmt: str, utterance_id: str) -> str:
    """The whole text of ``result`` as a file in format ``fmt`` (one of ``FORMATS``)."""
    if fmt not in _RENDERERS:
        raise CtcToolError(f"unknown alignment format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    return _RENDERERS[fmt](result, utterance_id)


def write_alignment(path: str | os.PathLike, result: AlignedTranscript, fmt: str, utterance_id: str) -> None:
    """Write ``render_alignment(result, fmt, utterance_id)`` to ``path`` atomically, as UTF-8 with ``\\n`` line ends."""
    with atomic_open(path, "wb") as handle:
        handle.write(render_alignment(result, fmt, utterance_id).encode("utf-8"))
