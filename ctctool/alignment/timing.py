"""Frames to seconds, and the timed result of an alignment.

``SpanTimes`` turns frame indices into seconds; ``BoundaryCorrection`` is a model's
calibration of its CTC spikes, applied to words and lines; ``AlignedTranscript`` is
what every alignment output format is written from.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, replace

from ctctool.errors import CtcToolError


@dataclass(frozen=True)
class SpanTimes:
    """Frame index -> seconds: ``frame * frame_shift + offset``, never before 0 (a negative offset, as a model
    whose frames are centred on their hop has, would put the start of the first frame before the audio)."""

    frame_shift: float
    offset: float = 0.0

    def seconds(self, frame: float) -> float:
        """Seconds of ``frame`` (a whole frame index, or a fractional one as ``BoundaryCorrection.edge_temperature``
        gives)."""
        return max(0.0, frame * self.frame_shift + self.offset)


@dataclass(frozen=True)
class TimedSpan:
    """A span in seconds: ``text`` from ``start`` to ``end``, confidence ``score`` (None: not aligned)."""

    text: str
    start: float
    end: float
    score: float | None
    flagged: bool = False


@dataclass(frozen=True)
class BoundaryCorrection:
    """Seconds added to every start and every end (a model's calibration of its CTC spikes).

    Where a CTC spike sits in its sound depends on what follows: a word's last spike comes
    earlier in the word before a pause than before a touching word. So the shift of an edge
    can depend on the gap on that side, between this word's aligned edge and its aligned
    neighbour's (before any shift):

    - ``start_after_gap``: (gap, shift) pairs in increasing gap; a start at least ``gap``
      seconds after the previous word's end gets ``shift`` from the pair with the largest such
      gap, instead of ``start``.
    - ``end_before_gap``: the same for an end and the next word's start.

    The first start and the last end of the words, and gaps below the first pair's, get
    ``start`` and ``end``.

    The sound a word begins or ends with moves its spike too (a vowel's spike comes later after
    its onset than a stop's). ``start_by_letter`` and ``end_by_letter`` are (letter, shift)
    pairs: a start whose word begins with that letter (``edge_letter``: its first letter or
    digit, case-folded) gets ``shift`` on top of the shift for its gap; an end the same for the
    word's last letter. Letters not listed add nothing.

    Neighbours do not overlap after the shift: where a shifted end would pass the next shifted
    start, both meet halfway between the two.

    ``edge_temperature`` says how the aligner measures the edges that the shifts apply to. 0: a word
    starts at the first frame of its first label on the best path and ends after the last frame of its
    last label (whole 20 ms frames for the built-in model). T > 0: at the expected frame at which a path
    enters the word's first label (leaves its last), over the paths that agree with the best one
    ``ctctool.alignment.soft_edges.WINDOW`` frames before and after, with the log-probs divided by T: a
    fractional frame, off the frame grid. A correction fitted on edges measured one way is only right
    for edges measured that way.
    """

    start: float = 0.0
    end: float = 0.0
    start_after_gap: tuple[tuple[float, float], ...] = ()
    end_before_gap: tuple[tuple[float, float], ...] = ()
    start_by_letter: tuple[tuple[str, float], ...] = ()
    end_by_letter: tuple[tuple[str, float], ...] = ()
    edge_temperature: float = 0.0

    def __post_init__(self):
        for name in ("start", "end"):
            if not math.isfinite(getattr(self, name)):
                raise CtcToolError(f"`{name}`: expected a finite shift in seconds, found {getattr(self, name)}")
        try:
            temperature = float(self.edge_temperature)
        except (TypeError, ValueError):
            temperature = math.nan
        wrong_type = isinstance(self.edge_temperature, (str, bytes, bool))
        if wrong_type or not (math.isfinite(temperature) and temperature >= 0):
            raise CtcToolError(f"`edge_temperature`: expected 0 (best-path frame edges) or a finite temperature > 0 "
                               f"(expected edges), found {self.edge_temperature!r}")
        object.__setattr__(self, "edge_temperature", temperature)
        for name in ("start_after_gap", "end_before_gap"):
            expected = f"`{name}`: expected (gap, shift) pairs of finite seconds, gaps >= 0 and increasing"
            try:
                pairs = tuple((float(gap), float(shift)) for gap, shift in getattr(self, name) or ())
            except (TypeError, ValueError) as exc:
                raise CtcToolError(f"{expected}; found {getattr(self, name)!r}") from exc
            object.__setattr__(self, name, pairs)
            gaps = [gap for gap, _ in pairs]
            if any(not math.isfinite(v) for pair in pairs for v in pair) or gaps != sorted(set(gaps)) \
                    or any(gap < 0 for gap in gaps):
                raise CtcToolError(f"{expected}; found {list(pairs)}")
        for name in ("start_by_letter", "end_by_letter"):
            expected = f"`{name}`: expected (letter, shift) pairs: one case-folded letter or digit each, finite seconds"
            value = getattr(self, name)
            try:
                items = list(value.items() if isinstance(value, dict) else (() if value is None else value))
                if any(not isinstance(letter, str) or isinstance(shift, (str, bytes)) for letter, shift in items):
                    raise TypeError(name)
                pairs = tuple(sorted((letter, float(shift)) for letter, shift in items))
            except (TypeError, ValueError) as exc:
                raise CtcToolError(f"{expected}; found {value!r}") from exc
            letters = [letter for letter, _ in pairs]
            if any(not letter or edge_letter(letter) != letter or not math.isfinite(shift) for letter, shift in pairs) \
                    or len(set(letters)) != len(letters):
                raise CtcToolError(f"{expected}, each letter once; found {list(pairs)}")
            object.__setattr__(self, name, pairs)

    def as_dict(self) -> dict:
        """The correction as a checkpoint's ``calibration`` holds it (``from_dict`` reads it back)."""
        return {"word_start": self.start, "word_end": self.end,
                "word_start_after_gap": [list(p) for p in self.start_after_gap],
                "word_end_before_gap": [list(p) for p in self.end_before_gap],
                "word_start_by_letter": dict(self.start_by_letter), "word_end_by_letter": dict(self.end_by_letter),
                "word_edge_temperature": self.edge_temperature}

    @classmethod
    def from_dict(cls, calibration: dict) -> "BoundaryCorrection":
        """The correction in a checkpoint's ``calibration`` (an empty one: none)."""
        return cls(float(calibration.get("word_start", 0.0)), float(calibration.get("word_end", 0.0)),
                   calibration.get("word_start_after_gap") or (), calibration.get("word_end_before_gap") or (),
                   calibration.get("word_start_by_letter") or (), calibration.get("word_end_by_letter") or (),
                   calibration.get("word_edge_temperature", 0.0))

    def apply(self, spans: tuple[TimedSpan, ...], until: float | None = None) -> tuple[TimedSpan, ...]:
        """Shifted spans (zero-length ones, i.e. unaligned words, stay as they are, and are no one's neighbour).

        Where a shifted end would pass the next shifted start, both meet halfway
        between the two, so that a boundary between touching words moves by the mean of the
        two shifts. With ``until`` (seconds: the end of the audio's last frame), no time is put
        past it: a shift that moves a final end later must not put it after the audio.
        """
        if replace(self, edge_temperature=0.0) == BoundaryCorrection():
            return spans if until is None else _within(spans, until)
        aligned = [i for i, s in enumerate(spans) if s.end > s.start]
        start_shift = {i: self.start for i in aligned}
        end_shift = {i: self.end for i in aligned}
        for i, j in zip(aligned, aligned[1:]):
            gap = spans[j].start - spans[i].end
            end_shift[i] = _shift_for(gap, self.end_before_gap, self.end)
            start_shift[j] = _shift_for(gap, self.start_after_gap, self.start)
        by_start, by_end = dict(self.start_by_letter), dict(self.end_by_letter)
        starts = {i: max(0.0, spans[i].start + start_shift[i] + by_start.get(edge_letter(spans[i].text), 0.0))
                  for i in aligned}
        ends = {i: spans[i].end + end_shift[i] + by_end.get(edge_letter(spans[i].text, last=True), 0.0)
                for i in aligned}
        for i, j in zip(aligned, aligned[1:]):
            if ends[i] > starts[j]:
                ends[i] = starts[j] = (ends[i] + starts[j]) / 2
        out = list(spans)
        for i in aligned:
            if ends[i] > starts[i]:
                out[i] = TimedSpan(spans[i].text, starts[i], ends[i], spans[i].score, spans[i].flagged)
        return tuple(out) if until is None else _within(tuple(out), until)


def edge_letter(text: str, last: bool = False) -> str:
    """The first (``last``: the last) letter or digit of ``text`` (NFC), case-folded to one character (of a
    fold of several, its first, or with ``last`` its last); '' if it has none. ``BoundaryCorrection`` looks a
    word's edges up by it."""
    text = unicodedata.normalize("NFC", text)
    for char in (reversed(text) if last else text):
        if unicodedata.category(char)[0] in "LN":
            folded = char.casefold()
            return folded[-1:] if last else folded[:1]
    return ""


def _within(spans: tuple[TimedSpan, ...], until: float) -> tuple[TimedSpan, ...]:
    """``spans`` with no time past ``until``."""
    return tuple(replace(s, start=min(s.start, until), end=min(s.end, until)) if s.end > until else s
                 for s in spans)


def _shift_for(gap: float, pairs: tuple[tuple[float, float], ...], default: float) -> float:
    """The shift of the pair with the largest gap <= ``gap`` (``default`` when there is none)."""
    shift = default
    for at_least, pair_shift in pairs:
        if gap >= at_least - 1e-9:  # gaps are whole frames apart: rounding must not move one across
            shift = pair_shift
    return shift


@dataclass(frozen=True)
class AlignedTranscript:
    """Everything an alignment output format needs, in seconds.

    ``tokens`` are the aligned characters (word delimiters left out), ``words`` the
    user's original words, ``segments`` the non-empty lines of the transcript.
    ``normalization`` lists how words were rewritten to fit the vocabulary.
    ``word_segment[i]`` is the index in ``segments`` of word i, ``token_word[j]`` the index in
    ``words`` of token j (empty when not known).
    """

    words: tuple[TimedSpan, ...]
    segments: tuple[TimedSpan, ...]
    tokens: tuple[TimedSpan, ...]
    duration: float
    frame_shift: float
    model: str
    normalization: tuple[str, ...] = ()
    word_segment: tuple[int, ...] = ()
    token_word: tuple[int, ...] = ()
