"""How ``ctctool loss`` shows its result: a rich table, one JSON object, stderr warnings."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ctctool.cli._common import print_json
from ctctool.io.writers import json_number
from ctctool.loss import CtcLossResult


def _rows(result: CtcLossResult) -> list[dict]:
    rows = []
    for n in range(result.losses.numel()):
        loss = float(result.losses[n])
        length = int(result.target_lengths[n])
        rows.append({
            "index": n,
            "loss": loss,
            "loss_per_token": loss / max(length, 1),
            "input_length": int(result.input_lengths[n]),
            "target_length": length,
            "frames_needed": int(result.frames_needed[n]),
            "feasible": bool(result.feasible[n]),
            "zeroed": bool(result.zeroed[n]),
            "reason": result.reasons[n],
        })
    return rows


def warn_infeasible(result: CtcLossResult, targets: Path) -> None:
    """One stderr line per infeasible utterance, with the reason (frames missing, or zero probabilities)."""
    for row in _rows(result):
        if row["feasible"]:
            continue
        outcome = "loss zeroed by --zero-infinity" if row["zeroed"] else "loss is inf"
        print(f"warning: utterance {row['index']} ({targets} line {row['index'] + 1}) is infeasible: "
              f"{row['reason']}; {outcome}", file=sys.stderr)


def print_loss_json(result: CtcLossResult, reduction: str) -> None:
    rows = _rows(result)
    for row in rows:
        row["loss"] = json_number(row["loss"])
        row["loss_per_token"] = json_number(row["loss_per_token"])
    if reduction == "none":
        reduced = [json_number(float(v)) for v in result.loss]
    else:
        reduced = json_number(float(result.loss))
    print_json({"loss": reduced, "reduction": reduction, "utterances": rows})


def print_loss_table(result: CtcLossResult, reduction: str) -> None:
    table = Table(title="CTC loss per utterance")
    for name in ("index", "loss", "loss/token", "T", "L", "frames needed", "feasible"):
        table.add_column(name, justify="left" if name == "feasible" else "right")
    for row in _rows(result):
        feasible = "yes" if row["feasible"] else ("no (zeroed)" if row["zeroed"] else "no")
        table.add_row(
            str(row["index"]), f"{row['loss']:.4f}", f"{row['loss_per_token']:.4f}", str(row["input_length"]),
            str(row["target_length"]), str(row["frames_needed"]), feasible,
        )
    console = Console()
    console.print(table)
    if reduction != "none":
        console.print(f"{reduction} loss: {float(result.loss):.6f}")
