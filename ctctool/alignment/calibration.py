"""Measure a model's ``BoundaryCorrection`` from aligned words and their true times.

A CTC model puts a word's spikes inside the word, not on its edges; how far inside depends on
the model and on the gap beside the edge. ``edge_errors`` collects, for one set of utterances
with exact word times, each edge's signed error (aligned - true) and the gap beside it;
``fit_boundary_correction`` turns the errors of one or more such sets into the correction:
medians (robust to the odd misplaced word), each set weighing the same; per gap range, then per
letter a word begins or ends with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ctctool.alignment.timing import BoundaryCorrection, TimedSpan, edge_letter
from ctctool.errors import CtcToolError

#: Lower edges of the gap ranges that get their own shift, in frames: 0-1, 2, 3-4, 5-9, 10 and more.
GAP_FRAMES = (0, 2, 3, 5, 10)
#: Edges a set needs in a gap range to have a say in its shift.
MIN_EDGES = 20
#: Edges a set needs with a letter to have a say in that letter's shift.
MIN_LETTER_EDGES = 15
#: Rounds of reweighting that turn least squares into the least-absolute-deviation fit of letter shifts.
L1_ROUNDS = 50


@dataclass(frozen=True, eq=False)
class EdgeErrors:
    """Signed errors (aligned - true, seconds) of word edges, each with the gap beside it.

    ``start_gaps[k]``: seconds between start k and the previous aligned word's end (NaN for a first word);
    ``end_gaps[k]``: seconds between end k and the next aligned word's start (NaN for a last word).
    All four are 1-D float64 arrays (any sequence is converted): (S,) starts and start gaps, (E,) ends and
    end gaps. ``start_letters`` (S,) and ``end_letters`` (E,) are the ``edge_letter`` of each edge's word
    (its first, or last, letter; '' where not known, and all '' when left out).
    """

    starts: np.ndarray
    start_gaps: np.ndarray
    ends: np.ndarray
    end_gaps: np.ndarray
    start_letters: np.ndarray = None
    end_letters: np.ndarray = None

    def __post_init__(self):
        for letters, errors in (("start_letters", "starts"), ("end_letters", "ends")):
            wanted = len(np.atleast_1d(getattr(self, errors)))
            value = getattr(self, letters)
            value = np.asarray([""] * wanted if value is None else value, dtype=object)
            if value.ndim != 1 or len(value) != wanted:
                raise CtcToolError(f"`{letters}`: expected one letter (a string, '' if not known) per edge of "
                                   f"`{errors}` ({wanted}), found {value.size}")
            bad = [v for v in value if not isinstance(v, str)]
            if bad:
                raise CtcToolError(f"`{letters}`: expected strings ('' if not known), found {bad[0]!r}")
            object.__setattr__(self, letters, value)
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
        def cat(name, empty=np.zeros(0)):
            return np.concatenate([getattr(p, name) for p in parts] or [empty])
        return EdgeErrors(cat("starts"), cat("start_gaps"), cat("ends"), cat("end_gaps"),
                          cat("start_letters", np.zeros(0, dtype=object)), cat("end_letters", np.zeros(0, dtype=object)))


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
    starts, start_gaps, start_letters, ends, end_gaps, end_letters = [], [], [], [], [], []
    for k, i in enumerate(aligned):
        true_start, true_end = truth[i]
        if true_start is not None:
            starts.append(words[i].start - true_start)
            start_gaps.append(words[i].start - words[aligned[k - 1]].end if k else np.nan)
            start_letters.append(edge_letter(words[i].text))
        if true_end is not None:
            ends.append(words[i].end - true_end)
            end_gaps.append(words[aligned[k + 1]].start - words[i].end if k + 1 < len(aligned) else np.nan)
            end_letters.append(edge_letter(words[i].text, last=True))
    return EdgeErrors(np.array(starts), np.array(start_gaps), np.array(ends), np.array(end_gaps),
                      start_letters, end_letters)


def fit_boundary_correction(sets: Sequence[EdgeErrors], frame_shift: float, *, by_gap: bool = True,
                            gap_frames: Sequence[int] = GAP_FRAMES, min_edges: int = MIN_EDGES,
                            by_letter: bool = True, min_letter_edges: int = MIN_LETTER_EDGES,
                            edge_temperature: float = 0.0) -> BoundaryCorrection:
    """The correction that cancels the median errors of ``sets`` (each set weighing the same).

    ``start`` and ``end`` cancel the median over every start and every end of a set (with ``by_gap`` they
    are left for the first start and the last end of an utterance; fitting them on those edges alone was
    tried on the built-in model's dev sets and was no better). With ``by_gap``, each
    gap range of ``gap_frames`` (a range's gaps are at least its lower edge, to half a frame, and less than
    the next range's) gets its own shift from the edges beside such a gap, where at least ``min_edges`` of a
    set fall in it; a range that no set fills is left out, so its gaps take the shift of the range below.

    With ``by_letter``, each edge also gets a shift for the letter its word begins with (starts) or ends with
    (ends), where a set has at least ``min_letter_edges`` edges with that letter; the range shifts are then
    refitted together with the letter shifts, by least absolute deviation in each set and averaged over the
    sets, and ``start`` and ``end`` become the medians over every edge with its letter's shift. A letter not
    listed gets the shift of an average edge (see ``_with_letters``).

    ``edge_temperature``: how the edges of ``sets`` were measured (``BoundaryCorrection.edge_temperature``);
    the correction carries it, as it is right only for edges measured that way.
    """
    if not sets:
        raise CtcToolError("`sets`: expected at least one set of edge errors")
    if not frame_shift > 0:
        raise CtcToolError(f"`frame_shift`: expected seconds > 0, found {frame_shift}")
    if list(gap_frames) != sorted(set(gap_frames)) or not gap_frames or gap_frames[0] < 0:
        raise CtcToolError(f"`gap_frames`: expected increasing whole frames >= 0, found {list(gap_frames)}")
    for name, value in (("min_edges", min_edges), ("min_letter_edges", min_letter_edges)):
        if value < 1:
            raise CtcToolError(f"`{name}`: expected at least 1, found {value}")
    for n, s in enumerate(sets):
        if s.starts.size == 0 or s.ends.size == 0:
            raise CtcToolError(f"`sets[{n}]`: no exact word start or end to measure; give a set with word timings")
    start = -float(np.mean([np.median(s.starts) for s in sets]))
    end = -float(np.mean([np.median(s.ends) for s in sets]))
    gapped = _gap_tables(sets, frame_shift, gap_frames, min_edges, start, end) if by_gap \
        else BoundaryCorrection(start, end)
    if not by_letter:
        return replace(gapped, edge_temperature=edge_temperature)
    start, start_pairs, by_start_letter = _with_letters(sets, "starts", "start_gaps", "start_letters", start,
                                                        gapped.start_after_gap, min_edges, min_letter_edges)
    end, end_pairs, by_end_letter = _with_letters(sets, "ends", "end_gaps", "end_letters", end,
                                                  gapped.end_before_gap, min_edges, min_letter_edges)
    return BoundaryCorrection(start, end, start_pairs, end_pairs, by_start_letter, by_end_letter, edge_temperature)


def _with_letters(sets: Sequence[EdgeErrors], errors: str, gaps: str, letters: str, default: float,
                  pairs: tuple[tuple[float, float], ...], min_edges: int, min_letter_edges: int
                  ) -> tuple[float, tuple[tuple[float, float], ...], dict[str, float]]:
    """The shifts of one side (starts or ends) refitted together with a shift per letter: each edge's error is
    cancelled by its gap range's shift plus its letter's, both found at once by least absolute deviation in
    each set, then averaged over the sets. The two must be fitted together: a word that starts with a vowel
    has a late spike, and so a wider gap before it.

    Every set is fitted with the same columns (each listed letter's, each range of ``pairs``), so a range's
    shift means the same in each: the shift of a letter not listed. A set has a say in a letter's shift where
    it has at least ``min_letter_edges`` edges with it, and in a range's where it has ``min_edges``; a letter
    no set has enough of is not listed, and if none is, the gap shifts are returned as they are. Then the
    letter shifts are moved to average 0 over all edges (an unlisted letter's edge counting 0), and the range
    shifts the other way, so that a letter not listed gets the shift of an average edge. The first start (or
    last end) shift is, as without letters, the one that cancels the median error over all edges, here with
    each edge's letter shift added (``default`` is not used then)."""
    keys = sorted({k for s in sets for k in set(getattr(s, letters)) - {""}
                   if (getattr(s, letters) == k).sum() >= min_letter_edges})
    if not keys:
        return default, pairs, {}
    lows = [low for low, _ in pairs]
    ranges = 1 + len(lows)  # column 0: a first start (last end), or a gap below the first range
    column_of_letter = {k: ranges + n for n, k in enumerate(keys)}
    solutions = []
    for s in sets:
        design = np.zeros((getattr(s, errors).size, ranges + len(keys)))
        for n, (gap, letter) in enumerate(zip(getattr(s, gaps), getattr(s, letters))):
            below = [k for k, low in enumerate(lows) if not np.isnan(gap) and gap >= low - 1e-9]
            design[n, 1 + below[-1] if below else 0] = 1.0
            if letter in column_of_letter:
                design[n, column_of_letter[letter]] = 1.0
        x = _least_absolute(design, -getattr(s, errors), ridged=np.arange(design.shape[1]) >= ranges)
        needed = np.array([0] + [min_edges] * len(lows) + [min_letter_edges] * len(keys))
        x[design.sum(axis=0) < needed] = np.nan  # too few edges in this set to have a say
        solutions.append(x)
    stacked = np.array(solutions)
    solution = np.array([np.mean(column[~np.isnan(column)]) if (~np.isnan(column)).any() else np.nan
                         for column in stacked.T])
    counts = np.array([sum(int((getattr(s, letters) == k).sum()) for s in sets) for k in keys], dtype=float)
    listed = ~np.isnan(solution[ranges:])
    total = sum(getattr(s, errors).size for s in sets)
    constant = float(np.sum(solution[ranges:][listed] * counts[listed]) / total)
    solution[1:ranges] += constant
    solution[ranges:] -= constant
    by_letter = {k: float(solution[column_of_letter[k]]) for k in keys if not np.isnan(solution[column_of_letter[k]])}
    letter_shift = [np.array([by_letter.get(k, 0.0) for k in getattr(s, letters)]) for s in sets]
    first = -float(np.mean([np.median(getattr(s, errors) + shift) for s, shift in zip(sets, letter_shift)]))
    return (first, tuple((low, float(shift)) for low, shift in zip(lows, solution[1:ranges]) if not np.isnan(shift)),
            by_letter)


def _least_absolute(design: np.ndarray, target: np.ndarray, ridged: np.ndarray) -> np.ndarray:
    """(C,) coefficients minimising sum |target - design @ x| over (R, C) ``design`` and (R,) ``target``, with
    a faint pull towards 0 on the ``ridged`` columns (so that a constant that the letter columns and a range's
    could trade is never left undetermined). Columns no row uses come back NaN. Iteratively reweighted least
    squares."""
    used = design.any(axis=0)
    solution = np.full(design.shape[1], np.nan)
    x_used = np.zeros(int(used.sum()))
    ridge = np.diag(np.where(ridged[used], 1e-6, 0.0))
    for _ in range(L1_ROUNDS):
        w = 1.0 / np.maximum(np.abs(target - design[:, used] @ x_used), 1e-4)
        x = design[:, used] * np.sqrt(w)[:, None]
        x_used = np.linalg.solve(x.T @ x + ridge * w.sum(), x.T @ (target * np.sqrt(w)))
    solution[used] = x_used
    return solution


def _gap_tables(sets: Sequence[EdgeErrors], frame_shift: float, gap_frames: Sequence[int], min_edges: int,
                start: float, end: float) -> BoundaryCorrection:
    """``start`` and ``end`` with a shift per gap range of ``gap_frames`` (see ``fit_boundary_correction``)."""
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
