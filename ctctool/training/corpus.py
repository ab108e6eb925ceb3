"""Training corpora: an LJSpeech folder (metadata.csv + wavs/) or a JSONL manifest.

Transcripts are normalised to the vocabulary (lower-cased, runs of whitespace to
one space); an utterance that still holds characters outside the vocabulary is
left out and reported, never silently mangled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.manifest import read_manifest
from ctctool.io.text import read_lines
from ctctool.vocab import Vocabulary


@dataclass(frozen=True)
class Utterance:
    """One training example: ``audio`` file, normalised ``text`` and its label ids."""

    id: str
    audio: Path
    text: str
    labels: tuple[int, ...]


@dataclass(frozen=True)
class Corpus:
    """Usable utterances, plus the ones left out with the reason for each."""

    utterances: tuple[Utterance, ...]
    rejected: tuple[str, ...]


def read_corpus(source: str | os.PathLike, vocab: Vocabulary) -> Corpus:
    """Read ``source``: a folder with ``metadata.csv`` (LJSpeech) or a ``.jsonl`` manifest."""
    path = Path(source)
    if path.is_dir():
        entries = _ljspeech(path)
    elif path.is_file() and path.suffix.lower() in (".jsonl", ".json"):
        entries = _manifest(path)
    elif not path.exists():
        raise CtcToolError(f"{path}: no such folder or file; expected an LJSpeech folder or a JSONL manifest")
    else:
        raise CtcToolError(f"{path}: expected a folder with metadata.csv and wavs/, or a .jsonl manifest")
    utterances, rejected = [], []
    for where, utt_id, audio, text in entries:
        normalised = " ".join(text.lower().split())
        if not normalised:
            rejected.append(f"{where}: empty transcript")
            continue
        if not audio.is_file():
            rejected.append(f"{where}: audio file {audio} not found")
            continue
        try:
            labels = vocab.encode(normalised, where=where)
        except CtcToolError as exc:
            rejected.append(str(exc))
            continue
        utterances.append(Utterance(utt_id, audio, normalised, tuple(labels)))
    if not utterances:
        reason = f" (first problem: {rejected[0]})" if rejected else ""
        raise CtcToolError(f"{path}: no usable utterances{reason}")
    return Corpus(tuple(utterances), tuple(rejected))


def _ljspeech(folder: Path):
    metadata = folder / "metadata.csv"
    if not metadata.is_file():
        raise CtcToolError(f"{folder}: no metadata.csv; an LJSpeech folder holds metadata.csv (id|text|normalized) and wavs/")
    for number, line in enumerate(read_lines(metadata), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2:
            raise CtcToolError(f"{metadata} line {number}: expected id|transcription|normalized transcription")
        text = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
        yield f"{metadata} line {number}", fields[0], folder / "wavs" / f"{fields[0]}.wav", text


def _manifest(manifest: Path):
    for item in read_manifest(manifest):
        yield item.where, item.id, item.audio, item.text
