"""Training corpora: an LJSpeech folder (metadata.csv + wavs/) or a JSONL manifest.

Transcripts are normalised to the vocabulary as alignment normalises them
(``ctctool.text.normalize``: case, accents, numbers spelled out, punctuation dropped); an
utterance with a letter or digit the vocabulary cannot spell is left out and reported, never
silently mangled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ctctool.errors import CtcToolError
from ctctool.io.manifest import read_manifest_items
from ctctool.text.normalize import lost_letters, normalize_text
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
    """Usable utterances, the ones left out with the reason for each, and how many transcripts the
    normalisation changed (with a few examples)."""

    utterances: tuple[Utterance, ...]
    rejected: tuple[str, ...]
    normalised: int = 0
    examples: tuple[str, ...] = ()


def read_corpus(source: str | os.PathLike, vocab: Vocabulary) -> Corpus:
    """Read ``source``: a folder with ``metadata.csv`` (LJSpeech) or a JSONL manifest (``ctctool.io.manifest``)."""
    path = Path(source)
    if path.is_file() and path.suffix.lower() not in (".jsonl", ".json"):
        raise CtcToolError(f"{path}: expected a folder with metadata.csv and wavs/, or a .jsonl manifest")
    listed = read_manifest_items(path)
    utterances, rejected, changed = [], [r.error for r in listed.rejected], []
    for item in listed.items:
        lost = [(word, lost_letters(word, vocab)) for word in item.text.split()]
        lost = [(word, letters) for word, letters in lost if letters]
        normalised = normalize_text(item.text, vocab)
        if lost:
            word, letters = lost[0]
            rejected.append(f"{item.where}: {word!r} holds {letters[:5]!r}, which the vocabulary cannot spell")
            continue
        if not normalised:
            rejected.append(f"{item.where}: empty transcript")
            continue
        if not item.audio.is_file():
            rejected.append(f"{item.where}: audio file {item.audio} not found")
            continue
        if normalised != " ".join(item.text.split()):
            changed.append(f"{' '.join(item.text.split())[:40]!r} -> {normalised[:40]!r}")
        utterances.append(Utterance(item.id, item.audio, normalised, tuple(vocab.encode(normalised, where=item.where))))
    if not utterances:
        reason = f" (first problem: {rejected[0]})" if rejected else ""
        raise CtcToolError(f"{path}: no usable utterances{reason}")
    return Corpus(tuple(utterances), tuple(rejected), len(changed), tuple(changed[:3]))
