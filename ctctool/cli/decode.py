"""``ctctool decode``: text from saved log-probs, greedy or by CTC prefix beam search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ctctool.cli._common import DeviceOption, reports_errors
from ctctool.errors import CtcToolError

app = typer.Typer()


@app.command("decode")
@reports_errors
def decode(
    scores: Annotated[Path, typer.Argument(help="Log-probs: .npy, .npz or .pt; (T, C), (T, N, C), or (N, T, C) with --batch-first.")],
    input_kind: Annotated[Literal["log-probs", "logits", "probs"], typer.Option(help="What the scores are.")] = "log-probs",
    batch_first: Annotated[bool, typer.Option("--batch-first", help="3-D scores are (N, T, C) instead of (T, N, C).")] = False,
    key: Annotated[Optional[str], typer.Option(help="Array name inside an .npz or .pt dict.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary file; default: blank + a-z ' ? ! space.")] = None,
    blank: Annotated[int, typer.Option(help="Class id of the blank token.")] = 0,
    input_lengths: Annotated[Optional[Path], typer.Option(help="File of N integers, frames per utterance.")] = None,
    beam_width: Annotated[Optional[int], typer.Option(min=1, help="Prefix beam search width; 1: greedy. Default: 1, or 32 with --lm or --hotword.")] = None,
    nbest: Annotated[int, typer.Option(min=1, help="Distinct hypotheses per utterance (with --json).")] = 1,
    token_min_log_prob: Annotated[float, typer.Option(help="Beam search tries a label on a frame only above this log-prob.")] = -12.0,
    lm: Annotated[Optional[str], typer.Option(help="Word n-gram LM fused in the beam: an ARPA file (.arpa, .arpa.gz; build one with 'ctctool lm'), a KenLM binary (needs the kenlm extra), or 'default' (the default model's).")] = None,
    alpha: Annotated[Optional[float], typer.Option(help="LM weight (default 0.5 with --lm).")] = None,
    beta: Annotated[Optional[float], typer.Option(help="Bonus per word (default 1.0 with --lm, else 0).")] = None,
    oov_penalty: Annotated[float, typer.Option(help="Added (natural log) for each word the LM does not list.")] = -10.0,
    hotword: Annotated[Optional[list[str]], typer.Option(help="'word:boost' or 'a phrase:boost' (boost in natural log); repeatable.")] = None,
    frame_shift: Annotated[Optional[float], typer.Option(help="Seconds per frame: adds times in seconds to --json words.")] = None,
    keyed: Annotated[bool, typer.Option("--keyed", help="Print 'key text' lines (ready for ctctool wer --keyed).")] = False,
    keys: Annotated[Optional[Path], typer.Option(help="Utterance keys, one per line; default: the utterance index.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object: text, scores, n-best and word timestamps.")] = False,
    device: DeviceOption = "auto",
) -> None:
    """Decode each utterance to text: one line per utterance, or JSON."""
    from ctctool.cli._common import print_json, resolve_device
    from ctctool.decoding.beam import Hypothesis, beam_search
    from ctctool.decoding.greedy import greedy_decode
    from ctctool.decoding.words import word_frames
    from ctctool.decoding.hotwords import parse_hotword
    from ctctool.lm.loading import load_language_model
    from ctctool.models.loading import language_model_file
    from ctctool.io.arrays import load_scores
    from ctctool.io.targets import read_lengths
    from ctctool.io.text import read_lines
    from ctctool.io.vocab_file import load_vocabulary
    from ctctool.loss import ctc_loss, log_probs_from
    from ctctool.vocab import default_vocabulary

    vocabulary = load_vocabulary(vocab, blank) if vocab else default_vocabulary(blank)
    loaded = load_scores(scores, key)
    values = loaded.values
    if values.dim() == 3 and batch_first:
        values = values.transpose(0, 1)
    if values.shape[-1] != vocabulary.size:
        raise CtcToolError(f"{loaded.source}: C={values.shape[-1]} classes but the vocabulary has {vocabulary.size} "
                           "tokens; pass --vocab with one token per class")
    log_probs = log_probs_from(values, input_kind, name=loaded.source).to(resolve_device(device))
    batch = log_probs.unsqueeze(0) if log_probs.dim() == 2 else log_probs.transpose(0, 1)  # (N, T, C)
    lengths = read_lengths(input_lengths) if input_lengths else loaded.input_lengths
    lengths = [int(n) for n in lengths] if lengths is not None else [batch.shape[1]] * batch.shape[0]
    if len(lengths) != batch.shape[0] or any(not 1 <= n <= batch.shape[1] for n in lengths):
        raise CtcToolError(f"input lengths: expected {batch.shape[0]} integers in 1..{batch.shape[1]}, found {lengths[:5]}")
    names = read_lines(keys) if keys else [str(n) for n in range(batch.shape[0])]
    if len(names) != batch.shape[0]:
        raise CtcToolError(f"{keys}: {len(names)} keys for {batch.shape[0]} utterances; write one key per line")
    lm_file = language_model_file(lm) if lm else None
    if alpha is not None and not lm_file:
        raise CtcToolError("--alpha weighs a language model: pass --lm too, or leave --alpha out")
    hotwords = dict(parse_hotword(spec) for spec in hotword or [])
    beam_width = beam_width or (32 if lm_file or hotwords else 1)
    if lm_file or hotwords or beam_width > 1 or nbest > 1:
        results = beam_search(batch, beam_width=beam_width, nbest=nbest, blank=vocabulary.blank, vocab=vocabulary,
                              input_lengths=lengths, token_min_log_prob=token_min_log_prob,
                              lm=load_language_model(lm_file) if lm_file else None, alpha=alpha, beta=beta,
                              oov_penalty=oov_penalty,
                              hotwords=hotwords)
    else:
        results = []
        for b, labels in enumerate(greedy_decode(batch, lengths, blank=vocabulary.blank)):
            score = -float(ctc_loss(batch[b, : lengths[b]], labels, input_kind="log-probs", reduction="sum").loss)
            results.append((Hypothesis(tuple(labels), score, score),))
    utterances = []
    for b, (name, hypotheses) in enumerate(zip(names, results)):
        best = hypotheses[0]
        entry = {"key": name, "text": _text(vocabulary, best.labels), "score": best.score,
                 "nbest": [{"text": _text(vocabulary, h.labels), "score": h.score, "acoustic_score": h.acoustic_score,
                            "lm_score": h.lm_score, "hotword_score": h.hotword_score} for h in hypotheses]}
        if json_output:
            entry["words"] = [_word(w, frame_shift) for w in word_frames(batch[b, : lengths[b]], best.labels, vocabulary)]
        utterances.append(entry)
    if json_output:
        print_json({"utterances": utterances})
        return
    for entry in utterances:
        print(f"{entry['key']} {entry['text']}" if keyed else entry["text"])


def _text(vocabulary, labels) -> str:
    return " ".join(vocabulary.decode(labels).split())


def _word(word, frame_shift):
    item = {"word": word.word, "start_frame": word.start, "end_frame": word.end}
    if frame_shift is not None:
        item.update(start=round(word.start * frame_shift, 3), end=round(word.end * frame_shift, 3))
    return item
