"""``ctctool train``: train a DeepSpeech2-like CTC model on an LJSpeech folder or JSONL manifest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ctctool.cli._common import DeviceOption, reports_errors

app = typer.Typer()


@app.command("train")
@reports_errors
def train(
    data: Annotated[Path, typer.Argument(help="LJSpeech folder (metadata.csv id|text|normalized + wavs/) or a JSONL manifest (audio_filepath, text).")],
    out: Annotated[Path, typer.Option(help="Checkpoint file, rewritten atomically after every epoch.")],
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training split.")] = 30,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved in --out exactly where it stopped.")] = False,
    preset: Annotated[Literal["small", "recipe", "tiny"], typer.Option(help="Model size: recipe = Keras recipe (26.6M params), small trains on a CPU.")] = "small",
    features: Annotated[Literal["spectrogram", "logmel"], typer.Option(help="spectrogram: the recipe's (STFT 256/160/384, power 0.5); logmel: 80 log-mel bands.")] = "spectrogram",
    batch_seconds: Annotated[float, typer.Option(help="Padded audio per batch, in seconds (length bucketing).")] = 60.0,
    learning_rate: Annotated[float, typer.Option(help="Peak learning rate of AdamW (warm-up, then cosine decay).")] = 1.5e-3,
    seed: Annotated[int, typer.Option(help="Seed of the train/validation split, batch order and augmentation.")] = 0,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary file; default: blank + a-z ' ? ! space.")] = None,
    augment: Annotated[bool, typer.Option(help="Reverberation, noise and SpecAugment on training batches.")] = True,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop after this many minutes (resumable with --resume).")] = None,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads for torch; default: torch's choice.")] = None,
    device: DeviceOption = "auto",
) -> None:
    """Train a CTC acoustic model: validation loss, greedy WER and CER after every epoch."""
    import torch

    from ctctool.cli._common import resolve_device
    from ctctool.cli._train_progress import TrainProgress
    from ctctool.io.vocab_file import load_vocabulary
    from ctctool.training.corpus import read_corpus
    from ctctool.training.loop import TrainConfig, train as run_training
    from ctctool.vocab import default_vocabulary

    if threads:
        torch.set_num_threads(threads)
    target = resolve_device(device)
    dist = _distributed(target.type == "cuda")
    if dist.world_size > 1 and target.type == "cuda":
        target = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(target)
    vocabulary = load_vocabulary(vocab) if vocab else default_vocabulary()
    corpus = read_corpus(data, vocabulary)
    config = TrainConfig(epochs=epochs, preset=preset, features=features, batch_seconds=batch_seconds,
                         learning_rate=learning_rate, seed=seed, augment=augment, max_minutes=max_minutes)
    with TrainProgress(enabled=dist.rank == 0, rejected=corpus.rejected) as progress:
        run_training(corpus, vocabulary, out, config, device=target, resume=resume, on_event=progress.event, dist=dist)


def _distributed(on_gpus: bool):
    """Join the torchrun job described by the environment (nccl when training on GPUs, else gloo)."""
    import torch
    import torch.distributed

    from ctctool.training.loop import Distributed

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if on_gpus else "gloo")
    return Distributed(rank=torch.distributed.get_rank(), world_size=world)
