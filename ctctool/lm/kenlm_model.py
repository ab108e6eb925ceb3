"""A word n-gram model scored by the ``kenlm`` package (optional extra: ``pip install 'ctctool[kenlm]'``).

It answers the same questions as ``ctctool.lm.ngram.NgramModel`` (log10 P(word | context),
sentence scores, membership), so the beam search can fuse either. KenLM keeps its own
decoder states; ``KenlmStates`` numbers them for the numba kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ctctool.lm.ngram import BOS, UNK

LN10 = math.log(10.0)


@dataclass(frozen=True)
class KenlmModel:
    """``model`` is a loaded ``kenlm.Model``; ``words`` its vocabulary (``<unk>``, ``<s>``, ``</s>`` included)."""

    path: Path
    order: int
    words: tuple[str, ...] = field(repr=False)
    model: Any = field(repr=False, compare=False)

    def __contains__(self, word: str) -> bool:
        return word in self.model

    def log10_prob(self, word: str, context: Sequence[str] = ()) -> float:
        """log10 P(word | context); a context that starts with ``<s>`` starts a sentence."""
        state = self._state_after(context)
        return self.model.BaseScore(state, str(word), self._kenlm.State())

    def sentence_log10(self, words: Sequence[str], *, bos: bool = True, eos: bool = True) -> float:
        """log10 P of a sentence: each word given the words before it (and ``<s>``), then ``</s>``."""
        return self.model.score(" ".join(map(str, words)), bos=bos, eos=eos)

    def unigram_log10(self, word: str) -> float:
        """log10 P(word) with no context."""
        return self.log10_prob(word)

    @property
    def _kenlm(self):
        import kenlm

        return kenlm

    def _state_after(self, context: Sequence[str]):
        state = self._kenlm.State()
        words = list(context)
        if words and words[0] == BOS:
            self.model.BeginSentenceWrite(state)
            words = words[1:]
        else:
            self.model.NullContextWrite(state)
        for word in words:
            after = self._kenlm.State()
            self.model.BaseScore(state, str(word), after)
            state = after
        return state


class KenlmStates:
    """Numbers KenLM's states so a numba kernel can hold them, and scores words from them.

    State 0 is the sentence start; ``words`` (the kernel's word ids) spell the words,
    and word id -1 is a word KenLM does not list (scored as ``<unk>``).
    """

    def __init__(self, lm: KenlmModel, words: Sequence[str]):
        import kenlm

        self._kenlm = kenlm
        self._model = lm.model
        self._words = list(words)
        start = kenlm.State()
        self._model.BeginSentenceWrite(start)
        self._states = [start]
        self._ids = {start: 0}

    def __call__(self, state: int, word: int) -> tuple[float, int]:
        """(ln P(word | state), the id of the state after it)."""
        after = self._kenlm.State()
        log10 = self._model.BaseScore(self._states[state], self._words[word] if word >= 0 else UNK, after)
        known = self._ids.get(after)
        if known is None:
            known = self._ids[after] = len(self._states)
            self._states.append(after)
        return log10 * LN10, known

    def __len__(self) -> int:
        return len(self._states)
