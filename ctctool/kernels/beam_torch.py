"""CTC prefix beam search in torch, batched over utterances: the path for log-probs on a GPU.

The same search as ``beam_numba.prefix_beam_search`` with no LM, hotwords or word bonus:
after every frame each utterance keeps its ``K`` best prefixes by ln P(prefix), each
with ln P(ending in blank) and ln P(ending in its last label). All utterances move one
frame per step with whole-batch tensor operations, so a GPU searches a batch at once.

A prefix is identified by a node id: 0 for the empty prefix, ``t * K + slot + 1`` for
the prefix that first entered the beam at frame ``t`` in ``slot``. A new prefix
``p + c`` is the beam entry ``q`` exactly when ``q``'s parent node is ``p``'s node and
``q`` ends in ``c``; such extensions are merged into ``q`` (logaddexp), never kept twice.
The float math runs in float64. Shapes: B utterances, T frames, C classes, K beam width.
"""

from __future__ import annotations

import torch


def prefix_beam_search_torch(
    log_probs: torch.Tensor, lengths: torch.Tensor, blank: int, beam_width: int, token_min_log_prob: float
) -> list[list[tuple[tuple[int, ...], float, float]]]:
    """The final beam of each utterance: (labels, ln P(ending in blank), ln P(ending in a label)), best first.

    Args:
        log_probs: (B, T, C) log-probs on any device.
        lengths: (B,) frames per utterance (1..T), on the same device.
        token_min_log_prob: a label is tried on a frame only if its log-prob there is at least this.
    """
    B, T, C = log_probs.shape
    K, device = beam_width, log_probs.device
    values = log_probs.to(torch.float64)
    minus_inf = torch.tensor(float("-inf"), dtype=torch.float64, device=device)
    pb = torch.full((B, K), float("-inf"), dtype=torch.float64, device=device)
    pb[:, 0] = 0.0
    pnb = torch.full_like(pb, float("-inf"))
    last = torch.full((B, K), -1, dtype=torch.long, device=device)  # last label, -1: empty prefix
    node = torch.full((B, K), -1, dtype=torch.long, device=device)  # -1: unused slot
    node[:, 0] = 0
    parent = torch.full((B, K), -2, dtype=torch.long, device=device)  # parent node; -2: none
    new_parent = torch.full((T, B, K), -1, dtype=torch.long, device=device)  # nodes created at each frame
    new_label = torch.full((T, B, K), -1, dtype=torch.long, device=device)
    classes = torch.arange(C, device=device)
    slots = torch.arange(K, device=device)
    not_blank = classes != blank
    for t in range(T):
        row = values[:, t]  # (B, C)
        total = torch.logaddexp(pb, pnb)
        stay_pb = total + row[:, blank : blank + 1]
        stay_pnb = torch.where(last >= 0, pnb + row.gather(1, last.clamp(min=0)), minus_inf)
        # extensions (B, K, C): a repeated label continues only the paths that end in blank
        repeat = classes[None, None, :] == last[:, :, None]
        extension = torch.where(repeat, pb[:, :, None], total[:, :, None]) + row[:, None, :]
        allowed = (row >= token_min_log_prob) & not_blank
        extension = torch.where(allowed[:, None, :], extension, minus_inf).reshape(B, K * C)
        # entry k is entry j's prefix + last[k]: merge that extension into k
        live = node >= 0
        match = (parent[:, None, :] == node[:, :, None]) & live[:, :, None] & live[:, None, :]  # (B, j, k)
        merged = match.any(1)
        source_of = (match.long() * slots[None, :, None]).sum(1)  # (B, K): the one j that matches k, if any
        index = source_of * C + last.clamp(min=0)  # (B, K) into extension
        stay_pnb = torch.where(merged, torch.logaddexp(stay_pnb, extension.gather(1, index)), stay_pnb)
        extension = _drop(extension, index, merged)
        candidates = torch.cat([torch.logaddexp(stay_pb, stay_pnb), extension], 1)  # (B, K + K C)
        best, chosen = candidates.topk(K, dim=1)
        is_new = chosen >= K
        source = torch.where(is_new, (chosen - K) // C, chosen)
        label = (chosen - K) % C
        created = is_new & (best > float("-inf"))
        next_pb = torch.where(is_new, minus_inf, stay_pb.gather(1, source))
        next_pnb = torch.where(is_new, best, stay_pnb.gather(1, source))
        next_last = torch.where(is_new, label, last.gather(1, source))
        next_parent = torch.where(is_new, torch.where(created, node.gather(1, source), -2), parent.gather(1, source))
        next_node = torch.where(created, t * K + slots + 1, torch.where(is_new, -1, node.gather(1, source)))
        active = (t < lengths)[:, None]
        new_parent[t] = torch.where(active & created, next_parent, -1)
        new_label[t] = torch.where(active & created, next_last, -1)
        pb, pnb = torch.where(active, next_pb, pb), torch.where(active, next_pnb, pnb)
        last, parent = torch.where(active, next_last, last), torch.where(active, next_parent, parent)
        node = torch.where(active, next_node, node)
    return _read_back(node.cpu(), pb.cpu(), pnb.cpu(), new_parent.cpu(), new_label.cpu(), K)


def _drop(extension: torch.Tensor, index: torch.Tensor, merged: torch.Tensor) -> torch.Tensor:
    """``extension`` with the entries at ``index`` set to -inf where ``merged``."""
    B, width = extension.shape
    padded = torch.cat([extension, extension.new_full((B, 1), float("-inf"))], 1)
    padded = padded.scatter(1, torch.where(merged, index, width), float("-inf"))
    return padded[:, :width]


def _read_back(node, pb, pnb, new_parent, new_label, K):
    results = []
    for b in range(node.shape[0]):
        parents, labels = new_parent[:, b].reshape(-1).tolist(), new_label[:, b].reshape(-1).tolist()
        beam = []
        for k in range(K):
            n = int(node[b, k])
            if n < 0:
                continue
            sequence = []
            while n > 0:
                sequence.append(labels[n - 1])
                n = parents[n - 1]
            beam.append((tuple(reversed(sequence)), float(pb[b, k]), float(pnb[b, k])))
        results.append(beam)
    return results
