"""``ctctool wer``: score hypotheses against references (WER, CER, MER, WIL, WIP)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ctctool.cli._common import check_files, print_json, reports_errors
from ctctool.errors import CtcToolError

app = typer.Typer()

PAIRED_RESAMPLES = 1000  # --bootstrap when HYPS_B is given and --bootstrap is not
MAX_RESAMPLES = 1_000_000


def _flag(name: str, text: str):
    return Annotated[bool, typer.Option(name, help=text)]


@app.command("wer")
@reports_errors(flags={"fmt=keyed": "--keyed", "fmt=trn": "--trn"})
def wer(
    refs: Annotated[Path, typer.Argument(help="Reference transcripts, one utterance a line.")],
    hyps: Annotated[Path, typer.Argument(help="Hypotheses of system A.")],
    hyps_b: Annotated[Optional[Path], typer.Argument(
        help="Hypotheses of system B: scored too, and compared with A (paired bootstrap).")] = None,
    keyed: _flag("--keyed", "Kaldi-style 'uttid words...' lines, matched by key.") = False,
    trn: _flag("--trn", "sclite trn 'words... (uttid)' lines, matched by key.") = False,
    lowercase: _flag("--lowercase", "Lower-case all text before scoring.") = False,
    strip_punctuation: _flag("--strip-punctuation", "Delete Unicode punctuation (P*).") = False,
    normalize: _flag("--normalize", "Both --lowercase and --strip-punctuation.") = False,
    top: Annotated[int, typer.Option(min=0, help="Rows of the worst-utterances table.")] = 10,
    show_alignment: Annotated[int, typer.Option(
        min=0, metavar="N", help="Print the N worst utterances aligned, with S/D/I marks.")] = 0,
    json_output: _flag("--json", "Print one JSON object instead of tables.") = False,
    csv: Annotated[Optional[Path], typer.Option(
        help="Write per-utterance rows to this CSV file.")] = None,
    bootstrap: Annotated[Optional[int], typer.Option(
        min=0, max=MAX_RESAMPLES, metavar="N", show_default=False,
        help=f"Resamples for the 95% CI of WER (and the paired test); 0 is off. "
             f"Default: off, or {PAIRED_RESAMPLES} with a second hypothesis file.")] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed of the bootstrap resampling.")] = 0,
) -> None:
    """Word error rate and friends, pooled over the corpus (total edits / total reference words).

    Words are split on any Unicode whitespace; CER is computed on the words joined by single spaces.

    An empty reference counts its insertions as its WER.

    Plain files are matched line by line; --keyed and --trn match by utterance id.
    """
    from ctctool import metrics
    from ctctool.cli import _wer_output as out
    from ctctool.io.transcripts import match_transcripts, read_transcripts
    from ctctool.io.writers import write_csv

    if keyed and trn:
        raise typer.BadParameter("use --keyed or --trn, not both", param_hint="--trn")
    check_files({"--csv": csv}, [refs, hyps, hyps_b], stdout_carries="the report")
    fmt = "keyed" if keyed else "trn" if trn else "plain"
    steps = [metrics.to_lowercase] * (lowercase or normalize)
    steps += [metrics.remove_punctuation] * (strip_punctuation or normalize)
    transform = metrics.compose(*steps) if steps else None
    references = read_transcripts(refs, fmt)
    paths = [p for p in (hyps, hyps_b) if p is not None]
    matched = [match_transcripts(references, read_transcripts(path, fmt)) for path in paths]
    resamples = bootstrap if bootstrap is not None else PAIRED_RESAMPLES * (hyps_b is not None)
    try:
        scores = metrics.score_systems(matched[0].references, [m.hypotheses for m in matched], matched[0].keys,
                                       transform=transform, resamples=resamples, seed=seed)
    except CtcToolError as exc:
        raise CtcToolError(f"{refs}: {exc}") from None
    systems = [out.ScoredSystem(label, str(path), report, interval)
               for label, path, report, interval in zip("AB", paths, scores.reports, scores.intervals)]
    paired = scores.paired
    empty = [out.utterance_name(u) for u in scores.reports[0].utterances if not u.ref_words]
    if empty:
        print(f"warning: {refs}: {len(empty)} empty reference(s) ({', '.join(empty[:5])}"
              f"{', ...' if len(empty) > 5 else ''}); each counts its insertions as errors",
              file=sys.stderr)
    if json_output:
        print_json(out.json_payload(systems, paired))
    else:
        out.print_report(systems, paired, top, show_alignment)
    if csv is not None:
        write_csv(csv, out.CSV_HEADER, out.csv_rows(systems))
