"""Audio files (WAV, FLAC, OGG and whatever else libsndfile reads) as mono float32 tensors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile
import torch

from ctctool._files import input_file
from ctctool.errors import CtcToolError
from ctctool.audio.resample import resample


#: Lowest sample rate taken for speech: below it a file is almost surely mislabelled (speech needs >= 4 kHz
#: of bandwidth for most phones; telephone audio is 8000 Hz).
MIN_SAMPLE_RATE = 2000


def load_audio(path: str | os.PathLike, sample_rate: int, *, stream: int | None = None) -> torch.Tensor:
    """Read ``path`` as a (samples,) float32 CPU tensor, mono, at ``sample_rate`` Hz.

    What libsndfile reads (WAV, FLAC, OGG, MP3) is read by it; any other container or codec (mp4, m4a,
    mkv, webm, mov, aac, opus, ...) and any ``stream`` other than the first audio stream go through
    FFmpeg (PyAV, the ``av`` extra). Integer PCM is scaled to -1..1; channels are averaged; other rates
    are resampled with :func:`ctctool.audio.resample.resample`.
    """
    file = input_file(path, "an audio or video file")
    if stream is not None and (isinstance(stream, bool) or not isinstance(stream, int) or stream < 0):
        raise CtcToolError(f"`audio_stream` {stream!r}: expected a stream number >= 0")
    data, file_rate = _read_samples(file, stream)
    if file_rate < MIN_SAMPLE_RATE:
        raise CtcToolError(f"{file}: sample rate {file_rate} Hz; expected speech recorded at {MIN_SAMPLE_RATE} Hz or "
                           "more (usually 8000 to 48000 Hz): is its header right?")
    if data.shape[0] == 0:
        raise CtcToolError(f"{file}: no audio samples; expected a non-empty recording")
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    bad = np.flatnonzero(~np.isfinite(mono))
    if bad.size:
        first = int(bad[0])
        raise CtcToolError(
            f"{file}: sample {first} (at {first / file_rate:.3f} s) is NaN or infinite; "
            "expected finite audio samples"
        )
    waveform = torch.from_numpy(np.ascontiguousarray(mono))
    return resample(waveform, int(file_rate), sample_rate)


def _read_samples(file: Path, stream: int | None) -> tuple[np.ndarray, int]:
    """(samples, channels) float32 and the rate: libsndfile first, FFmpeg (PyAV) for what it cannot read and
    whenever a stream is named."""
    from ctctool.audio.containers import av_available, check_shortfall, decode_container

    if stream is not None:
        return decode_container(file, stream)
    _check_wav_length(file)
    try:
        with open(file, "rb") as handle, soundfile.SoundFile(handle) as sound:  # no name to re-encode
            data, rate = sound.read(dtype="float32", always_2d=True), sound.samplerate
            if 0 < sound.frames < _UNKNOWN_FRAMES:  # an mp3 cut short reads quietly
                check_shortfall(file, sound.frames / rate, data.shape[0] / rate)
            return data, rate
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        reason = " ".join(str(getattr(exc, "error_string", None) or exc).split()).rstrip(".")
        refused = CtcToolError(f"{file}: not a readable audio file ({reason}); expected WAV, FLAC, OGG or a "
                               "container FFmpeg reads (mp4, mkv, webm, m4a, ...)")
        refused.__cause__ = exc
    if not av_available():
        raise refused
    try:
        return decode_container(file)
    except CtcToolError:
        if _is_sound_file(file):  # a WAV/FLAC/OGG that neither library reads: libsndfile says best why
            raise refused  # noqa: B904 (its cause is libsndfile's error)
        raise


def _is_sound_file(file: Path) -> bool:
    """Whether the file starts like a WAV, FLAC or OGG file, or is too short to be anything."""
    with open(file, "rb") as handle:
        head = handle.read(12)
    return len(head) < 12 or head[:4] in (b"RIFF", b"RIFX", b"fLaC", b"OggS", b"FORM") or head[:4] == b"RF64"


#: libsndfile's frame count for a stream of unknown length (SF_COUNT_MAX).
_UNKNOWN_FRAMES = 2**63 - 1
#: A WAV data chunk size that means "unknown" (written by streaming recorders before they know the length).
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def _check_wav_length(file: Path) -> None:
    """A RIFF WAV file whose ``data`` chunk declares more bytes than the file holds was cut short: libsndfile
    would read the samples that are there without a word, and the end of the recording would be lost."""
    size = file.stat().st_size
    with open(file, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return  # not a plain RIFF WAV: libsndfile judges it
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            chunk = handle.read(8)
            chunk_id, chunk_size = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if chunk_id == b"data":
                available = size - position - 8
                if chunk_size not in _UNKNOWN_SIZES and chunk_size > available:
                    raise CtcToolError(f"{file}: the WAV header declares {chunk_size} bytes of samples but the file "
                                       f"holds {available}: it was cut short (an interrupted copy or recording?)")
                return
            position += 8 + chunk_size + (chunk_size & 1)
