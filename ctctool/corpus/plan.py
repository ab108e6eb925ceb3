"""The split of a corpus run: which items go together through the model, and which shard does them.

Every executor and every shard cuts a manifest the same way, so their outputs are the same bytes:

- Items are ordered by ``item_key`` (a SHA-1 of the id) and cut into groups of ``group_size`` items, in that
  order; a group lists its items by their position in the manifest.
- Group g goes to shard ``g mod N``: a partition of the items, even to within one group per shard, that
  depends on the ids alone (not on the order of the lines), never on the executor.
- Within a group, the items' audio is cut into batches by length (``cut_batches``), so each batch is padded
  little and each item always shares its batch with the same others, whichever shard or worker runs it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Sequence

from ctctool.errors import CtcToolError

#: Items per batch unless told.
BATCH_SIZE = 16
#: Batches per group: the items whose audio is sorted by length together (memory: one group's audio).
GROUP_BATCHES = 8


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (from 0, as torchrun's RANK and a SLURM array of 0-(N-1) count)."""

    index: int = 0
    count: int = 1

    def __post_init__(self):
        if not (isinstance(self.count, int) and isinstance(self.index, int) and 0 <= self.index < self.count):
            raise CtcToolError(f"`shard` {self.index}/{self.count}: expected K/N with 0 <= K < N (K counts from 0)")

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def sharded(self) -> bool:
        return self.count > 1

    def within(self, inner: "Shard") -> "Shard":
        """Shard ``inner`` of this shard's part, as one shard of the whole (``index * inner.count + inner.index``
        of ``count * inner.count``): a SLURM array task split again among the processes of torchrun."""
        return Shard(self.index * inner.count + inner.index, self.count * inner.count)


#: The whole manifest, unsplit.
WHOLE = Shard()
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> Shard:
    """``K/N`` -> ``Shard(K, N)``."""
    match = _SHARD.match(str(text))
    if match is None:
        raise CtcToolError(f"`shard` {text!r}: expected K/N, e.g. 3/64 (shard 3 of 64, counting from 0)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise CtcToolError(f"`shard` {text}: expected K/N with 0 <= K < N (K counts from 0, as torchrun's RANK "
                           "does)")
    return Shard(index, count)


def item_key(item_id: str) -> str:
    """The hash that orders items: SHA-1 of the id's UTF-8 bytes, in hex."""
    return hashlib.sha1(item_id.encode("utf-8")).hexdigest()


def group_size(batch_size: int) -> int:
    """Items per group for batches of ``batch_size``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise CtcToolError(f"`batch_size` {batch_size!r}: expected a whole number >= 1")
    return batch_size * GROUP_BATCHES


def plan_groups(ids: Sequence[str], size: int) -> tuple[tuple[int, ...], ...]:
    """Groups of at most ``size`` items: positions in ``ids`` (each group in increasing order), the items taken
    in ``item_key`` order. Every position is in exactly one group."""
    order = sorted(range(len(ids)), key=lambda i: (item_key(ids[i]), ids[i]))
    return tuple(tuple(sorted(order[start:start + size])) for start in range(0, len(order), size))


def shard_groups(groups: Sequence[tuple[int, ...]], shard: Shard) -> tuple[tuple[int, ...], ...]:
    """The groups of ``shard``: every ``shard.count``-th, from ``shard.index``."""
    return tuple(groups[shard.index::shard.count])


def shard_of_group(group: int, count: int) -> int:
    """The shard (of ``count``) that does group ``group``."""
    return group % count


def cut_batches(lengths: Sequence[int], batch_size: int, longest: int) -> tuple[tuple[int, ...], ...]:
    """Batches of positions in ``lengths`` (samples of each item's audio): sorted by length (then position) and
    cut every ``batch_size``; an item longer than ``longest`` (one model window) is a batch of its own."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    alone = tuple((i,) for i in order if lengths[i] > longest)
    short = [i for i in order if lengths[i] <= longest]
    return tuple(tuple(short[s:s + batch_size]) for s in range(0, len(short), batch_size)) + alone
