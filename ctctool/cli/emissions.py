"""``ctctool emissions``: log-probs of audio files, for ``loss``, ``align`` and ``decode``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ctctool.cli._batch import (BATCH_SIZE, BatchFlags, BatchSizeOption, CpusOption, ExecutorOption, GpusOption,
                               JsonSummaryOption, MergeOption, RayAddressOption, ShardOption, WorkersOption)
from ctctool.cli._common import DeviceOption, check_files, each_file, reports_errors

app = typer.Typer()


@app.command("emissions")
@reports_errors
def emissions(
    audio: Annotated[Optional[List[Path]], typer.Argument(help="Audio files (wav, flac, ogg; any rate, mixed to mono).", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output .npy (T, C) float32 log-probs, or .npz with metadata; one audio file only.")] = None,
    out_dir: Annotated[Optional[str], typer.Option(help="Folder (made if the one above it exists) for <audio stem>.npy of each file (<id>.npy of each item with --manifest, where it may be a URI pyarrow opens, s3://bucket/emissions).", show_default=False)] = None,
    model: Annotated[str, typer.Option(help="default, a ctctool checkpoint, or a wav2vec2-style directory.")] = "default",
    revision: Annotated[Optional[str], typer.Option(help="Branch, tag or commit of a hub --model (owner/name).")] = None,
    audio_stream: Annotated[Optional[int], typer.Option(min=0, help="Audio stream of a video or multi-stream file (0: the first); read with FFmpeg (the av extra).")] = None,
    device: DeviceOption = "auto",
    manifest: Annotated[Optional[Path], typer.Option(help="JSONL of items (audio_filepath, optional text and id), or an LJSpeech folder: <id>.npy of each into --out-dir, and emissions.jsonl.")] = None,
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
    """Log-probs (T, C) of each audio file; the frame shift and vocabulary size go to stderr."""
    from ctctool.io.emissions import save_emissions
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import as_model

    flags = BatchFlags(batch_size, shard, executor, ray_address, workers, num_gpus_per_worker, cpus_per_worker,
                       json_summary, merge_reports)
    if manifest is not None:
        if audio or output is not None or out_dir is None:
            raise typer.BadParameter("--manifest takes no AUDIO nor --output, and needs --out-dir",
                                     param_hint="--manifest")
        from ctctool.cli._batch import run_manifest
        from ctctool.corpus.jobs import EmissionsJob

        run_manifest(EmissionsJob(audio_stream=audio_stream), manifest, out_dir, model, device, revision, flags)
        return
    flags.check_unused()
    if not audio:
        raise typer.BadParameter("give AUDIO files, or --manifest", param_hint="AUDIO")
    if (output is None) == (out_dir is None):
        raise typer.BadParameter("give exactly one of --output (one file) or --out-dir", param_hint="--output")
    if output is not None and len(audio) != 1:
        raise typer.BadParameter("--output takes one audio file; use --out-dir for several", param_hint="--output")
    targets = [output] if output is not None else _out_dir_targets(Path(out_dir), audio)
    labels = ["--output"] if output is not None else [f"--out-dir file of {path}" for path in audio]
    check_files(dict(zip(labels, targets)), [*audio, Path(model)])
    acoustic = as_model(model, device, revision=revision)
    target_of = dict(zip(audio, targets))

    def write(path: Path) -> None:
        log_probs, _ = audio_log_probs(acoustic, path, audio_stream=audio_stream)
        frames, classes = save_emissions(target_of[path], log_probs, acoustic)
        print(f"{path} -> {target_of[path]}: {frames} frames x {classes} classes, frame shift "
              f"{acoustic.frame_shift} s (pass --frame-shift {acoustic.frame_shift} to align)", file=sys.stderr)

    each_file(audio, write, "failed (see above); the others were written")


def _out_dir_targets(out_dir: Path, audio: list[Path]) -> list[Path]:
    """``out_dir/<stem>.npy`` of each audio file; two files with one stem would write one output twice."""
    from ctctool.errors import CtcToolError
    from ctctool.io.paths import check_output_folder

    check_output_folder(out_dir, "--out-dir")
    first = {}
    for path in audio:
        if path.stem in first:
            raise CtcToolError(f"--out-dir {out_dir}: {first[path.stem]} and {path} would both write {path.stem}.npy; "
                               "rename one, or run them separately with --output")
        first[path.stem] = path
    return [out_dir / f"{path.stem}.npy" for path in audio]
