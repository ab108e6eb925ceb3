#!/usr/bin/env python3
"""Word-boundary accuracy of ctctool align on synthetic speech with exact word timings.

SET_DIR is in the layout of ../shared/data/speech-tiny (metadata.csv, wavs/, timings/):
make one with tools/make_speech_set.py. For every utterance the audio goes through the
model, the transcript is aligned, and each word start and end is compared with the
truth; like ../shared/bench/peer_pocketsphinx_align.py, only edges marked exact count.
Prints one JSON object: utterances aligned and failed, mean / median absolute error (ms),
share within 20 and 50 ms, the mean signed start and end errors, and the speed.

With --peer-python (a venv with pocketsphinx 5, as bench/bench_real_speech.py uses), the run prints
instead ctctool's and pocketsphinx's errors side by side: it also aligns the set with pocketsphinx's HMM
forced aligner (bench/peer_pocketsphinx_times.py) and scores it the
same way against the exact timings, on the utterances both aligned: the check of how far the peer that
bench_real_speech.py compares with on real speech is itself from the truth.

Run: python bench/bench_align_accuracy.py SET_DIR [--model default] [--no-calibration]
         [--peer-python /tmp/psvenv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_real_speech import PEER_SCRIPT, words_only  # the same peer and text clean-up (a sibling script)


def boundary_errors(set_dir: Path, model_spec: str = "default", calibrated: bool = True, limit: int | None = None,
                    edge_temperature: float = 0.0) -> dict:
    """Signed start and end errors in seconds (aligned - true) over the set, the same with the gap beside each
    edge (``edges``, an ``EdgeErrors``, aligned words only), plus counts and timing. Uncalibrated
    (``calibrated=False``), the edges are measured as ``edge_temperature`` says (``BoundaryCorrection``)."""
    import torch

    from ctctool.alignment.calibration import EdgeErrors, edge_errors
    from ctctool.alignment.pipeline import align_emissions
    from ctctool.alignment.timing import BoundaryCorrection
    from ctctool.errors import CtcToolError
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import load_model

    model = load_model(model_spec, torch.device("cpu"))
    correction = model.boundary_correction if calibrated else BoundaryCorrection(edge_temperature=edge_temperature)
    rows = [line.split("|") for line in (set_dir / "metadata.csv").read_text(encoding="utf-8").splitlines() if line]
    rows = rows[:limit] if limit else rows
    starts, ends, edges, failed, audio_seconds = [], [], [], [], 0.0
    started = time.perf_counter()
    for utt_id, text, *_ in rows:
        truth = json.loads((set_dir / "timings" / f"{utt_id}.json").read_text(encoding="utf-8"))
        try:
            log_probs, seconds = audio_log_probs(model, set_dir / "wavs" / f"{utt_id}.wav")
            result = align_emissions(log_probs, text, vocab=model.vocab, frame_shift=model.frame_shift,
                                     frame_offset=model.frame_offset, correction=correction, name=model.name)
        except CtcToolError as exc:
            failed.append(f"{utt_id}: {exc}")
            continue
        audio_seconds += seconds
        if len(result.words) != len(truth):
            failed.append(f"{utt_id}: {len(result.words)} words aligned, {len(truth)} in the timings")
            continue
        edges.append(edge_errors(result.words, [(t["start"] if t["start_exact"] else None,
                                                 t["end"] if t["end_exact"] else None) for t in truth]))
        for word, true in zip(result.words, truth):
            if true["start_exact"]:
                starts.append(word.start - true["start"])
            if true["end_exact"]:
                ends.append(word.end - true["end"])
    elapsed = time.perf_counter() - started
    return {"utterances": len(rows), "failed": failed, "starts": np.array(starts), "ends": np.array(ends),
            "edges": EdgeErrors.join(edges), "frame_shift": model.frame_shift,
            "audio_seconds": audio_seconds, "elapsed": elapsed, "model": model.name,
            "calibration": correction.as_dict()}




def peer_comparison(set_dir: Path, model_spec: str, peer_python: Path, limit: int | None = None) -> dict:
    """ctctool's and pocketsphinx's signed errors against the exact timings, on the utterances both aligned
    (word for word), with what each failed on."""
    from ctctool.alignment.pipeline import align_audio
    from ctctool.errors import CtcToolError
    from ctctool.models.loading import load_model
    import torch

    rows = [line.split("|") for line in (set_dir / "metadata.csv").read_text(encoding="utf-8").splitlines() if line]
    rows = rows[:limit] if limit else rows
    items = [{"key": uid, "wav": str(set_dir / "wavs" / f"{uid}.wav"), "text": words_only(text)}
             for uid, text, *_ in rows]
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "items.json"
        listing.write_text(json.dumps(items))
        done = subprocess.run([str(peer_python), str(PEER_SCRIPT), str(listing)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{PEER_SCRIPT.name} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout)
    model = load_model(model_spec, torch.device("cpu"))
    errors = {"ctctool": {"starts": [], "ends": []}, "pocketsphinx": {"starts": [], "ends": []}}
    failed, scored = {"ctctool": 0, "pocketsphinx": 0}, 0
    for uid, text, *_ in rows:
        truth = json.loads((set_dir / "timings" / f"{uid}.json").read_text(encoding="utf-8"))
        peer = answer["utterances"][uid].get("words")
        try:
            ours = [(w.start, w.end) for w in align_audio(set_dir / "wavs" / f"{uid}.wav", text, model).words]
        except CtcToolError:
            ours = None
        ok = {"ctctool": ours is not None and len(ours) == len(truth),
              "pocketsphinx": peer is not None and len(peer) == len(truth)}
        for name in ok:
            failed[name] += not ok[name]
        if not all(ok.values()):
            continue
        scored += 1
        for name, times in (("ctctool", ours), ("pocketsphinx", [(a, b) for _, a, b in peer])):
            for (start, end), true in zip(times, truth):
                if true["start_exact"]:
                    errors[name]["starts"].append(start - true["start"])
                if true["end_exact"]:
                    errors[name]["ends"].append(end - true["end"])
    out = {"set": set_dir.name, "utterances": len(rows), "failed": failed, "scored_utterances": scored,
           "peer": answer["peer"],
           "model": model.name, "scored_on": "utterances both aligned word for word, exact edges only"}
    for name, e in errors.items():
        starts, ends = np.array(e["starts"]), np.array(e["ends"])
        absolute = 1000 * np.abs(np.concatenate([starts, ends]))
        out[name] = {"boundaries": int(absolute.size), "mean_ms": round(float(absolute.mean()), 1),
                     "within_20ms": round(float((absolute <= 20).mean()), 3),
                     "mean_signed_start_ms": round(1000 * float(starts.mean()), 1),
                     "mean_signed_end_ms": round(1000 * float(ends.mean()), 1)}
    return out


def summary(result: dict) -> dict:
    errors = 1000 * np.abs(np.concatenate([result["starts"], result["ends"]]))
    return {
        "model": result["model"], "utterances": result["utterances"],
        "aligned": result["utterances"] - len(result["failed"]), "failed": len(result["failed"]),
        "boundaries": int(errors.size), "mean_ms": round(float(errors.mean()), 1),
        "median_ms": round(float(np.median(errors)), 1),
        "within_20ms": round(float((errors <= 20).mean()), 3), "within_50ms": round(float((errors <= 50).mean()), 3),
        "mean_signed_start_ms": round(1000 * float(result["starts"].mean()), 1),
        "mean_signed_end_ms": round(1000 * float(result["ends"].mean()), 1),
        "x_realtime": round(result["audio_seconds"] / result["elapsed"], 1), "calibration": result["calibration"],
        "first_failures": result["failed"][:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set_dir", type=Path)
    parser.add_argument("--model", default="default")
    parser.add_argument("--no-calibration", action="store_true",
                        help="leave the model's boundary shifts out (its edges are still measured as it measures them)")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--peer-python", type=Path, help="a python with pocketsphinx 5: score it too, side by side")
    args = parser.parse_args()
    if args.peer_python:
        if args.no_calibration:
            parser.error("--peer-python scores the model as users get it: leave out --no-calibration")
        print(json.dumps(peer_comparison(args.set_dir, args.model, args.peer_python, args.limit)))
        return
    temperature = 0.0
    if args.no_calibration:  # the shifts left out, the edges measured as the model measures them
        import torch

        from ctctool.models.loading import load_model

        temperature = load_model(args.model, torch.device("cpu")).boundary_correction.edge_temperature
    print(json.dumps(summary(boundary_errors(args.set_dir, args.model, not args.no_calibration, args.limit,
                                             edge_temperature=temperature))))


if __name__ == "__main__":
    main()
