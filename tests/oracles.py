"""Independent brute-force routes for tiny inputs: enumerate every frame path.

Shapes: T frames, C classes. Only for T <= 6 and C <= 3 (C**T <= 729 paths).
"""

from __future__ import annotations

import itertools
import math


def collapse(path, blank: int = 0) -> tuple[int, ...]:
    """Merge repeated frames, then drop blanks: the label sequence a path spells."""
    out = []
    previous = None
    for token in path:
        if token != previous and token != blank:
            out.append(token)
        previous = token
    return tuple(out)


def path_log_prob(log_probs, path) -> float:
    """Sum over frames of the path's scores; ``log_probs`` is a (T, C) nested sequence."""
    return sum(float(log_probs[t][c]) for t, c in enumerate(path))


def all_paths(T: int, C: int):
    return itertools.product(range(C), repeat=T)


def logsumexp(values) -> float:
    values = list(values)
    if not values:
        return -math.inf
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def brute_force_nll(log_probs, labels, blank: int = 0) -> float:
    """-log of the summed probability of every frame path that collapses to ``labels``."""
    T, C = len(log_probs), len(log_probs[0])
    target = tuple(labels)
    scores = [path_log_prob(log_probs, p) for p in all_paths(T, C) if collapse(p, blank) == target]
    return -logsumexp(scores)


def brute_force_best_path(log_probs, labels, blank: int = 0):
    """(best score, best path) over every frame path that collapses to ``labels``."""
    T, C = len(log_probs), len(log_probs[0])
    target = tuple(labels)
    best = (-math.inf, None)
    for p in all_paths(T, C):
        if collapse(p, blank) == target:
            score = path_log_prob(log_probs, p)
            if score > best[0]:
                best = (score, p)
    return best


def label_log_probs(log_probs, blank: int = 0) -> dict:
    """log P(labels) for every label sequence, by enumerating all C**T frame paths."""
    T, C = len(log_probs), len(log_probs[0])
    scores = {}
    for path in all_paths(T, C):
        scores.setdefault(collapse(path, blank), []).append(path_log_prob(log_probs, path))
    return {labels: logsumexp(values) for labels, values in scores.items()}


# A trigram model over the words a, b, ab, ba, aab ("aa" is a prefix, not a word). "b a" is a context only through the
# trigram "b a b": it is not listed as a bigram, so it must be a state but never a probability.
TOY_ARPA = """\\data\\
ngram 1=8
ngram 2=6
ngram 3=2

\\1-grams:
-1.0 <s> -0.4
-0.8 </s>
-0.5 a -0.3
-0.7 b -0.2
-1.1 ab -0.25
-1.3 ba -0.1
-1.9 aab
-1.6 <unk>

\\2-grams:
-0.3 <s> a -0.15
-0.6 a b -0.05
-0.2 b </s>
-0.45 a a
-0.9 ab </s>
-0.35 <s> b

\\3-grams:
-0.1 <s> a b
-0.05 b a b

\\end\\
"""


def fused_scores(log_probs, vocab, lm=None, alpha=0.0, beta=0.0, oov_penalty=0.0, hotwords=None) -> dict:
    """Every label sequence's fused score, by enumeration: ln P_ctc + alpha ln P_LM(words, </s> included) +
    beta words + ``oov_penalty`` per word the LM does not list + the boost of each word that is a hotword.
    Words are ``vocab.text_of(labels).split()``."""
    fused = {}
    for labels, acoustic in label_log_probs(log_probs, blank=vocab.blank).items():
        words = vocab.text_of(labels).split()
        score = acoustic + beta * len(words) + sum((hotwords or {}).get(w, 0.0) for w in words)
        if lm is not None:
            score += alpha * lm.sentence_log10(words) * math.log(10) + oov_penalty * sum(w not in lm for w in words)
        fused[labels] = score
    return fused


def best_per_text(fused: dict, vocab, count: int) -> list:
    """The label sequences of the ``count`` best texts of ``fused``, each the best-scoring sequence of its text."""
    best = {}
    for labels, score in fused.items():
        text = vocab.text_of(labels)
        if text not in best or score > fused[best[text]]:
            best[text] = labels
    return sorted(best.values(), key=fused.get, reverse=True)[:count]
