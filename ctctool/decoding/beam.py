"""CTC prefix beam search: numba on the CPU (with an LM and hotwords), batched torch on a GPU.

Shapes: B utterances, T frames, C classes (blank included). Defaults come from
``ctctool.decoding.options``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

import torch

from ctctool import _checks
from ctctool.decoding.hotwords import hotword_trie
from ctctool.decoding.options import BEAM_WIDTH, OOV_PENALTY, TOKEN_MIN_LOG_PROB, search_settings
from ctctool.errors import CtcToolError
from ctctool.lm.kenlm_model import KenlmModel
from ctctool.lm.ngram import NgramModel
from ctctool.vocab import Vocabulary, vocabulary_for


@dataclass(frozen=True)
class Hypothesis:
    """One decoded label sequence with its text and scores (natural logs).

    ``acoustic_score`` is ln P(labels | audio) summed over the CTC paths the search kept
    (with no pruning, and for greedy decoding: minus the CTC loss of ``labels``). ``lm_score`` is
    alpha * ln P_LM(words, ``</s>`` included) + beta * number of words + the OOV penalty
    times the number of words the LM does not list, and
    ``hotword_score`` the boosts of the hotwords spelled. ``score`` is their sum.
    ``text`` is the words of ``labels`` joined by single spaces.
    """

    labels: tuple[int, ...]
    score: float
    acoustic_score: float
    lm_score: float = 0.0
    hotword_score: float = 0.0
    text: str = ""


def beam_search(
    log_probs: torch.Tensor,
    *,
    beam_width: int = BEAM_WIDTH,
    nbest: int = 1,
    blank: int = 0,
    input_lengths: torch.Tensor | Sequence[int] | None = None,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
    vocab: Vocabulary | None = None,
    lm: NgramModel | KenlmModel | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    oov_penalty: float = OOV_PENALTY,
    hotwords: Mapping[str, float] | None = None,
    kernel: str = "auto",
) -> list[tuple[Hypothesis, ...]]:
    """CTC prefix beam search: up to ``nbest`` hypotheses with distinct texts per utterance, best first.

    Most callers want ``ctctool.decode``, which picks greedy or beam search and adds word timings.

    Args:
        log_probs: (T, C) or (B, T, C) log-probs on any device.
        beam_width: prefixes kept after each frame.
        input_lengths: (B,) frames per utterance; default T.
        token_min_log_prob: labels scoring below this on a frame are not tried there;
            ``-inf`` disables the pruning (the search is then exact for a wide enough beam).
        vocab: spells the LM's words, the hotwords and the texts (default: ``vocabulary_for(C, blank)``);
            its word delimiter ends words, or with subword pieces (``ctctool.subword``) a piece
            starting with ``▁`` begins one.
        lm: word n-gram model (``NgramModel`` from ARPA, or ``KenlmModel`` from a KenLM binary)
            fused at word ends with weight ``alpha``; a partial word is scored by the best
            unigram it can become.
        alpha, beta: LM weight and bonus per word (defaults in ``ctctool.decoding.options``).
        oov_penalty: added (<= 0) for each word that is not in the LM's vocabulary, once the
            partial word can no longer become one.
        hotwords: text -> boost (see ``ctctool.decoding.hotwords``).
        kernel: ``numba`` searches one utterance at a time on the CPU and does everything;
            ``torch`` searches the whole batch at once on the log-probs' device, with no LM,
            hotwords or beta; ``auto`` picks ``torch`` for CUDA log-probs when it can, else ``numba``.
            Both give the same hypotheses.
    """
    x, _ = _checks.batched(log_probs, name="log_probs")
    _checks.check_nonempty(x, "log_probs")
    B, T, C = x.shape
    _checks.check_blank(blank, C)
    settings = search_settings(has_lm=lm is not None, has_hotwords=bool(hotwords), beam_width=beam_width,
                               nbest=nbest, alpha=alpha, beta=beta, oov_penalty=oov_penalty,
                               token_min_log_prob=token_min_log_prob)
    vocab = vocabulary_for(C, blank) if vocab is None else vocab
    _check_vocabulary(vocab, blank, C)
    delimiter = vocab.id_of(vocab.word_delimiter) if vocab.word_delimiter else -1
    if lm is not None and delimiter < 0 and not any(vocab.starts_word(c) for c in range(C)):
        raise CtcToolError("a word language model needs word boundaries: a word delimiter (space or '|') in the "
                           "vocabulary, or subword pieces that start words")
    lengths = _checks.input_lengths(input_lengths, B, T, x.device).tolist()
    plain = lm is None and not hotwords and settings.beta == 0.0
    if kernel not in ("auto", "numba", "torch"):
        raise CtcToolError(f"`kernel` {kernel!r}: expected 'auto', 'numba' or 'torch'")
    if kernel == "torch" and not plain:
        raise CtcToolError("the torch beam search has no LM, hotwords or beta; use `kernel=numba` (or `kernel=auto`)")
    width = max(settings.beam_width, settings.nbest)
    if kernel == "torch" or (kernel == "auto" and plain and x.is_cuda):
        from ctctool.kernels.beam_torch import prefix_beam_search_torch

        beams = prefix_beam_search_torch(x.detach(), torch.tensor(lengths, device=x.device), blank, width,
                                         settings.token_min_log_prob)
        return [_distinct_texts(_torch_hypotheses(beam), vocab, settings.nbest) for beam in beams]
    return _search_numba(x, lengths, width, settings.nbest, blank, settings.token_min_log_prob, vocab, delimiter, lm,
                         settings.alpha, settings.beta, settings.oov_penalty, dict(hotwords or {}), plain)


def _torch_hypotheses(beam) -> list[Hypothesis]:
    """The torch kernel's (labels, ln P blank-ending, ln P label-ending) as hypotheses, best first."""
    import numpy as np

    totals = [(labels, float(np.logaddexp(pb, pnb))) for labels, pb, pnb in beam]
    return sorted((Hypothesis(labels, total, total) for labels, total in totals), key=lambda h: -h.score)


