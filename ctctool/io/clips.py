"""Audio clips of an alignment: one 16-bit WAV per transcript line, and NeMo-style manifests of them.

A clips folder ``DIR`` holds, for every item (an audio file and its transcript) split into it:

- ``DIR/<id>_<nnnn>.wav``: line ``nnnn`` of item ``id`` (0-based among the transcript's non-empty lines, the
  order of ``AlignedTranscript.segments``; zero-padded to 4 digits), mono 16-bit PCM.
- ``DIR/parts/<id>.jsonl``: the manifest lines of every line of the item, written after its clips.

and two manifests rebuilt from ``parts/`` by :func:`merge_clip_manifests`, so that a re-run never
duplicates or loses a line:

- ``DIR/manifest.jsonl``: the lines that were aligned and not flagged (score >= ``min_confidence``);
- ``DIR/rejected.jsonl``: the others, with a ``reason``: ``low_confidence`` (flagged; the clip is written, to
  listen to) or ``not_aligned`` (no audio was given to the line: no clip, ``audio_filepath`` null).

A manifest line: ``audio_filepath`` (the clip, relative to the manifest's folder), ``duration`` (seconds of
the clip), ``text`` (the line as written), ``score``, ``flagged``, ``source`` (the original audio, absolute),
``source_offset`` and ``source_end`` (the clip's bounds in the source, seconds) and ``line``. The source
bounds are not called ``offset``: NeMo reads ``offset`` as a seek into ``audio_filepath`` itself.

A clip spans its line's speech padded by ``pad`` seconds on each side, clamped to the audio and to the
midpoint of the gap to the neighbouring aligned lines (a pad never takes the next line's speech); it is
samples ``round(source_offset * rate)`` up to (not including) ``round(source_end * rate)`` of the audio.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ctctool._files import input_file
from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open
from ctctool.io.paths import check_outputs
from ctctool.io.text import parse_json, read_lines

MANIFEST_FILE = "manifest.jsonl"
REJECTED_FILE = "rejected.jsonl"
PARTS_FOLDER = "parts"
LOW_CONFIDENCE, NOT_ALIGNED = "low_confidence", "not_aligned"
#: Seconds of audio kept before and after each line's speech (CTC boundaries are tight around the sounds).
DEFAULT_PAD = 0.1
#: Where the clips' sample rate comes from: the source file's own rate, or the acoustic model's.
CLIP_RATES = ("source", "model")


@dataclass(frozen=True)
class ClipOptions:
    """What to cut: clips into ``folder``, padded by ``pad`` seconds, at the ``rate`` of ``CLIP_RATES``."""

    folder: Path
    pad: float = DEFAULT_PAD
    rate: str = "source"

    def __post_init__(self):
        if self.rate not in CLIP_RATES:
            raise CtcToolError(f"`clip_rate` {self.rate!r}: expected one of {', '.join(CLIP_RATES)}")
        _check_pad(self.pad)


@dataclass(frozen=True)
class Clip:
    """Line ``line`` of a transcript and its clip: samples ``first`` to ``stop`` (exclusive) of the audio;
    ``stop == first`` when the line was not aligned (no clip)."""

    line: int
    text: str
    score: float | None
    flagged: bool
    first: int
    stop: int

    @property
    def reason(self) -> str | None:
        """Why the line goes to the rejected manifest, or None when it is kept."""
        if self.stop <= self.first:
            return NOT_ALIGNED
        return LOW_CONFIDENCE if self.flagged else None


def plan_clips(segments: Sequence, num_samples: int, sample_rate: int, pad: float = DEFAULT_PAD) -> tuple[Clip, ...]:
    """The clip of every segment (``TimedSpan``: text, start, end, score, flagged) of an audio of
    ``num_samples`` samples at ``sample_rate`` Hz (see the module docstring for the bounds)."""
    _check_pad(pad)
    duration = num_samples / sample_rate
    aligned = [k for k, s in enumerate(segments) if min(s.end, duration) > s.start]
    bounds: dict[int, tuple[float, float]] = {}
    for n, k in enumerate(aligned):
        start, end = segments[k].start, min(segments[k].end, duration)
        low, high = max(0.0, start - pad), min(duration, end + pad)
        if n > 0:
            previous_end = segments[aligned[n - 1]].end
            low = max(low, min(start, (previous_end + start) / 2))
        if n + 1 < len(aligned):
            next_start = segments[aligned[n + 1]].start
            high = min(high, max(end, (end + next_start) / 2))
        bounds[k] = (low, high)
    clips = []
    for k, segment in enumerate(segments):
        low, high = bounds.get(k, (segment.start, segment.start))
        first = min(num_samples, max(0, round(low * sample_rate)))
        stop = min(num_samples, max(first, round(high * sample_rate)))
        if k not in bounds:
            stop = first
        clips.append(Clip(k, segment.text, segment.score, bool(segment.flagged), first, stop))
    return tuple(clips)


def clip_name(item_id: str, line: int) -> str:
    """The file name of line ``line`` (0-based) of item ``item_id``."""
    return f"{item_id}_{line:04d}.wav"


def source_rate(path: str | os.PathLike, stream: int | None = None) -> int:
    """The sample rate ``path`` is stored at (the one ``ctctool.audio.loading.load_audio`` reads first):
    libsndfile's for what it reads, else FFmpeg's (PyAV), and always FFmpeg's for a named ``stream``."""
    import soundfile

    file = input_file(path, "an audio or video file")
    if stream is None:
        try:
            return int(soundfile.info(str(file)).samplerate)
        except (soundfile.LibsndfileError, RuntimeError):
            pass
    try:
        import av
    except ImportError:
        raise CtcToolError(f"{file}: libsndfile cannot read it, and PyAV is not installed to try FFmpeg; install "
                           "the audio/video extra: pip install 'ctctool[av]'") from None
    try:
        with av.open(str(file), metadata_errors="replace") as container:
            audio = [s for s in container.streams if s.type == "audio"]
            chosen = audio[stream or 0] if len(audio) > (stream or 0) else None
            rate = chosen.codec_context.sample_rate if chosen is not None else None
    except (av.FFmpegError, OSError) as exc:
        raise CtcToolError(f"{file}: not a readable audio file ({exc.strerror or exc})") from exc
    if not rate:
        raise CtcToolError(f"{file}: no audio stream {stream or 0} with a sample rate; expected a file with sound")
    return int(rate)


