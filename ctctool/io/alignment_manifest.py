"""The output manifest of a manifest batch: ``<out-dir>/alignments.jsonl``, one NeMo-style line per item aligned.

A line is the item as the input list gave it (``id``, ``audio_filepath`` made absolute, ``text``), its
``duration`` (seconds of audio), the outputs (``alignment_filepath``: the item's alignment file, and ``clips``:
its clip files when the audio was split, both relative to the out-dir) and its scores: ``score`` (the mean of
its lines' scores), ``min_score`` (the lowest), ``lines``, ``flagged`` (lines scoring below ``min_confidence``)
and ``not_aligned`` (lines given no audio). Scores are null when not known (the item's kept line was
deleted).

Each item's line is kept in ``<out-dir>/scores/<id>.json`` when it is aligned, and the manifest is rebuilt from
those at the end of every run (:func:`rebuild_alignment_manifest`), so a resumed run lists every item once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.io.text import parse_json, read_text

ALIGNMENTS_FILE = "alignments.jsonl"
SCORES_FOLDER = "scores"
_SCORES = ("score", "min_score", "lines", "flagged", "not_aligned")


def alignment_scores(segments: Sequence) -> dict:
    """The scores of an item from its segments (``TimedSpan``s): mean and lowest score of the aligned lines,
    how many lines, how many flagged, how many not aligned (no score)."""
    scores = [float(s.score) for s in segments if s.score is not None and s.end > s.start]
    return {"score": round(sum(scores) / len(scores), 4) if scores else None,
            "min_score": round(min(scores), 4) if scores else None,
            "lines": len(segments),
            "flagged": sum(bool(s.flagged) for s in segments),
            "not_aligned": len(segments) - len(scores)}


def item_line(item, duration: float | None, output: str, scores: dict | None = None,
              clips: Sequence[str] | None = None) -> dict:
    """The line of ``item`` (a ``ManifestItem``) whose alignment is the file ``output`` of the out-dir."""
    line = {"id": item.id, "audio_filepath": os.path.abspath(item.audio), "text": item.text,
            "duration": None if duration is None else round(duration, 6), "alignment_filepath": output}
    line.update({key: (scores or {}).get(key) for key in _SCORES})
    if clips is not None:
        line["clips"] = list(clips)
    return line


def kept_file(out_dir: str | os.PathLike, item_id: str) -> Path:
    """Where the line of item ``item_id`` is kept (see ``write_item_line``)."""
    return Path(out_dir) / SCORES_FOLDER / f"{item_id}.json"


def write_item_line(out_dir: str | os.PathLike, line: dict) -> Path:
    """Keep ``line`` (see ``item_line``) in ``<out_dir>/scores/<id>.json`` for the next rebuild."""
    path = kept_file(out_dir, line["id"])
    path.parent.mkdir(exist_ok=True)
    with atomic_open(path, "w") as handle:
        handle.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
    return path


def relative_clips(out_dir: str | os.PathLike, clips_folder: str | os.PathLike, records: Sequence[dict]) -> list[str]:
    """The clip files of ``records`` (lines of a clips manifest in ``clips_folder``), relative to ``out_dir``."""
    base, folder = os.path.realpath(out_dir), os.path.realpath(clips_folder)
    return [os.path.relpath(os.path.join(folder, r["audio_filepath"]), base)
            for r in records if r.get("audio_filepath")]


def rebuild_alignment_manifest(out_dir: str | os.PathLike, items: Sequence, extension: str) -> int:
    """Write ``<out_dir>/alignments.jsonl``: a line for every item whose alignment file is in ``out_dir`` (the
    ``items`` of this run in order, then the others kept in ``scores/`` by id); returns the number of lines.
    An item of ``items`` whose ``<id>.<extension>`` is there but whose line was never kept gets null scores."""
    out = Path(out_dir)
    kept = _kept_lines(out / SCORES_FOLDER)
    lines, listed = [], set()
    for item in items:
        line = kept.get(item.id)
        if line is None or not (out / str(line.get("alignment_filepath"))).is_file():
            line = item_line(item, None, f"{item.id}.{extension}") if (out / f"{item.id}.{extension}").is_file() \
                else None
        if line is not None:
            lines.append(line)
            listed.add(item.id)
    for item_id in sorted(set(kept) - listed):
        if (out / str(kept[item_id].get("alignment_filepath"))).is_file():
            lines.append(kept[item_id])
    with atomic_open(out / ALIGNMENTS_FILE, "w") as handle:
        handle.writelines(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n" for line in lines)
    return len(lines)


def _kept_lines(folder: Path) -> dict[str, dict]:
    kept = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue  # a temporary file a crash left behind
        line = parse_json(read_text(path), str(path))
        if not isinstance(line, dict) or not isinstance(line.get("id"), str):
            raise CtcToolError(f"{path}: expected the JSON line of an aligned item (with its id); delete it, and the "
                               "item's alignment file to align the item again")
        kept[line["id"]] = line
    return kept
