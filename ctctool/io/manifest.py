"""Utterance lists: a JSONL manifest, or an LJSpeech folder (``metadata.csv`` + ``wavs/``).

One reader for every command that takes a list of utterances (``train``, ``align --manifest``),
and one rule for LJSpeech rows (``ljspeech_row``), which ``lm --metadata`` shares.

- JSONL: one object per line with ``audio_filepath`` and ``text`` (and an optional ``id``,
  default the audio file's stem); relative paths are relative to the manifest's folder.
- LJSpeech: ``id|text|normalized`` rows; the text is the normalized column, or the text
  column when that is empty or missing; the audio is ``wavs/<id>.wav``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.text import read_lines

LJSPEECH_METADATA = "metadata.csv"


@dataclass(frozen=True)
class ManifestItem:
    """One utterance; ``where`` names it (file and line) in messages."""

    where: str
    id: str
    audio: Path
    text: str


def read_items(path: str | os.PathLike) -> list[ManifestItem]:
    """The utterances of a JSONL manifest or of an LJSpeech folder (see the module docstring)."""
    source = Path(path)
    if source.is_dir():
        return read_ljspeech(source)
    if not source.exists():
        raise CtcToolError(f"{source}: no such folder or file; expected a JSONL manifest or an LJSpeech folder")
    return read_manifest(source)


def read_manifest(path: str | os.PathLike) -> list[ManifestItem]:
    """Items of a JSONL manifest. Blank lines are skipped; bad JSON, missing fields and repeated ids are errors."""
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


def read_ljspeech(folder: str | os.PathLike) -> list[ManifestItem]:
    """Items of an LJSpeech folder: ``metadata.csv`` rows, audio in ``wavs/<id>.wav``."""
    folder = Path(folder)
    metadata = folder / LJSPEECH_METADATA
    if not metadata.is_file():
        raise CtcToolError(f"{folder}: no {LJSPEECH_METADATA}; an LJSpeech folder holds {LJSPEECH_METADATA} "
                           "(id|text|normalized) and wavs/")
    items, seen = [], set()
    for number, line in enumerate(read_lines(metadata), start=1):
        if not line.strip():
            continue
        where = f"{metadata} line {number}"
        item_id, text = ljspeech_row(line, where)
        if item_id in seen:
            raise CtcToolError(f"{where}: id {item_id!r} appears twice; give each row a unique id")
        seen.add(item_id)
        items.append(ManifestItem(where, item_id, folder / "wavs" / f"{item_id}.wav", text))
    return items


def ljspeech_row(line: str, where: str) -> tuple[str, str]:
    """(id, text) of an ``id|text|normalized`` row: the normalized text, or the text when it is empty."""
    fields = line.split("|")
    if len(fields) < 2:
        raise CtcToolError(f"{where}: expected id|text|normalized (LJSpeech metadata.csv), found no '|'")
    text = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
    return fields[0], text
