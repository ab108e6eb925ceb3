"""A word n-gram model and its lexicon as flat arrays, scored inside numba kernels.

Every listed n-gram gets an id (0 is the empty history). The id of ``h w`` is found in
an open-addressing hash table under the key ``id(h) * V + id(w)`` (V words). A decoder
state is the id of the longest listed suffix of the words so far, at most
``order - 1`` words long. Scores are natural logs (ARPA's log10 times ln 10).

A context that no listed n-gram spells out (``a b`` when only ``a b c`` is listed)
is added as a *virtual* n-gram: usable as a state, never as a probability.

A KenLM model keeps its n-grams to itself: its tables hold only the lexicon, and the
kernel asks a Python scorer (``ctctool.lm.kenlm_model.KenlmStates``) for each (state, word)
it has not seen, through a direct-mapped cache of the answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ctctool.kernels.ngram_score import hash_table, register_scorer
from ctctool.kernels.trie import build_trie
from ctctool.lm.ngram import BOS, EOS, UNK, NgramModel
from ctctool.vocab import Vocabulary

LN10 = math.log(10.0)


@dataclass(frozen=True)
class NgramTables:
    """Shapes: N n-grams (id 0: the empty history), H hash slots (a power of two), M lexicon nodes."""

    hash_keys: np.ndarray  # (H,) int64, -1 where empty
    hash_ids: np.ndarray  # (H,) int64 n-gram ids
    num_words: int  # V
    log_prob: np.ndarray  # (N,) ln P(last word | the others)
    log_backoff: np.ndarray  # (N,) ln back-off weight (0 when none)
    suffix: np.ndarray  # (N,) id of the longest listed proper suffix (0: empty)
    next_state: np.ndarray  # (N,) state after this n-gram: itself, or its suffix at full order
    listed: np.ndarray  # (N,) bool; False for virtual contexts
    lexicon_offsets: np.ndarray  # trie over the words' label sequences (see ctctool.kernels.trie)
    lexicon_labels: np.ndarray
    lexicon_targets: np.ndarray
    lexicon_word: np.ndarray  # (M,) word id spelled at the node, or -1
    lexicon_lookahead: np.ndarray  # (M,) ln of the best unigram probability of a word below the node
    start_state: int  # the state of "<s>"
    end_word: int  # id of "</s>", or -1
    unknown_word: int  # id of "<unk>", or -1
    unknown_log_prob: float  # ln P of a word that is not listed when there is no "<unk>"
    off_lexicon_log_prob: float  # partial-word score once a prefix spells no listed word
    spelled_words: int  # listed words the vocabulary can spell
    scorer: int = -1  # key of the external scorer in ``_SCORERS``, or -1: the tables above score
    cache_keys: np.ndarray = field(default_factory=lambda: np.full(1, -1, dtype=np.int64))  # (K,) int64
    cache_log_prob: np.ndarray = field(default_factory=lambda: np.zeros(1))  # (K,) the scorer's answers
    cache_next: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))  # (K,)
    external: object = field(default=None, repr=False, compare=False)  # keeps the scorer alive

    def as_tuple(self) -> tuple:
        """The arrays and numbers in the order the numba kernels unpack them."""
        return (self.hash_keys, self.hash_ids, self.num_words, self.log_prob, self.log_backoff, self.suffix,
                self.next_state, self.listed, self.lexicon_offsets, self.lexicon_labels, self.lexicon_targets,
                self.lexicon_word, self.lexicon_lookahead, self.start_state, self.end_word, self.unknown_word,
                self.unknown_log_prob, self.off_lexicon_log_prob, self.scorer, self.cache_keys, self.cache_log_prob,
                self.cache_next)


def compile_ngram_model(model: NgramModel, vocab: Vocabulary) -> NgramTables:
    """Flatten ``model`` for the beam-search kernel; words are spelled with ``vocab``'s tokens."""
    words = sorted(g[0] for g in model.ngrams if len(g) == 1)
    word_id = {w: i for i, w in enumerate(words)}
    grams = [g for g in model.ngrams if all(w in word_id for w in g)]
    listed = set(grams)
    contexts = {g[:k] for g in grams for k in range(1, len(g))}
    every = sorted(listed | contexts, key=lambda g: (len(g), g))
    gram_id = {g: i for i, g in enumerate(every, start=1)}
    count = len(every) + 1
    log_prob = np.zeros(count)
    log_backoff = np.zeros(count)
    suffix = np.zeros(count, dtype=np.int64)
    next_state = np.zeros(count, dtype=np.int64)
    is_listed = np.zeros(count, dtype=bool)
    keys = np.empty(count - 1, dtype=np.int64)
    for g, i in gram_id.items():
        if g in listed:
            prob, backoff = model.ngrams[g]
            log_prob[i], log_backoff[i], is_listed[i] = prob * LN10, backoff * LN10, True
        shorter = g[1:]
        while shorter and shorter not in gram_id:
            shorter = shorter[1:]
        suffix[i] = gram_id.get(shorter, 0)
        next_state[i] = i if len(g) < model.order else suffix[i]
        keys[i - 1] = gram_id.get(g[:-1], 0) * len(words) + word_id[g[-1]]
    hash_keys, hash_ids = hash_table(keys, np.arange(1, count, dtype=np.int64))
    lexicon = _lexicon(lambda word: model.ngrams[(word,)][0], words, vocab)
    unknown_ln = model.unknown_log10 * LN10
    unknown_word = word_id.get(UNK, -1)
    return NgramTables(
        hash_keys, hash_ids, len(words), log_prob, log_backoff, suffix, next_state, is_listed, *lexicon[:5],
        start_state=gram_id.get((BOS,), 0), end_word=word_id.get(EOS, -1), unknown_word=unknown_word,
        unknown_log_prob=unknown_ln,
        off_lexicon_log_prob=log_prob[gram_id[(UNK,)]] if unknown_word >= 0 else unknown_ln,
        spelled_words=lexicon[5],
    )


