"""Subtitle cues: timed words laid out into cues, SRT and WebVTT files read for re-timing, ASS karaoke text.

Times are seconds. ``alignment_writers`` turns cues into SRT, WebVTT and ASS files.

Layout (``layout_cues``): a segment (a transcript line) that does not fit in one cue is cut into several,
always between words. A cut after sentence punctuation (. ! ? ...) beats one after , ; : or a dash,
which beats any other; among cuts of one kind the longer pause between the two words wins, then cues
of even length. A line that fits is never cut. Each cue's text is wrapped into the fewest lines, as
even as possible; a word longer than a line is a line of its own, never split.

Re-timing (``read_subtitles``, ``retimed_cues``): each cue of an SRT or WebVTT file is aligned as one
transcript line (its lines joined by spaces, markup removed) and written back with its own text.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from ctctool.alignment.timing import TimedSpan
from ctctool.errors import CtcToolError
from ctctool.io.times import milliseconds as _ms

#: Lines per cue when ``max_line_width`` wraps and ``max_lines`` is not given (broadcast practice).
LINES_PER_CUE = 2
#: The subtitle formats a transcript can be read from, by file extension.
SUBTITLE_SUFFIXES = {".srt": "srt", ".vtt": "vtt"}

SENTENCE_END = frozenset(".!?…。！？")
CLAUSE_END = frozenset(",;:—–、，；：")
CLOSERS = "\"'”’»)]"  # skipped at the end of a word before looking for its punctuation

# What a layout costs (lower is better): each cut by its kind, less a bonus for the pause it falls in,
# plus a cost per cue and for room left in it. The kinds are far apart, so punctuation decides first.
_CUT_COST = (0.0, 100.0, 200.0)  # after . ! ?, after , ; : or a dash, anywhere else
_PAUSE_BONUS = 10.0  # per second of silence between the two words, counted up to 1 s
_CUE_COST = 20.0  # more than any pause bonus: a line that fits is not cut at a pause
_SLACK_COST = 2.0  # times (1 - fill) ** 2 of each cue: evens out cue lengths


@dataclass(frozen=True)
class Cue:
    """A subtitle shown from ``start`` to ``end`` seconds with its text as ``lines``.

    ``words``: the timed words it shows, in order (empty when not known), for karaoke. ``markup``: the
    lines are already written in the output format's markup (a re-timed cue's own text), not plain text.
    """

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[TimedSpan, ...] = ()
    markup: bool = False


@dataclass(frozen=True)
class SubtitleCue:
    """A cue read from a subtitle file of format ``fmt`` (``srt`` or ``vtt``): its ``number`` (position, from 1),
    the ``line`` of the file where it starts, its text ``lines`` as written, and ``plain``, those lines without
    markup (tags, ``{\\an8}``, entities)."""

    number: int
    line: int
    lines: tuple[str, ...]
    plain: tuple[str, ...]
    fmt: str

    @property
    def text(self) -> str:
        """What is aligned: the plain lines joined by single spaces ("" when nothing is left)."""
        return " ".join(" ".join(self.plain).split())


def check_layout(max_line_width: int | None = None, max_lines: int | None = None,
                 max_cue_duration: float | None = None, min_gap: float = 0.0) -> None:
    """Raise CtcToolError for a layout limit out of range."""
    for name, value in (("max_line_width", max_line_width), ("max_lines", max_lines)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise CtcToolError(f"`{name}` {value!r}: expected a whole number >= 1")
    if max_lines is not None and max_line_width is None:
        raise CtcToolError("`max_lines` needs `max_line_width` (lines are made by wrapping at that width)")
    if max_cue_duration is not None and not (math.isfinite(max_cue_duration) and max_cue_duration > 0):
        raise CtcToolError(f"`max_cue_duration` {max_cue_duration}: expected seconds > 0, e.g. 7")
    if not (math.isfinite(min_gap) and min_gap >= 0):
        raise CtcToolError(f"`min_gap` {min_gap}: expected seconds >= 0, e.g. 0.08")


def _kind(word: str) -> int:
    """0: the word ends a sentence, 1: a clause, 2: neither."""
    last = word.rstrip(CLOSERS)[-1:]
    return 0 if last in SENTENCE_END else 1 if last in CLAUSE_END else 2


def wrap_words(words: Sequence[str], width: int) -> tuple[str, ...]:
    """``words`` in the fewest lines of at most ``width`` characters (a longer word alone on its line), as
    even as possible: the sum over lines of the squared room left is smallest, less ``(width / 4) ** 2`` for
    each line break after punctuation."""
    n = len(words)
    bonus = (width / 4) ** 2
    best: list[tuple[int, float]] = [(0, 0.0)] + [(n + 1, 0.0)] * n  # (lines, cost) of words[:j]
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        length = -1
        for i in range(j - 1, -1, -1):
            length += 1 + len(words[i])
            if length > width and i < j - 1:
                break
            lines, cost = best[i]
            ends_clause = j < n and _kind(words[j - 1]) < 2
            candidate = (lines + 1, cost + max(width - length, 0) ** 2 - (bonus if ends_clause else 0.0))
            if candidate < best[j]:
                best[j], back[j] = candidate, i
    lines_out, j = [], n
    while j > 0:
        lines_out.append(" ".join(words[back[j]:j]))
        j = back[j]
    return tuple(reversed(lines_out))


def _split(words: Sequence[TimedSpan], width: int | None, lines: int, max_duration: float | None) -> list[int]:
    """Where the cues of one segment start (indices into ``words``, the first is 0): the cheapest layout, found
    by dynamic programming over the word that ends each cue."""
    n = len(words)
    lengths = [len(w.text) for w in words]
    starts_ms, ends_ms = [_ms(w.start) for w in words], [_ms(w.end) for w in words]
    limit_ms = None if max_duration is None else _ms(max_duration)

    def cut(k: int) -> float:
        """The cost of ending a cue after word k (k < n - 1)."""
        pause = max(words[k + 1].start - words[k].end, 0.0)
        return _CUT_COST[_kind(words[k].text)] - _PAUSE_BONUS * min(pause, 1.0)

    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        end_cost = cut(j - 1) if j < n else 0.0
        first, last, chars, count, used = starts_ms[j - 1], ends_ms[j - 1], -1, 0, -1
        for i in range(j - 1, -1, -1):  # the cue words[i:j], grown to the left; greedy lines from the right
            first = starts_ms[i] if starts_ms[i] < first else first
            last = ends_ms[i] if ends_ms[i] > last else last
            chars += 1 + lengths[i]
            if used < 0 or width is None or used + 1 + lengths[i] > width:
                count, used = count + 1, lengths[i]
            else:
                used += 1 + lengths[i]
            duration = last - first
            too_long = limit_ms is not None and duration > limit_ms
            if i < j - 1 and (too_long or (width is not None and count > lines)):
                break  # a single word is a cue whatever its length
            parts = [] if limit_ms is None else [duration / max(limit_ms, 1)]
            if width is not None:
                parts.append(chars / (width * lines))
            fullness = min(max(parts, default=1.0), 1.0)
            cost = best[i] + _CUE_COST + _SLACK_COST * (1.0 - fullness) ** 2 + end_cost
            if cost < best[j]:
                best[j], back[j] = cost, i
    starts, j = [], n
    while j > 0:
        starts.append(back[j])
        j = back[j]
    return sorted(starts)


def layout_cues(words: Sequence[TimedSpan], word_segment: Sequence[int], *, max_line_width: int | None = None,
                max_lines: int | None = None, max_cue_duration: float | None = None,
                duration: float | None = None) -> tuple[Cue, ...]:
    """Cues for ``words`` (``word_segment[i]``: the segment of word i), in segment order; a cue never holds
    words of two segments. ``max_line_width`` characters per line (None: one line per cue), ``max_lines``
    lines per cue (default ``LINES_PER_CUE``), ``max_cue_duration`` seconds per cue (None: no limit); a
    single word is a cue even when it breaks a limit. See the module docstring for where cues are cut. A cue
    with nothing aligned (``♪♪``) gets the time between its neighbours (``fill_gaps``, up to ``duration``)."""
    check_layout(max_line_width, max_lines, max_cue_duration)
    if len(word_segment) != len(words):
        raise CtcToolError(f"`word_segment` has {len(word_segment)} entries for {len(words)} words; expected one "
                           "segment index per word")
    lines = max_lines or LINES_PER_CUE
    groups: dict[int, list[TimedSpan]] = {}
    for word, segment in zip(words, word_segment):
        groups.setdefault(segment, []).append(word)
    cues = []
    for segment in sorted(groups):
        group = groups[segment]
        starts = _split(group, max_line_width, lines, max_cue_duration)
        for begin, stop in zip(starts, [*starts[1:], len(group)]):
            chunk = group[begin:stop]
            texts = [w.text for w in chunk]
            text_lines = wrap_words(texts, max_line_width) if max_line_width else (" ".join(texts),)
            cues.append(Cue(min(w.start for w in chunk), max(w.end for w in chunk), text_lines, tuple(chunk)))
    return fill_gaps(cues, duration, max_cue_duration)


def segment_cues(segments: Sequence[TimedSpan], words: Sequence[TimedSpan] = (),
                 word_segment: Sequence[int] = ()) -> tuple[Cue, ...]:
    """One cue per segment, its text as written; with ``word_segment`` (one per word) the cue knows its words."""
    known = len(word_segment) == len(words) and len(words) > 0
    members: dict[int, list[TimedSpan]] = {}
    for word, segment in zip(words, word_segment if known else ()):
        members.setdefault(segment, []).append(word)
    return tuple(Cue(s.start, s.end, (s.text,), tuple(members.get(k, ()))) for k, s in enumerate(segments))


# --- re-timing a subtitle file -----------------------------------------------------------------------------

_SRT_TIMES = re.compile(r"\d+:[0-5]\d:[0-5]\d[,.]\d{3}\s*-->\s*\d+:[0-5]\d:[0-5]\d[,.]\d{3}(\s.*)?")
_VTT_TIME = r"(\d{2,}:)?[0-5]\d:[0-5]\d\.\d{3}"
_VTT_TIMES = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}([ \t].*)?")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>")  # <i>, </font>, <v Bob>, <c.loud>, <00:01.000>
_OVERRIDE = re.compile(r"\{\\[^{}]*\}")  # {\an8}, {\i1}: ASS overrides that SRT players honour
_EXAMPLE = {"srt": "00:00:01,000 --> 00:00:04,000", "vtt": "00:00:01.000 --> 00:00:04.000"}


def subtitle_format(path: str | Path) -> str | None:
    """``srt`` or ``vtt`` for a file with that extension (any case), else None."""
    return SUBTITLE_SUFFIXES.get(Path(path).suffix.lower())


def _plain(line: str, fmt: str) -> str:
    text = _TAG.sub("", _OVERRIDE.sub("", line))
    return " ".join((html.unescape(text) if fmt == "vtt" else text).split())


def read_subtitles(text: str, where: str, fmt: str) -> tuple[SubtitleCue, ...]:
    """The cues of ``text``, an SRT or WebVTT file (``fmt``), in order; ``where`` names the file in errors.

    Strict: a block without its number (SRT) or its time line, a time line inside a cue's text (a blank line
    missing between cues), a cue without text, or no cue at all is a CtcToolError naming the line and cue.
    VTT NOTE, STYLE and REGION blocks are skipped; cue settings and identifiers are not kept.
    """
    if fmt not in _EXAMPLE:
        raise CtcToolError(f"`fmt` {fmt!r}: expected srt or vtt")
    lines = [line[:-1] if line.endswith("\r") else line for line in text.removeprefix("\ufeff").split("\n")]
    k = 0
    if fmt == "vtt":
        if not re.fullmatch(r"WEBVTT([ \t].*)?", lines[0]):
            raise CtcToolError(f"{where} line 1: expected the WEBVTT header, found {lines[0][:40]!r}; "
                               "a WebVTT file starts with the line WEBVTT")
        while k < len(lines) and lines[k].strip():
            k += 1
    times = _SRT_TIMES if fmt == "srt" else _VTT_TIMES
    cues: list[SubtitleCue] = []
    while k < len(lines):
        if not lines[k].strip():
            k += 1
            continue
        first, number = k, len(cues) + 1
        where_cue = f"{where} line {k + 1}: cue {number}"
        if fmt == "vtt" and re.match(r"(NOTE|STYLE|REGION)([ \t]|$)", lines[k]):
            while k < len(lines) and lines[k].strip():
                k += 1
            continue
        if fmt == "srt":
            if not lines[k].strip().isdecimal():
                found = "a time line" if times.fullmatch(lines[k].strip()) else repr(lines[k][:40])
                raise CtcToolError(f"{where_cue}: expected the cue number, found {found}; each cue is a number, "
                                   f"a line {_EXAMPLE[fmt]}, its text, then a blank line")
            k += 1
        elif "-->" not in lines[k]:
            k += 1  # a cue identifier
        if k >= len(lines) or not times.fullmatch(lines[k].strip()):
            found = repr(lines[k][:60]) if k < len(lines) else "the end of the file"
            raise CtcToolError(f"{where} line {min(k, len(lines) - 1) + 1}: cue {number}: expected times like "
                               f"{_EXAMPLE[fmt]}, found {found}")
        k += 1
        text_lines = []
        while k < len(lines) and lines[k].strip():
            if "-->" in lines[k]:
                raise CtcToolError(f"{where} line {k + 1}: cue {number}: a time line inside the cue's text; put a "
                                   "blank line between two cues")
            text_lines.append(lines[k].rstrip())
            k += 1
        if not text_lines:
            raise CtcToolError(f"{where} line {first + 1}: cue {number} has no text; delete the cue or give it "
                               "its text")
        cues.append(SubtitleCue(number, first + 1, tuple(text_lines),
                                tuple(_plain(line, fmt) for line in text_lines), fmt))
    if not cues:
        raise CtcToolError(f"{where}: no cues; expected {fmt} cues (a line {_EXAMPLE[fmt]}, then the text)")
    return tuple(cues)


def alignment_text(cues: Sequence[SubtitleCue]) -> str:
    """The transcript aligned for ``cues``: one line per cue that has text left once its markup is removed."""
    return "".join(cue.text + "\n" for cue in cues if cue.text)


def retimed_cues(sources: Sequence[SubtitleCue], segments: Sequence[TimedSpan], words: Sequence[TimedSpan],
                 word_segment: Sequence[int], fmt: str, duration: float) -> tuple[Cue, ...]:
    """One cue per source cue, in order, with the times of the segment aligned from its text.

    Cues and segments are paired in order by text (a segment that is no cue's is skipped). A cue with
    nothing aligned (no text once its markup is removed, no segment of its text, or no letter the model
    knows, as ``♪♪``) gets the time between its neighbours (see ``fill_gaps``). The text is the cue's own
    lines when ``fmt`` is the file's format, else its plain lines.
    """
    members: dict[int, list[TimedSpan]] = {}
    if len(word_segment) == len(words):
        for word, segment in zip(words, word_segment):
            members.setdefault(segment, []).append(word)
    cues, s = [], 0
    for source in sources:
        match = None
        if source.text:
            match = next((m for m in range(s, len(segments)) if segments[m].text == source.text), None)
        if match is None:
            cues.append(_retimed(source, 0.0, 0.0, (), fmt))
            continue
        segment, s = segments[match], match + 1
        cues.append(_retimed(source, segment.start, segment.end, members.get(match, ()), fmt))
    return fill_gaps(cues, duration)


def fill_gaps(cues: Sequence[Cue], duration: float | None = None, longest: float | None = None) -> tuple[Cue, ...]:
    """``cues`` (in order) where each run of cues of zero length (nothing aligned) shares evenly the time
    between the cues around it: from the end of the one before (or 0) to the start of the one after (or
    ``duration``; None: no time after the last aligned cue); each such cue lasts at most ``longest`` seconds."""
    out, k = list(cues), 0
    while k < len(out):
        if out[k].end > out[k].start:
            k += 1
            continue
        stop = k
        while stop < len(out) and not out[stop].end > out[stop].start:
            stop += 1
        left = out[k - 1].end if k else 0.0
        right = out[stop].start if stop < len(out) else left if duration is None else duration
        step = max(right - left, 0.0) / (stop - k)
        length = step if longest is None else min(step, longest)
        for r in range(k, stop):
            out[r] = replace(out[r], start=left + (r - k) * step, end=left + (r - k) * step + length)
        k = stop
    return tuple(out)


def _retimed(source: SubtitleCue, start: float, end: float, words: Sequence[TimedSpan], fmt: str) -> Cue:
    if fmt == source.fmt:
        return Cue(start, end, source.lines, tuple(words), markup=True)
    return Cue(start, end, tuple(line for line in source.plain if line), tuple(words))


# --- ASS (Advanced SubStation Alpha) -----------------------------------------------------------------------


def ass_escape(text: str) -> str:
    """``text`` as literal ASS event text: every backslash followed by a WORD JOINER (so ``\\N`` or ``\\k`` stay
    text, as mpv does), and ``{`` ``}`` as libass's ``\\{`` ``\\}`` (no override block can open)."""
    return text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def ass_event_text(cue: Cue, start_cs: int, end_cs: int) -> str:
    """The ASS text of ``cue`` shown from ``start_cs`` to ``end_cs`` (centiseconds): lines joined by ``\\N``, and
    when its words are known each preceded by ``{\\k<cs>}``, gaps between words as empty ``{\\k<cs>}`` tags,
    the last word lasting to the end, so that the tags sum to ``end_cs - start_cs``."""
    counts = [len(line.split()) for line in cue.lines]
    if not cue.words or sum(counts) != len(cue.words):
        return "\\N".join(ass_escape(line) for line in cue.lines)
    line_ends, total = set(), 0
    for count in counts[:-1]:
        total += count
        line_ends.add(total)
    parts, cursor, last = [], start_cs, len(cue.words) - 1
    for k, word in enumerate(cue.words):
        begin = min(max(_cs(word.start), cursor), end_cs)
        if begin > cursor:
            parts.append(f"{{\\k{begin - cursor}}}")
        finish = end_cs if k == last else min(max(_cs(word.end), begin), end_cs)
        parts.append(f"{{\\k{finish - begin}}}{ass_escape(word.text)}")
        cursor = finish
        if k != last:
            parts.append("\\N" if k + 1 in line_ends else " ")
    return "".join(parts)


def _cs(seconds: float) -> int:
    return math.floor(seconds * 100 + 0.5)


def ass_file(events: Sequence[tuple[int, int, str]], title: str) -> str:
    """A whole ASS file: a default style and one Dialogue per ``(start_cs, end_cs, text)``. Needs pysubs2."""
    try:
        import pysubs2
    except ImportError:
        raise CtcToolError("ass output needs pysubs2: pip install 'ctctool[subtitles]'") from None
    subs = pysubs2.SSAFile()
    subs.info["Title"] = title
    for start, end, text in events:
        subs.events.append(pysubs2.SSAEvent(start=start * 10, end=end * 10, text=text))
    return subs.to_string("ass")


def read_subtitle_file(path: str | Path) -> tuple[SubtitleCue, ...] | None:
    """The cues of an ``.srt`` or ``.vtt`` file (UTF-8), or None for a file of another extension."""
    from ctctool.io.text import read_text

    fmt = subtitle_format(path)
    return None if fmt is None else read_subtitles(read_text(path), str(path), fmt)
