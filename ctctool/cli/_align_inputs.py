"""What ``ctctool align`` does around the library call: read the inputs, report, draw, write, batch."""

from __future__ import annotations

import sys
from pathlib import Path

from ctctool.alignment.timing import AlignedTranscript
from ctctool.errors import CtcToolError



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
    from ctctool.io.vocab_file import load_classes

    loaded = load_scores(emissions, key)
    vocabulary = load_classes(vocab_file, tokenizer, blank=blank, classes=loaded.values.shape[-1])
    text = transcript_text(transcript)
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
               revision, spelling, split=None):
    """The alignment of ``transcript`` to ``audio``, and what ``draw`` needs; ``split``: cut clips too."""
    from ctctool.alignment.pipeline import align_model_output
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import as_model

    text = transcript_text(transcript)
    model = as_model(model_spec, device, revision=revision)
    waveform, rate = clip_source(model, audio, split, audio_stream)
    log_probs, _ = audio_log_probs(model, waveform, rate, audio_stream=audio_stream)
    try:
        result = align_model_output(log_probs, text, model, source=str(audio), min_confidence=min_confidence,
                                    star=star, spelling=spelling)
    except CtcToolError as exc:
        raise CtcToolError(exc if str(exc).startswith(f"{audio}: ") else f"{transcript}: {exc}") from None
    if split is not None:
        cut_clips(split, result, waveform, rate, audio, audio.stem, check_split(split, [audio, transcript]))
        merge_clips(split)
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


def transcript_text(transcript: Path) -> str:
    """The text to align: the file's, or for an .srt or .vtt file one line per cue (its lines joined, markup
    removed), so that each cue is re-timed as a whole."""
    from ctctool.io.subtitles import alignment_text
    from ctctool.io.text import read_text

    cues = subtitle_cues(transcript)
    return read_text(transcript) if cues is None else alignment_text(cues)


def subtitle_cues(transcript: Path):
    """The cues of an .srt or .vtt transcript, which are re-timed; None for any other transcript."""
    from ctctool.io.subtitles import read_subtitle_file

    return read_subtitle_file(transcript)


def write(result: AlignedTranscript, fmt: str, output: Path | None, utterance_id: str, layout: dict | None = None,
          cues=None, audio: Path | None = None, ctm_words: str = "normalized") -> None:
    """``result`` in ``fmt`` to ``output`` or stdout; ``layout``: the subtitle limits, ``cues``: the cues re-timed,
    ``audio``: the audio aligned (the html page plays it)."""
    from ctctool.io.alignment_writers import WriteOptions, render_alignment, write_alignment

    options = WriteOptions(**(layout or {}), cues=cues, audio=None if audio is None else str(audio), ctm_words=ctm_words,
                           destination=None if output is None else str(output))
    if output is None:
        sys.stdout.write(render_alignment(result, fmt, utterance_id, options))
    else:
        write_alignment(output, result, fmt, utterance_id, options)


def align_manifest(manifest: Path, out_dir, model_spec: str, device, fmt: str, min_confidence: float,
                   star, audio_stream: int | None, revision: str | None, spelling, split, flags,
                   ctm_words: str = "normalized", listing: bool = False) -> None:
    """Align every item of a manifest into ``out_dir`` (see ``ctctool.corpus``): in batches, shards or on Ray as
    ``flags`` say; items already written are skipped; failures listed; exit 1 if any. ``split``: cut clips too
    (see ``ctctool.io.clips``); ``listing``: write ``alignments.jsonl`` (see ``ctctool.io.alignment_manifest``)."""
    from ctctool.cli._batch import run_manifest
    from ctctool.corpus.jobs import AlignJob

    job = AlignJob(fmt=fmt, min_confidence=min_confidence, star=star, spelling=spelling, ctm_words=ctm_words,
                   split_audio=split, output_manifest=listing, audio_stream=audio_stream)
    run_manifest(job, manifest, out_dir, model_spec, device, revision, flags)


def clip_options(folder: Path | None, pad: float, rate: str, emissions: Path | None):
    """The ``ClipOptions`` of --split-audio, --pad and --clip-rate; None without --split-audio."""
    if folder is None:
        return None
    if emissions is not None:
        import typer

        raise typer.BadParameter("clips are cut from audio: give AUDIO TRANSCRIPT or --manifest, not --emissions",
                                 param_hint="--split-audio")
    from ctctool.io.clips import ClipOptions

    return ClipOptions(Path(folder), pad, rate)


def check_split(split, inputs: list, outputs: dict | None = None):
    """Before any work: the clips folder of ``split`` can be written and spares ``inputs``, and no output of
    ``outputs`` (flag -> path) lies in it, where clips and their manifests go; the keys of the input files no clip
    may replace (None without ``split``)."""
    if split is None:
        return None
    from ctctool.io.clips import check_clip_folder, input_keys

    check_clip_folder(split.folder, "--split-audio", inputs)
    folder = Path(split.folder).resolve()
    for flag, path in (outputs or {}).items():
        if path is not None and str(path) != "-" and Path(path).resolve().parent == folder:
            raise CtcToolError(f"{flag} {path}: is in the --split-audio folder {split.folder}, where the clips and "
                               "manifest.jsonl go; write it elsewhere")
    return input_keys(inputs)


def clip_source(model, audio: Path, split, stream: int | None):
    """What the model reads: ``audio`` itself (and no rate), or when clips are cut from it, its samples read
    once at the clip rate (and that rate)."""
    if split is None:
        return audio, None
    from ctctool.audio.loading import load_audio
    from ctctool.io.clips import source_rate

    rate = model.sample_rate if split.rate == "model" else source_rate(audio, stream)
    return load_audio(audio, rate, stream=stream), rate


def cut_clips(split, result: AlignedTranscript, waveform, rate: int, audio: Path, item_id: str, inputs):
    from ctctool.io.clips import split_audio

    return split_audio(result.segments, waveform, rate, split.folder, item_id, audio, split.pad, inputs)


def merge_clips(split, first=()) -> None:
    """Rebuild the clips manifests, and say what they hold (on stderr)."""
    from ctctool.io.clips import MANIFEST_FILE, REJECTED_FILE, merge_clip_manifests

    kept, rejected = merge_clip_manifests(split.folder, first)
    print(f"clips: {kept} line(s) in {split.folder / MANIFEST_FILE}, {rejected} in {REJECTED_FILE}", file=sys.stderr)
