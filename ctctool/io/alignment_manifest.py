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
from typing import Sequence

from ctctool.errors import CtcToolError
from ctctool.io.text import decode_text, parse_json

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


def kept_name(item_id: str) -> str:
    """Where the line of item ``item_id`` is kept, relative to the out-dir (see ``line_bytes``)."""
    return f"{SCORES_FOLDER}/{item_id}.json"


def line_bytes(line: dict) -> bytes:
    """The kept file of ``line`` (see ``item_line``): one JSON line, for the next rebuild."""
    return (json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def relative_clips(out_dir: str | os.PathLike | None, clips_folder: str | os.PathLike,
                   records: Sequence[dict]) -> list[str]:
    """The clip files of ``records`` (lines of a clips manifest in ``clips_folder``), relative to ``out_dir``
    (absolute when the out-dir is not a local folder, None)."""
    folder = os.path.realpath(clips_folder)
    files = [os.path.join(folder, r["audio_filepath"]) for r in records if r.get("audio_filepath")]
    return files if out_dir is None else [os.path.relpath(f, os.path.realpath(out_dir)) for f in files]


def rebuild_alignment_manifest(out_dir, items: Sequence, extension: str) -> int:
    """Write ``alignments.jsonl`` in ``out_dir`` (a folder or an ``ctctool.io.out_folder`` folder): a line for
    every item whose alignment file is there (the ``items`` of this run in order, then the others kept in
    ``scores/`` by id); returns the number of lines. An item of ``items`` whose ``<id>.<extension>`` is there but
    whose line was never kept gets null scores."""
    from ctctool.io.out_folder import jsonl_bytes, output_folder

    out = output_folder(out_dir)
    present = out.names()
    kept = _kept_lines(out, present)
    lines, listed = [], set()
    for item in items:
        line = kept.get(item.id)
        if line is None or str(line.get("alignment_filepath")) not in present:
            line = item_line(item, None, f"{item.id}.{extension}") if f"{item.id}.{extension}" in present else None
        if line is not None:
            lines.append(line)
            listed.add(item.id)
    for item_id in sorted(set(kept) - listed):
        if str(kept[item_id].get("alignment_filepath")) in present:
            lines.append(kept[item_id])
    out.write_bytes(ALIGNMENTS_FILE, jsonl_bytes(lines))
    return len(lines)


def _kept_lines(out, present: set[str]) -> dict[str, dict]:
    kept = {}
    for name in sorted(n for n in present if n.startswith(f"{SCORES_FOLDER}/") and n.endswith(".json")):
        if "/" in name[len(SCORES_FOLDER) + 1:]:
            continue
        where = out.where(name)
        line = parse_json(decode_text(out.read_bytes(name), where), where)
        if not isinstance(line, dict) or not isinstance(line.get("id"), str):
            raise CtcToolError(f"{where}: expected the JSON line of an aligned item (with its id); delete it, and the "
                               "item's alignment file to align the item again")
        kept[line["id"]] = line
    return kept
