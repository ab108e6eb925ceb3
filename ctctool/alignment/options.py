"""The alignment defaults and option checks, in one place (no heavy imports: the command line reads
them for ``--help`` and checks its options before loading anything)."""

from __future__ import annotations

import math

from ctctool.errors import CtcToolError

#: Lines whose confidence is below this are flagged (they may not match the audio).
MIN_CONFIDENCE = 0.2


def check_options(*, min_confidence: float = MIN_CONFIDENCE, frame_shift: float | None = 1.0,
                  frame_offset: float = 0.0) -> None:
    """``min_confidence`` in [0, 1]; ``frame_shift`` seconds > 0; ``frame_offset`` finite."""
    if not 0.0 <= min_confidence <= 1.0:
        raise CtcToolError(f"`min_confidence` {min_confidence}: expected a number from 0 to 1")
    if frame_shift is None or not frame_shift > 0 or not math.isfinite(frame_shift):
        raise CtcToolError(f"`frame_shift` {frame_shift}: expected the seconds between frames (> 0), e.g. 0.02")
    if not math.isfinite(frame_offset):
        raise CtcToolError(f"`frame_offset` {frame_offset}: expected a finite number of seconds")
