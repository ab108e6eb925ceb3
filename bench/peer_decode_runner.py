#!/usr/bin/env python3
"""Runs the decoding peers on utterances saved by bench_decode.py; prints JSON lines.

Run by bench_decode.py with the peers' Python ($PEERS_VENV/bin/python); bench_subword_decode.py imports its `timed`.
Peers (as ../shared/bench/peer_decode.py configures them): pyctcdecode (no LM, and with
the word 3-gram ARPA through KenLM, alpha 0.5, beta 1.0), fast-ctc-decode (beam_cut_threshold
exp(-5)), flashlight-text LexiconFreeDecoder with ZeroLM.
With a KenLM binary of the same n-grams as a fourth argument, pyctcdecode also runs with it.
Usage: python peer_decode_runner.py DATA.npz WORDS.arpa UNIGRAMS.txt [WORDS.binary]

With ``--subword`` first, runs pyctcdecode in its BPE mode on the SentencePiece pieces saved by
bench_subword_decode.py (labels, settings and utterances all in DATA.npz; see ``subword``).
"""

import json
import os
import sys
import time

import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyz"
LABELS = ["", " "] + list(LETTERS) + ["'"]  # class 0 blank, 1 space, 2..27 a..z, 28 apostrophe


def median_time(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def timed(fn, reps):
    """The median seconds of ``reps`` calls after a warm-up call, and what the warm-up call returned."""
    result = fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result


def decoders(arpa, unigrams, binary=None):
    import logging

    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    from pyctcdecode import build_ctcdecoder

    found = {}
    plain = build_ctcdecoder(LABELS)
    saved = os.dup(2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # KenLM's loading progress bar
    try:
        fused = build_ctcdecoder(LABELS, kenlm_model_path=arpa, unigrams=unigrams, alpha=0.5, beta=1.0)
        if binary:
            fused_binary = build_ctcdecoder(LABELS, kenlm_model_path=binary, unigrams=unigrams, alpha=0.5, beta=1.0)
            found["pyctcdecode+kenlm3bin/bw10"] = lambda lp, pr: fused_binary.decode(lp, beam_width=10)
    finally:
        os.dup2(saved, 2)
    for bw in (10, 100):
        found[f"pyctcdecode/bw{bw}"] = (lambda b: lambda lp, pr: plain.decode(lp, beam_width=b))(bw)
        found[f"pyctcdecode+kenlm3/bw{bw}"] = (lambda b: lambda lp, pr: fused.decode(lp, beam_width=b))(bw)
    import fast_ctc_decode as fcd

    alphabet = ["_"] + LABELS[1:]
    for bw in (10, 100):
        found[f"fast-ctc-decode/bw{bw}"] = (lambda b: lambda lp, pr: fcd.beam_search(
            pr, alphabet, beam_size=b, beam_cut_threshold=float(np.exp(-5.0)))[0])(bw)
    found["fast-ctc-decode/greedy"] = lambda lp, pr: fcd.viterbi_search(pr, alphabet)[0]
    from flashlight.lib.text.decoder import CriterionType, LexiconFreeDecoder, LexiconFreeDecoderOptions, ZeroLM

    for bw in (10, 100):
        options = LexiconFreeDecoderOptions(beam_size=bw, beam_size_token=len(LABELS), beam_threshold=25.0,
                                            lm_weight=0.0, sil_score=0.0, log_add=False,
                                            criterion_type=CriterionType.CTC)
        decoder = LexiconFreeDecoder(options, ZeroLM(), 1, 0, [])

        def run(lp, pr, decoder=decoder):
            emissions = np.ascontiguousarray(lp, dtype=np.float32)
            tokens = [t for t in decoder.decode(emissions.ctypes.data, *emissions.shape)[0].tokens if t >= 0]
            out, previous = [], None
            for t in tokens:
                if t != previous and t != 0:
                    out.append(LABELS[t])
                previous = t
            return "".join(out)

        found[f"flashlight-text/bw{bw}"] = run
    return found


def subword(data, arpa, unigrams_file):
    """pyctcdecode (BPE mode: pieces starting with U+2581 begin words, the blank is "") on DATA.npz.

    DATA.npz holds ``labels`` (C piece strings), ``check`` and ``check_text`` (a clean utterance and
    its text: the texts of beams 1 and 10 must equal it before anything is timed), ``speed_*`` and
    ``heldout_*`` (T, C) log-probs, ``alpha``, ``beta`` (the LM weight on its natural-log score and the
    bonus per word), ``token_min_logp``, ``beams`` and ``reps`` (timed runs after a warm-up; 1 without the LM).
    """
    import logging

    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    from pyctcdecode import build_ctcdecoder

    with np.load(data) as saved:
        labels = [str(label) for label in saved["labels"]]
        check, check_text = saved["check"], str(saved["check_text"])
        speed = [saved[k] for k in sorted(saved.files) if k.startswith("speed_")]
        held_out = [saved[k] for k in sorted(saved.files) if k.startswith("heldout_")]
        alpha, beta, token_min = float(saved["alpha"]), float(saved["beta"]), float(saved["token_min_logp"])
        beams, reps = [int(b) for b in saved["beams"]], int(saved["reps"])
    with open(unigrams_file) as f:
        unigrams = f.read().split()
    plain = build_ctcdecoder(labels)
    found = {"pyctcdecode/bw1": lambda lp: plain.decode(lp, beam_width=1, token_min_logp=token_min)}
    texts = {bw: " ".join(plain.decode(check, beam_width=bw, token_min_logp=token_min).split()) for bw in (1, 10)}
    print(json.dumps({"decoder": "pyctcdecode", "case": "check", "texts": texts}), flush=True)
    if any(text != check_text for text in texts.values()):
        sys.exit(f"pyctcdecode reads the labels otherwise: {texts} for {check_text!r}")
    saved_stderr = os.dup(2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # KenLM's loading progress bar
    try:
        t0 = time.perf_counter()
        fused = build_ctcdecoder(labels, kenlm_model_path=arpa, unigrams=unigrams, alpha=alpha, beta=beta)
        load_s = time.perf_counter() - t0
    finally:
        os.dup2(saved_stderr, 2)
    print(json.dumps({"decoder": "pyctcdecode+lm3", "case": "load", "time_s": load_s}), flush=True)
    for bw in beams:
        found[f"pyctcdecode/bw{bw}"] = (lambda b: lambda lp: plain.decode(lp, beam_width=b,
                                                                          token_min_logp=token_min))(bw)
    for bw in beams:
        found[f"pyctcdecode+lm3/bw{bw}"] = (lambda b: lambda lp: fused.decode(lp, beam_width=b,
                                                                              token_min_logp=token_min))(bw)
    widest = beams[-1]
    found[f"pyctcdecode+lm3/bw{widest} (its default token_min_logp -5)"] = lambda lp: fused.decode(
        lp, beam_width=widest)
    for name, fn in found.items():
        runs = reps if "lm3" in name else 1  # without the LM, pyctcdecode takes seconds a call
        for i, lp in enumerate(speed):
            seconds, text = timed(lambda: fn(lp), runs)
            print(json.dumps({"decoder": name, "case": f"speed_{i}", "T": len(lp), "time_s": seconds,
                              "text": " ".join(text.split())}), flush=True)
        seconds, texts = timed(lambda: [fn(lp) for lp in held_out], runs)
        print(json.dumps({"decoder": name, "case": "held_out", "time_s": seconds,
                          "texts": [" ".join(text.split()) for text in texts]}), flush=True)


def main():
    if sys.argv[1] == "--subword":
        subword(*sys.argv[2:5])
        return
    data, arpa, unigrams_file = sys.argv[1:4]
    binary = sys.argv[4] if len(sys.argv) > 4 else None
    with np.load(data) as saved:
        speed = [saved[k] for k in sorted(saved.files) if k.startswith("speed_")]
        held_out = [saved[k] for k in sorted(saved.files) if k.startswith("heldout_")]
    with open(unigrams_file) as f:
        unigrams = f.read().split()
    for name, fn in decoders(arpa, unigrams, binary).items():
        for i, lp in enumerate(speed):
            pr = np.exp(lp).astype(np.float32)
            seconds = median_time(lambda: fn(lp, pr), reps=1 if "pyctcdecode" in name and "kenlm" not in name else 3)
            print(json.dumps({"decoder": name, "case": f"speed_{i}", "T": len(lp), "time_s": seconds,
                              "text": " ".join(fn(lp, pr).split())}), flush=True)
        if name.endswith("bw10") or name.endswith("greedy"):
            t0 = time.perf_counter()
            texts = [" ".join(fn(lp, np.exp(lp).astype(np.float32)).split()) for lp in held_out]
            print(json.dumps({"decoder": name, "case": "held_out", "time_s": time.perf_counter() - t0,
                              "texts": texts}), flush=True)


if __name__ == "__main__":
    main()