def _search_numba(log_probs, lengths, width, nbest, blank, token_min_log_prob, vocab, delimiter, lm, alpha, beta,
                  penalty, hotwords, plain) -> list[tuple[Hypothesis, ...]]:
    import numpy as np

    from ctctool.kernels.beam_numba import labels_of, plain_prefix_beam_search, prefix_beam_search

    search = plain_prefix_beam_search if plain else prefix_beam_search
    tables = compiled_lm(lm if lm is not None else _EMPTY_LM, vocab).as_tuple()
    hot = hotword_trie(hotwords, vocab)
    symbols = vocab.symbol_table()
    values = log_probs.detach().to("cpu", torch.float64 if log_probs.dtype == torch.float64 else torch.float32).numpy()
    results = []
    for b in range(len(lengths)):
        parents, labels, nodes, pb, pnb, lm_ln, words, off_lexicon, boosts = search(
            values[b, : lengths[b]], blank, width, token_min_log_prob, delimiter, symbols, tables, hot, alpha, beta,
            penalty, lm is not None)
        scored = []
        for j in range(len(nodes)):
            acoustic = float(np.logaddexp(pb[j], pnb[j]))
            fused = beta * int(words[j])
            if lm is not None:
                fused += alpha * float(lm_ln[j]) + penalty * int(off_lexicon[j])
            scored.append((acoustic + fused + float(boosts[j]), acoustic, fused, float(boosts[j]), int(nodes[j])))
        scored.sort(key=lambda entry: -entry[0])  # stable: ties keep the kernel's order
        best_first = (Hypothesis(tuple(labels_of(node, parents, labels).tolist()), total, acoustic, fused, boost)
                      for total, acoustic, fused, boost, node in scored)
        results.append(_distinct_texts(best_first, vocab, nbest))
    return results


def _distinct_texts(hypotheses: Iterable[Hypothesis], vocab: Vocabulary, limit: int) -> tuple[Hypothesis, ...]:
    """The best hypothesis of each text, up to ``limit`` texts, from hypotheses given best first
    (label sequences that differ only in word delimiters at the ends or in a row spell the same words)."""
    seen, kept = set(), []
    for hypothesis in hypotheses:
        text = vocab.text_of(hypothesis.labels)
        if text not in seen:
            seen.add(text)
            kept.append(replace(hypothesis, text=text))
            if len(kept) == limit:
                break
    return tuple(kept)


def _check_vocabulary(vocab: Vocabulary, blank: int, classes: int) -> None:
    if vocab.size != classes or vocab.blank != blank:
        raise CtcToolError(f"`vocab`: {vocab.size} tokens with blank {vocab.blank}, but `log_probs` have "
                           f"{classes} classes and `blank` {blank}; pass the model's vocabulary")


_EMPTY_LM = NgramModel(order=1, ngrams={})
_COMPILED: dict = {}


def compiled_lm(lm, vocab: Vocabulary):
    """``lm`` (an ``NgramModel`` or a ``KenlmModel``) flattened for the kernel, spelled with ``vocab``
    (the last few are cached)."""
    from ctctool.lm.tables import compile_kenlm_model, compile_ngram_model

    key = (id(lm), vocab)
    if key not in _COMPILED:
        if len(_COMPILED) >= 4:
            _COMPILED.pop(next(iter(_COMPILED)))
        if isinstance(lm, NgramModel):
            tables = compile_ngram_model(lm, vocab)
            listed = sum(len(g) == 1 for g in lm.ngrams)
        else:
            tables = compile_kenlm_model(lm, vocab)
            listed = len(lm.words)
        if listed and tables.spelled_words == 0:
            raise CtcToolError(f"language model: none of its {listed} words can be "
                               f"spelled with the vocabulary's tokens; check its case and alphabet")
        _COMPILED[key] = (lm, tables)
    return _COMPILED[key][1]
