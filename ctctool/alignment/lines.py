"""Aligning a transcript line by line, so that a line the audio does not hold cannot pull its neighbours.

A wrong line still has to go somewhere on the forced path: its letters squeeze into some stretch of
speech, and the audio it should have covered is left to its neighbours, which then score badly too.
So after a first alignment, every line below ``min_confidence`` is replaced by a star (which absorbs
any speech) and the transcript is aligned again; the neighbours now find their own audio. Each
replaced line is then aligned alone, between two stars, inside the frames its star absorbed: a line
that fits there was only pulled by a wrong neighbour and goes back into the transcript, for one last
alignment; a line that does not stays flagged, with the times where it fits best in that stretch.

Stars: ``ends`` puts one before the first line and after the last, ``between-lines`` one between every
two lines (speech the transcript leaves out between lines), ``both`` does both. They are the model's
own star class when it has one, else an appended class that scores ``STAR_LOG_PROB`` on every frame.

Shapes: T frames, C classes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from ctctool.alignment.timing import AlignedTranscript, BoundaryCorrection, SpanTimes, TimedSpan
from ctctool.alignment.transcript import STAR, prepare_transcript
from ctctool.errors import CtcToolError
from ctctool.text.normalize import Spelling
from ctctool.vocab import Vocabulary

#: Where stars go (see the module docstring).
STAR_PLACES = ("ends", "between-lines", "both")
#: ln P of an appended star on every frame: high enough to take speech nothing else explains (lower, the lines
#: beside a wrong one stretch into its audio), low enough to leave a line's own first and last frames to the
#: line. Chosen on the development set of bench/bench_mismatch.py (seed 7: -2.5, -1 and -0.5 tried).
STAR_LOG_PROB = -0.5


@dataclass(frozen=True)
class _Pass:
    """One alignment of the transcript with some lines replaced by stars: the result (user lines only) and the
    frames each replaced line's star took (by user line)."""

    result: AlignedTranscript
    star_frames: dict[int, tuple[int, int]]


def star_places(star) -> tuple[bool, bool]:
    """``star`` (False/None, True or ``ends``, ``between-lines``, ``both``) -> (at the ends, between lines)."""
    if star is None or star is False:
        return False, False
    if star is True or star == "ends":
        return True, False
    if star == "between-lines":
        return False, True
    if star == "both":
        return True, True
    raise CtcToolError(f"`star` {star!r}: expected one of {', '.join(STAR_PLACES)} (or True for ends)")


def align_lines(log_probs: torch.Tensor, text: str, vocab: Vocabulary, times: SpanTimes, *, model: str,
                min_confidence: float, correction: BoundaryCorrection, spelling: Spelling, star=False
                ) -> AlignedTranscript:
    """The alignment of ``text`` (one segment per non-empty line) to (T, C) ``log_probs``, with wrong lines
    found and kept from pulling their neighbours (see the module docstring)."""
    ends, between = star_places(star)
    written = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in written if not _is_star(line)]
    stars_before = []  # per user line: the lone-star lines written just before it (and at the end: after the last)
    count = 0
    for line in written:
        if _is_star(line):
            count += 1
        else:
            stars_before.append(count)
            count = 0
    stars_before.append(count)

    if written and not lines:
        raise CtcToolError("transcript: nothing to align: it holds only stars (*); expected the words spoken")

    def run(replaced: frozenset[int]) -> _Pass:
        return _align_pass(log_probs, lines, replaced, vocab, times, model=model, min_confidence=min_confidence,
                           correction=correction, spelling=spelling, ends=ends, between=between,
                           stars_before=stars_before)

    first = run(frozenset())
    flagged = frozenset(k for k, segment in enumerate(first.result.segments) if segment.flagged)
    if not flagged or len(flagged) == len(lines):
        return first.result
    second = run(flagged)
    alone = {k: _align_alone(log_probs, lines[k], _region(second, flagged, k), vocab, times, model=model,
                             min_confidence=min_confidence, correction=correction, spelling=spelling)
             for k in sorted(flagged)}
    wrong = frozenset(k for k in flagged if alone[k] is None or alone[k].segments[0].flagged)
    final = second if wrong == flagged else run(wrong)
    return _merged(final.result, {k: alone[k] for k in wrong}, {k: final.star_frames[k] for k in wrong}, times)


def _is_star(line: str) -> bool:
    """A line of stars alone: it absorbs speech, it is not a line of the transcript's output."""
    return set(line.split()) == {STAR}


