#!/usr/bin/env python3
"""Turn a training checkpoint into the shipped default model: calibrate on a dev set, export in float16.

The calibration cancels the median signed error of word starts and of word ends on the --calibrate
sets (sets with word timings, from voices or sentences not used in training and never an
evaluation set), each set weighing the same, with a shift of its own for each range of gap beside
an edge (--no-gaps: one shift for starts and one for ends) and one for each letter a word begins or
ends with (--no-letters: none); see ``ctctool.alignment.calibration``. The edges are measured as expected
frames at --edge-temperature (3 by default; 0: best-path frame edges, as before 0.7.5), and the shipped
model measures them the same way (``BoundaryCorrection.edge_temperature``). The model also carries the blank
penalty that ``transcribe`` decodes with by default (--blank-penalty, 0.5 by default; see ``ctctool.decode``).

The shipped history joins the training stages: give the checkpoints of earlier stages (the
run that TRAIN_CHECKPOINT was fine-tuned from, with --init) after OUT.pt; their epochs come
first, and every entry is tagged with its stage (1, 2, ...).

Run: python recipes/default_model/finish.py TRAIN_CHECKPOINT OUT.pt [EARLIER_STAGE.pt ...] --calibrate DEV_DIR [...]
     [--no-gaps] [--no-letters] [--edge-temperature 3] [--blank-penalty 0.5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
#: The temperature of the expected word edges (chosen on the dev sets: 2, 3, 4 and 6 were tried).
EDGE_TEMPERATURE = 3.0
#: The blank penalty ``transcribe`` decodes with by default (chosen on the dev sets' greedy CER: 0.2 to 1.5 tried).
BLANK_PENALTY = 0.5
sys.path.insert(0, str(ROOT / "bench"))

from bench_align_accuracy import boundary_errors, summary  # noqa: E402

from ctctool.alignment.calibration import fit_boundary_correction  # noqa: E402
from ctctool.models.checkpoint import checkpoint_payload, load_checkpoint, model_from_checkpoint, save_checkpoint  # noqa: E402


def joined_history(stages: list[Path]) -> list[dict]:
    """The histories of ``stages`` (first stage first), epochs numbered on across them, tagged by stage. A
    checkpoint whose history already spans stages (an earlier shipped model) keeps its own stage numbers."""
    joined: list[dict] = []
    for stage in stages:
        offset = joined[-1]["epoch"] if joined else 0
        first = joined[-1]["stage"] if joined else 0
        joined += [{**h, "epoch": offset + h["epoch"], "stage": first + h.get("stage", 1)}
                   for h in load_checkpoint(stage)["history"]]
    return joined


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("earlier", type=Path, nargs="*")
    parser.add_argument("--calibrate", type=Path, action="append", required=True)
    parser.add_argument("--no-gaps", action="store_true", help="one start and one end shift, whatever the gap")
    parser.add_argument("--no-letters", action="store_true", help="no shift for the letter a word begins or ends with")
    parser.add_argument("--blank-penalty", type=float, default=BLANK_PENALTY,
                        help="the model's default blank penalty for decoding (natural log; 0: none)")
    parser.add_argument("--edge-temperature", type=float, default=EDGE_TEMPERATURE,
                        help="measure word edges as expected frames at this temperature (0: best-path frame edges; "
                             "see BoundaryCorrection.edge_temperature)")
    args = parser.parse_args(argv)
    for dev_dir in args.calibrate:
        if not (dev_dir / "metadata.csv").is_file() or not (dev_dir / "timings").is_dir():
            parser.exit(1, f"error: --calibrate {dev_dir}: expected a set with metadata.csv and timings/ "
                           f"(e.g. recipe-work/espeak_dev); make it with recipes/default_model/data.sh\n")
    if not np.isfinite(args.blank_penalty):
        parser.exit(1, f"error: --blank-penalty {args.blank_penalty}: expected a finite number (e.g. 0.5)\n")
    if not (np.isfinite(args.edge_temperature) and args.edge_temperature >= 0):
        parser.exit(1, f"error: --edge-temperature {args.edge_temperature}: expected 0 or a temperature > 0 (e.g. 3)\n")
    if args.out.resolve() in {p.resolve() for p in (args.checkpoint, *args.earlier)}:
        parser.exit(1, f"error: OUT {args.out} is one of the input checkpoints; give another path\n")
    with tempfile.TemporaryDirectory() as tmp:
        inference = Path(tmp) / "model.pt"
        model = model_from_checkpoint(args.checkpoint, torch.device("cpu"))
        history = joined_history([*args.earlier, args.checkpoint])
        save_checkpoint(inference, checkpoint_payload(model.network, model.features, model.vocab, history=history))
        per_set = {}
        for dev_dir in args.calibrate:
            errors = boundary_errors(dev_dir, str(inference), calibrated=False, edge_temperature=args.edge_temperature)
            print(f"uncalibrated on {dev_dir.name}:", summary(errors))
            per_set[dev_dir.name] = errors["edges"]
    correction = fit_boundary_correction(list(per_set.values()), model.frame_shift, by_gap=not args.no_gaps,
                                         by_letter=not args.no_letters, edge_temperature=args.edge_temperature)
    calibration = {**correction.as_dict(), "blank_penalty": args.blank_penalty,
                   "dev_sets": {name: {"median_start_error": float(np.median(e.starts)),
                                       "median_end_error": float(np.median(e.ends))} for name, e in per_set.items()}}
    save_checkpoint(args.out, checkpoint_payload(model.network, model.features, model.vocab, history=history,
                                                 calibration=calibration, half=True))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB), calibration {calibration}")


if __name__ == "__main__":
    main()
