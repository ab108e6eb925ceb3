"""Word and character error rates of a corpus, pooled over its utterances.

Every measure is pooled: total edits over total reference words, never a mean of
per-utterance rates. Words are split on any Unicode whitespace (tab, no-break
space, ...), so ``"a\\tb"`` is two words. Edit operations come from rapidfuzz's
Levenshtein alignment on words mapped to integers, the route jiwer takes, so hits,
substitutions, deletions and insertions equal ``jiwer.process_words``'s exactly.

Normalisation is explicit: compose the small transforms below (or use
:data:`NORMALIZE`) and pass the result as ``transform``; by default the text is
scored as it is.

Bootstrap intervals resample utterances with replacement (numpy, vectorised over
the per-utterance edit and reference-word counts).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Sequence

from rapidfuzz.distance import Levenshtein

from ctctool.errors import CtcToolError

Transform = Callable[[str], str]

# Edit operation marks used by :class:`AlignedWord`.
HIT, SUBSTITUTION, DELETION, INSERTION = "=", "S", "D", "I"
_RAPIDFUZZ_MARKS = {"equal": HIT, "replace": SUBSTITUTION, "delete": DELETION, "insert": INSERTION}
_RESAMPLE_CELLS = 2_000_000  # resampled utterance indices held in memory at once


# ----------------------------------------------------------------------------- transforms


def to_lowercase(text: str) -> str:
    """``text`` in lower case (``str.lower``)."""
    return text.lower()


class _PunctuationTable(dict):
    """``str.translate`` table deleting every character whose Unicode category is P*."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.category(chr(code)).startswith("P") else code
        self[code] = value
        return value


_PUNCTUATION = _PunctuationTable()


def remove_punctuation(text: str) -> str:
    """``text`` without Unicode punctuation (categories P*), as jiwer's RemovePunctuation.

    A punctuation mark is deleted, not replaced by a space: ``"don't"`` becomes ``"dont"``.
    """
    return text.translate(_PUNCTUATION)


def collapse_whitespace(text: str) -> str:
    """The words of ``text`` joined by single spaces, with no leading or trailing space."""
    return " ".join(text.split())


def compose(*transforms: Transform) -> Transform:
    """One transform applying ``transforms`` left to right."""

    def composed(text: str) -> str:
        for transform in transforms:
            text = transform(text)
        return text

    return composed


