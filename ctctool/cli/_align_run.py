"""The steps behind ``ctctool align``: load inputs, align, report, write; and the manifest batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.alignment.timing import AlignedTranscript, BoundaryCorrection, SpanTimes


def align_emissions(emissions: Path, transcript: Path, frame_shift: float, offset: float, input_kind: str, key,
                    vocab_file, blank: int, device: str, min_confidence: float, star: bool,
                    plot: Path | None = None) -> AlignedTranscript:
    from ctctool.cli._common import resolve_device
    from ctctool.io.arrays import load_scores
    from ctctool.io.text import read_text
    from ctctool.io.vocab_file import load_vocabulary
    from ctctool.loss import log_probs_from
    from ctctool.vocab import default_vocabulary

    vocabulary = load_vocabulary(vocab_file, blank) if vocab_file else default_vocabulary(blank)
    values = load_scores(emissions, key).values
    if values.dim() == 3 and values.shape[0] == 1:
        values = values[0]
    if values.dim() != 2:
        raise CtcToolError(f"{emissions}: expected one utterance of shape (T, C), found {tuple(values.shape)}")
    if values.shape[1] != vocabulary.size:
        raise CtcToolError(f"{emissions}: C={values.shape[1]} classes but the vocabulary has {vocabulary.size} "
                           "tokens; pass --vocab with one token per class")
    log_probs = log_probs_from(values, input_kind, name=str(emissions)).to(resolve_device(device))
    result = _align(log_probs, read_text(transcript), transcript, vocabulary, SpanTimes(frame_shift, offset),
                    f"emissions:{emissions.name}", min_confidence, star, BoundaryCorrection())
    if plot is not None:
        from ctctool.io.plot import write_plot

        write_plot(plot, result, log_probs, vocabulary.tokens, offset)
    return result


def align_audio(audio: Path, transcript, model_spec: str, device: str, min_confidence: float,
                star: bool, model=None, plot: Path | None = None) -> AlignedTranscript:
    from ctctool.cli._common import resolve_device
    from ctctool.io.text import read_text
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import load_model

    text = read_text(transcript) if isinstance(transcript, Path) else transcript
    model = model or load_model(model_spec, resolve_device(device))
    log_probs, _ = audio_log_probs(model, audio)
    calibration = getattr(model, "calibration", {}) or {}
    correction = BoundaryCorrection(calibration.get("word_start", 0.0), calibration.get("word_end", 0.0))
    result = _align(log_probs, text, transcript, model.vocab, SpanTimes(model.frame_shift, model.frame_offset),
                    model.name, min_confidence, star, correction)
    if plot is not None:
        from ctctool.audio.loading import load_audio
        from ctctool.io.plot import write_plot

        write_plot(plot, result, log_probs, model.vocab.tokens, model.frame_offset,
                   load_audio(audio, model.sample_rate), model.sample_rate)
    return result


def _align(log_probs, text: str, where, vocab, times, model_name, min_confidence, star, correction):
    from ctctool.alignment.pipeline import align_text

    try:
        return align_text(log_probs, text, vocab, times, model=model_name, min_confidence=min_confidence,
                          star_ends=star, correction=correction)
    except CtcToolError as exc:
        raise CtcToolError(f"{where}: {exc}") from None


def report(result: AlignedTranscript, min_confidence: float) -> None:
    """Normalisation notes and flagged lines, on stderr."""
    if result.normalization:
        shown = "; ".join(result.normalization[:8]) + ("; ..." if len(result.normalization) > 8 else "")
        print(f"note: normalised {len(result.normalization)} word(s) to the vocabulary: {shown}", file=sys.stderr)
    for segment in result.segments:
        if segment.flagged:
            print(f"warning: line {segment.text[:40]!r} scores {segment.score:.3f} < --min-confidence "
                  f"{min_confidence}: it may not match the audio", file=sys.stderr)


def write(result: AlignedTranscript, fmt: str, output: Path | None, utterance_id: str) -> None:
    from ctctool.io.alignment_writers import render_alignment, write_alignment

    if output is None:
        sys.stdout.write(render_alignment(result, fmt, utterance_id))
    else:
        write_alignment(output, result, fmt, utterance_id)


EXTENSIONS = {"json": "json", "ctm": "ctm", "srt": "srt", "vtt": "vtt", "textgrid": "TextGrid",
              "audacity": "txt", "tsv": "tsv"}


def align_manifest(manifest: Path, out_dir: Path, model_spec: str, device: str, fmt: str, min_confidence: float,
                   star: bool) -> None:
    """Align every item of a JSONL manifest; skip items already written; list failures; exit 1 if any."""
    from rich.progress import Progress

    from ctctool.cli._common import resolve_device
    from ctctool.io.atomic import atomic_open
    from ctctool.io.manifest import read_manifest
    from ctctool.models.loading import load_model

    if not out_dir.is_dir():
        raise CtcToolError(f"{out_dir}: no such folder; create it first")
    items = read_manifest(manifest)
    model = load_model(model_spec, resolve_device(device))
    failures, done, skipped = [], 0, 0
    with Progress(transient=True, console=None) as progress:
        task = progress.add_task("aligning", total=len(items))
        for item in items:
            target = out_dir / f"{item.id}.{EXTENSIONS[fmt]}"
            if target.exists():
                skipped += 1
            else:
                try:
                    result = align_audio(item.audio, item.text, model_spec, device, min_confidence, star, model=model)
                    write(result, fmt, target, item.id)
                    done += 1
                except CtcToolError as exc:
                    failures.append({"id": item.id, "where": item.where, "error": str(exc)})
            progress.advance(task)
    report_file = out_dir / "failures.jsonl"
    if failures:
        with atomic_open(report_file, "w") as handle:
            handle.writelines(json.dumps(f, ensure_ascii=False) + "\n" for f in failures)
    elif report_file.exists():
        report_file.unlink()
    print(f"aligned {done}, skipped {skipped} already done, failed {len(failures)} of {len(items)} items",
          file=sys.stderr)
    for failure in failures[:10]:
        print(f"failed: {failure['id']}: {failure['error']}", file=sys.stderr)
    if failures:
        raise CtcToolError(f"{len(failures)} item(s) failed, listed in {report_file}; fix them and run again "
                           "(items already aligned are skipped)")
