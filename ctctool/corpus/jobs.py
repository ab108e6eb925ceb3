"""What a corpus run makes of each item's log-probs: an alignment, a transcript, or the log-probs themselves.

A job is a small frozen value (it travels to workers): its settings, and

- ``prepare(items, inputs)``: checks before any work; returns the job to run (with what they found);
- ``done(item, present)``: whether the item's outputs are all there (``present``: the out-dir's file names);
- ``finish(item, log_probs, duration, model, folder)``: the item's files as (name in the out-dir, bytes), its
  own file last (a resumed run takes an item as done once that file is there); files elsewhere (clips) are
  written here;
- ``close(folder, items)``: rebuild the run's output manifest from what the out-dir holds; returns notes.

``log_probs`` is (T, C) on the CPU; ``model`` the ``ModelInfo`` of the model that made it.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from ctctool.alignment.options import MIN_CONFIDENCE
from ctctool.errors import CtcToolError
from ctctool.text.normalize import Spelling

if TYPE_CHECKING:
    from ctctool.io.clips import ClipOptions


@dataclass(frozen=True)
class AlignJob:
    """``ctctool align --manifest``: each item's transcript aligned to its audio, written in ``fmt``.

    ``split_audio``: the ``ClipOptions`` of clips cut per line (a local folder all workers share), or None;
    ``output_manifest``: keep each item's line (``scores/<id>.json``) and write ``alignments.jsonl``."""

    fmt: str = "json"
    min_confidence: float = MIN_CONFIDENCE
    star: bool | str = False
    spelling: Spelling = Spelling()
    ctm_words: str = "normalized"
    split_audio: ClipOptions | None = None
    output_manifest: bool = False
    audio_stream: int | None = None
    protected: frozenset = frozenset()  # (device, inode) of the inputs no clip may replace

    command = "align"
    verb = "aligned"
    needs_text = True

    @property
    def extension(self) -> str:
        from ctctool.io.alignment_writers import EXTENSIONS

        return EXTENSIONS[self.fmt]

    @property
    def listing_file(self) -> str | None:
        from ctctool.io.alignment_manifest import ALIGNMENTS_FILE

        return ALIGNMENTS_FILE if self.output_manifest else None

    def prepare(self, items: Sequence, inputs: Sequence, folder) -> "AlignJob":
        from ctctool.io.alignment_manifest import SCORES_FOLDER

        if self.output_manifest:
            local = folder.local_path()
            if local is not None and (local / SCORES_FOLDER).is_file():
                raise CtcToolError(f"`output_manifest`: {local / SCORES_FOLDER} is a file; that name is the folder of "
                                   "each item's scores: move the file")
        if self.split_audio is None:
            return self
        from ctctool.io.clips import check_clip_folder, input_keys

        files = [*inputs, *(item.audio for item in items)]
        check_clip_folder(self.split_audio.folder, "`split_audio`", files)
        return replace(self, protected=input_keys(files))

    def outputs(self, item) -> tuple[str, ...]:
        from ctctool.io.alignment_manifest import kept_name

        return ((kept_name(item.id),) if self.output_manifest else ()) + (f"{item.id}.{self.extension}",)

    def done(self, item, present: set) -> bool:
        if not all(name in present for name in self.outputs(item)):
            return False
        if self.split_audio is None:
            return True
        from ctctool.io.clips import part_file

        return part_file(self.split_audio.folder, item.id).is_file()

    def finish(self, item, log_probs, duration: float, model, folder) -> list[tuple[str, bytes]]:
        from ctctool.alignment.pipeline import align_model_output
        from ctctool.io import alignment_manifest as listing
        from ctctool.io.alignment_writers import WriteOptions, render_alignment

        result = align_model_output(log_probs, item.text, model, source=str(item.audio),
                                    min_confidence=self.min_confidence, star=self.star, spelling=self.spelling)
        files, clips = [], None
        if self.split_audio is not None:
            records = self._cut_clips(item, result, model)
            local = folder.local_path()
            clips = listing.relative_clips(local, self.split_audio.folder, records)
        name = f"{item.id}.{self.extension}"
        if self.output_manifest:
            line = listing.item_line(item, duration, name, listing.alignment_scores(result.segments), clips)
            files.append((listing.kept_name(item.id), listing.line_bytes(line)))
        local = folder.local_path(name)
        options = WriteOptions(ctm_words=self.ctm_words, audio=str(item.audio),
                               destination=None if local is None else str(local))
        files.append((name, render_alignment(result, self.fmt, item.id, options).encode("utf-8")))
        return files

    def _cut_clips(self, item, result, model):
        from ctctool.audio.loading import load_audio
        from ctctool.io.clips import source_rate, split_audio

        split = self.split_audio
        rate = model.sample_rate if split.rate == "model" else source_rate(item.audio, self.audio_stream)
        waveform = load_audio(item.audio, rate, stream=self.audio_stream)
        return split_audio(result.segments, waveform, rate, split.folder, item.id, item.audio, split.pad,
                           self.protected)

    def close(self, folder, items: Sequence) -> list[str]:
        notes = []
        if self.output_manifest:
            from ctctool.io.alignment_manifest import rebuild_alignment_manifest

            count = rebuild_alignment_manifest(folder, items, self.extension)
            notes.append(f"output manifest: {count} item(s) in {folder.where(self.listing_file)}")
        if self.split_audio is not None:
            from ctctool.io.clips import MANIFEST_FILE, REJECTED_FILE, merge_clip_manifests

            kept, rejected = merge_clip_manifests(self.split_audio.folder, [item.id for item in items])
            notes.append(f"clips: {kept} line(s) in {self.split_audio.folder / MANIFEST_FILE}, {rejected} in "
                         f"{REJECTED_FILE}")
        return notes


