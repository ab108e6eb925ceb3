#!/usr/bin/env python3
"""Decoding speed and accuracy: ctctool vs pyctcdecode, fast-ctc-decode and flashlight-text, in one run.

Data (made here, C = 29: blank, space, a-z, apostrophe): sentences from a random bigram
"grammar" over a word list; log-probs peak on the transcript's characters along a random
CTC alignment (about 4 frames per character) with Gaussian noise and 3% of frames also
peaking on a wrong character, so that greedy decoding makes errors an LM can fix. A word
3-gram LM (modified Kneser-Ney, ``ctctool lm``) is estimated from 20,000 other sentences of
the same grammar and written as ARPA; both ctctool and pyctcdecode+KenLM load that file.
With KenLM's ``build_binary`` (``KENLM_BUILD_BINARY=/path/to/build_binary``, or on PATH) and
the ``kenlm`` extra installed, the same n-grams are also decoded from a KenLM binary by both.

Cases:
  * speed: one utterance of T=5000 frames, beams 10 and 100, no LM; beam 10 with the LM;
  * held-out accuracy: 40 utterances of T=1000, WER and CER for greedy, beam 10, beam 10 + LM;
  * greedy on a batch of 32 x 1000 frames (torch tensors, CPU);
  * with a GPU: the torch beam-search kernel on that batch on CUDA (beams 10 and 100) against
    the numba kernel on the CPU, same hypotheses.

The peers run in their own venv (../shared/bench/README.md) through bench/peer_decode_runner.py:
  PEERS_VENV=/path/to/venv python bench/bench_decode.py
Prints JSON lines, then a Markdown summary.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 4321
LABELS = ["<blank>", " ", *"abcdefghijklmnopqrstuvwxyz", "'"]
WORDS = """time people year way day man thing woman life child world school state family student group
country problem hand part place case week company system program question work government number night
point home water room mother area money story fact month lot right study book eye job word business issue
side kind head house service friend father power hour game line end member law car city community name
president team minute idea kid body information back parent face others level office door health person
art war history party result change morning reason research girl guy moment air teacher force education
be have do say get make go know take see come think look want give use find tell ask seem feel try leave
call good new first last long great little own other old right big high different small large next early
young important few public bad same able the a an and of to in it that for on with as at by from up about
into over after don't can't it's i'm we they she he you""".split()


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


class Grammar:
    """Each word (and the sentence start) may be followed by 6 words, with random probabilities."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.next = [rng.choice(len(WORDS), size=6, replace=False) for _ in range(len(WORDS) + 1)]
        self.weights = [rng.dirichlet(np.full(6, 0.6)) for _ in range(len(WORDS) + 1)]

    def sentence(self) -> list[str]:
        words, previous = [], len(WORDS)
        for _ in range(int(self.rng.integers(4, 15))):
            previous = int(self.rng.choice(self.next[previous], p=self.weights[previous]))
            words.append(WORDS[previous])
        return words

    def text(self, characters: int) -> str:
        words: list[str] = []
        while len(" ".join(words)) < characters:
            words += self.sentence()
        return " ".join(words)[:characters].rsplit(" ", 1)[0]


def random_path(rng: np.random.Generator, labels: np.ndarray, T: int, blank: int) -> np.ndarray:
    """(T,) classes of a random CTC path spelling ``labels``: each label at least one frame, a blank between
    repeats, the other frames spread at random (blanks a little more likely)."""
    states = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    states[1::2] = labels
    minimum = np.zeros_like(states)
    minimum[1::2] = 1
    minimum[2:-1:2][labels[1:] == labels[:-1]] = 1
    weights = np.where(np.arange(len(states)) % 2 == 1, 1.0, 1.4) * rng.gamma(2.0, 1.0, size=len(states))
    return np.repeat(states, minimum + rng.multinomial(T - minimum.sum(), weights / weights.sum()))


