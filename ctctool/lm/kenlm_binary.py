"""KenLM binary language models: the header and the vocabulary stored at the end of the file.

``build_binary`` writes a fixed header (magic text, sanity numbers, order, data structure,
whether the words are stored, the n-gram counts), the search structure, and then every
vocabulary word, ``<unk>`` first, each followed by a NUL byte. Scoring goes through the
``kenlm`` package (``ctctool.lm.kenlm_model``); the words themselves are read here, because the
decoder needs them to spell the lexicon and the package does not list them.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from ctctool.errors import CtcToolError

MAGIC_PREFIX = b"mmap lm "
MAGIC = b"mmap lm http://kheafield.com/code format version 5\n\0"
INCOMPLETE = b"mmap lm http://kheafield.com/code incomplete\n"
_SANITY_SIZE = (len(MAGIC) + 7) // 8 * 8 + 12 + 12 + 8  # magic (8-aligned), 3 floats, 3 uint32, uint64
_FIXED = struct.Struct("<BxxxfI?xxxI")  # order, probing multiplier, model type, has vocabulary, search version
MODEL_TYPES = {0: "probing", 1: "rest probing", 2: "trie", 3: "quantized trie", 4: "array trie",
               5: "quantized array trie"}


@dataclass(frozen=True)
class KenlmHeader:
    order: int
    model_type: str
    has_vocabulary: bool
    counts: tuple[int, ...]  # n-grams of each order, unigrams first


def is_kenlm_binary(path: str | os.PathLike) -> bool:
    """Whether the file starts like a KenLM binary model (complete or not)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC_PREFIX)) == MAGIC_PREFIX
    except OSError:
        return False


def read_kenlm_header(path: str | os.PathLike) -> KenlmHeader:
    file = Path(path)
    try:
        with open(file, "rb") as handle:
            head = handle.read(_SANITY_SIZE + _FIXED.size + 8 * 16)
    except OSError as exc:
        raise CtcToolError(f"{file}: cannot read the language model ({exc.strerror or exc})") from exc
    if head.startswith(INCOMPLETE):
        raise CtcToolError(f"{file}: an incomplete KenLM binary (build_binary failed or was stopped); build it again")
    if not head.startswith(MAGIC):
        raise CtcToolError(f"{file}: not a KenLM binary of format version 5; rebuild it with KenLM's build_binary "
                           "or pass the ARPA file")
    if len(head) < _SANITY_SIZE + _FIXED.size:
        raise CtcToolError(f"{file}: the KenLM header is cut short; the file is truncated")
    order, _, model_type, has_vocabulary, _ = _FIXED.unpack_from(head, _SANITY_SIZE)
    start = _SANITY_SIZE + _FIXED.size
    if not 1 <= order <= 16 or len(head) < start + 8 * order:
        raise CtcToolError(f"{file}: the KenLM header gives order {order}; the file is damaged")
    counts = struct.unpack_from(f"<{order}Q", head, start)
    return KenlmHeader(order, MODEL_TYPES.get(model_type, f"type {model_type}"), bool(has_vocabulary), counts)


def read_kenlm_vocabulary(path: str | os.PathLike, header: KenlmHeader | None = None) -> tuple[str, ...]:
    """Every word of a KenLM binary model (``<unk>`` first), read from the end of the file
    (``header``: the file's, if already read)."""
    file = Path(path)
    header = header or read_kenlm_header(file)
    if not header.has_vocabulary:
        raise CtcToolError(f"{file}: this KenLM binary does not store its words, which the decoder needs to spell "
                           "them; rebuild it with build_binary (it stores them unless told not to)")
    wanted = header.counts[0]
    size = file.stat().st_size
    chunk = min(size, max(4096, 32 * wanted))
    with open(file, "rb") as handle:
        while True:
            handle.seek(size - chunk)
            pieces = handle.read(chunk).split(b"\0")
            if len(pieces) > wanted + 1 or chunk == size:
                break
            chunk = min(size, chunk * 4)
    words = pieces[-(wanted + 1):-1] if pieces[-1] == b"" else []
    if len(words) != wanted or not words[0].endswith(b"<unk>"):  # no NUL between the data and "<unk>"
        raise CtcToolError(f"{file}: the {wanted} words at the end of this KenLM binary are missing or cut short; "
                           "the file is truncated or damaged")
    try:
        return ("<unk>", *(word.decode("utf-8") for word in words[1:]))
    except UnicodeDecodeError as exc:
        raise CtcToolError(f"{file}: a word at the end of this KenLM binary is not UTF-8 ({exc.reason})") from exc


def load_kenlm(path: str | os.PathLike):
    """A KenLM binary model, scored through the optional ``kenlm`` package: a ``ctctool.lm.kenlm_model.KenlmModel``."""
    from ctctool.lm.kenlm_model import KenlmModel

    file = Path(path)
    header = read_kenlm_header(file)
    words = read_kenlm_vocabulary(file, header)
    try:
        import kenlm
    except ImportError:
        raise CtcToolError(f"{file}: a KenLM binary model needs the optional kenlm package: "
                           "pip install 'ctctool[kenlm]', or pass the ARPA file it was built from") from None
    try:
        model = kenlm.Model(str(file))
    except (OSError, RuntimeError) as exc:
        raise CtcToolError(f"{file}: kenlm cannot load this binary ({' '.join(str(exc).split())[:200]})") from exc
    return KenlmModel(file, header.order, words, model)
