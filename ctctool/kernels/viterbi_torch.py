"""CTC Viterbi in vectorised torch (any device, used for CUDA): one step per frame over (B, S).

Same contract as ``viterbi_numba``: moves stay/advance/skip, ties to the smaller
move, the final blank wins a tie with the last label, float64 scores. Backpointers
are packed 4 to a byte on the device, then walked back on the CPU.
"""

from __future__ import annotations

import torch

from ctctool.kernels.viterbi_numba import viterbi_walk_back


def viterbi_batch_torch(log_probs, input_lengths, ext, state_counts, skip_ok):
    """Best paths of a batch.

    Args:
        log_probs: (B, T, C) on any device.
        input_lengths: (B,) int64; ext, skip_ok: (B, S_max); state_counts: (B,) S of each.
    Returns:
        states (B, T) int64 and frame_scores (B, T) float64 (on the CPU, -1 / 0 past each
        input length), and scores (B,) float64.
    """
    device = log_probs.device
    B, T, _ = log_probs.shape
    S = ext.shape[1]
    neg = torch.tensor(float("-inf"), dtype=torch.float64, device=device)
    state_ids = torch.arange(S, device=device)
    outside = state_ids[None, :] >= state_counts[:, None]  # padded states stay unreachable
    skip_ok = skip_ok.clone()
    skip_ok[:, :2] = False
    width = (S + 3) // 4
    packed = torch.zeros((T, B, width), dtype=torch.uint8, device=device)
    shifts = (2 * torch.arange(4, device=device, dtype=torch.uint8))
    pad = width * 4 - S

    def emissions(t):
        return log_probs[:, t, :].gather(1, ext).to(torch.float64)

    delta = torch.full((B, S), float("-inf"), dtype=torch.float64, device=device)
    first = emissions(0)
    delta[:, :2] = first[:, :2]
    delta = delta.masked_fill(outside, float("-inf"))
    for t in range(1, T):
        advance = torch.cat([neg.expand(B, 1), delta[:, :-1]], dim=1)
        skip = torch.cat([neg.expand(B, 2), delta[:, :-2]], dim=1).masked_fill(~skip_ok, float("-inf"))
        best = delta
        move = torch.zeros((B, S), dtype=torch.uint8, device=device)
        take = advance > best
        best = torch.where(take, advance, best)
        move = move.masked_fill(take, 1)
        take = skip > best
        best = torch.where(take, skip, best)
        move = move.masked_fill(take, 2)
        active = (t < input_lengths)[:, None]
        delta = torch.where(active, (best + emissions(t)).masked_fill(outside, float("-inf")), delta)
        move = torch.nn.functional.pad(move * active, (0, pad)).view(B, width, 4)
        packed[t] = (move << shifts).sum(dim=2, dtype=torch.uint8)
    rows = torch.arange(B, device=device)
    last_label = delta[rows, (state_counts - 2).clamp(min=0)]
    last_blank = delta[rows, state_counts - 1]
    final = torch.where((state_counts > 1) & (last_label > last_blank), state_counts - 2, state_counts - 1)
    scores = delta[rows, final]
    states, frame_scores = viterbi_walk_back(
        packed.cpu().numpy(), final.cpu().numpy(), input_lengths.cpu().numpy(),
        ext.cpu().numpy(), log_probs.to(torch.float64).cpu().numpy(),
    )
    return torch.from_numpy(states), torch.from_numpy(frame_scores), scores.cpu()