def _align_pass(log_probs, lines, replaced, vocab, times, *, model, min_confidence, correction, spelling, ends,
                between, stars_before=None) -> _Pass:
    from ctctool.alignment.pipeline import align_prepared, star_class

    stars_before = stars_before or [0] * (len(lines) + 1)
    layout: list[tuple[str, int | None]] = []  # (line text, user line) per transcript line
    for k, line in enumerate(lines):
        if stars_before[k] or between and k:
            layout.append((STAR, None))
        layout.append((STAR if k in replaced else line, k))
    if stars_before[-1]:
        layout.append((STAR, None))
    if ends:
        layout = [(STAR, None), *layout, (STAR, None)]
    text = "\n".join(line for line, _ in layout)
    star_id = None
    if STAR in text.split():
        star_id = star_class(vocab)
        if star_id is None:
            star_id = vocab.size
            log_probs = torch.cat([log_probs, torch.full_like(log_probs[:, :1], STAR_LOG_PROB)], dim=1)
    prepared = prepare_transcript(text, vocab, star_id=star_id, spelling=spelling)
    result, star_frames = align_prepared(log_probs, prepared, vocab, times, model=model,
                                         min_confidence=min_confidence, correction=correction)
    kept = [user for line, user in layout if not (line == STAR and (user is None or user in replaced))]
    placeholders = [user for line, user in layout if line == STAR and user is not None and user in replaced]
    frames = {user: star_frames[index] for index, (line, user) in enumerate(layout) if user in placeholders}
    return _Pass(_with_lines(result, kept, lines), frames)


def _with_lines(result: AlignedTranscript, kept: list[int], lines: list[str]) -> AlignedTranscript:
    """``result`` (segments for the user lines in ``kept``) with its segments and word indices by user line; a
    replaced line has a zero-length placeholder segment until it is merged back."""
    segments = [TimedSpan(line, 0.0, 0.0, None) for line in lines]
    for segment, user in zip(result.segments, kept):
        segments[user] = segment
    return replace(result, segments=tuple(segments), word_segment=tuple(kept[s] for s in result.word_segment))


def _region(second: _Pass, flagged: frozenset[int], k: int) -> tuple[int, int]:
    """The frames the stars of the run of replaced lines around line ``k`` took in ``second`` (lines with nothing
    to align do not break a run: the stars on both sides of one share what they absorb as they please)."""
    def in_run(j: int) -> bool:
        return j in flagged or 0 <= j < len(second.result.segments) and second.result.segments[j].score is None

    first, last = k, k
    while in_run(first - 1):
        first -= 1
    while in_run(last + 1):
        last += 1
    frames = [second.star_frames[j] for j in range(first, last + 1) if j in flagged]
    return min(start for start, _ in frames), max(end for _, end in frames)


def _align_alone(log_probs, line, region, vocab, times, **settings) -> AlignedTranscript | None:
    """``line`` aligned between two stars in the frames ``region`` only (None when it cannot fit there)."""
    start, end = region
    local = SpanTimes(times.frame_shift, times.offset + start * times.frame_shift)
    try:
        return _align_pass(log_probs[start:end], [line], frozenset(), vocab, local, ends=True, between=False,
                           **settings).result
    except CtcToolError:
        return None


def _merged(final: AlignedTranscript, alone: dict[int, AlignedTranscript | None],
            star_frames: dict[int, tuple[int, int]], times: SpanTimes) -> AlignedTranscript:
    """``final`` with each wrong line (a placeholder there) filled in from its own alignment, inside the frames
    its star took, flagged."""
    words, word_segment, tokens, token_word, segments = [], [], [], [], list(final.segments)
    by_line: dict[int, list[int]] = {}
    for w, line in enumerate(final.word_segment):
        by_line.setdefault(line, []).append(w)
    for line in range(len(segments)):
        if line in alone:
            lo, hi = (times.seconds(f) for f in star_frames[line])
            source, members = alone[line], None
        else:
            source, members = final, by_line.get(line, [])
        if source is None:  # nothing of it fits in its stretch: the stretch itself, unscored
            segments[line] = TimedSpan(segments[line].text, lo, hi, 0.0, True)
            continue
        if members is None:
            members = list(range(len(source.words)))
            clip = _clipper(lo, hi)
            segment = clip(source.segments[0])
            segments[line] = TimedSpan(segment.text, segment.start, segment.end, segment.score, True)
        else:
            clip = _clipper(None, None)
        for w in members:
            word_segment.append(line)
            words.append(clip(source.words[w]))
            for t, owner in enumerate(source.token_word):
                if owner == w:
                    tokens.append(clip(source.tokens[t]))
                    token_word.append(len(words) - 1)
    previous_end = 0.0
    for line, segment in enumerate(segments):  # a line with nothing to align sits where the line before it ends
        if segment.score is None and segment.end <= segment.start:
            segments[line] = replace(segment, start=previous_end, end=previous_end)
            words = [replace(w, start=previous_end, end=previous_end) if k == line else w
                     for w, k in zip(words, word_segment)]
        previous_end = max(previous_end, segments[line].end)
    return replace(final, words=tuple(words), segments=tuple(segments), tokens=tuple(tokens),
                   word_segment=tuple(word_segment), token_word=tuple(token_word))


def _clipper(lo: float | None, hi: float | None):
    def clip(span: TimedSpan) -> TimedSpan:
        if lo is None:
            return span
        start = min(max(span.start, lo), hi)
        return replace(span, start=start, end=min(max(span.end, start), hi))

    return clip