def input_keys(paths: Iterable[str | os.PathLike | None]) -> frozenset[tuple[int, int]]:
    """(device, inode) of each of ``paths`` that exists: the files a clip must never be written over."""
    keys = set()
    for path in paths:
        if path is None or str(path) == "-":
            continue
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            continue
        keys.add((info.st_dev, info.st_ino))
    return frozenset(keys)


def check_clip_folder(folder: str | os.PathLike, label: str, inputs: Iterable[str | os.PathLike | None]) -> Path:
    """Before any work: clips can go to ``folder`` (an existing writable folder, or a new one in an existing
    folder), and its manifests would not replace one of ``inputs``; ``label`` names the folder in messages."""
    path = Path(folder)
    inputs = list(inputs)
    if path.exists() and not path.is_dir():
        raise CtcToolError(f"{label} {path}: is a file; expected a folder for the clips (created when missing)")
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise CtcToolError(f"{label} {path}: folder {parent} does not exist; create it first")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise CtcToolError(f"{label} {path}: folder {parent} is not writable, so {path.name} cannot be created")
        return path
    if not os.access(path, os.W_OK | os.X_OK):
        raise CtcToolError(f"{label} {path}: folder is not writable")
    parts = path / PARTS_FOLDER
    if parts.exists() and not parts.is_dir():
        raise CtcToolError(f"{label} {path}: {parts} is a file; it must be the folder of each item's clip lines")
    check_outputs({f"{label} manifest": path / MANIFEST_FILE, f"{label} rejected manifest": path / REJECTED_FILE},
                  inputs)
    return path


