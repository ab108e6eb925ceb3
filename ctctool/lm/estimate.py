"""Estimate a word n-gram model from sentences: interpolated modified Kneser-Ney in ARPA back-off form.

Each sentence is padded as ``<s> w1 ... wk </s>``; every word and the final ``</s>`` is
predicted. The highest order uses raw counts; a lower-order n-gram uses its continuation
count (how many different words precede it), except that one starting with ``<s>`` keeps
its raw count, since nothing can precede ``<s>``.

For a context h of order n (h' is h without its first word, a(.) the adjusted counts)::

    p(w | h) = (a(h w) - D(a(h w))) / A(h) + gamma(h) * p(w | h')
    A(h) = sum over w of a(h w);  gamma(h) = (D1 N1(h) + D2 N2(h) + D3 N3+(h)) / A(h)

with Nk(h) the number of words seen after h with adjusted count k (3 or more for N3+).
Unigrams interpolate with the uniform distribution 1 / |V|, where V is every word, ``</s>``
and ``<unk>`` (not ``<s>``). Unless the text itself holds ``<unk>`` (then it is counted like
any word), ``<unk>`` gets only its uniform share of the unigram discount mass:
P(<unk>) = gamma(empty context) / |V|, the smallest unigram probability in the model.

Modified Kneser-Ney estimates three discounts per order from the count-of-counts tk
(the number of n-grams with adjusted count k)::

    Y = t1 / (t1 + 2 t2);  Dk = k - (k + 1) Y t(k+1) / tk   for k = 1, 2, 3

An order where one of t1..t4 is zero, or a Dk falls outside (0, k), uses the single
discount ``FALLBACK_DISCOUNT`` for every count instead (plain interpolated Kneser-Ney).

ARPA form: a listed n-gram's probability is the interpolated p(w | h) above, and the
back-off weight of h is gamma(h), the mass p(. | h) leaves to p(. | h'). Pruning keeps
the interpolated probabilities of the n-grams it keeps and recomputes each back-off
weight so that every context's distribution still sums to 1.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ctctool.errors import CtcToolError
from ctctool.lm.ngram import BOS, EOS, UNK, NgramModel

#: The discount used for every count where modified Kneser-Ney cannot estimate its three.
FALLBACK_DISCOUNT = 0.75
#: log10 probability of ``<s>``, which is never predicted (the ARPA convention).
BOS_LOG10 = -99.0

Ngram = tuple[str, ...]


@dataclass(frozen=True)
class KneserNeyEstimate:
    """The model and how it was estimated.

    ``discounts[n - 1]`` holds (D1, D2, D3+) of the n-grams; ``fallback_orders`` the orders
    that used ``FALLBACK_DISCOUNT`` because their count-of-counts were degenerate;
    ``pruned[n - 1]`` how many n-grams ``min_count`` removed.
    """

    model: NgramModel
    discounts: tuple[tuple[float, float, float], ...]
    fallback_orders: tuple[int, ...]
    pruned: tuple[int, ...]


def estimate_ngram(
    sentences: Sequence[Sequence[str]],
    order: int = 3,
    *,
    discount: float | None = None,
    min_count: int | Sequence[int] = 1,
) -> NgramModel:
    """A back-off n-gram model of ``sentences`` (each a sequence of words); see :func:`kneser_ney`."""
    return kneser_ney(sentences, order, discount=discount, min_count=min_count).model


def kneser_ney(
    sentences: Sequence[Sequence[str]],
    order: int = 3,
    *,
    discount: float | None = None,
    min_count: int | Sequence[int] = 1,
) -> KneserNeyEstimate:
    """Interpolated Kneser-Ney estimate of an ``order``-gram model of ``sentences``.

    sentences: each a sequence of words, non-empty strings without whitespace, ``<s>`` and
        ``</s>`` not among them (they are added); an empty sentence counts as ``<s> </s>``.
    discount: one discount in (0, 1] for every count at every order (plain interpolated
        Kneser-Ney); None estimates modified Kneser-Ney's three discounts per order.
    min_count: n-grams of order 2 and up seen fewer times than this are not listed
        (2 drops singletons). One number for all those orders, or one per order from the
        bigrams up, the last repeated for higher orders. Unigrams are never pruned, nor an
        n-gram that is the context or the back-off of a listed longer one.
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise CtcToolError(f"order {order!r}: expected an integer >= 1")
    if discount is not None and not 0 < discount <= 1:
        raise CtcToolError(f"discount {discount}: expected a number in (0, 1], or None to estimate them")
    minimums = _min_counts(min_count, order)
    raw = _count(sentences, order)
    adjusted = _adjust(raw)
    discounts, fallback = [], []
    for n, counts in enumerate(adjusted, start=1):
        found = (discount,) * 3 if discount is not None else _modified_discounts(counts)
        if found is None:
            found = (FALLBACK_DISCOUNT,) * 3
            fallback.append(n)
        discounts.append(found)
    kept = _keep(raw, minimums)
    ngrams = _arpa_entries(adjusted, discounts, kept)
    pruned = tuple(len(r) - len(k) for r, k in zip(raw, kept))
    return KneserNeyEstimate(NgramModel(order=order, ngrams=ngrams), tuple(discounts), tuple(fallback), pruned)


