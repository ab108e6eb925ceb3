#!/usr/bin/env python3
"""Subword (SentencePiece) decoding speed and accuracy: ctctool vs pyctcdecode (+KenLM), in one run.

Data (made here with fixed seeds) from bench_decode.py's random bigram "grammar" over a word list:
  * a SentencePiece unigram tokenizer of 128 pieces (``<unk>`` at 0, no ``<s>``/``</s>``) trained on
    5,000 sentences (about 1.6 pieces a word: the grammar reaches only 174 words, and 200 pieces would
    be whole words); the scores have C = 129 classes, the blank appended last as in NeMo's models;
  * a word 3-gram LM (modified Kneser-Ney, as ``ctctool lm`` estimates it) from 20,000 other
    sentences, written as ARPA: ctctool reads that file, pyctcdecode loads it through KenLM;
  * held-out utterances drawn after both (never seen by the tokenizer or the LM), segmented by the
    tokenizer; (T, C) log-probs peak on the pieces along a random CTC alignment (3 frames a piece)
    with Gaussian noise, a few rival pieces well below the peak on every frame, and 5% of frames
    also peaking on a wrong piece, so that greedy decoding makes errors an LM can fix.

Matched settings: the same ARPA file; LM weight alpha 0.5 on the natural-log LM probability (pyctcdecode
turns KenLM's log10 into natural log before weighing it, ctctool weighs ln P too) and beta 1.0 (natural
log) per word, ``</s>`` scored at the end by both; labels below ln P -12 on a frame are not tried
(ctctool's ``token_min_log_prob`` default, passed to pyctcdecode as ``token_min_logp``; one more row
runs pyctcdecode at its own default, -5). Not matched, as each tool has its own: pyctcdecode drops
beams 10 below the best (``beam_prune_logp``) and ``decode`` merges beams sharing the LM's recent
history (``prune_history``); a partial word costs nothing in pyctcdecode while it can still become a
listed word (else -10, more for long ones), where ctctool adds alpha * the best unigram ln P it can
become; a finished word the LM does not list costs pyctcdecode -10 on KenLM's log10 scale before the
weight (alpha * ln(10) * -10 = -11.5) and ctctool -10 after it, both on top of the LM's ``<unk>``.
ctctool runs with ``words=False`` (no word timings), as pyctcdecode's ``decode`` returns text only.
pyctcdecode has no greedy decoder: its beam of 1 stands in.

Cases (JSON lines, then a Markdown table):
  * check, before timing: on a clean utterance, ctctool's greedy text and pyctcdecode's beams of 1
    and 10 must all equal the reference text (the label conventions agree); pyctcdecode runs first;
  * held-out accuracy: 40 utterances of about 25 words, WER and CER (``ctctool.score_corpus``) for
    greedy, beams 10 and 32 without the LM, beams 10 and 32 with it; for each of those beams, the
    utterances where the two tools' texts are equal, and where each has fewer word errors;
  * speed: one utterance of T=5000 and the 40-utterance set (about 4,100 frames in all), for each
    decoder above: median of 3 runs after a warm-up run (pyctcdecode without the LM, seconds a call:
    1 run after the warm-up, as in bench_decode.py); LM loading times too. ``decode``'s greedy
    result carries the path's score (a CTC loss of its labels): a row of ``greedy_decode`` + ``text_of``
    shows the labels alone;
  * numba compile, apart: ctctool's first and second calls on 5 clean words in a child process
    with an empty NUMBA_CACHE_DIR (the benchmark itself loads the kernels from numba's cache).

The peers run in their own venv (../shared/bench/README.md) through bench/peer_decode_runner.py:
  PEERS_VENV=/path/to/venv python bench/bench_subword_decode.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_decode import Grammar, random_path
from peer_decode_runner import timed

SEED = 2581
PIECES = 128  # SentencePiece vocabulary (the grammar reaches 174 words); C = PIECES + 1 with the blank
FRAMES_PER_PIECE = 3
SPEED_T = 5000
HELD_OUT, HELD_OUT_CHARS = 40, 130
CONFUSED = 0.06  # share of frames that also peak on a wrong piece
RIVALS = 2  # pieces per frame raised well below the peak
ALPHA, BETA, TOKEN_MIN_LOG_PROB = 0.5, 1.0, -12.0
BEAMS = (10, 32)
REPS = 3


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def emissions(rng: np.random.Generator, ids: list[int], pieces: np.ndarray, blank: int, C: int) -> np.ndarray:
    """(T, C) float32 log-probs, T = 3 frames a piece, peaking on ``ids`` along a random CTC alignment,
    with rival ``pieces`` below the peak on every frame and confusions with a wrong piece."""
    labels = np.asarray(ids)
    T = FRAMES_PER_PIECE * len(labels)
    frames = random_path(rng, labels, T, blank)
    logits = rng.standard_normal((T, C))
    peak = rng.uniform(13.0, 19.0, size=T)
    logits[np.arange(T), frames] += peak
    rivals = rng.choice(pieces, size=(T, RIVALS))
    logits[np.arange(T)[:, None], rivals] += peak[:, None] * rng.uniform(0.3, 0.65, size=(T, RIVALS))
    confused = np.nonzero(rng.random(T) < CONFUSED)[0]
    logits[confused, rng.choice(pieces, size=len(confused))] += peak[confused] * rng.uniform(0.6, 1.6, len(confused))
    logits -= logits.max(axis=1, keepdims=True)
    return (logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).astype(np.float32)


def clean_emissions(ids: list[int], blank: int, C: int) -> np.ndarray:
    """(T, C) log-probs with every frame sure of one class: each piece for 2 frames, then a blank."""
    frames = [c for i in ids for c in (i, i, blank)]
    logits = np.full((len(frames), C), -20.0, dtype=np.float32)
    logits[np.arange(len(frames)), frames] = 0.0
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


def train_tokenizer(sentences: list[list[str]], work: Path) -> Path:
    import sentencepiece

    corpus = work / "tokenizer_corpus.txt"
    corpus.write_text("".join(" ".join(words) + "\n" for words in sentences))
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(work / "pieces"), vocab_size=PIECES, model_type="unigram",
        character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0, num_threads=1, minloglevel=2)
    return work / "pieces.model"


def first_calls(model: str, arpa: str) -> None:
    """Prints the seconds of ctctool's first and second decode of a tiny clean utterance, greedy, beam and
    beam + LM in turn: run in a fresh process whose NUMBA_CACHE_DIR is empty, the first call compiles."""
    import torch

    import ctctool

    vocab, lm = ctctool.load_tokenizer(model), ctctool.read_arpa(arpa)
    lp = torch.from_numpy(clean_emissions(vocab.encode("the people of the world"), vocab.blank, vocab.size))
    for name, options in {"greedy": {}, "beam": dict(beam_width=10),
                          "beam+lm": dict(beam_width=10, lm=lm, alpha=ALPHA, beta=BETA)}.items():
        seconds = []
        for _ in range(2):
            t0 = time.perf_counter()
            ctctool.decode(lp, vocab=vocab, words=False, **options)
            seconds.append(time.perf_counter() - t0)
        print(json.dumps({"decoder": f"ctctool/{name}", "first_call_s": seconds[0], "second_call_s": seconds[1]}))


def compile_times(model: Path, arpa: Path, work: Path) -> list[dict]:
    """``first_calls`` in a child process with an empty numba cache."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(work / "numba_cache")}
    code = f"import bench_subword_decode as b; b.first_calls({str(model)!r}, {str(arpa)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, env=env, capture_output=True,
                          text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def run_peers(data: Path, arpa: Path, unigrams: Path) -> list[dict]:
    python = Path(os.environ.get("PEERS_VENV", ".peers-venv")) / "bin" / "python"
    if not python.exists():
        emit({"bench": "subword_decode", "peers": f"skipped: no peers' Python at {python} (set PEERS_VENV)"})
        return []
    runner = Path(__file__).with_name("peer_decode_runner.py")
    done = subprocess.run([str(python), str(runner), "--subword", str(data), str(arpa), str(unigrams)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        emit({"bench": "subword_decode", "peers": "failed", "stderr": done.stderr[-2000:]})
        sys.exit("pyctcdecode failed (its check, or a run): see its stderr above")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    import torch

    import ctctool
    from ctctool.lm.arpa import write_arpa

    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    grammar = Grammar(rng)
    work = Path(tempfile.mkdtemp(prefix="bench_subword_decode_"))
    model = train_tokenizer([grammar.sentence() for _ in range(5000)], work)
    vocab = ctctool.load_tokenizer(model)
    C, blank = vocab.size, vocab.blank
    text_pieces = np.array([i for i in range(C) if i != blank and vocab.tokens[i] not in vocab.special])
    arpa, unigrams, data = work / "words3.arpa", work / "unigrams.txt", work / "data.npz"
    write_arpa(ctctool.estimate_ngram([grammar.sentence() for _ in range(20000)], order=3), arpa)
    t0 = time.perf_counter()
    lm = ctctool.read_arpa(arpa)
    lm_load_s = time.perf_counter() - t0
    unigrams.write_text("".join(g[0] + "\n" for g in lm.ngrams if len(g) == 1 and g[0] not in ("<s>", "</s>", "<unk>")))

    held_texts = [grammar.text(HELD_OUT_CHARS) for _ in range(HELD_OUT)]
    held = [emissions(rng, vocab.encode(text), text_pieces, blank, C) for text in held_texts]
    speed_words: list[str] = []
    while len(vocab.encode(" ".join(speed_words))) < SPEED_T // FRAMES_PER_PIECE:
        speed_words += grammar.sentence()
    speed_ids = vocab.encode(" ".join(speed_words))[: SPEED_T // FRAMES_PER_PIECE]
    speed_text = vocab.text_of(speed_ids)
    speed = emissions(rng, speed_ids, text_pieces, blank, C)
    check_text = held_texts[0]
    check = clean_emissions(vocab.encode(check_text), blank, C)
    held_words = sum(len(text.split()) for text in held_texts)
    emit({"bench": "subword_decode", "meta": True, "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
          "classes": C, "blank": blank,
          "pieces_per_word": round(sum(len(vocab.encode(text)) for text in held_texts) / held_words, 2),
          "arpa_bytes": arpa.stat().st_size, "lm_ngrams": len(lm.ngrams), "speed_T": len(speed),
          "held_out": f"{HELD_OUT} utterances, {sum(map(len, held))} frames, {held_words} words"})

    def ours(lp, **options) -> str:
        return ctctool.decode(torch.from_numpy(lp), vocab=vocab, words=False, **options).text

    ours_check = ours(check)
    emit({"bench": "subword_decode", "check": "ctctool greedy", "equal": ours_check == check_text})
    if ours_check != check_text:
        sys.exit(f"ctctool's greedy text {ours_check!r} differs from the clean utterance's {check_text!r}")
    peer_labels = np.array(["" if i == blank else piece for i, piece in enumerate(vocab.tokens)])
    np.savez(data, labels=peer_labels, check=check, check_text=np.array(check_text), speed_0=speed,
             **{f"heldout_{i:02d}": lp for i, lp in enumerate(held)}, alpha=ALPHA, beta=BETA,
             token_min_logp=TOKEN_MIN_LOG_PROB, beams=np.array(BEAMS), reps=REPS)

    peers: dict[str, dict] = {}  # pyctcdecode first: its check runs before anything is timed
    peer_load_s = None
    for record in run_peers(data, arpa, unigrams):
        if record["case"] in ("check", "load"):
            emit({"bench": "subword_decode", **record})
            peer_load_s = record["time_s"] if record["case"] == "load" else peer_load_s
            continue
        peers.setdefault(record["decoder"], {})[record["case"]] = record
    compiled = compile_times(model, arpa, work)
    for record in compiled:
        emit({"bench": "subword_decode", "numba_compile": True, **record})
    configs = {"ctctool/greedy": {}}
    configs.update({f"ctctool/bw{bw}": dict(beam_width=bw) for bw in BEAMS})
    configs.update({f"ctctool+lm3/bw{bw}": dict(beam_width=bw, lm=lm, alpha=ALPHA, beta=BETA) for bw in BEAMS})
    rows: dict[str, dict] = {"ctctool+lm3 (load ARPA)": {"load_s": lm_load_s}}
    held_out_texts: dict[str, list[str]] = {}
    for name, options in configs.items():
        speed_s, text = timed(lambda: ours(speed, **options), REPS)
        held_s, texts = timed(lambda: [ours(lp, **options) for lp in held], REPS)
        rows[name] = row(speed_s, text, speed_text, held_s, texts, held_texts)
        held_out_texts[name] = texts
        emit({"bench": "subword_decode", "decoder": name, **rows[name]})

    def labels_only(lp):  # greedy labels without decode's path score (a CTC loss of the labels)
        return vocab.text_of(ctctool.greedy_decode(torch.from_numpy(lp)[None], blank=blank)[0])

    speed_s, text = timed(lambda: labels_only(speed), REPS)
    held_s, texts = timed(lambda: [labels_only(lp) for lp in held], REPS)
    rows["ctctool greedy_decode (labels only)"] = row(speed_s, text, speed_text, held_s, texts, held_texts)
    emit({"bench": "subword_decode", "decoder": "ctctool greedy_decode (labels only)",
          **rows["ctctool greedy_decode (labels only)"]})

    if peer_load_s is not None:
        rows["pyctcdecode+lm3 (load ARPA)"] = {"load_s": peer_load_s}
    for name, cases in peers.items():
        speed_case, held_case = cases["speed_0"], cases["held_out"]
        rows[name] = row(speed_case["time_s"], speed_case["text"], speed_text, held_case["time_s"],
                         held_case["texts"], held_texts)
        held_out_texts[name] = held_case["texts"]
        emit({"bench": "subword_decode", "decoder": name, **rows[name]})

    comparisons = []
    for bw in BEAMS:
        for kind in ("", "+lm3"):
            ours_name, peer_name = f"ctctool{kind}/bw{bw}", f"pyctcdecode{kind}/bw{bw}"
            if peer_name in held_out_texts:
                comparisons.append(compare(ours_name, peer_name, held_out_texts, held_texts))
                emit({"bench": "subword_decode", "comparison": True, **comparisons[-1]})
    emit({"bench": "subword_decode", "meta": True, "load_average_1min": os.getloadavg()[0]})
    table(rows, comparisons, compiled)


def row(speed_s, speed_hyp, speed_ref, held_s, held_hyps, held_refs) -> dict:
    from ctctool.metrics import score_corpus

    held_out = score_corpus(held_refs, held_hyps)
    return {"speed_s": speed_s, "speed_wer": round(score_corpus([speed_ref], [speed_hyp]).wer, 4),
            "held_out_s": held_s, "wer": round(held_out.wer, 4), "cer": round(held_out.cer, 4)}


def compare(ours: str, peer: str, texts: dict[str, list[str]], references: list[str]) -> dict:
    """Per held-out utterance: equal texts, and which of the two has fewer word errors."""
    from ctctool.metrics import score_corpus

    a = score_corpus(references, texts[ours]).utterances
    b = score_corpus(references, texts[peer]).utterances
    return {"ours": ours, "peer": peer, "equal_texts": sum(x == y for x, y in zip(texts[ours], texts[peer])),
            "ours_fewer_errors": sum(x.errors < y.errors for x, y in zip(a, b)),
            "peer_fewer_errors": sum(x.errors > y.errors for x, y in zip(a, b)), "utterances": len(references)}


def table(rows: dict[str, dict], comparisons: list[dict], compiled: list[dict]) -> None:
    def ms(seconds):
        return "" if seconds is None else f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"

    print(f"\n| decoder | T={SPEED_T} | WER at T={SPEED_T} | {HELD_OUT} held-out utts | held-out WER | held-out CER |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        if "load_s" in r:
            print(f"| {name} | {ms(r['load_s'])} | | | | |")
            continue
        print(f"| {name} | {ms(r['speed_s'])} | {r['speed_wer']} | {ms(r['held_out_s'])} | {r['wer']} | {r['cer']} |")
    print("\n| ctctool, 5 clean words, empty numba cache | first call (compiles) | second call |")
    print("|---|---|---|")
    for c in compiled:
        print(f"| {c['decoder']} | {ms(c['first_call_s'])} | {ms(c['second_call_s'])} |")
    if comparisons:
        print("\n| held-out, per utterance | equal texts | ctctool fewer word errors | pyctcdecode fewer |")
        print("|---|---|---|---|")
        for c in comparisons:
            print(f"| {c['ours']} vs {c['peer']} | {c['equal_texts']}/{c['utterances']} | {c['ours_fewer_errors']} "
                  f"| {c['peer_fewer_errors']} |")


if __name__ == "__main__":
    main()
    sys.exit(0)