def split_audio(segments: Sequence, waveform, sample_rate: int, folder: str | os.PathLike, item_id: str,
                source: str | os.PathLike, pad: float = DEFAULT_PAD,
                inputs: frozenset[tuple[int, int]] = frozenset()) -> tuple[dict, ...]:
    """Write the clip of every aligned line of ``segments`` (an ``AlignedTranscript``'s) from ``waveform``
    ((samples,) mono floats in -1..1 at ``sample_rate`` Hz, the audio file ``source``) into ``folder`` as
    ``<item_id>_<nnnn>.wav``, then ``parts/<item_id>.jsonl``; return the manifest lines (a rejected one has a
    ``reason``). A clip that would replace one of ``inputs`` (see ``input_keys``) is refused before any is
    written. Run :func:`merge_clip_manifests` afterwards to update the folder's manifests."""
    samples = np.asarray(waveform, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0:
        raise CtcToolError(f"`waveform`: expected (samples,) mono audio, found shape {samples.shape}")
    folder = Path(folder)
    clips = plan_clips(segments, samples.size, sample_rate, pad)
    part = folder / PARTS_FOLDER / f"{item_id}.jsonl"
    targets = [folder / clip_name(item_id, c.line) for c in clips if c.reason != NOT_ALIGNED]
    for target in [*targets, part]:
        if _key(target) in inputs:
            raise CtcToolError(f"{target}: is one of the input files; writing there would destroy it, so split the "
                               "audio into another folder")
    where = os.path.abspath(source)
    _check_same_source(part, where, item_id)
    part.parent.mkdir(parents=True, exist_ok=True)
    records = []
    for clip in clips:
        name = None if clip.reason == NOT_ALIGNED else clip_name(item_id, clip.line)
        if name is not None:
            _write_wav(folder / name, samples[clip.first:clip.stop], sample_rate)
        record = {"audio_filepath": name, "duration": round((clip.stop - clip.first) / sample_rate, 6),
                  "text": clip.text, "score": None if clip.score is None else round(float(clip.score), 4),
                  "flagged": clip.flagged, "source": where,
                  "source_offset": round(clip.first / sample_rate, 6), "source_end": round(clip.stop / sample_rate, 6),
                  "line": clip.line}
        if clip.reason is not None:
            record["reason"] = clip.reason
        records.append(record)
    with atomic_open(part, "w") as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records)
    return tuple(records)


def _check_same_source(part: Path, source: str, item_id: str) -> None:
    """A CtcToolError when ``part`` already lists clips named ``item_id`` of another audio file: its clips would
    be replaced by this one's (two files of the same name from different folders)."""
    if not part.is_file():
        return
    try:
        earlier = {json.loads(line).get("source") for line in part.read_text(encoding="utf-8").splitlines() if line}
    except (ValueError, AttributeError, OSError):
        return  # unreadable: rewritten like any stale part
    others = sorted(str(s) for s in earlier if s and s != source)
    if others:
        raise CtcToolError(f"{part.parent.parent}: already holds the clips {item_id}_*.wav of {others[0]}; "
                           f"{source} has the same name: split it into another folder")


def part_file(folder: str | os.PathLike, item_id: str) -> Path:
    """Where :func:`split_audio` lists the lines of item ``item_id``: its existence means the item is split."""
    return Path(folder) / PARTS_FOLDER / f"{item_id}.jsonl"


def merge_clip_manifests(folder: str | os.PathLike, first: Sequence[str] = ()) -> tuple[int, int]:
    """Rebuild ``manifest.jsonl`` and ``rejected.jsonl`` of ``folder`` from its ``parts/``: the items of
    ``first`` in that order, then the others by id. Returns how many lines each holds."""
    folder = Path(folder)
    parts = folder / PARTS_FOLDER
    listed = sorted(parts.glob("*.jsonl")) if parts.is_dir() else []
    found = {p.name[:-len(".jsonl")]: p for p in listed if not p.name.startswith(".")}  # .x.tmp: a crash's leftover
    order = [i for i in dict.fromkeys(first) if i in found] + sorted(set(found) - set(first))
    kept, rejected = [], []
    for item_id in order:
        for number, line in enumerate(read_lines(found[item_id]), start=1):
            if line.strip():
                record = parse_json(line, f"{found[item_id]} line {number}")
                if not isinstance(record, dict):
                    raise CtcToolError(f"{found[item_id]} line {number}: expected a JSON object (a clip's line); "
                                       "delete the file to split the item again")
                (rejected if record.get("reason") else kept).append(record)
    for name, records in ((MANIFEST_FILE, kept), (REJECTED_FILE, rejected)):
        with atomic_open(folder / name, "w") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records)
    return len(kept), len(rejected)


def _write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """``samples`` (floats in -1..1) as mono 16-bit PCM WAV, atomically: x * 32768, rounded and clipped, so
    16-bit audio read as floats (x / 32768) comes back sample for sample."""
    import soundfile

    pcm = np.clip(np.rint(samples.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int16)
    with atomic_open(path, "wb") as handle:
        soundfile.write(handle, pcm, sample_rate, format="WAV", subtype="PCM_16")


def _check_pad(pad) -> None:
    if isinstance(pad, bool) or not isinstance(pad, (int, float)) or not 0 <= pad < float("inf"):
        raise CtcToolError(f"`pad` {pad!r}: expected a finite number of seconds >= 0")


def _key(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino
