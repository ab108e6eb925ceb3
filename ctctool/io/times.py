"""The one rounding of times that every output format uses."""

from __future__ import annotations

import math


def milliseconds(seconds: float) -> int:
    """Seconds -> whole milliseconds, half up."""
    return math.floor(seconds * 1000 + 0.5)


def rounded_seconds(seconds: float) -> float:
    """``seconds`` rounded to whole milliseconds (``milliseconds``), as a number of seconds."""
    return milliseconds(seconds) / 1000