def emissions(rng: np.random.Generator, text: str, T: int) -> np.ndarray:
    """(T, C) float32 log-probs peaking on ``text`` along a random CTC alignment, with confusions."""
    labels = np.array([LABELS.index(ch) for ch in text])
    frames = random_path(rng, labels, T, blank=0)
    logits = rng.standard_normal((T, len(LABELS)))
    peak = rng.uniform(4.0, 10.0, size=T)
    logits[np.arange(T), frames] += peak
    confused = np.nonzero(rng.random(T) < 0.03)[0]
    logits[confused, rng.integers(1, len(LABELS), size=len(confused))] += peak[confused] * rng.uniform(0.6, 1.3, len(confused))
    logits -= logits.max(axis=1, keepdims=True)
    return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)


def median_time(fn, reps: int = 3) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def error_rates(references: list[str], hypotheses: list[str]) -> dict:
    from ctctool.metrics import score_corpus

    report = score_corpus(references, hypotheses)
    return {"wer": round(report.wer, 4), "cer": round(report.cer, 4)}


def kenlm_binary(arpa: Path) -> Path | None:
    """``arpa`` converted by KenLM's build_binary (probing), or None without it or the kenlm package."""
    import importlib.util
    import shutil

    tool = os.environ.get("KENLM_BUILD_BINARY") or shutil.which("build_binary")
    if not tool or importlib.util.find_spec("kenlm") is None:
        emit({"bench": "decode", "kenlm_binary": "skipped: needs build_binary (KENLM_BUILD_BINARY) and kenlm"})
        return None
    binary = arpa.with_suffix(".binary")
    subprocess.run([tool, str(arpa), str(binary)], check=True, capture_output=True)
    return binary


