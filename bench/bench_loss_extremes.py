#!/usr/bin/env python3
"""Finite gradients under extreme scores: ctctool.ctc_loss vs torch's F.ctc_loss on the same random cases.

Each case (seeded): N 1-3 utterances, T 1-12 frames, C 2-5 classes, logits scaled by 1, 10 or 100,
with a random share (up to half) of entries set to one of -1e4, -1e10, -1e30 or -1e38, float32 or
float64, targets of 0-3 labels; both sides with log_softmax in the graph, reduction sum and
zero_infinity. Counts the cases whose gradient holds NaN or inf.

Run: python bench/bench_loss_extremes.py [CASES]   (prints one JSON object)
"""

from __future__ import annotations

import json
import random
import sys

import torch
import torch.nn.functional as F

import ctctool


def run(cases: int = 400, seed: int = 1) -> dict:
    random.seed(seed)
    torch.manual_seed(seed)
    counted = bad_torch = bad_ours = 0
    for _ in range(cases):
        T, N, C = random.randint(1, 12), random.randint(1, 3), random.randint(2, 5)
        dtype = random.choice([torch.float32, torch.float64])
        x = torch.randn(N, T, C, dtype=dtype) * random.choice([1, 10, 100])
        x[torch.rand(N, T, C) < random.random() * 0.5] = random.choice([-1e30, -1e10, -1e4, -1e38])
        lengths = [random.randint(0, 3) for _ in range(N)]
        targets = [[random.randint(1, C - 1) for _ in range(n)] for n in lengths]
        try:
            ours = ctctool.ctc_loss(x, targets, input_kind="logits", compute_grad=True, reduction="sum",
                                    zero_infinity=True)
        except ctctool.CtcToolError:
            continue
        counted += 1
        bad_ours += not bool(torch.isfinite(ours.grad).all())
        leaf = x.clone().requires_grad_(True)
        width = max(1, max(lengths))
        padded = torch.tensor([t + [0] * (width - len(t)) for t in targets])
        F.ctc_loss(leaf.log_softmax(-1).transpose(0, 1), padded, torch.full((N,), T), torch.tensor(lengths),
                   reduction="sum", zero_infinity=True).backward()
        bad_torch += not bool(torch.isfinite(leaf.grad).all())
    return {"bench": "loss_extremes", "cases": counted, "torch_non_finite_gradients": bad_torch,
            "ctctool_non_finite_gradients": bad_ours}


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 400)))
