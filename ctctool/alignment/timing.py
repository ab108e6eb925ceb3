"""Frames to seconds, and the timed result of an alignment.

``SpanTimes`` turns frame indices into seconds; ``BoundaryCorrection`` is a model's
calibration of its CTC spikes, applied to words and lines; ``AlignedTranscript`` is
what every alignment output format is written from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ctctool.errors import CtcToolError


@dataclass(frozen=True)
class SpanTimes:
    """Frame index -> seconds: ``frame * frame_shift + offset``, never before 0 (a negative offset, as a model
    whose frames are centred on their hop has, would put the start of the first frame before the audio)."""

    frame_shift: float
    offset: float = 0.0

    def seconds(self, frame: int) -> float:
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
    ``start`` and ``end``. Neighbours do not overlap after the shift: where a shifted end would
    pass the next shifted start, both meet halfway between the two.
    """

    start: float = 0.0
    end: float = 0.0
    start_after_gap: tuple[tuple[float, float], ...] = ()
    end_before_gap: tuple[tuple[float, float], ...] = ()

    def __post_init__(self):
        for name in ("start", "end"):
            if not math.isfinite(getattr(self, name)):
                raise CtcToolError(f"`{name}`: expected a finite shift in seconds, found {getattr(self, name)}")
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

    def as_dict(self) -> dict:
        """The correction as a checkpoint's ``calibration`` holds it (``from_dict`` reads it back)."""
        return {"word_start": self.start, "word_end": self.end,
                "word_start_after_gap": [list(p) for p in self.start_after_gap],
                "word_end_before_gap": [list(p) for p in self.end_before_gap]}

    @classmethod
    def from_dict(cls, calibration: dict) -> "BoundaryCorrection":
        """The correction in a checkpoint's ``calibration`` (an empty one: none)."""
        return cls(float(calibration.get("word_start", 0.0)), float(calibration.get("word_end", 0.0)),
                   calibration.get("word_start_after_gap") or (), calibration.get("word_end_before_gap") or ())

    def apply(self, spans: tuple[TimedSpan, ...], until: float | None = None) -> tuple[TimedSpan, ...]:
        """Shifted spans (zero-length ones, i.e. unaligned words, stay as they are, and are no one's neighbour).

        Where a shifted end would pass the next shifted start, both meet halfway
        between the two, so that a boundary between touching words moves by the mean of the
        two shifts. With ``until`` (seconds: the end of the audio's last frame), no time is put
        past it: a shift that moves a final end later must not put it after the audio.
        """
        if self == BoundaryCorrection():
            return spans if until is None else _within(spans, until)
        aligned = [i for i, s in enumerate(spans) if s.end > s.start]
        starts = {i: max(0.0, spans[i].start + self.start) for i in aligned}
        ends = {i: spans[i].end + self.end for i in aligned}
        for i, j in zip(aligned, aligned[1:]):
            gap = spans[j].start - spans[i].end
            ends[i] = spans[i].end + _shift_for(gap, self.end_before_gap, self.end)
            starts[j] = max(0.0, spans[j].start + _shift_for(gap, self.start_after_gap, self.start))
        for i, j in zip(aligned, aligned[1:]):
            if ends[i] > starts[j]:
                ends[i] = starts[j] = (ends[i] + starts[j]) / 2
        out = list(spans)
        for i in aligned:
            if ends[i] > starts[i]:
                out[i] = TimedSpan(spans[i].text, starts[i], ends[i], spans[i].score, spans[i].flagged)
        return tuple(out) if until is None else _within(tuple(out), until)


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
