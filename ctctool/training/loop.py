"""The CTC training loop: Adam(W), warm-up + cosine LR, length bucketing, clipping, checkpoints, resume,
and fine-tuning from another model's weights.

The loop never prints: it reports through ``on_event(name, data)``. Events:
``start`` (sizes), ``step`` (loss, lr, seconds of audio per second), ``epoch``
(validation loss, greedy WER and CER, examples), ``checkpoint`` (path), ``skipped`` (an utterance whose
audio could not be read, left out of training: its one-line error; once per run).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import soundfile
import torch
import torch.nn.functional as F

from ctctool.decoding.greedy import greedy_decode
from ctctool.errors import CtcToolError
from ctctool.metrics import score_corpus
from ctctool.models.checkpoint import checkpoint_payload, load_checkpoint, save_checkpoint
from ctctool.models.ds2 import DeepSpeech2, ModelConfig, model_config
from ctctool.models.features import PRESET_FEATURES, FeatureConfig
from ctctool.training.batch_source import EpochBatches, epoch_loader, readable_batch
from ctctool.training.batches import bucket_batches
from ctctool.training.corpus import Corpus, Utterance
from ctctool.vocab import Vocabulary

Events = Callable[[str, dict], None]


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a training run (saved in the checkpoint's train state)."""

    epochs: int = 30
    preset: str = "small"
    features: str = "spectrogram"
    batch_seconds: float = 60.0  # padded audio per batch
    learning_rate: float = 1.5e-3
    warmup_steps: int = 200
    weight_decay: float = 1e-2
    grad_clip: float = 5.0
    val_fraction: float = 0.1
    seed: int = 0
    augment: bool = True
    vtlp: float = 0.0  # chance per training utterance of a vocal-tract-length warp (with augment)
    pitch: float = 0.0  # chance per training utterance of a pitch shift that keeps the formants (with augment)
    checkpoint_minutes: float = 10.0  # also save mid-epoch, this often
    max_minutes: float | None = None  # stop (resumably) after this long
    init_from: str | None = None  # the checkpoint whose weights the run started from (fine-tuning)
    workers: int = 0  # loader processes that read and augment batches (0: the training process itself)

    def __post_init__(self) -> None:
        for name in ("vtlp", "pitch"):
            chance = getattr(self, name)
            if not 0.0 <= chance <= 1.0:
                raise CtcToolError(f"{name} {chance}: expected a chance from 0 to 1")
            if chance > 0 and not self.augment:
                raise CtcToolError(f"{name} {chance} is an augmentation, and augment is off: turn augment on or "
                                   f"set {name} to 0")


BATCH_SETTINGS = ("seed", "augment", "vtlp", "pitch")  # what a resumed run must keep to make the same batches


def _check_same_batches(out: Path, saved: dict, config: TrainConfig) -> None:
    """A resumed run makes the batches the interrupted one would have made only with its seed and
    augmentation settings: a one-line error naming the first that differs. Checkpoints from before an
    option existed were made without it (its default)."""
    for name in BATCH_SETTINGS:
        before = saved.get(name, getattr(TrainConfig(), name))
        if before != getattr(config, name):
            raise CtcToolError(f"{out}: that run was trained with {name} {before} and this one asks for "
                               f"{getattr(config, name)}; resume with the same `{name}`, or start a new run")


@dataclass(frozen=True)
class StartingPoint:
    """Weights to fine-tune from: their vocabulary, feature preset and network size come with them.

    ``model_state`` maps parameter names to float32 tensors on the CPU.
    """

    source: str
    vocab: Vocabulary
    features: str  # a PRESET_FEATURES name
    model_config: ModelConfig
    model_state: dict


