"""A bidirectional multi-layer GRU for inference on the CPU (numba): torch's ``nn.GRU`` equations, faster for
one or two sequences at a time.

torch's CPU GRU spends most of a small model's time in per-step overhead at batch size 1 (a few small ops
per frame and direction); this kernel runs the recurrence of both directions in one compiled loop. For
larger batches torch's batched matrix products win, so the caller picks (``ctctool.models.ds2``).

Shapes: B sequences, T frames, I input features, H hidden units. The gates follow torch (reset r, update
z, new n): r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h. The input products of every frame are
one torch matrix product per layer; frames past a sequence's length are zero in the output, as
``pad_packed_sequence`` leaves them. Results equal torch's to float32 rounding (about 1e-6).
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit


@njit(cache=True, fastmath=True, nogil=True)
def _scan(inputs, lengths, w_hh, b_hh, out):
    """Both directions of one layer. ``inputs`` (B, T, 6H): the input products plus input biases, forward
    gates then reverse gates; ``w_hh`` (2, 3H, H) and ``b_hh`` (2, 3H); writes ``out`` (B, T, 2H)."""
    batch = inputs.shape[0]
    hidden = w_hh.shape[2]
    h = np.zeros(hidden, np.float32)
    gh = np.zeros(3 * hidden, np.float32)
    for b in range(batch):
        frames = lengths[b]
        for direction in range(2):
            h[:] = 0.0
            gates = 3 * hidden * direction
            for step in range(frames):
                t = frames - 1 - step if direction == 1 else step
                for j in range(3 * hidden):
                    total = b_hh[direction, j]
                    for k in range(hidden):
                        total += w_hh[direction, j, k] * h[k]
                    gh[j] = total
                for j in range(hidden):
                    r = 1.0 / (1.0 + np.exp(-(inputs[b, t, gates + j] + gh[j])))
                    z = 1.0 / (1.0 + np.exp(-(inputs[b, t, gates + hidden + j] + gh[hidden + j])))
                    n = np.tanh(inputs[b, t, gates + 2 * hidden + j] + r * gh[2 * hidden + j])
                    h[j] = (1.0 - z) * n + z * h[j]
                    out[b, t, direction * hidden + j] = h[j]


def bidirectional_gru(rnn: torch.nn.GRU, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, T, I) float32 CPU ``x`` with ``lengths`` (B,) valid frames through the bidirectional ``rnn``
    (batch_first, biases on, no projection) -> (B, T, 2H) float32, zero past each length. No gradients."""
    if not (rnn.bidirectional and rnn.batch_first and rnn.bias and rnn.proj_size == 0):
        raise ValueError("bidirectional_gru: expected a batch_first, bidirectional GRU with biases and no projection")
    batch, frames, _ = x.shape
    hidden = rnn.hidden_size
    counts = np.ascontiguousarray(lengths.cpu().numpy().astype(np.int64))
    with torch.no_grad():
        for layer in range(rnn.num_layers):
            names = (f"l{layer}", f"l{layer}_reverse")
            w_ih = torch.cat([getattr(rnn, f"weight_ih_{n}") for n in names]).float()  # (6H, I)
            b_ih = torch.cat([getattr(rnn, f"bias_ih_{n}") for n in names]).float()  # (6H,)
            inputs = torch.addmm(b_ih, x.reshape(batch * frames, -1).float(), w_ih.t()).reshape(batch, frames, 6 * hidden)
            w_hh = torch.stack([getattr(rnn, f"weight_hh_{n}") for n in names]).float().contiguous()  # (2, 3H, H)
            b_hh = torch.stack([getattr(rnn, f"bias_hh_{n}") for n in names]).float().contiguous()  # (2, 3H)
            out = np.zeros((batch, frames, 2 * hidden), np.float32)
            _scan(inputs.contiguous().numpy(), counts, w_hh.numpy(), b_hh.numpy(), out)
            x = torch.from_numpy(out)
    return x
