#!/usr/bin/env python3
"""Benchmark: ctctool.score_corpus against jiwer on random sentence pairs, in one run.

Data (fixed seed): references of 4..32 words drawn with Zipf-like frequencies from
4,000 pseudo-words made of consonant-vowel syllables; each hypothesis word is
substituted (7 %), deleted (3 %), followed by an inserted word (3 %) or given a
one-letter typo (3 %); 1 % of the hypotheses are empty.

Times (median of REPS runs after one warm-up): jiwer.process_words, jiwer.wer,
jiwer.cer, jiwer.process_words + jiwer.cer, and ctctool's score_corpus (which
computes word counts and CER together). Checks that hits, substitutions, deletions,
insertions, WER and CER agree exactly with jiwer.

Run:  python bench/bench_wer.py [PAIRS]
Prints one JSON object per measurement, then one line with the time ratios.
``run(pairs)`` returns the same records as a dict, for other bench scripts.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from importlib.metadata import version

import numpy as np

SEED = 2024
REPS = 5
ONSETS = "b d f g k l m n p r s t v z ch sh th st tr".split()
VOWELS = "a e i o u ai ou ee".split()


def make_pairs(pairs: int, seed: int = SEED) -> tuple[list[str], list[str]]:
    """``pairs`` (reference, hypothesis) sentences, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    words: set[str] = set()
    while len(words) < 4000:
        syllables = rng.integers(1, 5)
        words.add("".join(ONSETS[rng.integers(len(ONSETS))] + VOWELS[rng.integers(len(VOWELS))]
                          for _ in range(syllables)))
    vocab = sorted(words)
    cdf = np.cumsum(1.0 / np.arange(1, len(vocab) + 1) ** 1.1)
    cdf /= cdf[-1]

    def draw(count: int) -> list[str]:
        ids = np.minimum(np.searchsorted(cdf, rng.random(count)), len(vocab) - 1)
        return [vocab[i] for i in ids]

    references, hypotheses = [], []
    for _ in range(pairs):
        ref = draw(int(rng.integers(4, 33)))
        spare = iter(draw(len(ref)))
        hyp: list[str] = []
        if rng.random() >= 0.01:
            for word, chance in zip(ref, rng.random(len(ref))):
                if chance < 0.07:
                    hyp.append(next(spare))
                elif chance < 0.10:
                    continue
                elif chance < 0.13:
                    hyp += [word, next(spare)]
                elif chance < 0.16:
                    at = int(rng.integers(len(word)))
                    hyp.append(word[:at] + "xqjw"[int(rng.integers(4))] + word[at + 1:])
                else:
                    hyp.append(word)
        references.append(" ".join(ref))
        hypotheses.append(" ".join(hyp))
    return references, hypotheses


def _median_time(fn) -> tuple[object, float]:
    fn()  # warm-up
    times = []
    for _ in range(REPS):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def run(pairs: int = 10_000) -> dict:
    """Time jiwer and ctctool on ``pairs`` sentence pairs; check that their counts agree."""
    import jiwer

    from ctctool.metrics import score_corpus

    refs, hyps = make_pairs(pairs)
    meta = {"bench": "wer", "meta": True, "pairs": pairs, "seed": SEED, "reps": REPS,
            "python": platform.python_version(), "jiwer": version("jiwer"),
            "rapidfuzz": version("rapidfuzz"), "ref_words": sum(len(r.split()) for r in refs)}
    candidates = {
        "jiwer.process_words": lambda: jiwer.process_words(refs, hyps),
        "jiwer.wer": lambda: jiwer.wer(refs, hyps),
        "jiwer.cer": lambda: jiwer.cer(refs, hyps),
        "jiwer.process_words+jiwer.cer": lambda: (jiwer.process_words(refs, hyps),
                                                  jiwer.cer(refs, hyps)),
        "ctctool.score_corpus": lambda: score_corpus(refs, hyps),
    }
    outputs, records = {}, []
    for name, fn in candidates.items():
        outputs[name], seconds = _median_time(fn)
        records.append({"bench": "wer", "tool": name, "pairs": pairs, "median_s": seconds,
                        "pairs_per_s": pairs / seconds})
    ours, theirs = outputs["ctctool.score_corpus"], outputs["jiwer.process_words"]
    fields = ("hits", "substitutions", "deletions", "insertions", "wer")
    agree = {name: getattr(ours, name) == getattr(theirs, name) for name in fields}
    agree["cer"] = ours.cer == outputs["jiwer.cer"]
    times = {r["tool"]: r["median_s"] for r in records}
    summary = {
        "bench": "wer", "pairs": pairs, "counts_agree": all(agree.values()), "agree": agree,
        "wer": ours.wer, "cer": ours.cer,
        "ratio_vs_process_words": times["ctctool.score_corpus"] / times["jiwer.process_words"],
        "ratio_vs_process_words_plus_cer":
            times["ctctool.score_corpus"] / times["jiwer.process_words+jiwer.cer"],
        "target_ratio": 1.5,
    }
    return {"meta": meta, "measurements": records, "summary": summary}


def main() -> int:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    result = run(pairs)
    for record in [result["meta"], *result["measurements"], result["summary"]]:
        print(json.dumps(record), flush=True)
    return 0 if result["summary"]["counts_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
