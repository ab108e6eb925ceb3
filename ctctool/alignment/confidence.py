"""How far the forced path is from the model's own best reading: the confidence of an aligned span.

The forced path always finds some frames where each character is likely, so the mean
posterior along it scores unrelated text nearly as well as the right one. Here each frame
counts the log-likelihood ratio between the forced path's class and the best class the model
gives that frame (0 where they agree, negative where the text forces a class the audio does
not support), as ctc-segmentation and MMS-style filtering do, summed over a span and divided by its
number of tokens (labels): 0 when the model would have read exactly that text there, very negative for
text the audio does not hold. Per token rather than per frame: the blank frames between tokens, where
both readings agree, would otherwise dilute the evidence of every forced letter. Over noise the model's
own reading is as unsure as the forced one, so the mean posterior of the path counts too (see
``confidence``).

Shapes: T frames, C classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Nats per token by which a text may fall short of the model's own reading before it scores 0.2; and the mean
#: posterior of the path below which it scores under 0.2 anyway. Chosen on the espeak-ng development voices and
#: noise of bench/bench_mismatch.py (correct lines within 0.35 nats, wrong ones beyond 10; noise at posteriors up
#: to 0.22, speech above 0.8), never on the held-out piper voice it is measured on.
RATIO_BOUNDARY, POSTERIOR_BOUNDARY = 3.5, 0.3
#: The score of both boundaries (``ctctool.alignment.options.MIN_CONFIDENCE``), and the scale that puts the ratio's
#: boundary there (ln 5 = 1.609).
BOUNDARY_SCORE = 0.2
RATIO_SCALE = -math.log(BOUNDARY_SCORE) / RATIO_BOUNDARY


@dataclass(frozen=True)
class FrameRatios:
    """Cumulative per-frame log-likelihood ratios of one path: ``cumulative[t]`` is the sum over frames
    ``0 .. t - 1`` (so (T + 1,), float64)."""

    cumulative: torch.Tensor

    @classmethod
    def of_path(cls, log_probs: torch.Tensor, path_log_probs: torch.Tensor, classes: int) -> "FrameRatios":
        """``log_probs`` (T, C') with C' >= ``classes``: the best reading is taken over the first ``classes``
        (the model's own classes: an appended star column is not a reading); ``path_log_probs`` (T,) the forced
        path's log-prob on each frame."""
        best = log_probs[:, :classes].double().max(dim=1).values.cpu()
        ratio = (path_log_probs.double().cpu() - best).clamp(max=0.0)
        return cls(torch.cat([torch.zeros(1, dtype=torch.float64), ratio.cumsum(0)]))

    def per_token(self, start: int, end: int, tokens: int = 1) -> float:
        """The summed ratio over frames ``start .. end - 1``, per token of the span (0 for an empty span)."""
        if end <= start or tokens <= 0:
            return 0.0
        return float(self.cumulative[end] - self.cumulative[start]) / tokens

    def confidence(self, start: int, end: int, tokens: int = 1, posterior: float = 1.0) -> float:
        """The confidence of frames ``start .. end - 1`` holding ``tokens`` labels whose frames have the mean
        posterior ``posterior`` along the forced path: see ``confidence``."""
        return confidence(self.per_token(start, end, tokens), posterior)


def confidence(ratio_per_token: float, posterior: float) -> float:
    """The lower of two scores in [0, 1], each scaled so that ``MIN_CONFIDENCE`` (0.2) is its boundary:

    - the text against the model's own reading: ``exp(RATIO_SCALE * ratio_per_token)``, 0.2 where the text is
      ``RATIO_BOUNDARY`` nats per token less likely than what the model hears (e^3.5, 33 times);
    - how sure the model is of the path at all: the mean posterior over the tokens' frames, mapped piecewise
      linearly so that ``POSTERIOR_BOUNDARY`` gives 0.2 and 1 gives 1 (noise and silence stay below it even
      where the text costs little against the model's equally unsure reading).
    """
    if posterior < POSTERIOR_BOUNDARY:
        sure = posterior * BOUNDARY_SCORE / POSTERIOR_BOUNDARY
    else:
        sure = BOUNDARY_SCORE + (posterior - POSTERIOR_BOUNDARY) * (1 - BOUNDARY_SCORE) / (1 - POSTERIOR_BOUNDARY)
    return float(min(math.exp(RATIO_SCALE * ratio_per_token), 1.0, sure))
