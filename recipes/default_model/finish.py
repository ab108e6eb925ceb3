#!/usr/bin/env python3
"""Turn a training checkpoint into the shipped default model: calibrate on a dev set, export in float16.

The calibration is the mean signed error of word starts and of word ends on DEV_DIR
(a set with exact word timings, from voices not used in training and never the
evaluation set); the shipped model adds its negation to every start and end.

The shipped history joins the training stages: give the checkpoints of earlier stages (the
run that TRAIN_CHECKPOINT was fine-tuned from, with --init) after OUT.pt; their epochs come
first, and every entry is tagged with its stage (1, 2, ...).

Run: python recipes/default_model/finish.py TRAIN_CHECKPOINT DEV_DIR OUT.pt [EARLIER_STAGE.pt ...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from bench_align_accuracy import boundary_errors, summary  # noqa: E402

from ctctool.models.checkpoint import checkpoint_payload, load_checkpoint, model_from_checkpoint, save_checkpoint  # noqa: E402


def joined_history(stages: list[Path]) -> list[dict]:
    """The histories of ``stages`` (first stage first), epochs numbered on across them, tagged by stage."""
    joined: list[dict] = []
    for number, stage in enumerate(stages, start=1):
        offset = joined[-1]["epoch"] if joined else 0
        joined += [{**h, "epoch": offset + h["epoch"], "stage": number} for h in load_checkpoint(stage)["history"]]
    return joined


def main(checkpoint: Path, dev_dir: Path, out: Path, *earlier: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inference = Path(tmp) / "model.pt"
        model = model_from_checkpoint(checkpoint, torch.device("cpu"))
        history = joined_history([*earlier, checkpoint])
        save_checkpoint(inference, checkpoint_payload(model.network, model.features, model.vocab, history=history))
        errors = boundary_errors(dev_dir, str(inference), calibrated=False)
    calibration = {"word_start": -float(errors["starts"].mean()), "word_end": -float(errors["ends"].mean()),
                   "dev_set": dev_dir.name, "dev_boundaries": int(errors["starts"].size + errors["ends"].size)}
    print("uncalibrated on the dev set:", summary(errors))
    save_checkpoint(out, checkpoint_payload(model.network, model.features, model.vocab, history=history,
                                            calibration=calibration, half=True))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), calibration {calibration}")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:]))
