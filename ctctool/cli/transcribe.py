"""``ctctool transcribe``: text of audio files with an acoustic model (beam search with an LM, or greedy)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ctctool.cli._common import DeviceOption, reports_errors
from ctctool.errors import CtcToolError

app = typer.Typer()


@app.command("transcribe")
@reports_errors
def transcribe(
    audio: Annotated[List[Path], typer.Argument(help="Audio files (wav, flac, ogg; any rate, mixed to mono).")],
    model: Annotated[str, typer.Option(help="default, a ctctool checkpoint, or a wav2vec2-style directory.")] = "default",
    keyed: Annotated[bool, typer.Option("--keyed", help="Print '<file stem> <text>' lines, ready for ctctool wer --keyed.")] = False,
    lm: Annotated[str, typer.Option(help="Word n-gram LM: auto (the default model's own LM with --model default, else none), default, none, an ARPA file, or a KenLM binary (needs the kenlm extra).")] = "auto",
    beam_width: Annotated[Optional[int], typer.Option(min=1, help="CTC prefix beam search width; 1: greedy. Default: 32 with an LM or hotwords, else 1.")] = None,
    alpha: Annotated[Optional[float], typer.Option(help="LM weight (default 0.5).")] = None,
    beta: Annotated[Optional[float], typer.Option(help="Bonus per word (default 1.0 with an LM, else 0).")] = None,
    hotword: Annotated[Optional[List[str]], typer.Option(help="'word:boost' or 'a phrase:boost' (boost in natural log); repeatable.")] = None,
    device: DeviceOption = "auto",
) -> None:
    """One line of text per audio file (prefix beam search with an LM, or greedy).

    A file that cannot be read is reported on stderr and the others go on; the exit code is then 1.
    """
    from ctctool.cli._common import resolve_device
    from ctctool.decoding.beam import beam_search
    from ctctool.decoding.greedy import greedy_decode
    from ctctool.decoding.hotwords import parse_hotword
    from ctctool.lm.loading import load_language_model
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import language_model_file, load_model

    lm_file = language_model_file(lm, model)
    if alpha is not None and lm_file is None:
        raise CtcToolError("--alpha weighs a language model, and this run has none: pass --lm, or leave --alpha out")
    hotwords = dict(parse_hotword(spec) for spec in hotword or [])
    acoustic = load_model(model, resolve_device(device))
    language_model = load_language_model(lm_file) if lm_file else None
    beam_width = beam_width or (32 if language_model or hotwords else 1)
    failed = 0
    for path in audio:
        try:
            log_probs, _ = audio_log_probs(acoustic, path)
        except CtcToolError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        blank = acoustic.vocab.blank
        if beam_width > 1 or language_model or hotwords:
            labels = beam_search(log_probs, beam_width=beam_width, blank=blank, vocab=acoustic.vocab,
                                 lm=language_model, alpha=alpha, beta=beta, hotwords=hotwords)[0][0].labels
        else:
            labels = greedy_decode(log_probs, blank=blank)[0]
        text = acoustic.vocab.decode(labels)
        text = " ".join(text.split())
        print(f"{path.stem} {text}" if keyed else text, flush=True)
    if failed:
        raise CtcToolError(f"{failed} of {len(audio)} files could not be transcribed (see above)")
