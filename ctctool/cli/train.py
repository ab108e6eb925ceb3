"""``ctctool train``: train a DeepSpeech2-like CTC model on an LJSpeech folder or JSONL manifest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from ctctool.cli._common import POSITIVE, DeviceOption, Number, check_files, reports_errors
from ctctool.errors import CtcToolError

app = typer.Typer()


@app.command("train")
@reports_errors
def train(
    data: Annotated[Path, typer.Argument(help="LJSpeech folder (metadata.csv id|text|normalized + wavs/) or a JSONL manifest (audio_filepath, text).")],
    out: Annotated[Path, typer.Option(help="Checkpoint file, rewritten atomically after every epoch.")],
    dev: Annotated[Optional[Path], typer.Option(help="Validate on this set (a folder or manifest like DATA) after every epoch and train on all of DATA; default: hold out a tenth of DATA.")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training split.")] = 30,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved in --out exactly where it stopped.")] = False,
    init: Annotated[Optional[str], typer.Option(help="Fine-tune: start from this model's weights (default, or a ctctool checkpoint) with a fresh optimizer and schedule; its size, features and vocabulary are kept.")] = None,
    preset: Annotated[Optional[Literal["small", "medium", "recipe", "tiny"]], typer.Option(help="Model size: recipe = Keras recipe (26.6M params), small (0.75M) trains on a CPU, medium (2.1M) on a GPU or in a long CPU run. Default: small; --init and --resume keep their model's size.")] = None,
    features: Annotated[Optional[Literal["spectrogram", "logmel"]], typer.Option(help="spectrogram: the recipe's (STFT 256/160/384, power 0.5); logmel: 80 log-mel bands. Default: spectrogram, or that of --init's model or of the run --resume continues.")] = None,
    batch_seconds: Annotated[float, typer.Option(parser=POSITIVE, help="Padded audio per batch, in seconds (length bucketing).")] = 60.0,
    learning_rate: Annotated[float, typer.Option(parser=Number(0.0, 1.0, low_open=True), help="Peak learning rate of AdamW (warm-up, then cosine decay).")] = 1.5e-3,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Seed of the train/validation split, batch order and augmentation.")] = 0,
    vocab: Annotated[Optional[Path], typer.Option(help="Vocabulary file; default: blank + a-z ' ? ! space.")] = None,
    augment: Annotated[bool, typer.Option(help="Speed perturbation, telephone band, reverberation, noise and SpecAugment on training batches.")] = True,
    vtlp: Annotated[float, typer.Option(parser=Number(0.0, 1.0), help="With --augment: the chance per utterance of vocal-tract-length perturbation (the spectrum's frequency axis stretched by a factor drawn from 0.9-1.1: formants and pitch move, the tempo stays). 0: off.")] = 0.0,
    pitch: Annotated[float, typer.Option(parser=Number(0.0, 1.0), help="With --augment: the chance per utterance of a pitch shift by a factor drawn from 0.8-1.6, log-uniform (the harmonics move; the spectral envelope, so the formants, and the tempo stay; it needs --features logmel's 25 ms window to resolve the harmonics). 0: off.")] = 0.0,
    max_minutes: Annotated[Optional[float], typer.Option(parser=POSITIVE, help="Stop after this many minutes (resumable with --resume).")] = None,
    workers: Annotated[int, typer.Option(min=0, max=256, help="Loader processes that read and augment batches while the model trains (0: none). The batches are the same for any number.")] = 0,
    threads: Annotated[Optional[int], typer.Option(min=1, max=1024, help="CPU threads for torch; default: torch's choice.")] = None,
    device: DeviceOption = "auto",
) -> None:
    """Train a CTC acoustic model: validation loss, greedy WER and CER after every epoch."""
    import torch

    from ctctool.devices import resolve_device
    from ctctool.cli._train_progress import TrainProgress
    from ctctool.io.vocab_file import load_vocabulary
    from ctctool.training.corpus import read_corpus
    from ctctool.training.loop import TrainConfig, starting_point, train as run_training
    from ctctool.vocab import default_vocabulary

    for flag, chance in (("--vtlp", vtlp), ("--pitch", pitch)):
        if chance > 0 and not augment:
            raise CtcToolError(f"{flag} {chance} is an augmentation and --no-augment turns augmentation off; "
                               "leave out one of them")
    check_files({"--out": out}, [data, data / "metadata.csv", dev, vocab, Path(init) if init else None])
    if threads:
        torch.set_num_threads(threads)
    target = resolve_device(device)
    dist = _distributed(target.type == "cuda")
    if dist.world_size > 1 and target.type == "cuda":
        target = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(target)
    base = _starting_point(init) if init is not None else None
    if base is not None and preset is not None:
        raise CtcToolError(f"--preset {preset}: --init {init} brings its own network size; leave --preset out")
    vocabulary = load_vocabulary(vocab) if vocab else base.vocab if base else default_vocabulary()
    corpus = read_corpus(data, vocabulary)
    dev_corpus = read_corpus(dev, vocabulary) if dev is not None else None
    check_files({"--out": out}, [u.audio for u in corpus.utterances + (dev_corpus.utterances if dev_corpus else ())])
    if features is None:  # --init's features, or those of the run --resume continues, or the recipe's
        saved = base or (starting_point(out) if resume and out.is_file() else None)
        features = saved.features if saved else "spectrogram"
    config = TrainConfig(epochs=epochs, preset=preset or "small", features=features, batch_seconds=batch_seconds,
                         learning_rate=learning_rate, seed=seed, augment=augment, vtlp=vtlp, pitch=pitch,
                         max_minutes=max_minutes, workers=workers)
    with TrainProgress(enabled=dist.rank == 0, corpus=corpus) as progress:
        run_training(corpus, vocabulary, out, config, device=target, resume=resume, init=base,
                     on_event=progress.event, dist=dist, dev=dev_corpus)


def _starting_point(spec: str):
    """``--init SPEC`` -> the weights to fine-tune: ``default`` (the bundled model) or a checkpoint file."""
    from ctctool.models.loading import DEFAULT_MODEL, default_model_file
    from ctctool.training.loop import starting_point

    if spec == DEFAULT_MODEL:
        return starting_point(default_model_file("pass `init` with a checkpoint file"), name=DEFAULT_MODEL)
    return starting_point(spec)


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