class _OneFileJob:
    """A job that writes one file per item, ``<id>.<extension>``, needs no text, and lists the items written in
    ``listing_file`` (``listed`` gives the line of each)."""

    extension: str
    listing_file: str
    needs_text = False

    def prepare(self, items: Sequence, inputs: Sequence, folder):
        return self

    def outputs(self, item) -> tuple[str, ...]:
        return (f"{item.id}.{self.extension}",)

    def done(self, item, present: set) -> bool:
        return f"{item.id}.{self.extension}" in present

    def close(self, folder, items: Sequence) -> list[str]:
        """Write ``listing_file``: the line of each of ``items`` (in order) whose file is there."""
        from ctctool.io.out_folder import jsonl_bytes

        present = folder.names()
        lines = [{"id": item.id, "audio_filepath": os.path.abspath(item.audio), "text": item.text,
                  **self.listed(folder, self.outputs(item)[0])}
                 for item in items if self.outputs(item)[0] in present]
        folder.write_bytes(self.listing_file, jsonl_bytes(lines))
        return [f"output manifest: {len(lines)} item(s) in {folder.where(self.listing_file)}"]

    def listed(self, folder, name: str) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class TranscribeJob(_OneFileJob):
    """``ctctool transcribe --manifest``: each item's text in ``<id>.txt`` (one line), and ``transcripts.jsonl``
    (``id``, ``audio_filepath``, ``text``: the manifest's reference, ``pred_text``: the transcript).

    ``lm``: a word LM spec (``none``, ``default``, ``auto``, a file), loaded once per process; ``hotwords``:
    (phrase, boost) pairs; the other settings as for ``ctctool.transcribe``."""

    lm: str | None = None
    hotwords: tuple = ()
    beam_width: int | None = None
    alpha: float | None = None
    beta: float | None = None
    audio_stream: int | None = None
    blank_penalty: float | None = None

    command = "transcribe"
    verb = "transcribed"
    extension = "txt"
    listing_file = "transcripts.jsonl"

    def finish(self, item, log_probs, duration: float, model, folder) -> list[tuple[str, bytes]]:
        from ctctool.decoding.transcribe import transcribe_log_probs
        from ctctool.models.loading import DEFAULT_MODEL

        lm = language_model(self.lm, model.name == DEFAULT_MODEL)
        result = transcribe_log_probs(log_probs, model, lm=lm, hotwords=dict(self.hotwords),
                                      beam_width=self.beam_width, alpha=self.alpha, beta=self.beta,
                                      blank_penalty=self.blank_penalty)
        return [(self.outputs(item)[0], (result.text + "\n").encode("utf-8"))]

    def listed(self, folder, name: str) -> dict:
        from ctctool.io.text import decode_text

        return {"pred_text": decode_text(folder.read_bytes(name), folder.where(name)).rstrip("\n")}


@dataclass(frozen=True)
class EmissionsJob(_OneFileJob):
    """``ctctool emissions --manifest``: each item's (T, C) float32 log-probs in ``<id>.npy``, and
    ``emissions.jsonl`` (``id``, ``audio_filepath``, ``text``, ``emissions_filepath``)."""

    audio_stream: int | None = None

    command = "emissions"
    verb = "written"
    extension = "npy"
    listing_file = "emissions.jsonl"

    def finish(self, item, log_probs, duration: float, model, folder) -> list[tuple[str, bytes]]:
        import numpy as np

        from ctctool.io.arrays import npy_bytes

        return [(self.outputs(item)[0], npy_bytes(log_probs.detach().cpu().numpy().astype(np.float32)))]

    def listed(self, folder, name: str) -> dict:
        return {"emissions_filepath": name}


Job = AlignJob | TranscribeJob | EmissionsJob


def language_model(spec, default_model: bool):
    """The LM of ``spec`` (see ``ctctool.lm.loading.as_language_model``), loaded once per process and file:
    workers finish many items with it. A file is known by its path, size and time of change."""
    return _language_model(spec, default_model, _file_identity(spec))


@functools.lru_cache(maxsize=4)
def _language_model(spec, default_model: bool, identity):
    from ctctool.lm.loading import as_language_model

    return as_language_model(spec, default_model=default_model)


def _file_identity(spec):
    try:
        info = os.stat(spec)
    except (OSError, TypeError, ValueError):
        return None
    return os.path.realpath(spec), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns
