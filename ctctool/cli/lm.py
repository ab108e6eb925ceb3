"""``ctctool lm``: estimate a word n-gram language model from text and write it as ARPA."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ctctool.cli._common import Number, check_files, reports_errors

app = typer.Typer()
DISCOUNT = Number(0.0, 1.0, low_open=True)
MAX_ORDER = 10


@app.command("lm")
@reports_errors
def lm(
    corpus: Annotated[List[Path], typer.Argument(help="Text files, one sentence a line; words are split on whitespace.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="ARPA file to write; gzip-compressed when it ends in .gz.")],
    order: Annotated[int, typer.Option(min=1, max=MAX_ORDER, help="Longest n-gram.")] = 3,
    metadata: Annotated[bool, typer.Option("--metadata", help="The files are LJSpeech metadata.csv (id|text|normalized): the sentence is the normalized column, or the text column when that is empty.")] = False,
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Lower-case the text first.")] = False,
    min_count: Annotated[Optional[List[int]], typer.Option(min=1, metavar="N", help="List only n-grams of order 2 and up seen at least N times (2 drops singletons); repeat it to give bigrams, trigrams, ... their own N. N-grams that a listed longer one builds on stay.")] = None,
    discount: Annotated[Optional[float], typer.Option(parser=DISCOUNT, help="One discount in (0, 1] for every order (plain Kneser-Ney). Default: modified Kneser-Ney's three discounts per order, estimated from the counts.")] = None,
) -> None:
    """Interpolated Kneser-Ney word n-gram model of the corpus, in ARPA back-off form (log10).

    <unk> gets the unigram level's uniform share of probability; a one-line summary goes to stderr.
    """
    from ctctool.lm.arpa import write_arpa
    from ctctool.io.corpus_text import read_sentences
    from ctctool.lm.estimate import FALLBACK_DISCOUNT, kneser_ney

    check_files({"--output": output}, corpus)
    sentences = [s for path in corpus for s in read_sentences(path, metadata=metadata, lowercase=lowercase)]
    estimate = kneser_ney(sentences, order, discount=discount, min_count=min_count or 1)
    write_arpa(estimate.model, output)
    listed = [sum(len(words) == n for words in estimate.model.ngrams) for n in range(1, order + 1)]
    orders = ", ".join(map(str, estimate.fallback_orders))
    fallback = f"; discount {FALLBACK_DISCOUNT} at order(s) {orders} (count-of-counts too sparse)" if orders else ""
    print(f"wrote {output}: {', '.join(f'{c} {n}-grams' for n, c in enumerate(listed, start=1))} from "
          f"{len(sentences)} sentences, {sum(map(len, sentences))} words{fallback}", file=sys.stderr)
