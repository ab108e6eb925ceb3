"""Frames to seconds, and the timed result of an alignment.

``SpanTimes`` turns frame indices into seconds; ``BoundaryCorrection`` is a model's
calibration of its CTC spikes, applied to words and lines; ``AlignedTranscript`` is
what every alignment output format is written from.
"""

from __future__ import annotations

from dataclasses import dataclass


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

    Neighbours never overlap after the shift: an end that would pass the next start stops
    there, and every span keeps a positive length when it had one.
    """

    start: float = 0.0
    end: float = 0.0

    def apply(self, spans: tuple[TimedSpan, ...]) -> tuple[TimedSpan, ...]:
        """Shifted spans (zero-length ones, i.e. unaligned words, stay as they are).

        Where a shifted end would pass the next shifted start, both meet halfway
        between the two, so that a boundary between touching words moves by the mean of the
        two shifts.
        """
        if self.start == 0.0 and self.end == 0.0:
            return spans
        aligned = [i for i, s in enumerate(spans) if s.end > s.start]
        starts = {i: max(0.0, spans[i].start + self.start) for i in aligned}
        ends = {i: spans[i].end + self.end for i in aligned}
        for i, j in zip(aligned, aligned[1:]):
            if ends[i] > starts[j]:
                ends[i] = starts[j] = (ends[i] + starts[j]) / 2
        out = list(spans)
        for i in aligned:
            if ends[i] > starts[i]:
                out[i] = TimedSpan(spans[i].text, starts[i], ends[i], spans[i].score, spans[i].flagged)
        return tuple(out)


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
