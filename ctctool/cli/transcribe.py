"""``ctctool transcribe``: text of audio files with an acoustic model (beam search with an LM, or greedy)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ctctool.decoding.options import MAX_BEAM_WIDTH
from ctctool.cli._batch import (BATCH_SIZE, BatchFlags, BatchSizeOption, CpusOption, ExecutorOption, GpusOption,
                               JsonSummaryOption, MergeOption, RayAddressOption, ShardOption, WorkersOption)
from ctctool.cli._common import FINITE, NON_NEGATIVE, DeviceOption, check_hotwords, each_file, reports_errors

app = typer.Typer()


@app.command("transcribe")
@reports_errors
def transcribe(
    audio: Annotated[Optional[List[Path]], typer.Argument(help="Audio files (wav, flac, ogg; any rate, mixed to mono).", show_default=False)] = None,
    model: Annotated[str, typer.Option(help="default, a ctctool checkpoint, or a wav2vec2-style directory.")] = "default",
    keyed: Annotated[bool, typer.Option("--keyed", help="Print '<file stem> <text>' lines, ready for ctctool wer --keyed.")] = False,
    lm: Annotated[str, typer.Option(help="Word n-gram LM: none (greedy decoding), default (the general English 3-gram shipped with the built-in model), auto (that LM with --model default, else none), an ARPA file, or a KenLM binary (needs the kenlm extra).")] = "none",
    beam_width: Annotated[Optional[int], typer.Option(min=1, max=MAX_BEAM_WIDTH, help="CTC prefix beam search width; 1: greedy. Default: 32 with an LM, hotwords or --beta, else greedy.")] = None,
    alpha: Annotated[Optional[float], typer.Option(parser=NON_NEGATIVE, help="LM weight (default 0.5).")] = None,
    beta: Annotated[Optional[float], typer.Option(parser=FINITE, help="Bonus per word (default 1.0 with an LM, else 0).")] = None,
    hotword: Annotated[Optional[List[str]], typer.Option(callback=check_hotwords, help="'word:boost' or 'a phrase:boost' (boost in natural log); repeatable.")] = None,
    blank_penalty: Annotated[Optional[float], typer.Option(parser=FINITE, help="Subtracted from the blank's log-prob on every frame before decoding (above 0: fewer letters lost). Default: the model's own (0.5 for the built-in model, chosen on its dev set; 0 for others).", show_default=False)] = None,
    revision: Annotated[Optional[str], typer.Option(help="Branch, tag or commit of a hub --model (owner/name).")] = None,
    audio_stream: Annotated[Optional[int], typer.Option(min=0, help="Audio stream of a video or multi-stream file (0: the first); read with FFmpeg (the av extra).")] = None,
    device: DeviceOption = "auto",
    manifest: Annotated[Optional[Path], typer.Option(help="JSONL of items (audio_filepath, optional text and id), or an LJSpeech folder, to transcribe into --out-dir: <id>.txt each, and transcripts.jsonl.")] = None,
    out_dir: Annotated[Optional[str], typer.Option(help="With --manifest: one <id>.txt per item; items already there are skipped. A folder (made if the one above it exists), or a URI pyarrow opens (s3://bucket/hyps).", show_default=False)] = None,
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
    """One line of text per audio file (prefix beam search with an LM, or greedy).

    A file that cannot be read is reported on stderr and the others go on; the exit code is then 1.
    """
    from ctctool.corpus.jobs import language_model as cached_language_model
    from ctctool.decoding.hotwords import parse_hotword
    from ctctool.decoding.options import search_settings
    from ctctool.decoding.transcribe import transcribe as transcribe_audio
    from ctctool.lm.loading import as_language_model
    from ctctool.models.loading import DEFAULT_MODEL, as_model

    flags = BatchFlags(batch_size, shard, executor, ray_address, workers, num_gpus_per_worker, cpus_per_worker,
                       json_summary, merge_reports)
    if (manifest is None) == (not audio) or (manifest is not None and (out_dir is None or keyed)):
        raise typer.BadParameter("give AUDIO files, or --manifest with --out-dir (and no --keyed)",
                                 param_hint="AUDIO/--manifest")
    if manifest is None:
        flags.check_unused()
        if out_dir is not None:
            raise typer.BadParameter("goes with --manifest; AUDIO files are transcribed to stdout", param_hint="--out-dir")
    if keyed:
        _check_unique_keys(audio)
    hotwords = dict(parse_hotword(spec) for spec in hotword or [])
    load_lm = cached_language_model if manifest is not None else as_language_model
    language_model = load_lm(lm, default_model=model == DEFAULT_MODEL)
    search_settings(has_lm=language_model is not None, has_hotwords=bool(hotwords), beam_width=beam_width,
                    alpha=alpha, beta=beta)
    if manifest is not None:
        from ctctool.cli._batch import run_manifest
        from ctctool.corpus.jobs import TranscribeJob

        job = TranscribeJob(lm=lm, hotwords=tuple(hotwords.items()), beam_width=beam_width, alpha=alpha, beta=beta,
                            audio_stream=audio_stream, blank_penalty=blank_penalty)
        run_manifest(job, manifest, out_dir, model, device, revision, flags)
        return
    acoustic = as_model(model, device, revision=revision)
    def write(path: Path) -> None:
        result = transcribe_audio(path, acoustic, lm=language_model, hotwords=hotwords, beam_width=beam_width,
                                  alpha=alpha, beta=beta, audio_stream=audio_stream, blank_penalty=blank_penalty)
        print(f"{path.stem} {result.text}" if keyed else result.text, flush=True)

    each_file(audio, write, "could not be transcribed (see above)")


def _check_unique_keys(audio: List[Path]) -> None:
    """--keyed prints each file's stem as its key: two files with one stem would give two lines with one key."""
    from ctctool.cli._common import printable
    from ctctool.errors import CtcToolError

    first = {}
    for path in audio:
        if path.stem in first:
            raise CtcToolError(f"--keyed: {first[path.stem]} and {path} would both print the key {path.stem!r}; "
                               "rename one, or transcribe them separately")
        if printable(path.stem) != path.stem:
            raise CtcToolError(f"--keyed: the key of {path} would hold a control character or bytes that are not "
                               "UTF-8; rename the file")
        if any(ch.isspace() for ch in path.stem):
            raise CtcToolError(f"--keyed: the key of {path} would be {path.stem!r}, which holds a space; a key is one word")
        first[path.stem] = path
