"""What ``ctctool wer`` prints and writes: rich tables, alignments, JSON and CSV rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ctctool.io.writers import json_number
from ctctool.metrics import (
    BootstrapInterval, PairedBootstrap, UtteranceScore, WerReport, align_words, DELETION, HIT,
    INSERTION,
)

CSV_HEADER = (
    "system", "index", "key", "ref_words", "hyp_words", "hits", "substitutions", "deletions",
    "insertions", "wer", "cer", "reference", "hypothesis",
)
_MEASURES = ("wer", "cer", "mer", "wil", "wip")
_COUNTS = ("hits", "substitutions", "deletions", "insertions", "ref_words", "hyp_words")


@dataclass(frozen=True)
class ScoredSystem:
    """One hypothesis file's report, labelled A or B, with its bootstrap interval if asked for."""

    label: str
    path: str
    report: WerReport
    interval: BootstrapInterval | None


def utterance_name(utterance: UtteranceScore) -> str:
    """The key of a keyed utterance, else its 1-based line number."""
    return utterance.key if utterance.key is not None else f"line {utterance.index + 1}"


def _percent(value: float) -> str:
    return f"{100.0 * value:.2f}%"


# ----------------------------------------------------------------------------- JSON and CSV


def _utterance_dict(u: UtteranceScore) -> dict[str, Any]:
    return {
        "index": u.index, "key": u.key, "ref_words": u.ref_words, "hyp_words": u.hyp_words,
        "hits": u.hits, "substitutions": u.substitutions, "deletions": u.deletions,
        "insertions": u.insertions, "wer": json_number(u.wer), "cer": json_number(u.cer),
    }


def _system_dict(system: ScoredSystem) -> dict[str, Any]:
    report = system.report
    payload: dict[str, Any] = {"hyps": system.path, "utterance_count": len(report.utterances)}
    payload.update({name: json_number(getattr(report, name)) for name in _MEASURES})
    payload.update({name: getattr(report, name) for name in _COUNTS})
    if system.interval is not None:
        interval = system.interval
        payload["bootstrap"] = {
            "low": interval.low, "high": interval.high, "confidence": interval.confidence,
            "resamples": interval.resamples, "seed": interval.seed,
        }
    payload["utterances"] = [_utterance_dict(u) for u in report.utterances]
    return payload


def json_payload(systems: list[ScoredSystem], paired: PairedBootstrap | None) -> dict[str, Any]:
    """System A's measures at the top level; system B under ``system_b``; then the comparison."""
    payload = _system_dict(systems[0])
    if len(systems) > 1:
        payload["system_b"] = _system_dict(systems[1])
    if paired is not None:
        payload["paired_bootstrap"] = {
            "prob_b_better": paired.prob_b_better, "delta_low": paired.delta_low,
            "delta_high": paired.delta_high, "confidence": paired.confidence,
            "resamples": paired.resamples, "seed": paired.seed,
        }
    return payload


def csv_rows(systems: list[ScoredSystem]) -> list[tuple[Any, ...]]:
    """One row per utterance and system, in CSV_HEADER order."""
    return [
        (s.label, u.index, u.key or "", u.ref_words, u.hyp_words, u.hits, u.substitutions,
         u.deletions, u.insertions, u.wer, u.cer, u.reference, u.hypothesis)
        for s in systems for u in s.report.utterances
    ]


# ----------------------------------------------------------------------------- rich output


def summary_table(systems: list[ScoredSystem]) -> Table:
    """Pooled measures, one column per system."""
    table = Table(title="Corpus scores (pooled: total edits / total reference words)")
    table.add_column("measure")
    for system in systems:
        table.add_column(escape(f"{system.label}: {system.path}"), justify="right")
    for name in _MEASURES:
        table.add_row(name.upper(), *(_percent(getattr(s.report, name)) for s in systems))
    for name in _COUNTS:
        table.add_row(name.replace("_", " "), *(str(getattr(s.report, name)) for s in systems))
    table.add_row("utterances", *(str(len(s.report.utterances)) for s in systems))
    if all(s.interval is not None for s in systems):
        first = systems[0].interval
        table.add_row(
            f"WER {first.confidence:.0%} CI",
            *(f"{_percent(s.interval.low)} to {_percent(s.interval.high)}" for s in systems),
        )
    return table


def worst_table(system: ScoredSystem, top: int) -> Table:
    """The ``top`` worst utterances of one system."""
    utterances = system.report.utterances
    table = Table(title=escape(f"{system.label}: worst {min(top, len(utterances))} of "
                               f"{len(utterances)} utterances ({system.path})"))
    table.add_column("utterance", no_wrap=True)
    for name in ("WER", "S", "D", "I", "ref words"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("reference", overflow="fold")
    table.add_column("hypothesis", overflow="fold")
    for u in system.report.worst(top):
        table.add_row(
            escape(utterance_name(u)), _percent(u.wer), str(u.substitutions), str(u.deletions),
            str(u.insertions), str(u.ref_words), escape(u.reference), escape(u.hypothesis),
        )
    return table


def alignment_lines(utterance: UtteranceScore) -> list[str]:
    """REF, HYP and mark lines (rich markup, user text escaped), words padded to line up."""
    ref_cells, hyp_cells, mark_cells = [], [], []
    for column in align_words(utterance.reference, utterance.hypothesis):
        width = max(cell_len(column.ref), cell_len(column.hyp), 1)
        ref = "*" * width if column.op == INSERTION else column.ref
        hyp = "*" * width if column.op == DELETION else column.hyp
        mark = "" if column.op == HIT else column.op
        ref_cells.append(escape(ref) + " " * (width - cell_len(ref)))
        hyp_cells.append(escape(hyp) + " " * (width - cell_len(hyp)))
        mark_cells.append(mark + " " * (width - len(mark)))
    header = (f"[bold]{escape(utterance_name(utterance))}[/bold]  WER {_percent(utterance.wer)} "
              f"(S {utterance.substitutions}, D {utterance.deletions}, I {utterance.insertions})")
    return [header, "  REF: " + " ".join(ref_cells), "  HYP: " + " ".join(hyp_cells),
            "       " + " ".join(mark_cells).rstrip()]


def paired_line(paired: PairedBootstrap) -> str:
    """The comparison of systems A and B in one sentence."""
    return (f"Paired bootstrap ({paired.resamples} resamples, seed {paired.seed}): "
            f"P(WER_B < WER_A) = {paired.prob_b_better:.4f}; WER_B - WER_A "
            f"{paired.confidence:.0%} CI {_percent(paired.delta_low)} "
            f"to {_percent(paired.delta_high)}")


def print_report(systems: list[ScoredSystem], paired: PairedBootstrap | None, top: int,
                 show_alignment: int) -> None:
    """Summary, worst-utterance tables and alignments, to stdout."""
    console = Console(highlight=False)
    console.print(summary_table(systems))
    for system in systems:
        if top > 0:
            console.print(worst_table(system, top))
        if show_alignment > 0:
            console.print(f"[bold]{system.label}: alignment of the worst utterances[/bold]")
        for utterance in system.report.worst(show_alignment) if show_alignment > 0 else ():
            for line in alignment_lines(utterance):
                console.print(line, soft_wrap=True)
    if paired is not None:
        console.print(paired_line(paired), soft_wrap=True)
