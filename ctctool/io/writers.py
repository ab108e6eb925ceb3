"""Output files, each written atomically (temporary file + rename)."""

from __future__ import annotations

import csv
import math
import os
from typing import Any, Iterable, Sequence

from ctctool.io.atomic import atomic_open


def json_number(value: float) -> float | None:
    """A float for JSON: non-finite values (inf, nan) become null, which JSON can carry."""
    return value if math.isfinite(value) else None


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``header`` and ``rows`` as UTF-8 CSV (RFC 4180 quoting, ``\\n`` line ends)."""
    with atomic_open(path, "w", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