def _spellings(word: str, vocab: Vocabulary) -> list[int] | None:
    """Symbols of ``word`` as written, lowercased or uppercased (the first the vocabulary can spell;
    see ``Vocabulary.symbol_ids``)."""
    for form in (word, word.lower(), word.upper()):
        ids = vocab.symbol_ids(form)
        if ids is not None:
            return ids
    return None


def _lexicon(unigram_log10: Callable[[str], float], words: list[str], vocab: Vocabulary):
    spelled, word_ids = [], []
    for i, word in enumerate(words):
        labels = None if word in (BOS, EOS, UNK) else _spellings(word, vocab)
        if labels is not None:
            spelled.append(labels)
            word_ids.append(i)
    trie, ends = build_trie(spelled)
    word_at = np.full(trie.size, -1, dtype=np.int64)
    lookahead = np.full(trie.size, -np.inf)
    for end, i in zip(ends, word_ids):
        if word_at[end] < 0:  # two spellings of one label sequence: the first (sorted) word wins
            word_at[end] = i
        lookahead[end] = max(lookahead[end], unigram_log10(words[i]) * LN10)
    for node in range(trie.size - 1, -1, -1):  # children have larger ids than their parents
        kids = trie.targets[trie.offsets[node] : trie.offsets[node + 1]]
        if len(kids):
            lookahead[node] = max(lookahead[node], lookahead[kids].max())
    return trie.offsets, trie.child_labels, trie.targets, word_at, lookahead, len(word_ids)


#: Slots of the cache of an external scorer's answers (a power of two).
EXTERNAL_CACHE_SLOTS = 1 << 16


def compile_kenlm_model(model, vocab: Vocabulary, cache_slots: int = EXTERNAL_CACHE_SLOTS) -> NgramTables:
    """The lexicon of a ``ctctool.lm.kenlm_model.KenlmModel`` spelled with ``vocab``; scores come from KenLM."""
    from ctctool.lm.kenlm_model import KenlmStates

    words = sorted(set(model.words))
    states = KenlmStates(model, words)
    key = register_scorer(states)
    word_id = {w: i for i, w in enumerate(words)}
    lexicon = _lexicon(model.unigram_log10, words, vocab)
    unknown_ln = model.unigram_log10(UNK) * LN10
    empty_keys, empty_ids = hash_table(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    return NgramTables(
        empty_keys, empty_ids, len(words), np.zeros(1), np.zeros(1), np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64), np.zeros(1, dtype=bool), *lexicon[:5], start_state=0,
        end_word=word_id.get(EOS, -1), unknown_word=word_id.get(UNK, -1), unknown_log_prob=unknown_ln,
        off_lexicon_log_prob=unknown_ln, spelled_words=lexicon[5], scorer=key,
        cache_keys=np.full(cache_slots, -1, dtype=np.int64), cache_log_prob=np.zeros(cache_slots),
        cache_next=np.zeros(cache_slots, dtype=np.int64), external=states,
    )
