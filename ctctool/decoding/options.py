"""The decoding defaults, in one place, and the one rule that turns a request into search settings.

Greedy decoding is the default. A prefix beam search runs when asked for (``beam_width``
above 1, ``nbest`` above 1) or when something only a search can use is given (a language
model, hotwords, a word bonus ``beta``); its width is then ``BEAM_WIDTH`` unless given.
With a language model, ``alpha`` weighs it and ``beta`` rewards each word; without one,
``alpha`` is an error (it would weigh nothing) and ``beta`` defaults to 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ctctool.errors import CtcToolError

#: Beam width of a search whose width is not given, and the widest allowed (and most n-best).
BEAM_WIDTH = 32
MAX_BEAM_WIDTH = 4096
#: Labels scoring below this log-prob on a frame are not tried there (``-inf``: no pruning).
TOKEN_MIN_LOG_PROB = -12.0
#: LM weight (alpha) and word bonus (beta, natural log) with a language model.
ALPHA, BETA = 0.5, 1.0
#: Added (natural log) for each word the LM's lexicon does not hold (pyctcdecode's default).
OOV_PENALTY = -10.0


@dataclass(frozen=True)
class SearchSettings:
    """Resolved settings: ``greedy`` is True when no search is needed (then only ``nbest`` = 1 applies)."""

    greedy: bool
    beam_width: int
    nbest: int
    token_min_log_prob: float
    alpha: float
    beta: float
    oov_penalty: float


def search_settings(
    *,
    has_lm: bool,
    has_hotwords: bool,
    beam_width: int | None = None,
    nbest: int = 1,
    alpha: float | None = None,
    beta: float | None = None,
    oov_penalty: float = OOV_PENALTY,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
) -> SearchSettings:
    """Check the request and fill in the defaults (see the module docstring)."""
    for name, value in (("beam_width", beam_width), ("nbest", nbest)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not
                                  1 <= value <= MAX_BEAM_WIDTH):
            raise CtcToolError(f"`{name}` {value!r}: expected a whole number from 1 to {MAX_BEAM_WIDTH}")
    for name, value in (("alpha", alpha), ("beta", beta), ("oov_penalty", oov_penalty)):
        if value is not None and not math.isfinite(value):
            raise CtcToolError(f"`{name}` {value}: expected a finite number")
    if math.isnan(token_min_log_prob) or token_min_log_prob > 0:
        raise CtcToolError(f"`token_min_log_prob` {token_min_log_prob}: expected a log-probability <= 0 "
                           "(-inf turns the pruning off)")
    if alpha is not None and alpha < 0:
        raise CtcToolError(f"`alpha` {alpha}: expected a weight >= 0")
    if oov_penalty > 0:
        raise CtcToolError(f"`oov_penalty` {oov_penalty}: expected a number <= 0 (a log-probability offset)")
    if alpha is not None and not has_lm:
        raise CtcToolError("`alpha` weighs a language model, and there is none: pass `lm`, or leave `alpha` out")
    beta = (BETA if has_lm else 0.0) if beta is None else float(beta)
    searching = has_lm or has_hotwords or beta != 0.0 or nbest > 1 or (beam_width or 1) > 1
    return SearchSettings(
        greedy=not searching,
        beam_width=(beam_width or BEAM_WIDTH) if searching else 1,
        nbest=nbest,
        token_min_log_prob=float(token_min_log_prob),
        alpha=(ALPHA if alpha is None else float(alpha)) if has_lm else 0.0,
        beta=beta,
        oov_penalty=float(oov_penalty) if has_lm else 0.0,
    )
