"""Align a prepared transcript to one utterance's log-probs: characters, words, lines in seconds.

Shapes: T frames, C classes. With a star (``*``) in the transcript, one column is
appended to the log-probs for it: log-prob 0 on every frame, so it absorbs any
stretch of audio the transcript does not cover (as in the MMS alignment recipe).
"""

from __future__ import annotations

import torch

from ctctool.alignment.viterbi import forced_align
from ctctool.alignment.spans import merge_spans, token_spans
from ctctool.alignment.timing import AlignedTranscript, BoundaryCorrection, SpanTimes, TimedSpan
from ctctool.alignment.transcript import STAR, PreparedTranscript, prepare_transcript
from ctctool.vocab import Vocabulary


def with_star_column(log_probs: torch.Tensor) -> torch.Tensor:
    """(T, C) -> (T, C + 1): the star class C scores 0 (probability 1) on every frame."""
    return torch.cat([log_probs, torch.zeros_like(log_probs[:, :1])], dim=1)


def align_transcript(
    log_probs: torch.Tensor,
    transcript: PreparedTranscript,
    vocab: Vocabulary,
    times: SpanTimes,
    *,
    model: str,
    min_confidence: float = 0.0,
    correction: BoundaryCorrection = BoundaryCorrection(),
) -> AlignedTranscript:
    """Timestamps of every character, word and line of ``transcript``.

    Args:
        log_probs: (T, C) log-probs of one utterance; (T, C + 1) when the transcript
            holds star labels (id C, see ``with_star_column``).
        times: frame -> seconds.
        min_confidence: segments (lines) scoring below it are flagged.
        correction: shifts of word and line starts and ends (a model's calibration).
    """
    alignment = forced_align(log_probs, list(transcript.labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    star_id = vocab.size
    word_groups: list[list[int]] = [[] for _ in transcript.words]
    char_indices: list[int] = []
    for index, word in enumerate(transcript.label_word):
        if word >= 0 and transcript.labels[index] != star_id:
            word_groups[word].append(index)
            char_indices.append(index)
    line_groups: list[list[int]] = [[] for _ in transcript.lines]
    for word, group in zip(transcript.words, word_groups):
        line_groups[word.line].extend(group)
    words = merge_spans(spans, word_groups, [w.text for w in transcript.words])
    segments = merge_spans(spans, line_groups, transcript.lines, min_confidence)
    chars = [(spans[i], _token_text(vocab, transcript.labels[i])) for i in char_indices]

    def timed(span) -> TimedSpan:
        return TimedSpan(span.text, times.seconds(span.start), times.seconds(span.end), span.score, span.flagged)

    return AlignedTranscript(
        words=correction.apply(tuple(timed(w) for w in words if w.text != STAR)),
        segments=correction.apply(tuple(timed(s) for s in segments)),
        tokens=tuple(TimedSpan(text, times.seconds(s.start), times.seconds(s.end), s.score) for s, text in chars),
        duration=times.seconds(int(log_probs.shape[0])) - times.offset,
        frame_shift=times.frame_shift,
        model=model,
        normalization=transcript.changes,
    )


def _token_text(vocab: Vocabulary, class_id: int) -> str:
    return vocab.tokens[class_id]


def align_text(
    log_probs: torch.Tensor,
    text: str,
    vocab: Vocabulary,
    times: SpanTimes,
    *,
    model: str,
    min_confidence: float = 0.0,
    star_ends: bool = False,
    correction: BoundaryCorrection = BoundaryCorrection(),
) -> AlignedTranscript:
    """``align_transcript`` from raw transcript text: normalise, add star columns when a ``*``
    word is present (or ``star_ends`` puts one at each end), then align.

    Args:
        log_probs: (T, C) log-probs of one utterance, C = ``vocab.size``.
    """
    if star_ends:
        text = f"{STAR}\n{text}\n{STAR}"
    star_id = vocab.size if STAR in text.split() else None
    prepared = prepare_transcript(text, vocab, star_id=star_id)
    if star_id is not None:
        log_probs = with_star_column(log_probs)
    return align_transcript(log_probs, prepared, vocab, times, model=model, min_confidence=min_confidence,
                            correction=correction)