NORMALIZE: Transform = compose(to_lowercase, remove_punctuation, collapse_whitespace)
"""Lower case, no punctuation, single spaces: the preset behind the normalize option of ``ctctool wer``."""


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class UtteranceScore:
    """Counts of one utterance. ``reference`` and ``hypothesis`` are the scored words
    (after the transform) joined by single spaces; CER is computed on these strings."""

    index: int
    key: str | None
    reference: str
    hypothesis: str
    ref_words: int
    hyp_words: int
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    ref_chars: int
    char_edits: int

    @property
    def errors(self) -> int:
        """Word edits: substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """errors / ref_words; for an empty reference, the insertion count."""
        return self.errors / self.ref_words if self.ref_words else float(self.insertions)

    @property
    def cer(self) -> float:
        """char_edits / ref_chars; for an empty reference, the hypothesis length in characters."""
        return self.char_edits / self.ref_chars if self.ref_chars else float(self.char_edits)


@dataclass(frozen=True)
class WerReport:
    """Pooled measures of a corpus and the per-utterance counts they come from.

    wer = (S + D + I) / (H + S + D); mer = (S + D + I) / (H + S + D + I);
    wip = H / ref_words * H / hyp_words (0.0 when the hypotheses hold no words);
    wil = 1 - wip; cer = character edits / reference characters, on the words joined
    by single spaces (so the spaces between words count as characters).
    """

    wer: float
    cer: float
    mer: float
    wil: float
    wip: float
    hits: int
    substitutions: int
    deletions: int
    insertions: int
    ref_words: int
    hyp_words: int
    ref_chars: int
    char_edits: int
    utterances: tuple[UtteranceScore, ...]

    @property
    def errors(self) -> int:
        """Word edits over the corpus: substitutions + deletions + insertions."""
        return self.substitutions + self.deletions + self.insertions

    def worst(self, n: int | None = None) -> tuple[UtteranceScore, ...]:
        """The ``n`` worst utterances (all when None).

        Highest WER first, then most errors, then input order.
        """
        ranked = sorted(self.utterances, key=lambda u: (-u.wer, -u.errors, u.index))
        return tuple(ranked if n is None else ranked[:n])


@dataclass(frozen=True)
class AlignedWord:
    """One column of a word alignment. ``op`` is HIT, SUBSTITUTION, DELETION or INSERTION;
    ``ref`` is ``""`` for an insertion and ``hyp`` is ``""`` for a deletion."""

    op: str
    ref: str
    hyp: str


@dataclass(frozen=True)
class BootstrapInterval:
    """Percentile bootstrap confidence interval of corpus WER."""

    wer: float
    low: float
    high: float
    confidence: float
    resamples: int
    seed: int


@dataclass(frozen=True)
class PairedBootstrap:
    """Paired bootstrap of two systems on the same utterances.

    ``prob_b_better`` is the share of resamples in which WER_B < WER_A; ``delta_low``
    and ``delta_high`` bound WER_B - WER_A at ``confidence``.
    """

    wer_a: float
    wer_b: float
    prob_b_better: float
    delta_low: float
    delta_high: float
    confidence: float
    resamples: int
    seed: int


# ----------------------------------------------------------------------------- scoring


def _word_ids() -> defaultdict[str, int]:
    """A table giving each new word the next integer, as jiwer maps words before aligning."""
    table: defaultdict[str, int] = defaultdict()
    table.default_factory = table.__len__
    return table


def score_corpus(
    references: Sequence[str],
    hypotheses: Sequence[str],
    keys: Sequence[str] | None = None,
    *,
    transform: Transform | None = None,
) -> WerReport:
    """Score ``hypotheses`` against ``references``, pair by pair.

    ``keys`` names the utterances (``UtteranceScore.key``; None when not given).
    ``transform`` is applied to every text before it is split into words.
    An empty reference is a valid utterance: its per-utterance WER is its insertion
    count. A corpus whose references hold no word at all has no defined WER and is
    a CtcToolError, as are sequences of different lengths.
    """
    count = len(references)
    if len(hypotheses) != count:
        raise CtcToolError(
            f"{count} references but {len(hypotheses)} hypotheses; "
            "pass exactly one hypothesis per reference"
        )
    if keys is not None and len(keys) != count:
        raise CtcToolError(f"{count} references but {len(keys)} keys; pass one key per reference")
    word_ids = _word_ids()
    editops = Levenshtein.editops
    distance = Levenshtein.distance
    utterances = []
    for index, (ref_text, hyp_text) in enumerate(zip(references, hypotheses)):
        if transform is not None:
            ref_text, hyp_text = transform(ref_text), transform(hyp_text)
        ref_split, hyp_split = ref_text.split(), hyp_text.split()
        tags = [op[0] for op in editops([word_ids[w] for w in ref_split],
                                        [word_ids[w] for w in hyp_split]).as_list()]
        subs, dels = tags.count("replace"), tags.count("delete")
        reference, hypothesis = " ".join(ref_split), " ".join(hyp_split)
        utterances.append(UtteranceScore(
            index, None if keys is None else keys[index], reference, hypothesis,
            len(ref_split), len(hyp_split), len(ref_split) - subs - dels, subs, dels,
            len(tags) - subs - dels, len(reference), distance(reference, hypothesis),
        ))
    return _pool(tuple(utterances))


def _pool(utterances: tuple[UtteranceScore, ...]) -> WerReport:
    """Sum the per-utterance counts into corpus measures."""
    hits = sum(u.hits for u in utterances)
    subs = sum(u.substitutions for u in utterances)
    dels = sum(u.deletions for u in utterances)
    ins = sum(u.insertions for u in utterances)
    ref_words = hits + subs + dels
    hyp_words = hits + subs + ins
    if ref_words == 0:
        raise CtcToolError(
            f"the references hold no words ({len(utterances)} utterances, all empty after "
            "normalisation): corpus WER divides by the reference word count; "
            "give at least one non-empty reference"
        )
    ref_chars = sum(u.ref_chars for u in utterances)
    char_edits = sum(u.char_edits for u in utterances)
    errors = subs + dels + ins
    wip = (hits / ref_words) * (hits / hyp_words) if hyp_words else 0.0
    return WerReport(
        wer=errors / ref_words, cer=char_edits / ref_chars, mer=errors / (errors + hits),
        wil=1.0 - wip, wip=wip, hits=hits, substitutions=subs, deletions=dels, insertions=ins,
        ref_words=ref_words, hyp_words=hyp_words, ref_chars=ref_chars, char_edits=char_edits,
        utterances=utterances,
    )


def align_words(reference: str, hypothesis: str) -> tuple[AlignedWord, ...]:
    """The word alignment behind an utterance's counts, column by column.

    Pass ``UtteranceScore.reference`` and ``.hypothesis`` (already transformed); the
    marks it returns count to the same hits, substitutions, deletions and insertions.
    """
    ref_split, hyp_split = reference.split(), hypothesis.split()
    word_ids = _word_ids()
    opcodes = Levenshtein.opcodes([word_ids[w] for w in ref_split],
                                  [word_ids[w] for w in hyp_split])
    columns = []
    for tag, ref_start, ref_end, hyp_start, hyp_end in opcodes:
        ref_part, hyp_part = ref_split[ref_start:ref_end], hyp_split[hyp_start:hyp_end]
        width = max(len(ref_part), len(hyp_part))
        ref_part += [""] * (width - len(ref_part))
        hyp_part += [""] * (width - len(hyp_part))
        mark = _RAPIDFUZZ_MARKS[tag]
        columns.extend(AlignedWord(mark, r, h) for r, h in zip(ref_part, hyp_part))
    return tuple(columns)


# ----------------------------------------------------------------------------- bootstrap


def _check_resampling(resamples: int, confidence: float) -> None:
    if resamples < 1:
        raise CtcToolError(f"bootstrap resamples: expected at least 1, got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise CtcToolError(
            f"bootstrap confidence: expected a value between 0 and 1, got {confidence}"
        )


def _resampled_rates(reports: Sequence[WerReport], resamples: int, seed: int):
    """WER of each report on the same ``resamples`` resampled utterance sets: shape (R, resamples).

    A resample whose references hold no word gets its edit count as its rate, the
    per-utterance rule for empty references.
    """
    import numpy as np

    size = len(reports[0].utterances)
    edits = np.array([[u.errors for u in r.utterances] for r in reports], dtype=np.int64)
    words = np.fromiter((u.ref_words for u in reports[0].utterances), dtype=np.int64, count=size)
    rng = np.random.default_rng(seed)
    rows = max(1, _RESAMPLE_CELLS // size)
    edit_sums = np.empty((len(reports), resamples), dtype=np.int64)
    word_sums = np.empty(resamples, dtype=np.int64)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        picks = rng.integers(0, size, size=(stop - start, size))
        edit_sums[:, start:stop] = edits[:, picks].sum(axis=2)
        word_sums[start:stop] = words[picks].sum(axis=1)
    rates = edit_sums.astype(np.float64)
    return np.divide(rates, word_sums, out=rates, where=word_sums > 0)


def bootstrap_interval(
    report: WerReport, resamples: int, seed: int = 0, confidence: float = 0.95
) -> BootstrapInterval:
    """Percentile confidence interval of ``report.wer``, resampling utterances with replacement."""
    import numpy as np

    _check_resampling(resamples, confidence)
    rates = _resampled_rates([report], resamples, seed)[0]
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(rates, [tail, 1.0 - tail])
    return BootstrapInterval(report.wer, float(low), float(high), confidence, resamples, seed)


def paired_bootstrap(
    report_a: WerReport,
    report_b: WerReport,
    resamples: int,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedBootstrap:
    """How often system B beats system A when both are scored on the same resampled utterances.

    Both reports must score the same references in the same order.
    """
    import numpy as np

    _check_resampling(resamples, confidence)
    refs_a = [u.reference for u in report_a.utterances]
    refs_b = [u.reference for u in report_b.utterances]
    if refs_a != refs_b:
        raise CtcToolError(
            f"paired bootstrap: system A has {len(refs_a)} utterances and system B "
            f"{len(refs_b)}, or their references differ; score both against the same references"
        )
    rates_a, rates_b = _resampled_rates([report_a, report_b], resamples, seed)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(rates_b - rates_a, [tail, 1.0 - tail])
    return PairedBootstrap(
        wer_a=report_a.wer, wer_b=report_b.wer, prob_b_better=float(np.mean(rates_b < rates_a)),
        delta_low=float(low), delta_high=float(high), confidence=confidence,
        resamples=resamples, seed=seed,
    )


# ----------------------------------------------------------------------------- the whole job


@dataclass(frozen=True)
class SystemScores:
    """One or more systems scored on the same references: a report each, a WER interval each
    (None without resampling), and, for two systems, the paired bootstrap (else None)."""

    reports: tuple[WerReport, ...]
    intervals: tuple[BootstrapInterval | None, ...]
    paired: PairedBootstrap | None


def score_systems(
    references: Sequence[str],
    systems: Sequence[Sequence[str]],
    keys: Sequence[str] | None = None,
    *,
    transform: Transform | None = None,
    resamples: int = 0,
    seed: int = 0,
) -> SystemScores:
    """What ``ctctool wer`` computes: ``score_corpus`` of each system's hypotheses, the bootstrap
    interval of each WER when ``resamples`` > 0, and the paired bootstrap of two systems."""
    reports = tuple(score_corpus(references, hypotheses, keys, transform=transform) for hypotheses in systems)
    intervals = tuple(bootstrap_interval(r, resamples, seed) if resamples else None for r in reports)
    paired = paired_bootstrap(reports[0], reports[1], resamples, seed) if len(reports) == 2 and resamples else None
    return SystemScores(reports, intervals, paired)