def _min_counts(min_count: int | Sequence[int], order: int) -> list[int]:
    """Minimum raw count per order, unigrams first (always 1)."""
    values = [min_count] if isinstance(min_count, int) else list(min_count)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise CtcToolError(f"min_count {min_count!r}: expected integers >= 1, one for all orders from 2 up "
                           "or one per order")
    if len(values) > max(order - 1, 1):
        raise CtcToolError(f"`min_count` {', '.join(map(str, values))}: {len(values)} values for the {order - 1} "
                           f"order(s) from 2 to {order}; give at most one per order from the bigrams up")
    return [1] + [values[min(i, len(values) - 1)] for i in range(order - 1)]


def _count(sentences: Sequence[Sequence[str]], order: int) -> list[Counter]:
    """Raw counts of every n-gram ending at a predicted position, ``raw[n - 1]`` for n-grams."""
    padded = []
    for number, sentence in enumerate(sentences, start=1):
        if isinstance(sentence, str):
            raise CtcToolError(f"sentence {number}: expected a sequence of words, found a string; "
                               "split it into words first, e.g. text.split()")
        padded.append((BOS, *sentence, EOS))
    if not any(len(p) > 2 for p in padded):
        raise CtcToolError("no words to count: the sentences are empty; give at least one word")
    raw = [Counter(word for p in padded for word in p[1:])]
    _check_words(raw[0], padded)
    for n in range(2, order + 1):
        raw.append(Counter(gram for p in padded for gram in zip(*(p[k:] for k in range(n)))))
    raw[0] = Counter({(word,): c for word, c in raw[0].items()})
    return raw


def _check_words(unigrams: Counter, padded: list[tuple]) -> None:
    bad = [w for w in unigrams if not isinstance(w, str) or w == BOS or w.split() != [w]]
    bad += [EOS] if unigrams[EOS] != len(padded) else []
    if not bad:
        return
    word = bad[0]
    number = next(i for i, p in enumerate(padded, start=1) if word in p[1:-1])
    if word in (BOS, EOS):
        reason = f"{word} is reserved for the sentence {'start' if word == BOS else 'end'}; remove it"
    else:
        reason = "a word must be a non-empty string without whitespace"
    raise CtcToolError(f"sentence {number}: word {word!r}: {reason}")


def _adjust(raw: list[Counter]) -> list[Counter]:
    """Adjusted counts: raw at the highest order and for n-grams starting with ``<s>``, else
    the number of different words seen before the n-gram."""
    adjusted = []
    for n in range(1, len(raw) + 1):
        if n == len(raw):
            adjusted.append(raw[n - 1])
            continue
        counts = Counter(gram[1:] for gram in raw[n])
        counts.update({gram: c for gram, c in raw[n - 1].items() if gram[0] == BOS})
        adjusted.append(counts)
    return adjusted


