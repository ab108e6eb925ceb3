#!/usr/bin/env python3
"""Issue 2 benchmark: start-up, `ctctool loss` and `ctctool wer`, each side by side with its peer.

Prints one JSON object per line, all measured in this one run:
  * ``ctctool --help`` wall time vs ``python -c "import torch"`` (help must not import torch);
  * ``ctctool loss`` on T=1000, N=32, C=32 vs the same ``F.ctc_loss`` call in a bare script,
    both as whole processes (target: within 1.2x), without and with the gradient;
  * the same loss and gradient inside one process: ``ctc_loss`` vs ``F.ctc_loss`` in float32 and float64;
  * ``ctctool wer`` scoring vs ``jiwer`` on 10,000 pairs (bench_wer.py; target: within 1.5x).

Run: python bench/bench_foundation.py [--reps 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
T, N, C = 1000, 32, 32
SEED = 7

BARE_LOSS = """
import sys
import numpy as np
import torch
import torch.nn.functional as F
logits = torch.from_numpy(np.load(sys.argv[1], allow_pickle=False))
rows = [list(map(int, line.split())) for line in open(sys.argv[2])]
lengths = torch.tensor([len(r) for r in rows])
targets = torch.tensor([r + [0] * (int(lengths.max()) - len(r)) for r in rows])
grad = len(sys.argv) > 3
x = logits.requires_grad_(grad)
loss = F.ctc_loss(x.log_softmax(-1), targets, torch.full((logits.shape[1],), logits.shape[0]), lengths)
if grad:
    loss.backward()
    np.save(sys.argv[3], x.grad.numpy())
print(float(loss))
"""


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def time_process(argv: list[str], reps: int) -> tuple[float, float, str]:
    """Median and min wall seconds of running ``argv`` ``reps`` times (after one warm-up run)."""
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), out


def bench_help(reps: int) -> None:
    ctctool = [sys.executable, "-m", "ctctool", "--help"]
    torch_import = [sys.executable, "-c", "import torch"]
    help_s, help_min, _ = time_process(ctctool, reps)
    torch_s, torch_min, _ = time_process(torch_import, reps)
    emit({"bench": "startup", "ctctool_help_s": round(help_s, 4), "python_import_torch_s": round(torch_s, 4),
          "ratio": round(help_s / torch_s, 3), "min_s": [round(help_min, 4), round(torch_min, 4)]})


def make_loss_inputs(folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(SEED)
    logits = rng.normal(size=(T, N, C)).astype(np.float32)
    scores = folder / "logits.npy"
    np.save(scores, logits)
    targets = folder / "targets.txt"
    with open(targets, "w") as handle:
        for _ in range(N):
            handle.write(" ".join(map(str, rng.integers(1, C, size=T // 4))) + "\n")
    return scores, targets


def bench_loss(reps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scores, targets = make_loss_inputs(folder)
        bare = folder / "bare.py"
        bare.write_text(BARE_LOSS)
        for with_grad in (False, True):
            ours = [sys.executable, "-m", "ctctool", "loss", str(scores), str(targets), "--ids", "--json",
                    "--device", "cpu", "--time-major"]  # the array is torch's (T, N, C), as the bare script reads it
            peer = [sys.executable, str(bare), str(scores), str(targets)]
            if with_grad:
                ours += ["--grad-out", str(folder / "g_ours.npy")]
                peer += [str(folder / "g_peer.npy")]
            ours_s, ours_min, ours_out = time_process(ours, reps)
            peer_s, peer_min, peer_out = time_process(peer, reps)
            ours_loss = json.loads(ours_out)["loss"]
            record = {"bench": "loss", "T": T, "N": N, "C": C, "grad": with_grad,
                      "ctctool_loss_s": round(ours_s, 4), "bare_torch_script_s": round(peer_s, 4),
                      "ratio": round(ours_s / peer_s, 3), "min_s": [round(ours_min, 4), round(peer_min, 4)],
                      "loss_abs_diff": abs(ours_loss - float(peer_out))}
            if with_grad:
                record["grad_max_abs_diff"] = float(np.abs(np.load(folder / "g_ours.npy")
                                                           - np.load(folder / "g_peer.npy")).max())
            emit(record)


def bench_loss_in_process(reps: int) -> None:
    """The same loss and gradient inside one process (after a warm-up): ctctool.ctc_loss (float64,
    own forward-backward) vs F.ctc_loss forward + backward in float32 and in float64."""
    import torch
    import torch.nn.functional as F

    from ctctool import ctc_loss

    rng = np.random.default_rng(SEED)
    logits = torch.from_numpy(rng.normal(size=(T, N, C)).astype(np.float32))
    targets = torch.from_numpy(rng.integers(1, C, size=(N, T // 4)))
    lengths, target_lengths = torch.full((N,), T), torch.full((N,), T // 4)

    def torch_loss(dtype):
        x = logits.to(dtype).detach().requires_grad_(True)
        F.ctc_loss(x.log_softmax(-1), targets, lengths, target_lengths).backward()
        return x.grad

    def ours():
        return ctc_loss(logits, targets, input_kind="logits", target_lengths=target_lengths, time_major=True,
                        compute_grad=True).grad

    record = {"bench": "loss_in_process", "T": T, "N": N, "C": C, "L": T // 4}
    for name, run in (("ctctool_s", ours), ("torch_float32_s", lambda: torch_loss(torch.float32)),
                      ("torch_float64_s", lambda: torch_loss(torch.float64))):
        run()
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        record[name] = round(statistics.median(times), 4)
    record["grad_max_abs_diff_vs_float64"] = float((ours() - torch_loss(torch.float64).float()).abs().max())
    emit(record)


def bench_wer(pairs: int) -> None:
    sys.path.insert(0, str(HERE))
    import bench_wer

    emit({"bench": "wer", **bench_wer.run(pairs=pairs)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--pairs", type=int, default=10_000)
    args = parser.parse_args()
    emit({"bench": "meta", "python": sys.version.split()[0], "cpus": os.cpu_count(), "reps": args.reps})
    bench_help(args.reps)
    bench_loss(args.reps)
    bench_loss_in_process(args.reps)
    bench_wer(args.pairs)


if __name__ == "__main__":
    main()
