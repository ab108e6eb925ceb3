#!/usr/bin/env python3
"""Forced-alignment speed: ctctool.forced_align vs ctc-forced-aligner's C++ Viterbi, in one run.

Cases (C=32, L = T/4, peaked synthetic log-probs, as ../shared/bench/peer_align.py):
  * one utterance, T=5000, one thread for both;
  * 32 utterances of T 800-1000: ctctool batched (1 and 2 threads) vs the peer looping;
  * an hour of emissions (T=180,000, L=50,000): ctctool's time and peak memory (in a child process).
Both paths are checked to score the same (ctctool's float64 score vs the peer path's score).

The peer is ctc-forced-aligner 1.0.2 from PyPI, loaded by path: --peer-dir DIR (default
$CFA_PYPI_DIR, else $PEERS_VENV/opt/cfa-pypi); install it as ../shared/bench/README.md says.
Run: python bench/bench_align.py [--skip-hour]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SEED = 2468
C = 32


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def peaked_utterance(rng: np.random.Generator, T: int, ratio: int = 4):
    """(T, C) float32 log-probs peaking on a random valid alignment of T // ratio labels, and the labels."""
    labels = rng.integers(1, C, size=T // ratio)
    states = np.zeros(2 * len(labels) + 1, dtype=np.int64)
    states[1::2] = labels
    minimum = np.zeros_like(states)
    minimum[1::2] = 1
    minimum[2:-1:2][labels[1:] == labels[:-1]] = 1
    durations = minimum + rng.multinomial(T - minimum.sum(), np.full(len(states), 1 / len(states)))
    frames = np.repeat(states, durations)
    logits = rng.standard_normal((T, C)) * 1.5
    logits[np.arange(T), frames] += rng.uniform(2.0, 9.0, size=T)
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return log_probs.astype(np.float32), labels


def median_time(fn, reps: int = 15, min_seconds: float = 0.5) -> float:
    fn()
    times, start = [], time.perf_counter()
    while len(times) < reps and (len(times) < 3 or time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load_peer(peer_dir: str | None):
    folder = Path(peer_dir or os.environ.get("CFA_PYPI_DIR") or Path(os.environ.get("PEERS_VENV", ".peers-venv")) / "opt" / "cfa-pypi")
    module_file = folder / "ctc_forced_aligner" / "ctc_aligner.py"
    if not module_file.exists():
        return None, f"ctc-forced-aligner not found at {module_file}"
    spec = importlib.util.spec_from_file_location("cfa_ctc_aligner", module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def align(log_probs, labels):
        paths, _ = module.align_sequences(log_probs[None], labels[None].astype(np.int64), 0)
        return paths[0]

    return align, None


def path_score(log_probs, path) -> float:
    return float(log_probs[np.arange(len(path)), path].astype(np.float64).sum())


def bench_single(peer, rng) -> None:
    import torch

    from ctctool.alignment.viterbi import forced_align

    log_probs, labels = peaked_utterance(rng, 5000)
    lp = torch.from_numpy(log_probs)
    ours = median_time(lambda: forced_align(lp, labels.tolist()))
    score = float(forced_align(lp, labels.tolist()).scores[0])
    record = {"bench": "align", "case": "single", "T": 5000, "L": len(labels), "ctctool_ms": round(1e3 * ours, 2)}
    if peer:
        theirs = median_time(lambda: peer(log_probs, labels))
        record.update(peer_ms=round(1e3 * theirs, 2), speedup=round(theirs / ours, 2),
                      score_diff=abs(score - path_score(log_probs, peer(log_probs, labels))))
    emit(record)


def bench_batch(peer, rng) -> None:
    import numba
    import torch

    from ctctool.alignment.viterbi import forced_align

    utterances = [peaked_utterance(rng, int(T)) for T in rng.integers(800, 1001, size=32)]
    T_max = max(lp.shape[0] for lp, _ in utterances)
    batch = torch.zeros(32, T_max, C)
    for b, (lp, _) in enumerate(utterances):
        batch[b, : lp.shape[0]] = torch.from_numpy(lp)
    lengths = [lp.shape[0] for lp, _ in utterances]
    targets = [labels.tolist() for _, labels in utterances]
    record = {"bench": "align", "case": "batch32", "T": "800-1000"}
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        record[f"ctctool_ms_{threads}thread"] = round(1e3 * median_time(lambda: forced_align(batch, targets, input_lengths=lengths)), 2)
    if peer:
        theirs = median_time(lambda: [peer(lp, labels) for lp, labels in utterances])
        record.update(peer_loop_ms=round(1e3 * theirs, 2), speedup_1thread=round(1e3 * theirs / record["ctctool_ms_1thread"], 2))
    emit(record)


HOUR_CHILD = """
import json, resource, sys, time
import numpy as np, torch, numba
sys.path.insert(0, sys.argv[1])
import bench_align
from ctctool.alignment.viterbi import forced_align
numba.set_num_threads(int(sys.argv[2]))
rng = np.random.default_rng(bench_align.SEED)
log_probs, labels = bench_align.peaked_utterance(rng, 180_000, ratio=180_000 // 50_000)
labels = labels[:50_000]
lp = torch.from_numpy(log_probs)
forced_align(lp[:2000], labels[:400].tolist())  # compile outside the timing
t0 = time.perf_counter()
result = forced_align(lp, labels.tolist())
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "score": float(result.scores[0])}))
"""


def bench_hour(threads: int) -> None:
    out = subprocess.run([sys.executable, "-c", HOUR_CHILD, str(Path(__file__).parent), str(threads)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        emit({"bench": "align", "case": "hour", "error": out.stderr.strip().splitlines()[-1:]})
        return
    result = json.loads(out.stdout)
    emit({"bench": "align", "case": "hour", "T": 180_000, "L": 50_000, "threads": threads,
          "ctctool_s": round(result["seconds"], 2), "peak_rss_mb": round(result["peak_rss_mb"])})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-dir")
    parser.add_argument("--skip-hour", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    peer, why = load_peer(args.peer_dir)
    emit({"bench": "align", "meta": True, "cpus": os.cpu_count(), "peer": "ctc-forced-aligner 1.0.2 (C++)" if peer else why})
    rng = np.random.default_rng(SEED)
    bench_single(peer, rng)
    bench_batch(peer, rng)
    if not args.skip_hour:
        bench_hour(threads=2)


if __name__ == "__main__":
    main()