def _modified_discounts(counts: Counter) -> tuple[float, float, float] | None:
    """(D1, D2, D3+) from the count-of-counts, or None when they are degenerate."""
    t = Counter(c for c in counts.values() if c <= 4)
    if any(t[k] == 0 for k in (1, 2, 3, 4)):
        return None
    y = t[1] / (t[1] + 2 * t[2])
    found = tuple(k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3))
    return found if all(0 < d < k for k, d in zip((1, 2, 3), found)) else None


def _keep(raw: list[Counter], minimums: list[int]) -> list[set[Ngram]]:
    """The n-grams to list: seen often enough, or the context or back-off of a listed longer one."""
    kept: list[set[Ngram]] = [set() for _ in raw]
    for n in range(len(raw), 0, -1):
        keep = {gram for gram, c in raw[n - 1].items() if c >= minimums[n - 1]}
        if n < len(raw):
            for gram in kept[n]:
                keep.add(gram[:-1])
                keep.add(gram[1:])
            keep.discard((BOS,))  # the context of (<s>, w): listed apart, with probability BOS_LOG10
        kept[n - 1] = keep
    return kept


def _arpa_entries(adjusted: list[Counter], discounts: list[tuple[float, float, float]],
                  kept: list[set[Ngram]]) -> dict[Ngram, tuple[float, float]]:
    """log10 (probability, back-off weight) of every kept n-gram, unigrams first, sorted within an order."""
    vocabulary = len(adjusted[0]) + ((UNK,) not in adjusted[0])
    probs: list[dict[Ngram, float]] = []
    weights: dict[Ngram, float] = {}
    for n, counts in enumerate(adjusted, start=1):
        discount = _discounter(discounts[n - 1])
        totals: dict[Ngram, float] = {}  # A(h)
        left: dict[Ngram, float] = {}  # the discount mass, gamma(h) A(h)
        for gram, c in counts.items():
            totals[gram[:-1]] = totals.get(gram[:-1], 0.0) + c
            left[gram[:-1]] = left.get(gram[:-1], 0.0) + discount(c)
        gamma = {h: left[h] / totals[h] for h in totals}
        level = {}
        for gram, c in counts.items():
            backoff = 1.0 / vocabulary if n == 1 else probs[-1][gram[1:]]
            level[gram] = (c - discount(c)) / totals[gram[:-1]] + gamma[gram[:-1]] * backoff
        if n == 1:
            level.setdefault((UNK,), gamma[()] / vocabulary)
        else:
            weights.update(_backoff_weights(counts, discount, totals, gamma, kept[n - 1], probs[-1]))
        probs.append(level)
    entries = {(BOS,): (BOS_LOG10, math.log10(weights.get((BOS,), 1.0)))}
    for n, level in enumerate(probs, start=1):
        for gram in sorted(level if n == 1 else kept[n - 1]):
            entries[gram] = (math.log10(level[gram]), math.log10(weights.get(gram, 1.0)))
    return entries


def _discounter(discounts: tuple[float, float, float]):
    d1, d2, d3 = discounts
    return lambda c: d1 if c == 1 else d2 if c == 2 else d3


def _backoff_weights(counts: Counter, discount, totals: dict[Ngram, float], gamma: dict[Ngram, float],
                     kept: set[Ngram], lower: dict[Ngram, float]) -> dict[Ngram, float]:
    """Back-off weight of every context h of this order, so that P(. | h) sums to 1.

    bow(h) = (1 - sum of p(w | h) over listed h w) / (1 - sum of p(w | h') over the same w)
           = gamma(h) + (discounted mass of the pruned h w) / (1 - sum of p(w | h') over listed h w),
    the second form being the first rewritten: exactly gamma(h) when nothing was pruned.
    """
    if len(kept) == len(counts):
        return dict(gamma)
    pruned_mass: dict[Ngram, float] = {}
    listed_lower: dict[Ngram, list[float]] = {}
    for gram, c in counts.items():
        h = gram[:-1]
        if gram in kept:
            listed_lower.setdefault(h, []).append(lower[gram[1:]])
        else:
            pruned_mass[h] = pruned_mass.get(h, 0.0) + (c - discount(c)) / totals[h]
    weights = dict(gamma)
    for h, mass in pruned_mass.items():
        weights[h] += mass / (1.0 - math.fsum(listed_lower.get(h, ())))
    return weights
