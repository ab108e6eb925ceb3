"""JSONL manifests: one object per line with ``audio_filepath``, ``text`` and an optional ``id``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines


@dataclass(frozen=True)
class ManifestItem:
    """One line of a manifest; ``where`` names it (file and line) in messages."""

    where: str
    id: str
    audio: Path
    text: str


def read_manifest(path: str | os.PathLike) -> list[ManifestItem]:
    """Items of a JSONL manifest; relative audio paths are relative to the manifest's folder.

    Blank lines are skipped; bad JSON, missing fields and repeated ids are errors.
    """
    manifest = Path(path)
    items, seen = [], set()
    for number, line in enumerate(read_lines(manifest), start=1):
        if not line.strip():
            continue
        where = f"{manifest} line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CtcToolError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or "audio_filepath" not in item or "text" not in item:
            raise CtcToolError(f"{where}: expected an object with audio_filepath and text")
        audio = Path(item["audio_filepath"])
        audio = audio if audio.is_absolute() else manifest.parent / audio
        item_id = str(item.get("id", audio.stem))
        if item_id in seen:
            raise CtcToolError(f"{where}: id {item_id!r} appears twice; give each item a unique id")
        seen.add(item_id)
        items.append(ManifestItem(where, item_id, audio, str(item["text"])))
    return items