def starting_point(path: str | Path, name: str | None = None) -> StartingPoint:
    """Read the checkpoint at ``path`` (training or inference-only) as a starting point for a new run."""
    payload = load_checkpoint(path)
    features = FeatureConfig(**payload["feature_config"])
    names = [key for key, preset in PRESET_FEATURES.items() if preset == features]
    if not names:
        raise CtcToolError(f"{path}: its features match none of the presets ({', '.join(PRESET_FEATURES)}), "
                           "so it cannot be fine-tuned with ctctool train")
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload["model_state"].items()}
    return StartingPoint(name or str(path), Vocabulary(tuple(payload["vocab"]), blank=int(payload["blank"])),
                         names[0], ModelConfig.from_dict(payload["model_config"]), state)


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job (rank 0 of 1 when alone)."""

    rank: int = 0
    world_size: int = 1


def split(corpus: Corpus, fraction: float, seed: int) -> tuple[list[Utterance], list[Utterance]]:
    """A seeded train/validation split (at least one validation utterance when there are two)."""
    order = torch.randperm(len(corpus.utterances), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = min(len(order) - 1, max(1, round(fraction * len(order)))) if len(order) > 1 else 0
    items = corpus.utterances
    return [items[i] for i in order[n_val:]], [items[i] for i in order[:n_val]]


def durations(utterances: list[Utterance]) -> list[float]:
    """Seconds of audio of each utterance (from the file headers)."""
    seconds = []
    for utterance in utterances:
        try:
            seconds.append(soundfile.info(str(utterance.audio)).duration)
        except (RuntimeError, soundfile.LibsndfileError) as exc:
            raise CtcToolError(f"{utterance.audio}: cannot read audio ({getattr(exc, 'error_string', exc)})") from exc
    return seconds


def train(corpus: Corpus, vocab: Vocabulary, out: Path, config: TrainConfig, *, device: torch.device,
          resume: bool = False, init: StartingPoint | None = None, on_event: Events = lambda name, data: None,
          dist: Distributed = Distributed(), dev: Corpus | None = None) -> dict:
    """Train (or, with ``resume``, continue training) and write checkpoints to ``out``; returns the history.

    ``init`` starts a new run from those weights (a fresh optimizer and schedule); its vocabulary and
    features must be this run's, and its network size replaces ``config.preset``. ``dev`` is the set
    validated after every epoch; without it, ``config.val_fraction`` of ``corpus`` is held out for that.
    """
    torch.manual_seed(config.seed)
    features = PRESET_FEATURES.get(config.features)
    if features is None:
        raise CtcToolError(f"features {config.features!r}: expected one of {', '.join(PRESET_FEATURES)}")
    state = None
    if resume and init is not None:
        raise CtcToolError(f"{out}: `resume=True` continues a run and `init` starts a new one; pass only one of them")
    if resume:
        state = _resume_state(out, vocab, features)
        _check_same_batches(out, state["train_state"]["config"], config)
        model_cfg = ModelConfig.from_dict(state["model_config"])
    elif init is not None:
        _check_starting_point(init, vocab, config.features)
        model_cfg = init.model_config
        config = replace(config, init_from=init.source)
    else:
        model_cfg = model_config(config.preset, features.bins, vocab.size)
    model = DeepSpeech2(model_cfg).to(device)
    if init is not None:
        model.load_state_dict(init.model_state)
    if dev is not None:
        train_set, val_set = list(corpus.utterances), list(dev.utterances)
    else:
        train_set, val_set = split(corpus, config.val_fraction, config.seed)
    train_durations = durations(train_set)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    # Every rank takes the same number of batches (DDP steps in lockstep); the remainder is left out.
    batches_per_epoch = max(1, len(bucket_batches(train_durations, config.batch_seconds, torch.Generator())) // dist.world_size)
    total_steps = max(1, config.epochs * batches_per_epoch)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, config.warmup_steps, total_steps))
    history: list[dict] = []
    epoch, position = 0, 0
    if state is not None:
        model.load_state_dict(state["model_state"])
        train_state = state["train_state"]
        optimizer.load_state_dict(train_state["optimizer"])
        schedule.load_state_dict(train_state["schedule"])
        epoch, position = int(train_state["epoch"]), int(train_state["position"])
        history = list(state["history"])
        # provenance survives resumes; loader processes are this run's choice
        config = replace(config, init_from=train_state["config"].get("init_from"), workers=config.workers)
    wrapped = model
    if dist.world_size > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    on_event("start", {"train": len(train_set), "validation": len(val_set), "rejected": len(corpus.rejected),
                       "parameters": sum(p.numel() for p in model.parameters()), "epochs": config.epochs,
                       "batches_per_epoch": batches_per_epoch, "start_epoch": epoch, "start_position": position,
                       "train_hours": sum(train_durations) / 3600})
    started = time.monotonic()
    last_save = started
    skipped: set[str] = set()  # unreadable utterances, each reported once

    def save(epoch_: int, position_: int) -> None:
        if dist.rank != 0:
            return
        train_state = {"optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                       "epoch": epoch_, "position": position_,
                       "config": asdict(config)}
        save_checkpoint(out, checkpoint_payload(model, features, vocab, history=history, train_state=train_state))
        on_event("checkpoint", {"path": str(out), "epoch": epoch_, "position": position_})

    while epoch < config.epochs:
        order = bucket_batches(train_durations, config.batch_seconds, torch.Generator().manual_seed(config.seed * 1000 + epoch))
        mine = order[dist.rank :: dist.world_size][:batches_per_epoch]
        model.train()
        made = EpochBatches(train_set, mine, features, config.augment, config.seed, dist.rank, epoch,
                            config.vtlp, config.pitch)
        t0 = time.monotonic()
        for index, (*batch, failures) in enumerate(epoch_loader(made, position, config.workers, device.type == "cuda"),
                                                   position):
            for failure in failures:
                if failure not in skipped:
                    skipped.add(failure)
                    on_event("skipped", {"error": failure})
            if batch[0] is None:  # every utterance of the batch unreadable: no step
                continue
            loss = _train_step(wrapped, optimizer, schedule, batch, device, config)
            seconds = sum(train_durations[i] for i in mine[index])
            on_event("step", {"epoch": epoch, "batch": index + 1, "batches": len(mine), "loss": loss,
                              "lr": schedule.get_last_lr()[0], "audio_per_second": seconds / (time.monotonic() - t0)})
            now = time.monotonic()
            if config.max_minutes is not None and now - started > 60 * config.max_minutes:
                save(epoch, index + 1)
                on_event("stopped", {"epoch": epoch, "position": index + 1})
                return {"history": history, "finished": False}
            if now - last_save > 60 * config.checkpoint_minutes:
                save(epoch, index + 1)
                last_save = now
            t0 = time.monotonic()
        report = evaluate(model, val_set, features, vocab, device)
        for failure in report.pop("skipped"):
            if failure not in skipped:
                skipped.add(failure)
                on_event("skipped", {"error": failure})
        history.append({"epoch": epoch + 1, **{k: v for k, v in report.items() if k != "examples"}})
        on_event("epoch", {"epoch": epoch + 1, **report})
        epoch, position = epoch + 1, 0
        save(epoch, 0)
        last_save = time.monotonic()
    return {"history": history, "finished": True}


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))


def _train_step(model, optimizer, schedule, batch, device, config) -> float:
    x, lengths, targets, target_lengths = (t.to(device, non_blocking=True) for t in batch)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        log_probs, out_lengths = model(x, lengths)
    loss = F.ctc_loss(log_probs.float().transpose(0, 1), targets, out_lengths, target_lengths, zero_infinity=True)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    schedule.step()
    return float(loss.detach())


@torch.no_grad()
def evaluate(model: DeepSpeech2, utterances: list[Utterance], features: FeatureConfig, vocab: Vocabulary,
             device, batch_size: int = 16) -> dict:
    """Validation loss, greedy WER and CER, three target/prediction pairs, and the one-line errors of
    utterances whose audio could not be read (``skipped``; left out of the figures)."""
    model.eval()
    losses, refs, hyps, skipped = [], [], [], []
    for start in range(0, len(utterances), batch_size):
        x, lengths, batch, failures = readable_batch(utterances[start : start + batch_size], features, device, None)
        skipped += failures
        if not batch:
            continue
        log_probs, out_lengths = model(x, lengths)
        targets = torch.cat([torch.tensor(u.labels) for u in batch]).to(device)
        target_lengths = torch.tensor([len(u.labels) for u in batch], device=device)
        losses.append(float(F.ctc_loss(log_probs.float().transpose(0, 1), targets, out_lengths, target_lengths,
                                       zero_infinity=True, reduction="sum")))
        hyps += [vocab.decode(ids) for ids in greedy_decode(log_probs, out_lengths, blank=vocab.blank)]
        refs += [u.text for u in batch]
    model.train()
    if not refs:
        return {"val_loss": float("nan"), "wer": float("nan"), "cer": float("nan"), "examples": [], "skipped": skipped}
    report = score_corpus(refs, hyps)
    return {"val_loss": sum(losses) / len(refs), "wer": report.wer, "cer": report.cer,
            "examples": list(zip(refs[:3], hyps[:3])), "skipped": skipped}


def _check_starting_point(init: StartingPoint, vocab: Vocabulary, features: str) -> None:
    if list(init.vocab.tokens) != list(vocab.tokens) or init.vocab.blank != vocab.blank:
        raise CtcToolError(f"{init.source}: its vocabulary ({init.vocab.size} tokens) differs from this run's "
                           f"({vocab.size}); fine-tune with its vocabulary (leave out `vocab`)")
    if init.features != features:
        raise CtcToolError(f"{init.source}: it was trained on {init.features} features, not {features}; "
                           f"pass `features={init.features}` (or leave `features` out)")


def _resume_state(out: Path, vocab: Vocabulary, features: FeatureConfig) -> dict:
    if not out.exists():
        raise CtcToolError(f"{out}: `resume=True` needs the checkpoint of an earlier run, and there is none")
    state = load_checkpoint(out)
    if "train_state" not in state:
        raise CtcToolError(f"{out}: an inference-only checkpoint cannot be resumed")
    if list(state["vocab"]) != list(vocab.tokens) or int(state["blank"]) != vocab.blank:
        raise CtcToolError(f"{out}: its vocabulary ({len(state['vocab'])} tokens) differs from this run's "
                           f"({vocab.size}); resume with the same `vocab`")
    if FeatureConfig(**state["feature_config"]) != features:
        raise CtcToolError(f"{out}: its features differ from `features` of this run; resume with the same settings")
    return state
