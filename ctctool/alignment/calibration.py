"""Measure a model's ``BoundaryCorrection`` from aligned words and their true times.

A CTC model puts a word's spikes inside the word, not on its edges; how far inside depends on
the model and on the gap beside the edge. ``edge_errors`` collects, for one set of utterances
with exact word times, each edge's signed error (aligned - true) and the gap beside it;
``fit_boundary_correction`` turns the errors of one or more such sets into the correction:
medians (robust to the odd misplaced word), each set weighing the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ctctool.alignment.timing import BoundaryCorrection, TimedSpan
from ctctool.errors import CtcToolError

#: Lower edges of the gap ranges that get their own shift, in frames: 0-1, 2, 3-4, 5-9, 10 and more.
GAP_FRAMES = (0, 2, 3, 5, 10)
#: Edges a set needs in a gap range to have a say in its shift.
MIN_EDGES = 20


@dataclass(frozen=True, eq=False)
class EdgeErrors:
    """Signed errors (aligned - true, seconds) of word edges, each with the gap beside it.

    ``start_gaps[k]``: seconds between start k and the previous aligned word's end (NaN for a first word);
    ``end_gaps[k]``: seconds between end k and the next aligned word's start (NaN for a last word).
    All four are 1-D float64 arrays (any sequence is converted): (S,) starts and start gaps, (E,) ends and
    end gaps.
    """

    starts: np.ndarray
    start_gaps: np.ndarray
    ends: np.ndarray
    end_gaps: np.ndarray

    def __post_init__(self):
        for name in ("starts", "start_gaps", "ends", "end_gaps"):
            value = np.asarray(getattr(self, name), dtype=np.float64)
            if value.ndim != 1:
                raise CtcToolError(f"`{name}`: expected a 1-D array, found shape {value.shape}")
            object.__setattr__(self, name, value)
        for errors, gaps in (("starts", "start_gaps"), ("ends", "end_gaps")):
            a, b = getattr(self, errors), getattr(self, gaps)
            if a.size != b.size:
                raise CtcToolError(f"`{gaps}`: expected one gap per edge of `{errors}` ({a.size}), found {b.size}")
            if not np.isfinite(a).all():
                raise CtcToolError(f"`{errors}`: expected finite errors in seconds, found NaN or infinity")

    @staticmethod
    def join(parts: Sequence["EdgeErrors"]) -> "EdgeErrors":
        """One ``EdgeErrors`` of many (e.g. one per utterance)."""
        def cat(name):
            return np.concatenate([getattr(p, name) for p in parts] or [np.zeros(0)])
        return EdgeErrors(cat("starts"), cat("start_gaps"), cat("ends"), cat("end_gaps"))


def edge_errors(words: Sequence[TimedSpan], truth: Sequence[tuple[float | None, float | None]]) -> EdgeErrors:
    """Errors of one utterance's uncorrected aligned ``words`` against ``truth``: (start, end) seconds per word,
    None for an edge that is not known exactly (it is left out). Unaligned (zero-length) words are left out
    and are no one's neighbour."""
    if len(words) != len(truth):
        raise CtcToolError(f"`truth`: expected one (start, end) per word, {len(words)}; found {len(truth)}")
    if any(t is not None and not np.isfinite(t) for pair in truth for t in pair):
        raise CtcToolError("`truth`: expected finite times in seconds (None for an edge not known), found NaN "
                           "or infinity")
    aligned = [i for i, w in enumerate(words) if w.end > w.start]
    starts, start_gaps, ends, end_gaps = [], [], [], []
    for k, i in enumerate(aligned):
        true_start, true_end = truth[i]
        if true_start is not None:
            starts.append(words[i].start - true_start)
            start_gaps.append(words[i].start - words[aligned[k - 1]].end if k else np.nan)
        if true_end is not None:
            ends.append(words[i].end - true_end)
            end_gaps.append(words[aligned[k + 1]].start - words[i].end if k + 1 < len(aligned) else np.nan)
    return EdgeErrors(np.array(starts), np.array(start_gaps), np.array(ends), np.array(end_gaps))


def fit_boundary_correction(sets: Sequence[EdgeErrors], frame_shift: float, *, by_gap: bool = True,
                            gap_frames: Sequence[int] = GAP_FRAMES, min_edges: int = MIN_EDGES
                            ) -> BoundaryCorrection:
    """The correction that cancels the median errors of ``sets`` (each set weighing the same).

    ``start`` and ``end`` cancel the median over every start and every end of a set (with ``by_gap`` they
    are left for the first start and the last end of an utterance; fitting them on those edges alone was
    tried on the built-in model's dev sets and was no better). With ``by_gap``, each
    gap range of ``gap_frames`` (a range's gaps are at least its lower edge, to half a frame, and less than
    the next range's) gets its own shift from the edges beside such a gap, where at least ``min_edges`` of a
    set fall in it; a range that no set fills is left out, so its gaps take the shift of the range below.
    """
    if not sets:
        raise CtcToolError("`sets`: expected at least one set of edge errors")
    if not frame_shift > 0:
        raise CtcToolError(f"`frame_shift`: expected seconds > 0, found {frame_shift}")
    if list(gap_frames) != sorted(set(gap_frames)) or not gap_frames or gap_frames[0] < 0:
        raise CtcToolError(f"`gap_frames`: expected increasing whole frames >= 0, found {list(gap_frames)}")
    if min_edges < 1:
        raise CtcToolError(f"`min_edges`: expected at least 1, found {min_edges}")
    for n, s in enumerate(sets):
        if s.starts.size == 0 or s.ends.size == 0:
            raise CtcToolError(f"`sets[{n}]`: no exact word start or end to measure; give a set with word timings")
    start = -float(np.mean([np.median(s.starts) for s in sets]))
    end = -float(np.mean([np.median(s.ends) for s in sets]))
    if not by_gap:
        return BoundaryCorrection(start, end)
    lows = [0.0 if f == 0 else (f - 0.5) * frame_shift for f in gap_frames]
    highs = lows[1:] + [np.inf]

    def table(errors: str, gaps: str) -> tuple[tuple[float, float], ...]:
        pairs = []
        for low, high in zip(lows, highs):
            medians = []
            for s in sets:
                gap = getattr(s, gaps)
                inside = (gap >= low - 1e-9) & (gap < high - 1e-9)  # NaN (no neighbour) is in no range
                if inside.sum() >= min_edges:
                    medians.append(np.median(getattr(s, errors)[inside]))
            if medians:
                pairs.append((round(low, 9), -float(np.mean(medians))))
        return tuple(pairs)

    return BoundaryCorrection(start, end, table("starts", "start_gaps"), table("ends", "end_gaps"))
