#!/usr/bin/env python3
"""Word-boundary accuracy of ctctool align on synthetic speech with exact word timings.

SET_DIR is in the layout of ../shared/data/speech-tiny (metadata.csv, wavs/, timings/):
make one with tools/make_speech_set.py. For every utterance the audio goes through the
model, the transcript is aligned, and each word start and end is compared with the
truth; like ../shared/bench/peer_pocketsphinx_align.py, only edges marked exact count.
Prints one JSON object: utterances aligned and failed, mean / median absolute error (ms),
share within 20 and 50 ms, the mean signed start and end errors, and the speed.

Run: python bench/bench_align_accuracy.py SET_DIR [--model default] [--no-calibration]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def boundary_errors(set_dir: Path, model_spec: str = "default", calibrated: bool = True, limit: int | None = None) -> dict:
    """Signed start and end errors in seconds (aligned - true) over the set, plus counts and timing."""
    import torch

    from ctctool.alignment.pipeline import align_emissions
    from ctctool.alignment.timing import BoundaryCorrection
    from ctctool.errors import CtcToolError
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import load_model

    model = load_model(model_spec, torch.device("cpu"))
    correction = model.boundary_correction if calibrated else BoundaryCorrection()
    rows = [line.split("|") for line in (set_dir / "metadata.csv").read_text(encoding="utf-8").splitlines() if line]
    rows = rows[:limit] if limit else rows
    starts, ends, failed, audio_seconds = [], [], [], 0.0
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
        for word, true in zip(result.words, truth):
            if true["start_exact"]:
                starts.append(word.start - true["start"])
            if true["end_exact"]:
                ends.append(word.end - true["end"])
    elapsed = time.perf_counter() - started
    return {"utterances": len(rows), "failed": failed, "starts": np.array(starts), "ends": np.array(ends),
            "audio_seconds": audio_seconds, "elapsed": elapsed, "model": model.name,
            "calibration": {"word_start": correction.start, "word_end": correction.end}}


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
    parser.add_argument("--no-calibration", action="store_true", help="leave the model's boundary calibration out")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    print(json.dumps(summary(boundary_errors(args.set_dir, args.model, not args.no_calibration, args.limit))))


if __name__ == "__main__":
    main()