def run_peers(data: Path, arpa: Path, unigrams: Path, binary: Path | None) -> list[dict]:
    python = Path(os.environ.get("PEERS_VENV", ".peers-venv")) / "bin" / "python"
    if not python.exists():
        emit({"bench": "decode", "peers": f"skipped: no peers' Python at {python} (set PEERS_VENV)"})
        return []
    runner = Path(__file__).with_name("peer_decode_runner.py")
    done = subprocess.run([str(python), str(runner), str(data), str(arpa), str(unigrams),
                           *([str(binary)] if binary else [])], capture_output=True, text=True)
    if done.returncode != 0:
        emit({"bench": "decode", "peers": "failed", "stderr": done.stderr[-2000:]})
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    import torch

    from ctctool.decoding.beam import beam_search

    from ctctool.decoding.greedy import greedy_decode
    from ctctool.lm.arpa import read_arpa, write_arpa
    from ctctool.lm.estimate import estimate_ngram
    from ctctool.vocab import Vocabulary

    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    grammar = Grammar(rng)
    vocab = Vocabulary(tuple(LABELS))
    work = Path(tempfile.mkdtemp(prefix="bench_decode_"))
    arpa, unigrams, data = work / "words3.arpa", work / "unigrams.txt", work / "data.npz"
    write_arpa(estimate_ngram([grammar.sentence() for _ in range(20000)], order=3), arpa)
    unigrams.write_text("\n".join(sorted(set(WORDS))) + "\n")
    lm = read_arpa(arpa)
    binary = kenlm_binary(arpa)
    speed_text = grammar.text(5000 // 4)
    speed = emissions(rng, speed_text, 5000)
    held_texts = [grammar.text(1000 // 4) for _ in range(40)]
    held = [emissions(rng, text, 1000) for text in held_texts]
    np.savez(data, speed_0=speed, **{f"heldout_{i:02d}": lp for i, lp in enumerate(held)})
    emit({"bench": "decode", "meta": True, "cpus": os.cpu_count(), "arpa_bytes": arpa.stat().st_size,
          "lm_ngrams": len(lm.ngrams), "speed_T": 5000, "held_out": "40 x T=1000"})

    def ours(lp, **options):
        result = beam_search(torch.from_numpy(lp), vocab=vocab, **options)
        return " ".join(vocab.decode(result[0][0].labels).split())

    configs = {
        "ctctool/bw10": dict(beam_width=10),
        "ctctool/bw100": dict(beam_width=100),
        "ctctool+lm3/bw10": dict(beam_width=10, lm=lm, alpha=0.5, beta=1.0),
        "ctctool+lm3/bw100": dict(beam_width=100, lm=lm, alpha=0.5, beta=1.0),
    }
    if binary:
        from ctctool.lm.kenlm_binary import load_kenlm

        configs["ctctool+kenlm3bin/bw10"] = dict(beam_width=10, lm=load_kenlm(binary), alpha=0.5, beta=1.0)
    rows = {}
    for name, options in configs.items():
        seconds = median_time(lambda: ours(speed, **options))
        rows[name] = {"time_s": seconds, "speed_cer": error_rates([speed_text], [ours(speed, **options)])["cer"]}
        if name.endswith("bw10"):
            t0 = time.perf_counter()
            texts = [ours(lp, **options) for lp in held]
            rows[name].update(held_out_s=time.perf_counter() - t0, **error_rates(held_texts, texts))
        emit({"bench": "decode", "decoder": name, **rows[name]})
    greedy_texts = [" ".join(vocab.decode(ids).split()) for ids in greedy_decode(torch.from_numpy(np.stack(held)))]
    rows["ctctool/greedy"] = error_rates(held_texts, greedy_texts)
    batch = torch.from_numpy(np.stack([emissions(rng, grammar.text(250), 1000) for _ in range(32)]))
    rows["ctctool/greedy"]["batch32x1000_ms"] = 1e3 * median_time(lambda: greedy_decode(batch), reps=20)
    emit({"bench": "decode", "decoder": "ctctool/greedy", **rows["ctctool/greedy"]})

    if torch.cuda.is_available():
        on_gpu = batch.cuda()
        for bw in (10, 100):
            def gpu(bw=bw):
                beam_search(on_gpu, beam_width=bw, kernel="torch")  # returns host values: synchronised

            rows[f"ctctool/torch-cuda/bw{bw}"] = {"batch32x1000_ms": 1e3 * median_time(gpu)}
            rows[f"ctctool/numba-cpu/bw{bw}"] = {
                "batch32x1000_ms": 1e3 * median_time(lambda: beam_search(batch, beam_width=bw, kernel="numba"))}
            same = [h.labels for r in beam_search(on_gpu, beam_width=bw, kernel="torch") for h in r] == [
                h.labels for r in beam_search(batch, beam_width=bw, kernel="numba") for h in r]
            emit({"bench": "decode", "decoder": f"torch-cuda vs numba-cpu bw{bw}", "same_texts": same,
                  **rows[f"ctctool/torch-cuda/bw{bw}"]})
    else:
        emit({"bench": "decode", "torch_cuda_kernel": "skipped: no GPU"})

    for record in run_peers(data, arpa, unigrams, binary):
        row = rows.setdefault(record["decoder"], {})
        if record["case"] == "speed_0":
            row.update(time_s=record["time_s"], speed_cer=error_rates([speed_text], [record["text"]])["cer"])
        else:
            row.update(held_out_s=record["time_s"], **error_rates(held_texts, record["texts"]))
        emit({"bench": "decode", "decoder": record["decoder"], "case": record["case"], **row})

    print("\n| decoder | T=5000 time | CER at T=5000 | held-out WER | held-out CER |")
    print("|---|---|---|---|---|")
    for name, row in rows.items():
        time_cell = f"{row['time_s'] * 1e3:.1f} ms" if "time_s" in row else ""
        if "batch32x1000_ms" in row:
            time_cell = f"batch 32x1000: {row['batch32x1000_ms']:.2f} ms"
        print(f"| {name} | {time_cell} | {row.get('speed_cer', '')} | {row.get('wer', '')} | {row.get('cer', '')} |")


if __name__ == "__main__":
    main()
    sys.exit(0)
