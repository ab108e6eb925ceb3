"""Decoding CTC log-probs into label sequences.

Shapes: B utterances, T frames, C classes (blank included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch

from ctctool.errors import CtcToolError
from ctctool.hotwords import hotword_trie
from ctctool.lm import NgramModel
from ctctool.vocab import DEFAULT_CHARACTERS, Vocabulary, default_vocabulary


def greedy_decode(
    log_probs: torch.Tensor, input_lengths: torch.Tensor | Sequence[int] | None = None, *, blank: int = 0
) -> list[list[int]]:
    """Best label per frame, repeats collapsed, blanks dropped: one label list per utterance.

    Args:
        log_probs: (T, C) or (B, T, C) scores on any device (only the argmax matters).
        input_lengths: (B,) frames per utterance; default T.
    """
    if log_probs.dim() == 2:
        log_probs = log_probs.unsqueeze(0)
    B, T, _ = log_probs.shape
    best = log_probs.argmax(dim=-1)  # (B, T)
    keep = torch.ones_like(best, dtype=torch.bool)
    keep[:, 1:] = best[:, 1:] != best[:, :-1]
    keep &= best != blank
    if input_lengths is not None:
        lengths = torch.as_tensor(input_lengths, device=best.device)
        keep &= torch.arange(T, device=best.device)[None, :] < lengths[:, None]
    best, keep = best.cpu(), keep.cpu()
    return [best[b][keep[b]].tolist() for b in range(B)]


#: Default per-frame token pruning of ``beam_search``: labels below this log-prob are not tried.
TOKEN_MIN_LOG_PROB = -12.0


@dataclass(frozen=True)
class Hypothesis:
    """One decoded label sequence with its scores (natural logs).

    ``acoustic_score`` is ln P(labels | audio) summed over the CTC paths the beam kept
    (with no pruning: minus the CTC loss of ``labels``). ``lm_score`` is
    alpha * ln P_LM(words, ``</s>`` included) + beta * number of words + the OOV penalty
    times the number of words the LM does not list, and
    ``hotword_score`` the boosts of the hotwords spelled. ``score`` is their sum.
    """

    labels: tuple[int, ...]
    score: float
    acoustic_score: float
    lm_score: float = 0.0
    hotword_score: float = 0.0


#: Defaults with a language model: LM weight (alpha), word insertion bonus (beta), and the
#: penalty (natural log) of a word the LM's lexicon does not hold (pyctcdecode's default).
DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_OOV_PENALTY = 0.5, 1.0, -10.0


def beam_search(
    log_probs: torch.Tensor,
    *,
    beam_width: int = 16,
    nbest: int = 1,
    blank: int = 0,
    input_lengths: torch.Tensor | Sequence[int] | None = None,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
    vocab: Vocabulary | None = None,
    lm: NgramModel | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    oov_penalty: float = DEFAULT_OOV_PENALTY,
    hotwords: Mapping[str, float] | None = None,
) -> list[tuple[Hypothesis, ...]]:
    """CTC prefix beam search: up to ``nbest`` hypotheses with distinct texts per utterance, best first.

    Args:
        log_probs: (T, C) or (B, T, C) log-probs (searched on the CPU, whatever their device).
        beam_width: prefixes kept after each frame.
        input_lengths: (B,) frames per utterance; default T.
        token_min_log_prob: labels scoring below this on a frame are not tried there;
            ``-inf`` disables the pruning (the search is then exact for a wide enough beam).
        vocab: spells the LM's words and the hotwords (default: ``default_vocabulary(blank)``);
            its word delimiter ends words.
        lm: word n-gram model fused at word ends with weight ``alpha`` (default
            ``DEFAULT_ALPHA``); a partial word is scored by the best unigram it can become.
        beta: bonus per word (default ``DEFAULT_BETA`` with an LM, else 0).
        oov_penalty: added (<= 0) for each word that is not in the LM's vocabulary, once the
            partial word can no longer become one.
        hotwords: text -> boost (see ``ctctool.hotwords``).
    """
    import numpy as np

    from ctctool.kernels.beam_numba import prefix_beam_search

    if beam_width < 1 or nbest < 1:
        raise CtcToolError(f"beam search: beam width ({beam_width}) and n-best ({nbest}) must be at least 1")
    if log_probs.dim() == 2:
        log_probs = log_probs.unsqueeze(0)
    if log_probs.dim() != 3:
        raise CtcToolError(f"log_probs: expected shape (T, C) or (B, T, C), found {tuple(log_probs.shape)}")
    B, T, C = log_probs.shape
    if not 0 <= blank < C:
        raise CtcToolError(f"blank id {blank} is outside the {C} classes (ids 0 to {C - 1})")
    if lm is None and alpha is not None:
        raise CtcToolError("alpha weighs a language model: pass an LM too, or leave alpha out")
    if not oov_penalty <= 0:
        raise CtcToolError(f"oov penalty {oov_penalty}: expected a number <= 0 (a log-probability offset)")
    vocab = _search_vocabulary(vocab, blank, C)
    delimiter = vocab.id_of(vocab.word_delimiter) if vocab.word_delimiter else -1
    if lm is not None and delimiter < 0:
        raise CtcToolError("a word language model needs a word delimiter (space or '|') in the vocabulary")
    alpha = (DEFAULT_ALPHA if alpha is None else float(alpha)) if lm is not None else 0.0
    beta = (DEFAULT_BETA if lm is not None else 0.0) if beta is None else float(beta)
    penalty = float(oov_penalty) if lm is not None else 0.0
    tables = compiled_lm(lm if lm is not None else _EMPTY_LM, vocab).as_tuple()
    hot = hotword_trie(dict(hotwords or {}), vocab)
    lengths = [T] * B if input_lengths is None else [int(n) for n in input_lengths]
    values = log_probs.detach().to("cpu", torch.float64 if log_probs.dtype == torch.float64 else torch.float32).numpy()
    results = []
    for b in range(B):
        parents, labels, nodes, pb, pnb, lm_ln, words, off_lexicon, boosts = prefix_beam_search(
            values[b, : lengths[b]], blank, max(beam_width, nbest), float(token_min_log_prob), delimiter, tables, hot,
            alpha, beta, penalty, lm is not None)
        hypotheses = []
        for j in range(len(nodes)):
            acoustic = float(np.logaddexp(pb[j], pnb[j]))
            fused = beta * int(words[j])
            if lm is not None:
                fused += alpha * float(lm_ln[j]) + penalty * int(off_lexicon[j])
            total = acoustic + fused + float(boosts[j])
            hypotheses.append(Hypothesis(_labels_of(int(nodes[j]), parents, labels), total, acoustic, fused,
                                         float(boosts[j])))
        hypotheses.sort(key=lambda h: -h.score)
        results.append(_distinct_texts(hypotheses, vocab)[:nbest])
    return results


def _distinct_texts(hypotheses: list[Hypothesis], vocab: Vocabulary) -> tuple[Hypothesis, ...]:
    """The best hypothesis of each text (label sequences that differ only in word delimiters
    at the ends or in a row spell the same words)."""
    seen, kept = set(), []
    for hypothesis in hypotheses:
        text = " ".join(vocab.decode(hypothesis.labels).split())
        if text not in seen:
            seen.add(text)
            kept.append(hypothesis)
    return tuple(kept)


def _labels_of(node: int, parents, labels) -> tuple[int, ...]:
    sequence = []
    while node > 0:
        sequence.append(int(labels[node]))
        node = parents[node]
    return tuple(reversed(sequence))


def _search_vocabulary(vocab: Vocabulary | None, blank: int, classes: int) -> Vocabulary:
    if vocab is None:
        vocab = default_vocabulary(blank) if classes == len(DEFAULT_CHARACTERS) + 1 else Vocabulary(
            tuple(f"<{i}>" for i in range(classes)), blank)
    if vocab.size != classes or vocab.blank != blank:
        raise CtcToolError(f"vocabulary: {vocab.size} tokens with blank {vocab.blank}, but log_probs have "
                           f"{classes} classes and blank {blank}; pass the model's vocabulary")
    return vocab


_EMPTY_LM = NgramModel(order=1, ngrams={})
_COMPILED: dict = {}


def compiled_lm(lm: NgramModel, vocab: Vocabulary):
    """``lm`` flattened for the kernel, spelled with ``vocab`` (the last few are cached)."""
    from ctctool.kernels.ngram_tables import compile_ngram_model

    key = (id(lm), vocab)
    if key not in _COMPILED:
        if len(_COMPILED) >= 4:
            _COMPILED.pop(next(iter(_COMPILED)))
        tables = compile_ngram_model(lm, vocab)
        if lm.ngrams and tables.spelled_words == 0:
            raise CtcToolError(f"language model: none of its {sum(len(g) == 1 for g in lm.ngrams)} words can be "
                               f"spelled with the vocabulary's tokens; check its case and alphabet")
        _COMPILED[key] = (lm, tables)
    return _COMPILED[key][1]


@dataclass(frozen=True)
class WordFrames:
    """A decoded word and its frames: first frame of its first token to the last frame of its last
    token (``end`` exclusive), from the forced alignment of the decoded labels."""

    word: str
    start: int
    end: int


def word_frames(log_probs: torch.Tensor, labels: Sequence[int], vocab) -> tuple[WordFrames, ...]:
    """Words of ``labels`` (split at the vocabulary's word delimiter) with their frames in (T, C) ``log_probs``."""
    from ctctool.align import forced_align
    from ctctool.spans import token_spans

    if not labels:
        return ()
    alignment = forced_align(log_probs, list(labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    delimiter = vocab.id_of(vocab.word_delimiter) if vocab.word_delimiter else None
    words, current = [], []
    for span in (*spans, None):
        if span is None or span.token == delimiter:
            if current:
                words.append(WordFrames(vocab.decode([s.token for s in current]), current[0].start, current[-1].end))
            current = []
        else:
            current.append(span)
    return tuple(words)
