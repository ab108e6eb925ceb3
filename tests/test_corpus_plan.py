"""The split of corpus runs (ctctool.corpus.plan): deterministic, a partition, independent of line order.

The oracle for the order is hashlib itself; partitions are checked by counting every position once."""

import hashlib
import random
import re

import pytest

from ctctool.corpus.plan import (GROUP_BATCHES, WHOLE, Shard, cut_batches, group_size, item_key, parse_shard,
                                 plan_groups, shard_groups, shard_of_group)
from ctctool.errors import CtcToolError

IDS = [f"utt_{n:04d}" for n in range(203)] + ["é", "a b", "7"]


def test_item_key_is_the_sha1_of_the_ids_utf8_bytes():
    assert item_key("é") == hashlib.sha1("é".encode("utf-8")).hexdigest()
    assert item_key("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"  # FIPS 180 test vector


def test_groups_partition_the_items_in_key_order():
    groups = plan_groups(IDS, 16)
    positions = [p for group in groups for p in group]
    assert sorted(positions) == list(range(len(IDS)))  # every item in exactly one group
    assert [len(g) for g in groups] == [16] * (len(IDS) // 16) + [len(IDS) % 16]
    by_key = sorted(IDS, key=lambda i: hashlib.sha1(i.encode()).hexdigest())
    assert [sorted(IDS[p] for p in g) for g in groups] == [sorted(by_key[s:s + 16]) for s in range(0, len(IDS), 16)]
    assert all(list(g) == sorted(g) for g in groups)  # each group lists its items in manifest order


def test_groups_depend_on_the_ids_not_on_the_order_of_the_lines():
    shuffled = IDS[:]
    random.Random(3).shuffle(shuffled)
    as_ids = lambda ids, groups: [{ids[p] for p in g} for g in groups]  # noqa: E731
    assert as_ids(shuffled, plan_groups(shuffled, 8)) == as_ids(IDS, plan_groups(IDS, 8))
    assert plan_groups(IDS, 8) == plan_groups(list(IDS), 8)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 64])
def test_shards_partition_the_groups(count):
    groups = plan_groups(IDS, 4)
    parts = [shard_groups(groups, Shard(k, count)) for k in range(count)]
    seen = [p for part in parts for g in part for p in g]
    assert sorted(seen) == list(range(len(IDS)))
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1  # even, to one group
    for k, part in enumerate(parts):
        assert all(shard_of_group(groups.index(g), count) == k for g in part)


def test_shard_within_a_shard_is_one_shard_of_the_whole():
    outer, inner = 3, 4
    composed = [Shard(a, outer).within(Shard(b, inner)) for a in range(outer) for b in range(inner)]
    assert sorted(s.index for s in composed) == list(range(outer * inner))
    assert {s.count for s in composed} == {outer * inner}
    assert Shard(2, 64).within(Shard(5, 8)) == Shard(21, 512)


def test_group_size_is_eight_batches():
    assert group_size(16) == 16 * GROUP_BATCHES == 128


def test_cut_batches_sorts_by_length_and_sets_long_items_apart():
    lengths = [50, 10, 400, 30, 10, 20, 90]
    # by length, ties by position: 1 (10), 4 (10), 5 (20), 3 (30), 0 (50), 6 (90); 2 (400) > 100 goes alone
    assert cut_batches(lengths, 4, longest=100) == ((1, 4, 5, 3), (0, 6), (2,))
    assert cut_batches(lengths, 1, longest=1000) == ((1,), (4,), (5,), (3,), (0,), (6,), (2,))
    assert cut_batches([], 4, longest=10) == ()


def test_parse_shard():
    assert parse_shard("3/64") == Shard(3, 64) and parse_shard(" 0 / 1 ") == WHOLE
    assert parse_shard("3/64").label == "3/64" and not WHOLE.sharded


def test_error_shard_not_k_of_n():
    with pytest.raises(CtcToolError, match=re.escape("`shard` 'x': expected K/N, e.g. 3/64")):
        parse_shard("x")


def test_error_shard_index_out_of_range():
    with pytest.raises(CtcToolError, match=re.escape("`shard` 64/64: expected K/N with 0 <= K < N (K counts from 0")):
        parse_shard("64/64")
    with pytest.raises(CtcToolError, match=re.escape("`shard` 0/0: expected K/N with 0 <= K < N")):
        parse_shard("0/0")


def test_error_batch_size_below_one():
    with pytest.raises(CtcToolError, match=re.escape("`batch_size` 0: expected a whole number >= 1")):
        group_size(0)
