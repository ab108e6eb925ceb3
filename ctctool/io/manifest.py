"""Utterance lists: a JSONL manifest, or an LJSpeech folder (``metadata.csv`` + ``wavs/``).

One reader for every command that takes a list of utterances (``train``, ``align --manifest``),
and one rule for LJSpeech rows (``ljspeech_row``), which ``lm --metadata`` shares.

- JSONL: one object per line with ``audio_filepath`` and ``text`` (strings) and an optional ``id``
  (a string or an integer; default the audio file's stem); relative paths are relative to the
  manifest's folder.
- LJSpeech: ``id|text|normalized`` rows; the text is the normalized column, or the text
  column when that is empty or missing; the audio is ``wavs/<id>.wav``.

An id names the item's output file, so it must be a plain file name: not empty, no ``/``, ``\\``
or control characters, not starting with ``.``, at most ``MAX_ID_LENGTH`` characters, and unique
in the list. A line that breaks a rule (bad JSON, a field of the wrong type, a bad or repeated id)
is a *rejected* item, with the reason: the other items go on.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.atomic import STDIO
from ctctool.io.text import parse_json, read_lines

LJSPEECH_METADATA = "metadata.csv"
#: Longest id, in UTF-8 bytes: its output file name (id + extension) must fit the 255-byte limit of file systems.
MAX_ID_LENGTH = 200


@dataclass(frozen=True)
class ManifestItem:
    """One utterance; ``where`` names it (file and line) in messages."""

    where: str
    id: str
    audio: Path
    text: str


@dataclass(frozen=True)
class RejectedItem:
    """A line that is not a usable item: where it is, its id when it has a usable one, and why."""

    where: str
    id: str | None
    error: str


@dataclass(frozen=True)
class Manifest:
    """The usable items of a list, in order, and the rejected lines."""

    items: tuple[ManifestItem, ...]
    rejected: tuple[RejectedItem, ...]


def read_manifest_items(path: str | os.PathLike, *, needs_text: bool = True) -> Manifest:
    """The items of a JSONL manifest or of an LJSpeech folder (see the module docstring).

    A missing or unreadable list is a CtcToolError; a bad line is a rejected item. ``needs_text=False``: a JSONL
    line may leave ``text`` out (audio to transcribe), and its item's text is empty.
    """
    source = Path(path)
    if str(source) == STDIO:
        return read_manifest(source, needs_text=needs_text)
    if source.is_dir():
        return read_ljspeech(source)
    if not source.exists():
        raise CtcToolError(f"{source}: no such folder or file; expected a JSONL manifest or an LJSpeech folder")
    return read_manifest(source, needs_text=needs_text)


def read_items(path: str | os.PathLike) -> list[ManifestItem]:
    """The items of ``path``, all of them: the first rejected line is a CtcToolError."""
    manifest = read_manifest_items(path)
    if manifest.rejected:
        raise CtcToolError(manifest.rejected[0].error)
    return list(manifest.items)


def read_manifest(path: str | os.PathLike, *, needs_text: bool = True) -> Manifest:
    """Items of a JSONL manifest; blank lines are skipped."""
    manifest = Path(path)
    return _read_rows(manifest, lambda line, where: _json_item(parse_json(line, where), manifest, where, needs_text))


def _read_rows(file: Path, parse_row) -> Manifest:
    """The items ``parse_row(line, where)`` makes of the non-blank lines of ``file``; a line it refuses (a
    CtcToolError), or whose id is unusable or taken, is a rejected item."""
    items, rejected, seen = [], [], {}
    for number, line in enumerate(read_lines(file), start=1):
        if not line.strip():
            continue
        where = f"{file} line {number}"
        try:
            item = parse_row(line, where)
        except CtcToolError as exc:
            rejected.append(RejectedItem(where, None, str(exc)))
            continue
        _add(item, items, rejected, seen)
    return Manifest(tuple(items), tuple(rejected))


def _json_item(value, manifest: Path, where: str, needs_text: bool = True) -> ManifestItem:
    if not isinstance(value, dict):
        raise CtcToolError(f"{where}: expected a JSON object with audio_filepath and text, found {_kind(value)}")
    if not needs_text and "text" not in value:
        value = {**value, "text": ""}
    for field in ("audio_filepath", "text"):
        if field not in value:
            raise CtcToolError(f"{where}: no {field!r}; expected an object with audio_filepath and text")
        if not isinstance(value[field], str):
            raise CtcToolError(f"{where}: {field!r} is {_kind(value[field])}; expected a string")
        if not _encodable(value[field]):
            raise CtcToolError(f"{where}: {field!r} holds an unpaired surrogate (a broken \\u escape); "
                               "expected text")
    if any(unicodedata.category(ch) == "Cc" for ch in value["audio_filepath"]):
        raise CtcToolError(f"{where}: 'audio_filepath' holds a control character; expected the path of an audio "
                           "file")
    if not value["audio_filepath"].strip():
        raise CtcToolError(f"{where}: 'audio_filepath' is empty; expected the path of an audio file")
    audio = Path(value["audio_filepath"])
    audio = audio if audio.is_absolute() else manifest.parent / audio
    item_id = value.get("id", audio.stem)
    if isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
        raise CtcToolError(f"{where}: 'id' is {_kind(item_id)}; expected a string (or an integer)")
    if isinstance(item_id, int) and abs(item_id) >= 10 ** MAX_ID_LENGTH:
        raise CtcToolError(f"{where}: 'id' is a number of more than {MAX_ID_LENGTH} digits; expected a file name")
    if isinstance(item_id, str) and not _encodable(item_id):
        raise CtcToolError(f"{where}: 'id' holds an unpaired surrogate (a broken \\u escape); expected a file name")
    return ManifestItem(where, str(item_id), audio, value["text"])


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kind(value) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", list: "a list",
             dict: "an object", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _add(item: ManifestItem, items: list, rejected: list, seen: dict) -> None:
    """Append ``item`` to ``items``, or to ``rejected`` when its id is not a usable file name or is taken."""
    problem = id_problem(item.id)
    if problem is None and item.id in seen:
        problem = f"appears twice (first at {seen[item.id]}); give each item a unique id"
    if problem is not None:
        rejected.append(RejectedItem(item.where, item.id if problem.startswith("appears twice") else None,
                                     f"{item.where}: id {item.id!r} {problem}"))
        return
    seen[item.id] = item.where
    items.append(item)


def id_problem(item_id: str) -> str | None:
    """Why ``item_id`` cannot name an output file, or None when it can."""
    if not item_id:
        return "is empty; an id names the item's output file"
    if any(sep in item_id for sep in ("/", "\\")):
        return "holds a path separator; an id must be a plain file name"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in item_id):
        return "holds a control character; an id must be a plain file name"
    if item_id.startswith("."):
        return "starts with '.'; an id must be a plain, visible file name"
    if len(item_id.encode("utf-8")) > MAX_ID_LENGTH:
        return f"is {len(item_id.encode('utf-8'))} bytes long; an id names a file, so at most {MAX_ID_LENGTH}"
    return None


def read_ljspeech(folder: str | os.PathLike) -> Manifest:
    """Items of an LJSpeech folder: ``metadata.csv`` rows, audio in ``wavs/<id>.wav``."""
    folder = Path(folder)
    metadata = folder / LJSPEECH_METADATA
    if not metadata.is_file():
        raise CtcToolError(f"{folder}: no {LJSPEECH_METADATA}; an LJSpeech folder holds {LJSPEECH_METADATA} "
                           "(id|text|normalized) and wavs/")

    def parse_row(line: str, where: str) -> ManifestItem:
        item_id, text = ljspeech_row(line, where)
        return ManifestItem(where, item_id, folder / "wavs" / f"{item_id}.wav", text)

    return _read_rows(metadata, parse_row)


def ljspeech_row(line: str, where: str) -> tuple[str, str]:
    """(id, text) of an ``id|text|normalized`` row: the normalized text, or the text when it is empty."""
    fields = line.split("|")
    if len(fields) < 2:
        raise CtcToolError(f"{where}: expected id|text|normalized (LJSpeech metadata.csv), found no '|'")
    text = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
    return fields[0], text
