"""``ctctool align``: forced alignment of a transcript to audio (with a model) or to saved emissions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Literal, Optional

import typer

from ctctool.alignment.options import MIN_CONFIDENCE, check_options
from ctctool.cli._batch import (BATCH_SIZE, BatchFlags, BatchSizeOption, CpusOption, ExecutorOption, GpusOption,
                               JsonSummaryOption, MergeOption, RayAddressOption, ShardOption, WorkersOption)
from ctctool.cli._common import (FRAME_SHIFT, OFFSET, UNIT_INTERVAL, BlankOption, DeviceOption, TokenizerOption,
                                check_files, reports_errors)
from ctctool.cli._common import NON_NEGATIVE, POSITIVE
from ctctool.io.subtitles import LINES_PER_CUE, check_layout

app = typer.Typer()
Format = Literal["json", "ctm", "srt", "vtt", "ass", "textgrid", "audacity", "tsv", "whisperx", "html"]


@app.command("align")
@reports_errors(flags={"frame_offset": "--offset", "emissions": "the emissions", "log_probs": "the emissions"})
def align(
    paths: Annotated[Optional[List[Path]], typer.Argument(help="AUDIO TRANSCRIPT, or TRANSCRIPT alone with --emissions. An .srt or .vtt TRANSCRIPT is re-timed: each cue aligned and written with its own text.", show_default=False)] = None,
    emissions: Annotated[Optional[Path], typer.Option(help="Log-probs (.npy, .npz or .pt), (T, C), instead of audio and a model.")] = None,
    frame_shift: Annotated[Optional[float], typer.Option(parser=FRAME_SHIFT, help="Seconds per frame of --emissions, e.g. 0.02.")] = None,
    offset: Annotated[float, typer.Option(parser=OFFSET, help="Seconds added to every time of --emissions (the model's frame offset).")] = 0.0,
    input_kind: Annotated[Literal["log-probs", "logits", "probs"], typer.Option(help="What --emissions holds.")] = "log-probs",
    key: Annotated[Optional[str], typer.Option(help="Array name inside an .npz or .pt dict.")] = None,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary of --emissions: one token per line or JSON {token: id}. Default: blank + a-z ' ? ! space.")] = None,
    tokenizer: TokenizerOption = None,
    blank: BlankOption = None,
    model: Annotated[str, typer.Option(help="Acoustic model for audio: default, a ctctool checkpoint, or a wav2vec2-style directory.")] = "default",
    manifest: Annotated[Optional[Path], typer.Option(help="JSONL of items (audio_filepath, text, optional id), or an LJSpeech folder, to align into --out-dir.")] = None,
    out_dir: Annotated[Optional[str], typer.Option(help="With --manifest: one output file per item; items already there are skipped. A folder (made if the one above it exists), or a URI pyarrow opens (s3://bucket/aligned).", show_default=False)] = None,
    output_format: Annotated[Format, typer.Option("--format", help="Output format.")] = "json",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here (atomically) instead of stdout.")] = None,
    max_line_width: Annotated[Optional[int], typer.Option(min=1, help="srt, vtt, ass: wrap cue text at this many characters per line and cut longer lines into several cues, between words (e.g. 42, as broadcasters use). Default: one cue per transcript line.")] = None,
    max_lines: Annotated[Optional[int], typer.Option(min=1, help=f"Lines per cue with --max-line-width; {LINES_PER_CUE} when not given.")] = None,
    max_cue_duration: Annotated[Optional[float], typer.Option(parser=POSITIVE, help="srt, vtt, ass: cut cues longer than this many seconds, between words (e.g. 7).")] = None,
    min_gap: Annotated[float, typer.Option(parser=NON_NEGATIVE, help="srt, vtt, ass: seconds between cues; an earlier cue ends sooner (e.g. 0.08).")] = 0.0,
    min_confidence: Annotated[float, typer.Option(parser=UNIT_INTERVAL, help="Lines (and words) whose confidence is below this are flagged: the forced path against the model's own best reading of the same frames (1: exactly what the model hears).")] = MIN_CONFIDENCE,
    split_audio: Annotated[Optional[Path], typer.Option(help="Also cut one 16-bit WAV clip per transcript line (or cue) into this folder, with manifest.jsonl of the lines kept and rejected.jsonl of those flagged or not aligned (NeMo style). With --manifest: every item's clips, one manifest for the run.")] = None,
    pad: Annotated[float, typer.Option(parser=NON_NEGATIVE, help="--split-audio: seconds of audio kept before and after each line, never past the middle of the pause to the next line.")] = 0.1,
    clip_rate: Annotated[Literal["source", "model"], typer.Option(help="--split-audio: sample rate of the clips, the audio file's own or the model's.")] = "source",
    output_manifest: Annotated[bool, typer.Option("--output-manifest", help="With --manifest: also write alignments.jsonl in --out-dir, one NeMo-style line per item aligned with the paths of its outputs and its scores (items aligned before without it are aligned again).")] = False,
    star: Annotated[bool, typer.Option("--star", help="Put a * (absorbs speech the transcript lacks) at the start and end.")] = False,
    star_between_lines: Annotated[bool, typer.Option("--star-between-lines", help="Put a * between every two lines: speech the transcript leaves out between lines is left out of the lines.")] = False,
    ctm_words: Annotated[Literal["normalized", "original"], typer.Option(help="ctm: words without the punctuation at their edges (as sclite references), or as written.")] = "normalized",
    plot: Annotated[Optional[Path], typer.Option(help="Also draw the emissions, aligned tokens and words to this PNG (needs matplotlib).")] = None,
    romanize: Annotated[bool, typer.Option("--romanize", help="Romanise words the model cannot spell (any script: Cyrillic, Greek, Devanagari, Chinese...) with uroman, as the MMS recipe does; outputs keep the words as written. Needs the romanize extra.")] = False,
    language: Annotated[str, typer.Option(help="Language of the transcript's numbers (ISO code, e.g. ru, de, es): spelled with num2words (romanize extra); en by ctctool's own rules.")] = "en",
    revision: Annotated[Optional[str], typer.Option(help="Branch, tag or commit of a hub --model (owner/name).")] = None,
    audio_stream: Annotated[Optional[int], typer.Option(min=0, help="Audio stream of a video or multi-stream file (0: the first); read with FFmpeg (the av extra).")] = None,
    device: DeviceOption = "auto",
    batch_size: BatchSizeOption = BATCH_SIZE,
    shard: ShardOption = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    workers: WorkersOption = 1,
    num_gpus_per_worker: GpusOption = 0.0,
    cpus_per_worker: CpusOption = 1.0,
    json_summary: JsonSummaryOption = False,
    merge_reports: MergeOption = False,
) -> None:
    """Timestamps of every word, character and line of a transcript (Viterbi over the CTC lattice)."""
    from ctctool.cli import _align_inputs as inputs
    from ctctool.errors import CtcToolError

    paths = paths or []
    if emissions is not None and frame_shift is None:
        raise CtcToolError("--emissions needs --frame-shift SECONDS (> 0), the time between frames, e.g. 0.02")
    check_options(min_confidence=min_confidence, frame_shift=frame_shift if emissions else 1.0, frame_offset=offset)
    spelling = inputs.spelling(romanize, language)
    star = {(False, False): False, (True, False): "ends", (False, True): "between-lines"}.get((star, star_between_lines),
                                                                                            "both")
    split = inputs.clip_options(split_audio, pad, clip_rate, emissions)
    if output_manifest and manifest is None:
        raise typer.BadParameter("lists the items of a --manifest run", param_hint="--output-manifest")
    layout = {"max_line_width": max_line_width, "max_lines": max_lines, "max_cue_duration": max_cue_duration,
              "min_gap": min_gap}
    check_layout(**layout)
    if any(layout.values()) and (output_format not in ("srt", "vtt", "ass") or manifest is not None):
        raise typer.BadParameter("apply to --format srt, vtt or ass, without --manifest",
                                 param_hint="--max-line-width/--max-lines/--max-cue-duration/--min-gap")
    flags = BatchFlags(batch_size, shard, executor, ray_address, workers, num_gpus_per_worker, cpus_per_worker,
                       json_summary, merge_reports)
    if manifest is not None:
        if paths or emissions is not None or out_dir is None:
            raise typer.BadParameter("--manifest takes no AUDIO/TRANSCRIPT and needs --out-dir", param_hint="--manifest")
        if output is not None or plot is not None:
            raise typer.BadParameter("with --manifest, outputs go to --out-dir", param_hint="--output/--plot")
        inputs.align_manifest(manifest, out_dir, model, device, output_format, min_confidence, star, audio_stream,
                              revision, spelling, split, flags, ctm_words=ctm_words, listing=output_manifest)
        return
    flags.check_unused()
    if len(paths) != (1 if emissions is not None else 2):
        hint = "with --emissions, give only the TRANSCRIPT" if emissions else "expected AUDIO TRANSCRIPT (or --emissions FILE TRANSCRIPT)"
        raise typer.BadParameter(hint, param_hint="PATHS")
    check_files({"--output": output, "--plot": plot}, [*paths, emissions, vocab, tokenizer, Path(model)],
                stdout_carries="the alignment" if output is None else None)
    inputs.check_split(split, [*paths, output, plot], {"--output": output, "--plot": plot})
    if plot is not None:
        from ctctool.io.plot import plot_file

        plot_file(plot)
    if emissions is not None:
        result, picture = inputs.from_emissions(emissions, paths[0], frame_shift, offset, input_kind, key, vocab,
                                                tokenizer, blank, device, min_confidence, star, spelling)
    else:
        result, picture = inputs.from_audio(paths[0], paths[1], model, device, min_confidence, star, audio_stream,
                                            revision, spelling, split)
    inputs.report(result, min_confidence)
    if plot is not None:
        inputs.draw(plot, result, picture, audio_stream)
    inputs.write(result, output_format, output, paths[0].stem, layout, inputs.subtitle_cues(paths[-1]),
                 audio=None if emissions is not None else paths[0], ctm_words=ctm_words)
