"""``decode``: CTC scores to text, greedy or by prefix beam search, with word timings; one result type.

Shapes: B utterances, T frames, C classes (blank included).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Mapping, Sequence

import torch

from ctctool import _checks
from ctctool.alignment.timing import SpanTimes
from ctctool.decoding.beam import Hypothesis, beam_search
from ctctool.decoding.greedy import greedy_decode
from ctctool.decoding.options import OOV_PENALTY, TOKEN_MIN_LOG_PROB, search_settings
from ctctool.decoding.words import word_frames
from ctctool.errors import CtcToolError
from ctctool.vocab import Vocabulary, vocabulary_for


@dataclass(frozen=True)
class DecodedWord:
    """A word of the best hypothesis: frames [``start_frame``, ``end_frame``) from the forced alignment
    of its labels, and seconds (``frame * frame_shift + frame_offset``, at least 0) when the frame shift is known."""

    text: str
    start_frame: int
    end_frame: int
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Decoding:
    """The decoded text of one utterance: ``hypotheses`` (distinct texts, best first; one unless
    ``nbest`` asked for more) and the timed ``words`` of the best."""

    hypotheses: tuple[Hypothesis, ...]
    words: tuple[DecodedWord, ...]

    @property
    def text(self) -> str:
        return self.hypotheses[0].text

    @property
    def labels(self) -> tuple[int, ...]:
        return self.hypotheses[0].labels

    @property
    def score(self) -> float:
        return self.hypotheses[0].score


def decode(
    log_probs: torch.Tensor,
    *,
    vocab: Vocabulary | None = None,
    blank: int | None = None,
    input_kind: str = "log-probs",
    input_lengths: torch.Tensor | Sequence[int] | None = None,
    time_major: bool = False,
    lm=None,
    hotwords: Mapping[str, float] | None = None,
    beam_width: int | None = None,
    nbest: int = 1,
    alpha: float | None = None,
    beta: float | None = None,
    oov_penalty: float = OOV_PENALTY,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
    frame_shift: float | None = None,
    frame_offset: float = 0.0,
    words: bool = True,
    blank_penalty: float = 0.0,
) -> Decoding | tuple[Decoding, ...]:
    """Decode each utterance: greedy by default, a prefix beam search when asked for or when an LM,
    hotwords or ``beta`` need one (the rule and defaults are in ``ctctool.decoding.options``).

    Args:
        log_probs: (T, C) one utterance, or (B, T, C); (T, B, C) with ``time_major=True``.
        vocab: the C classes (default: ``vocabulary_for(C, blank)``); ``blank`` defaults to its blank.
        input_kind: ``log-probs`` (default), ``logits`` or ``probs``, as for ``ctc_loss``.
        input_lengths: (B,) frames per utterance; default T.
        lm: a word n-gram model (``NgramModel`` or ``KenlmModel``) fused in the beam.
        hotwords: text -> boost (natural log) for words or phrases to favour.
        frame_shift, frame_offset: seconds per frame and of frame 0, for the words' times.
        words: also find the frames of each word of the best hypothesis (a forced alignment).
        blank_penalty: subtracted from the blank's log-prob on every frame before greedy decoding or the
            search (as sherpa-onnx's ``blank_penalty``): above 0, fewer letters are lost to blanks. A search's
            scores are of the penalised log-probs; a greedy hypothesis is scored, and every word's frames are
            found, on the log-probs as given.

    Returns:
        One ``Decoding`` for a (T, C) input; a tuple of B for a batch.
    """
    x, single = _checks.batched(log_probs, name="log_probs", time_major=time_major)
    _checks.check_nonempty(x, "log_probs")
    if blank is not None:
        _checks.check_blank(blank, x.shape[-1])
    if lm is not None and not hasattr(lm, "log10_prob"):
        raise CtcToolError(f"`lm`: expected an n-gram model (ctctool.load_language_model reads a file), found "
                           f"{type(lm).__name__}")
    if vocab is None:
        vocab = vocabulary_for(x.shape[-1], 0 if blank is None else blank)
    elif blank is not None and blank != vocab.blank:
        raise CtcToolError(f"`blank` {blank} differs from the vocabulary's blank id {vocab.blank}; leave `blank` out")
    _checks.check_classes(x, vocab.size, "log_probs")
    x = _checks.log_probs_from(x, input_kind, name="log_probs")
    B, T, C = x.shape
    if frame_shift is not None and not 0 < frame_shift < math.inf:
        raise CtcToolError(f"`frame_shift` {frame_shift}: expected seconds per frame > 0")
    if not math.isfinite(frame_offset):
        raise CtcToolError(f"`frame_offset` {frame_offset}: expected a finite number of seconds")
    if isinstance(blank_penalty, bool) or not isinstance(blank_penalty, numbers.Real) \
            or not math.isfinite(blank_penalty):
        raise CtcToolError(f"`blank_penalty` {blank_penalty!r}: expected a finite number (natural log; 0: none)")
    blank_penalty = float(blank_penalty)
    lengths = _checks.input_lengths(input_lengths, B, T, x.device).tolist()
    searched = x
    if blank_penalty:
        searched = x.clone()
        searched[..., vocab.blank] -= blank_penalty
    settings = search_settings(has_lm=lm is not None, has_hotwords=bool(hotwords), beam_width=beam_width,
                               nbest=nbest, alpha=alpha, beta=beta, oov_penalty=oov_penalty,
                               token_min_log_prob=token_min_log_prob)
    if settings.greedy:
        best = greedy_decode(searched, lengths, blank=vocab.blank)
        results = [(_scored_path(x[b, : lengths[b]], labels, vocab),) for b, labels in enumerate(best)]
    else:
        results = beam_search(searched, beam_width=settings.beam_width, nbest=settings.nbest, blank=vocab.blank,
                              input_lengths=lengths, token_min_log_prob=settings.token_min_log_prob, vocab=vocab,
                              lm=lm, alpha=settings.alpha if lm is not None else None, beta=settings.beta,
                              oov_penalty=oov_penalty, hotwords=hotwords)
    decodings = []
    for b, hypotheses in enumerate(results):
        timed = ()
        if words:
            found = word_frames(x[b, : lengths[b]], hypotheses[0].labels, vocab)
            timed = tuple(_timed(w.word, w.start, w.end, frame_shift, frame_offset) for w in found)
        decodings.append(Decoding(tuple(hypotheses), timed))
    return decodings[0] if single else tuple(decodings)


def _scored_path(log_probs: torch.Tensor, labels: list[int], vocab: Vocabulary) -> Hypothesis:
    """The greedy labels as a hypothesis scored like a search's: ln P(labels) over all their paths."""
    from ctctool.loss import ctc_loss

    score = -float(ctc_loss(log_probs, labels, input_kind="log-probs", blank=vocab.blank, reduction="sum").loss)
    return Hypothesis(tuple(labels), score, score, text=vocab.text_of(labels))


def _timed(text: str, start: int, end: int, frame_shift: float | None, frame_offset: float) -> DecodedWord:
    if frame_shift is None:
        return DecodedWord(text, start, end)
    times = SpanTimes(frame_shift, frame_offset)
    return DecodedWord(text, start, end, times.seconds(start), times.seconds(end))
