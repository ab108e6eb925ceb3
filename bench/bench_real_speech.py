#!/usr/bin/env python3
"""Recognition and alignment of an acoustic model on the few real English recordings in Debian's
pocketsphinx-testdata (/usr/share/pocketsphinx/test/data). EVALUATION ONLY: these recordings are never used
for training, calibration or choosing settings; they are the one check of ctctool's models on real speech.

The set (12 utterances, about 40 s):
- librivox: 5 LibriVox read-speech clips of Sense and Sensibility (WAV), transcripts from librivox/transcription
  (sphinx format ``<s> words </s> (fileid)``). The reference keeps the reader's repetition in 0920
  ("a more a amiable"), as the transcription file has it.
- cards: cards/001-005.wav, transcripts from cards/cards.transcription (playing cards: "ten of clubs", ...).
- others: goforward.raw, "go forward ten meters": the sentence pocketsphinx's own tests assert for this file
  (test/unit/test_fsg2.c, cython/test/alignment_test.py). numbers.raw and something.raw are LEFT OUT: no
  transcript for them exists in the package or in pocketsphinx's history (its tests only print what the decoder
  finds for them), and a transcript is never guessed by listening or decoding.
- tidigits: tidigits/dhd.2934z.raw, "two nine three four zero". The name follows the TIDIGITS convention (digits
  in the name, z = zero, o = oh), which the package's tidigits.ctl / tidigits.lsn pairs show
  (man.ah.2934za -> "two nine three four zero", man.ah.35oa -> "three five oh"), and pocketsphinx's early Python
  test asserted this very text for this file (python/_pocketsphinx_test.py, 2007). The transcript is built from
  the name by that rule. The other tidigits files are .mfc features, not audio, and are not used.
Raw files are 16 kHz 16-bit little-endian mono PCM; they are written as WAV files under --work. Transcripts are
lower-cased, words only (letters and apostrophes).

Recognition: ctctool.transcribe with no LM (greedy decoding), the same call as ``ctctool transcribe --lm none``.
CER and WER per subset and overall by ctctool.metrics.score_corpus (total edits / total reference characters or
words, not a mean of per-utterance rates). The real-time factor is transcribe's compute time over the audio
duration, model loading left out, with --threads torch threads (one warm-up run first, untimed).

Alignment: ctctool.align_audio (as ``ctctool align``) against pocketsphinx 5's forced aligner, run by
peer_pocketsphinx_times.py in its own venv (--peer-python). Rule: every word start and every word end that
pocketsphinx gives counts, words matched by position; an utterance is skipped (and counted) when either aligner
fails or their word lists differ. Figures: mean and median |difference| in ms, share within 20 and 50 ms, and the
mean signed difference (ctctool - pocketsphinx) of starts and of ends. One more row, "inner boundaries", leaves
out each utterance's first word start and last word end: there pocketsphinx often gives the word the leading or
trailing non-speech (three cards clips start their first word at 0.00 s, 130-180 ms before the speech energy
rises). Pocketsphinx is no ground truth: its frames are 10 ms (ctctool's default model's 20 ms) and its
boundaries have their own errors. On ../shared/data/speech-tiny (synthetic, exact timings) it is off by 18 ms on
average, its starts 15 ms early and its ends 6 ms early, where ctctool's default model is within about 1 ms
on average (bench_align_accuracy.py): a signed start of about +15 ms here would be no error of ctctool's.

Run: python bench/bench_real_speech.py [--model default|PATH] [--json out.json]
         [--peer-python /tmp/psvenv/bin/python] [--work DIR] [--threads 1]
Peer venv: python -m venv /tmp/psvenv && /tmp/psvenv/bin/pip install pocketsphinx numpy
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path("/usr/share/pocketsphinx/test/data")
RATE = 16000  # Hz, of every recording in the set
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_pocketsphinx_times.py"
SUBSETS = ("librivox", "cards", "others", "tidigits")
GOFORWARD = "go forward ten meters"  # asserted by pocketsphinx's tests for goforward.raw
DIGIT_WORDS = {"1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
               "8": "eight", "9": "nine", "z": "zero", "o": "oh"}


@dataclass(frozen=True)
class Utterance:
    key: str
    subset: str
    wav: Path  # 16 kHz 16-bit mono
    text: str  # lower-case words, single spaces
    seconds: float


# ----------------------------------------------------------------------------- the set


def words_only(text: str) -> str:
    """Lower case, letters and apostrophes only, single spaces."""
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def sphinx_transcripts(path: Path) -> dict[str, str]:
    """{fileid: words} of a sphinx transcription file (``<s> words </s> (fileid)`` per line)."""
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = re.fullmatch(r"\s*(.*?)\s*\((\S+)\)\s*", line)
        if not match:
            raise SystemExit(f"{path}:{number}: expected '<s> words </s> (fileid)'")
        found[match.group(2)] = words_only(match.group(1).replace("<s>", " ").replace("</s>", " "))
    return found


def tidigits_text(name: str) -> str:
    """Words of a TIDIGITS-style name: dhd.2934z -> two nine three four zero (z = zero, o = oh)."""
    return " ".join(DIGIT_WORDS[ch] for ch in name.rsplit(".", 1)[-1])


def wav_seconds(path: Path) -> float:
    """Duration of a 16 kHz 16-bit mono WAV file; any other format stops the run."""
    with wave.open(str(path)) as handle:
        if (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) != (RATE, 1, 2):
            raise SystemExit(f"{path}: expected 16 kHz 16-bit mono WAV")
        return handle.getnframes() / RATE


def raw_to_wav(raw: Path, wav: Path) -> Path:
    """Write 16 kHz 16-bit little-endian mono PCM ``raw`` as the WAV file ``wav``."""
    with wave.open(str(wav), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(raw.read_bytes())
    return wav


def collect(work: Path) -> list[Utterance]:
    """The evaluation set; raw recordings become WAV files in ``work``."""
    items = []
    librivox = sphinx_transcripts(DATA / "librivox" / "transcription")
    items += [(key, "librivox", DATA / "librivox" / f"{key}.wav", text) for key, text in sorted(librivox.items())]
    cards = sphinx_transcripts(DATA / "cards" / "cards.transcription")
    items += [(f"cards-{key}", "cards", DATA / "cards" / f"{key}.wav", text) for key, text in sorted(cards.items())]
    items.append(("goforward", "others", raw_to_wav(DATA / "goforward.raw", work / "goforward.wav"), GOFORWARD))
    for raw in sorted((DATA / "tidigits").glob("*.raw")):
        items.append((raw.stem, "tidigits", raw_to_wav(raw, work / f"{raw.stem}.wav"), tidigits_text(raw.stem)))
    return [Utterance(key, subset, wav, words_only(text), wav_seconds(wav)) for key, subset, wav, text in items]


# ----------------------------------------------------------------------------- recognition


def recognise(utterances: list[Utterance], model) -> tuple[dict[str, str], float]:
    """{key: greedy text} and the compute seconds it took (after one untimed warm-up)."""
    from ctctool.decoding.transcribe import transcribe

    transcribe(utterances[0].wav, model, lm=None)
    texts, seconds = {}, 0.0
    for utt in utterances:
        started = time.perf_counter()
        texts[utt.key] = transcribe(utt.wav, model, lm=None).text
        seconds += time.perf_counter() - started
    return texts, seconds


def recognition_figures(utterances: list[Utterance], texts: dict[str, str]) -> dict:
    """CER / WER per subset and overall, with the counts behind them."""
    from ctctool.metrics import score_corpus

    def score(group: list[Utterance]) -> dict:
        report = score_corpus([u.text for u in group], [words_only(texts[u.key]) for u in group],
                              [u.key for u in group])
        return {"utterances": len(group), "cer": report.cer, "wer": report.wer, "char_edits": report.char_edits,
                "ref_chars": report.ref_chars, "word_errors": report.errors, "ref_words": report.ref_words}

    figures = {name: score([u for u in utterances if u.subset == name]) for name in SUBSETS}
    figures["overall"] = score(utterances)
    return figures


# ----------------------------------------------------------------------------- alignment


def peer_times(utterances: list[Utterance], peer_python: Path, work: Path) -> tuple[dict, str]:
    """{key: [(word, start, end)] or an error message} from pocketsphinx, and the peer's name."""
    items = work / "peer_items.json"
    items.write_text(json.dumps([{"key": u.key, "wav": str(u.wav), "text": u.text} for u in utterances]))
    done = subprocess.run([str(peer_python), str(PEER_SCRIPT), str(items)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{PEER_SCRIPT.name} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    times = {key: value.get("words", value.get("error")) for key, value in answer["utterances"].items()}
    return times, answer["peer"]


def ctctool_times(utterances: list[Utterance], model) -> dict:
    """{key: [(word, start, end)] or an error message} from ctctool's forced aligner."""
    from ctctool.alignment.pipeline import align_audio
    from ctctool.errors import CtcToolError

    times = {}
    for utt in utterances:
        try:
            result = align_audio(utt.wav, utt.text, model)
        except CtcToolError as exc:
            times[utt.key] = str(exc)
            continue
        times[utt.key] = [(word.text.lower(), word.start, word.end) for word in result.words]
    return times


def boundary_differences(utterances: list[Utterance], ours: dict, peer: dict) -> tuple[dict, list[str]]:
    """Signed start and end differences (ours - peer, seconds) per subset, and the utterances skipped (why)."""
    diffs = {name: {"starts": [], "ends": [], "inner_starts": [], "inner_ends": []} for name in SUBSETS}
    skipped = []
    for utt in utterances:
        a, b = ours[utt.key], peer[utt.key]
        if isinstance(a, str) or isinstance(b, str):
            skipped.append(f"{utt.key}: " + (f"ctctool: {a}" if isinstance(a, str) else f"pocketsphinx: {b}"))
            continue
        if [w for w, _, _ in a] != [w for w, _, _ in b]:
            skipped.append(f"{utt.key}: the word lists differ")
            continue
        into = diffs[utt.subset]
        for index, ((_, start, end), (_, peer_start, peer_end)) in enumerate(zip(a, b)):
            into["starts"].append(start - peer_start)
            into["ends"].append(end - peer_end)
            if index > 0:
                into["inner_starts"].append(start - peer_start)
            if index < len(a) - 1:
                into["inner_ends"].append(end - peer_end)
    return diffs, skipped


def boundary_stats(starts: list[float], ends: list[float]) -> dict:
    """Mean / median |difference| (ms), share within 20 and 50 ms, mean signed start and end differences (ms)."""
    errors = 1000 * np.abs(np.array(starts + ends))
    if errors.size == 0:
        return {"boundaries": 0}
    return {"boundaries": int(errors.size), "mean_ms": float(errors.mean()), "median_ms": float(np.median(errors)),
            "within_20ms": float((errors <= 20).mean()), "within_50ms": float((errors <= 50).mean()),
            "signed_start_ms": 1000 * float(np.mean(starts)), "signed_end_ms": 1000 * float(np.mean(ends))}


def alignment_figures(diffs: dict) -> dict:
    """Per subset and overall; ``overall_inner`` leaves out each utterance's first start and last end."""
    def pooled(kind: str) -> list[float]:
        return [value for d in diffs.values() for value in d[kind]]

    figures = {name: boundary_stats(d["starts"], d["ends"]) for name, d in diffs.items()}
    figures["overall"] = boundary_stats(pooled("starts"), pooled("ends"))
    figures["overall_inner"] = boundary_stats(pooled("inner_starts"), pooled("inner_ends"))
    return figures


# ----------------------------------------------------------------------------- output


def boundary_cells(a: dict) -> str:
    if not a["boundaries"]:
        return " 0 | | | | | |"
    return (f" {a['boundaries']} | {a['mean_ms']:.1f} | {a['median_ms']:.1f} | {100 * a['within_20ms']:.0f}% | "
            f"{100 * a['within_50ms']:.0f}% | {a['signed_start_ms']:+.1f} / {a['signed_end_ms']:+.1f} |")


def markdown(report: dict) -> str:
    """One table: recognition and alignment per subset and overall."""
    lines = [f"model: {report['model']} (sha256 {report['model_sha256'][:12]}); {report['utterances']} utterances, "
             f"{report['audio_seconds']:.1f} s; real-time factor {report['real_time_factor']:.3f} "
             f"({report['threads']} thread(s))", ""]
    head = "| subset | utts | CER | WER |"
    rule = "|---|---|---|---|"
    aligned = report.get("alignment")
    if aligned:
        head += " boundaries | mean ms | median ms | within 20 ms | within 50 ms | signed start / end ms |"
        rule += "---|---|---|---|---|---|"
    lines += [head, rule]
    for name in (*SUBSETS, "overall"):
        rec = report["recognition"][name]
        row = f"| {name} | {rec['utterances']} | {100 * rec['cer']:.1f}% | {100 * rec['wer']:.1f}% |"
        lines.append(row + (boundary_cells(aligned["figures"][name]) if aligned else ""))
    if aligned:
        lines.append("| overall, inner boundaries | | | |" + boundary_cells(aligned["figures"]["overall_inner"]))
        lines += ["", f"alignment vs {aligned['peer']}; skipped: {'; '.join(aligned['skipped']) or 'none'}"]
    else:
        lines += ["", f"alignment skipped: {report['alignment_skipped']}"]
    return "\n".join(lines)


def file_sha256(path: Path) -> str:
    """Hex digest of a file; of the files inside, in name order, for a folder."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def evaluate(args, work: Path) -> dict:
    import torch

    from ctctool.models.loading import DEFAULT_MODEL, DEFAULT_MODEL_FILE, as_model

    torch.set_num_threads(args.threads)
    model = as_model(args.model, "cpu")
    model_file = DEFAULT_MODEL_FILE if args.model == DEFAULT_MODEL else Path(args.model)
    utterances = collect(work)
    texts, compute = recognise(utterances, model)
    audio = sum(u.seconds for u in utterances)
    report = {"model": args.model, "model_name": getattr(model, "name", None), "model_file": str(model_file),
              "model_sha256": file_sha256(model_file), "threads": args.threads,
              "utterances": len(utterances), "audio_seconds": audio, "real_time_factor": compute / audio,
              "recognition": recognition_figures(utterances, texts),
              "per_utterance": [{"key": u.key, "subset": u.subset, "seconds": u.seconds, "reference": u.text,
                                 "hypothesis": texts[u.key]} for u in utterances]}
    if not args.peer_python.is_file():
        report["alignment_skipped"] = (f"no peer python at {args.peer_python}; make one with: python -m venv "
                                       "/tmp/psvenv && /tmp/psvenv/bin/pip install pocketsphinx numpy")
        return report
    peer, peer_name = peer_times(utterances, args.peer_python, work)
    ours = ctctool_times(utterances, model)
    diffs, skipped = boundary_differences(utterances, ours, peer)
    report["alignment"] = {"peer": peer_name, "rule": "all word starts and ends, words matched by position",
                           "skipped": skipped, "figures": alignment_figures(diffs),
                           "words": {key: {"ctctool": ours[key], "pocketsphinx": peer[key]} for key in ours}}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="default, or a ctctool checkpoint file")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--peer-python", type=Path, default=Path("/tmp/psvenv/bin/python"),
                        help="python of a venv with pocketsphinx (for the alignment comparison)")
    parser.add_argument("--work", type=Path, help="folder for the temporary WAV files (default: a temp dir)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        report = evaluate(args, args.work)
    else:
        with tempfile.TemporaryDirectory(prefix="real-speech-") as work:
            report = evaluate(args, Path(work))
    print(markdown(report), flush=True)
    if args.json is not None:
        partial = args.json.with_name(args.json.name + ".partial")
        partial.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, args.json)
        print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
