"""Word n-gram language models in the ARPA back-off format (scores in log10, as ARPA stores them).

P(w | h) is the n-gram's probability when ``h w`` is listed; otherwise the back-off
weight of ``h`` times P(w | h without its first word), down to the unigram.
``<s>`` starts and ``</s>`` ends a sentence. A word the model does not list is
``<unk>`` when the model has it, else it scores ``unknown_log10``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
#: log10 probability of a word that is neither listed nor covered by ``<unk>``.
UNKNOWN_LOG10 = -10.0


@dataclass(frozen=True)
class NgramModel:
    """``ngrams[words] = (log10 probability, log10 back-off weight)`` for every listed n-gram."""

    order: int
    ngrams: dict[tuple[str, ...], tuple[float, float]] = field(repr=False)
    unknown_log10: float = UNKNOWN_LOG10

    def __contains__(self, word: str) -> bool:
        return (word,) in self.ngrams

    def log10_prob(self, word: str, context: Sequence[str] = ()) -> float:
        """log10 P(word | context); only the last ``order - 1`` context words matter."""
        if (word,) not in self.ngrams:
            if (UNK,) not in self.ngrams:
                return self.unknown_log10
            word = UNK
        recent = tuple(w if (w,) in self.ngrams else UNK for w in context)
        history = recent[-(self.order - 1):] if self.order > 1 else ()
        backoff = 0.0
        while True:
            entry = self.ngrams.get(history + (word,))
            if entry is not None:
                return backoff + entry[0]
            weight = self.ngrams.get(history)
            backoff += weight[1] if weight is not None else 0.0
            history = history[1:]

    def sentence_log10(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> float:
        """log10 P of a sentence: each word given the words before it (and ``<s>``), then ``</s>``."""
        context = [BOS] if bos else []
        total = 0.0
        for word in [*words, EOS] if eos else words:
            total += self.log10_prob(word, context)
            context.append(word)
        return total
