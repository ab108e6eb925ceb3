"""``ctctool decode``: text from saved scores, greedy or by CTC prefix beam search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ctctool.cli._common import (FINITE, FRAME_SHIFT, LOG_PROB, NON_NEGATIVE, BlankOption, DeviceOption,
                                TokenizerOption, check_hotwords, scores_error, reports_errors)
from ctctool.decoding.options import MAX_BEAM_WIDTH, OOV_PENALTY, TOKEN_MIN_LOG_PROB

app = typer.Typer()


@app.command("decode")
@reports_errors(flags={"scores": "scores", "log_probs": "scores"})
def decode(
    scores: Annotated[Path, typer.Argument(help="Scores: .npy, .npz or .pt; (T, C) one utterance, (N, T, C) a batch, (T, N, C) with --time-major.")],
    input_kind: Annotated[Literal["log-probs", "logits", "probs"], typer.Option(help="What the scores are.")] = "log-probs",
    time_major: Annotated[bool, typer.Option("--time-major", help="3-D scores are (T, N, C), torch's CTCLoss layout, instead of (N, T, C).")] = False,
    batch_first: Annotated[bool, typer.Option("--batch-first", hidden=True, help="(N, T, C): the default; kept for old scripts.")] = False,
    key: Annotated[Optional[str], typer.Option(help="Array name inside an .npz or .pt dict.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary file; default: blank + a-z ' ? ! space.")] = None,
    tokenizer: TokenizerOption = None,
    blank: BlankOption = None,
    input_lengths: Annotated[Optional[Path], typer.Option(help="File of N integers, frames per utterance.")] = None,
    beam_width: Annotated[Optional[int], typer.Option(min=1, max=MAX_BEAM_WIDTH, help="Prefix beam search width; 1: greedy. Default: greedy, or 32 with --lm, --hotword, --beta or --nbest.")] = None,
    nbest: Annotated[int, typer.Option(min=1, max=MAX_BEAM_WIDTH, help="Distinct hypotheses per utterance (with --json).")] = 1,
    token_min_log_prob: Annotated[float, typer.Option(parser=LOG_PROB, help="Beam search tries a label on a frame only above this log-prob.")] = TOKEN_MIN_LOG_PROB,
    lm: Annotated[Optional[str], typer.Option(help="Word n-gram LM fused in the beam: an ARPA file (.arpa, .arpa.gz; build one with 'ctctool lm'), a KenLM binary (needs the kenlm extra), or 'default' (the default model's).")] = None,
    alpha: Annotated[Optional[float], typer.Option(parser=NON_NEGATIVE, help="LM weight (default 0.5 with --lm).")] = None,
    beta: Annotated[Optional[float], typer.Option(parser=FINITE, help="Bonus per word (default 1.0 with --lm, else 0).")] = None,
    oov_penalty: Annotated[float, typer.Option(parser=LOG_PROB, help="Added (natural log) for each word the LM does not list.")] = OOV_PENALTY,
    hotword: Annotated[Optional[list[str]], typer.Option(callback=check_hotwords, help="'word:boost' or 'a phrase:boost' (boost in natural log); repeatable.")] = None,
    blank_penalty: Annotated[float, typer.Option(parser=FINITE, help="Subtracted from the blank's log-prob on every frame before decoding (above 0: fewer letters lost to blanks).")] = 0.0,
    frame_shift: Annotated[Optional[float], typer.Option(parser=FRAME_SHIFT, help="Seconds per frame: adds times in seconds to --json words.")] = None,
    keyed: Annotated[bool, typer.Option("--keyed", help="Print 'key text' lines (ready for ctctool wer --keyed).")] = False,
    keys: Annotated[Optional[Path], typer.Option(help="Utterance keys, one per line; default: the utterance index.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object: text, scores, n-best and word timestamps.")] = False,
    device: DeviceOption = "auto",
) -> None:
    """Decode each utterance to text: one line per utterance, or JSON."""
    from ctctool.cli._common import print_json
    from ctctool.decoding.decoder import decode as decode_scores
    from ctctool.decoding.hotwords import parse_hotword
    from ctctool.decoding.options import search_settings
    from ctctool.devices import resolve_device
    from ctctool.errors import CtcToolError
    from ctctool.io.arrays import load_scores
    from ctctool.io.decodings import decoding_json, read_keys
    from ctctool.io.targets import read_lengths
    from ctctool.io.vocab_file import load_classes
    from ctctool.lm.loading import as_language_model

    if time_major and batch_first:
        raise typer.BadParameter("--batch-first (the default) and --time-major contradict each other", param_hint="--time-major")
    target_device = resolve_device(device)
    loaded = load_scores(scores, key)
    vocabulary = load_classes(vocab, tokenizer, blank=blank, classes=loaded.values.shape[-1])
    hotwords = dict(parse_hotword(spec) for spec in hotword or [])
    search_settings(has_lm=lm is not None, has_hotwords=bool(hotwords), beam_width=beam_width, nbest=nbest,
                    alpha=alpha, beta=beta, oov_penalty=oov_penalty, token_min_log_prob=token_min_log_prob)
    language_model = as_language_model(lm)
    try:
        results = decode_scores(
            loaded.values.to(target_device), vocab=vocabulary, input_kind=input_kind, time_major=time_major,
            input_lengths=read_lengths(input_lengths) if input_lengths else loaded.input_lengths,
            lm=language_model, hotwords=hotwords, beam_width=beam_width, nbest=nbest, alpha=alpha, beta=beta,
            oov_penalty=oov_penalty, token_min_log_prob=token_min_log_prob, frame_shift=frame_shift,
            words=json_output, blank_penalty=blank_penalty)
    except CtcToolError as exc:
        raise scores_error(exc, loaded.source, input_lengths) from None
    results = results if isinstance(results, tuple) else (results,)
    names = read_keys(keys, len(results)) if keys else [str(n) for n in range(len(results))]
    if json_output:
        print_json({"utterances": [decoding_json(name, result) for name, result in zip(names, results)]})
        return
    for name, result in zip(names, results):
        print(f"{name} {result.text}" if keyed else result.text)
