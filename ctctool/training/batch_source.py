"""Training batches as a map-style dataset, so that loader processes can read and augment them.

Each batch's augmentation draws from its own generator, seeded by (seed, rank, epoch, batch index); so a
batch is the same whether it was made in this process or in any loader process, and a resumed run makes
the batches an uninterrupted run would have made.
"""

from __future__ import annotations

import torch

from ctctool.audio.loading import load_audio
from ctctool.errors import CtcToolError
from ctctool.models.features import FeatureConfig, compute_features
from ctctool.training.batches import add_noise, add_reverb, perturb_speed, spec_augment, telephone_band
from ctctool.training.corpus import Utterance


def batch_generator(seed: int, rank: int, epoch: int, index: int) -> torch.Generator:
    """The generator of batch ``index`` of ``epoch`` on ``rank``: distinct for every combination."""
    return torch.Generator().manual_seed(((seed * 1009 + rank) * 100_003 + epoch) * 10_000_019 + index)


def augmented_waveform(utterance: Utterance, sample_rate: int, rng: torch.Generator) -> torch.Tensor:
    """The (samples,) audio of ``utterance``, sped up or slowed down, band-limited, reverberated and noised,
    each with its own chance."""
    wave = load_audio(utterance.audio, sample_rate)
    if float(torch.rand(1, generator=rng)) < 0.5:
        wave = perturb_speed(wave, sample_rate, rng)
    if float(torch.rand(1, generator=rng)) < 0.1:
        wave = telephone_band(wave, sample_rate)
    if float(torch.rand(1, generator=rng)) < 0.3:
        wave = add_reverb(wave, sample_rate, rng)
    if float(torch.rand(1, generator=rng)) < 0.3:
        wave = add_noise(wave, 10 + 20 * float(torch.rand(1, generator=rng)), rng)
    return wave


VTL_FACTORS = (0.9, 1.1)  # the range vocal-tract-length factors are drawn from (uniform)
# the range pitch factors are drawn from (uniform in log frequency): upwards more than down (median 1.13), as
# the training voices are mostly low, men's voices
PITCH_FACTORS = (0.8, 1.6)


def utterance_features(utterance: Utterance, features: FeatureConfig, device: torch.device | str,
                       rng: torch.Generator | None, vtlp: float = 0.0, pitch: float = 0.0) -> torch.Tensor:
    """Features (T, F) of ``utterance`` on ``device``; with ``rng``, augmented (waveform augmentation; then,
    with chance ``vtlp``, a vocal-tract-length warp by a factor drawn from ``VTL_FACTORS``; with chance
    ``pitch``, a pitch shift that keeps the formants, by a factor drawn from ``PITCH_FACTORS``; then
    SpecAugment), else as recorded. The factors are drawn in that order, and the pitch shift is applied
    before the warp. A chance of 0 draws nothing for it, so runs without it are unchanged."""
    if rng is None:
        return compute_features(load_audio(utterance.audio, features.sample_rate).to(device), features)
    wave = augmented_waveform(utterance, features.sample_rate, rng)
    vtl_factor = pitch_factor = 1.0
    if vtlp > 0 and float(torch.rand(1, generator=rng)) < vtlp:
        low, high = VTL_FACTORS
        vtl_factor = low + (high - low) * float(torch.rand(1, generator=rng))
    if pitch > 0 and float(torch.rand(1, generator=rng)) < pitch:
        low, high = PITCH_FACTORS
        pitch_factor = low * (high / low) ** float(torch.rand(1, generator=rng))
    return spec_augment(compute_features(wave.to(device), features, vtl_factor=vtl_factor,
                                         pitch_factor=pitch_factor), rng)


def readable_batch(batch: list[Utterance], features: FeatureConfig, device: torch.device | str,
                   rng: torch.Generator | None, vtlp: float = 0.0, pitch: float = 0.0):
    """Padded ``utterance_features`` of the utterances of ``batch`` whose audio can be read: (features
    (B', T, F) or None, frame counts (B',) or None, the utterances kept, one-line errors of those left out)."""
    kept, feats, failures = [], [], []
    for utterance in batch:
        try:
            feats.append(utterance_features(utterance, features, device, rng, vtlp, pitch))
        except CtcToolError as exc:
            failures.append(str(exc))
            continue
        kept.append(utterance)
    if not kept:
        return None, None, kept, failures
    lengths = torch.tensor([f.shape[0] for f in feats], device=device)
    return torch.nn.utils.rnn.pad_sequence(feats, batch_first=True), lengths, kept, failures


class EpochBatches(torch.utils.data.Dataset):
    """Batch ``i`` of one epoch: (features (B, T, F), frame counts (B,), labels (sum of L,), label counts (B,),
    failures) on the CPU, made from ``utterances`` at the indices ``batches[i]``, augmented when ``augment``
    (with vocal-tract-length perturbation at chance ``vtlp`` and pitch shifts at chance ``pitch``). An
    utterance whose audio cannot be read is left out of its batch and listed in ``failures`` (one-line
    messages), so a loader process never raises for bad input; a batch with none left has ``None`` for its
    four tensors."""

    def __init__(self, utterances: list[Utterance], batches: list[list[int]], features: FeatureConfig,
                 augment: bool, seed: int, rank: int, epoch: int, vtlp: float = 0.0, pitch: float = 0.0):
        self.utterances, self.batches, self.features = utterances, batches, features
        self.augment, self.seed, self.rank, self.epoch = augment, seed, rank, epoch
        self.vtlp, self.pitch = vtlp, pitch

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int):
        rng = batch_generator(self.seed, self.rank, self.epoch, index) if self.augment else None
        x, lengths, kept, failures = readable_batch([self.utterances[i] for i in self.batches[index]],
                                                    self.features, "cpu", rng, self.vtlp, self.pitch)
        if not kept:
            return None, None, None, None, failures
        labels = torch.tensor([label for u in kept for label in u.labels], dtype=torch.long)
        label_counts = torch.tensor([len(u.labels) for u in kept], dtype=torch.long)
        return x, lengths, labels, label_counts, failures


def epoch_loader(batches: EpochBatches, start: int, workers: int, pin_memory: bool):
    """Batches ``start``, ``start + 1``, ... of ``batches``, made by ``workers`` loader processes (0: here),
    in order."""
    return torch.utils.data.DataLoader(batches, batch_size=None, sampler=range(start, len(batches)),
                                       num_workers=workers, pin_memory=pin_memory,
                                       prefetch_factor=4 if workers else None, persistent_workers=False)
