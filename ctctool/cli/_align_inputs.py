"""What ``ctctool align`` does around the library call: read the inputs, report, draw, write, batch."""

from __future__ import annotations

import sys
from pathlib import Path

from ctctool.alignment.timing import AlignedTranscript
from ctctool.errors import CtcToolError

EXTENSIONS = {"json": "json", "ctm": "ctm", "srt": "srt", "vtt": "vtt", "textgrid": "TextGrid",
              "audacity": "txt", "tsv": "tsv"}


def spelling(romanize: bool, language: str):
    """The ``Spelling`` of --romanize and --language, checked before any work (uroman and num2words present)."""
    from ctctool.text.normalize import Spelling, check_language

    check_language(language)
    if romanize:
        try:
            import uroman  # noqa: F401
        except ImportError:
            raise CtcToolError("--romanize needs uroman: pip install 'ctctool[romanize]'") from None
    return Spelling(romanize=romanize, language=language)


def from_emissions(emissions: Path, transcript: Path, frame_shift, offset, input_kind, key, vocab_file, tokenizer,
                   blank, device, min_confidence, star, spelling):
    """The alignment of ``transcript`` to saved emissions, and what ``draw`` needs."""
    from ctctool.alignment.pipeline import align_emissions, emission_log_probs
    from ctctool.devices import resolve_device
    from ctctool.io.arrays import load_scores
    from ctctool.io.text import read_text
    from ctctool.io.vocab_file import load_classes

    loaded = load_scores(emissions, key)
    vocabulary = load_classes(vocab_file, tokenizer, blank=blank, classes=loaded.values.shape[-1])
    text = read_text(transcript)
    target_device = resolve_device(device)
    try:
        log_probs = emission_log_probs(loaded.values, vocabulary, input_kind).to(target_device)
    except CtcToolError as exc:
        raise CtcToolError(f"{loaded.source}: {exc}") from None
    try:
        result = align_emissions(log_probs, text, vocab=vocabulary, frame_shift=frame_shift, frame_offset=offset,
                                 min_confidence=min_confidence, star=star, name=f"emissions:{emissions.name}",
                                 spelling=spelling)
    except CtcToolError as exc:
        raise CtcToolError(f"{transcript}: {exc}") from None
    return result, (log_probs, vocabulary.tokens, offset, None, None)


def from_audio(audio: Path, transcript: Path, model_spec: str, device, min_confidence, star, audio_stream,
               revision, spelling):
    """The alignment of ``transcript`` to ``audio``, and what ``draw`` needs."""
    from ctctool.alignment.pipeline import align_model_output
    from ctctool.io.text import read_text
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import as_model

    text = read_text(transcript)
    model = as_model(model_spec, device, revision=revision)
    log_probs, _ = audio_log_probs(model, audio, audio_stream=audio_stream)
    try:
        result = align_model_output(log_probs, text, model, source=str(audio), min_confidence=min_confidence,
                                    star=star, spelling=spelling)
    except CtcToolError as exc:
        raise CtcToolError(exc if str(exc).startswith(f"{audio}: ") else f"{transcript}: {exc}") from None
    return result, (log_probs, model.vocab.tokens, model.frame_offset, audio, model.sample_rate)


def report(result: AlignedTranscript, min_confidence: float) -> None:
    """Normalisation notes and flagged lines, on stderr."""
    if result.normalization:
        shown = "; ".join(result.normalization[:8]) + ("; ..." if len(result.normalization) > 8 else "")
        print(f"note: normalised {len(result.normalization)} word(s) to the vocabulary: {shown}", file=sys.stderr)
    for segment in result.segments:
        if segment.flagged:
            print(f"warning: line {segment.text[:40]!r} scores {segment.score:.3f} < --min-confidence "
                  f"{min_confidence}: it may not match the audio", file=sys.stderr)


def draw(plot: Path, result: AlignedTranscript, picture, audio_stream=None) -> None:
    """The PNG of ``--plot``: emissions and tokens, and the waveform with words for audio input."""
    from ctctool.io.plot import write_plot

    log_probs, tokens, offset, audio, sample_rate = picture
    waveform = None
    if audio is not None:
        from ctctool.audio.loading import load_audio

        waveform = load_audio(audio, sample_rate, stream=audio_stream)
    write_plot(plot, result, log_probs, tokens, offset, waveform, sample_rate)


def write(result: AlignedTranscript, fmt: str, output: Path | None, utterance_id: str) -> None:
    from ctctool.io.alignment_writers import render_alignment, write_alignment

    if output is None:
        sys.stdout.write(render_alignment(result, fmt, utterance_id))
    else:
        write_alignment(output, result, fmt, utterance_id)


def align_manifest(manifest: Path, out_dir: Path, model_spec: str, device, fmt: str, min_confidence: float,
                   star: bool, audio_stream: int | None, revision: str | None, spelling) -> None:
    """Align every item of a manifest into ``out_dir``; skip items already written; list failures; exit 1 if any."""
    from ctctool.alignment.pipeline import align_audio
    from ctctool.cli._batch import run_manifest
    from ctctool.io.alignment_writers import render_alignment
    from ctctool.models.loading import as_model

    def make_work():
        model = as_model(model_spec, device, revision=revision)
        return lambda item: render_alignment(align_audio(item.audio, item.text, model, min_confidence=min_confidence,
                                                         star=star, audio_stream=audio_stream, spelling=spelling),
                                             fmt, item.id)

    run_manifest(manifest, out_dir, EXTENSIONS[fmt], make_work, "aligned")
