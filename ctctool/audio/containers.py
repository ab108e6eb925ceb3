"""Audio in any container FFmpeg reads (mp4, m4a, mkv, webm, mov, aac, opus, mp3, ...), through PyAV.

PyAV's wheels carry their own FFmpeg libraries, so no system ffmpeg is needed; it is the optional
``av`` extra (``pip install -e ".[av]"``), imported only here. Decoded frames are converted to float
here, channel by channel, rather than by FFmpeg's resampler (which crashes on layouts without named
channels, such as 16 plain channels).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ctctool.errors import CtcToolError, first_line

INSTALL_HINT = "install the audio/video extra: pip install 'ctctool[av]'"
#: Containers whose headers state the duration (FFmpeg demuxer names); an mp3 states it in a Xing/Info/VBRI frame.
HEADER_DURATION = frozenset({"matroska", "webm", "mov", "mp4", "m4a", "flac", "ogg", "wav"})
_MP3_DURATION_TAGS = (b"Xing", b"Info", b"VBRI")
#: How much less than the declared duration a decoding may give before the file counts as cut short (seconds,
#: and a fraction of the declared duration): encoder priming and padding are far below both.
SHORTFALL_SECONDS, SHORTFALL_FRACTION = 1.0, 0.05
#: Scale of each integer sample format to -1..1 (and the offset of unsigned 8-bit).
_INTEGER_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9223372036854775808.0}


def av_available() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def decode_container(file: Path, stream: int | None = None) -> tuple[np.ndarray, int]:
    """(samples, channels) float32 and the sample rate of audio stream ``stream`` (0: the first audio stream,
    the default) of ``file``."""
    try:
        import av
    except ImportError:
        raise CtcToolError(f"{file}: libsndfile cannot read it, and PyAV is not installed to try FFmpeg; "
                           f"{INSTALL_HINT}") from None
    _quiet(av)
    try:
        with open(file, "rb") as handle, av.open(handle, metadata_errors="replace") as container:
            audio = [s for s in container.streams if s.type == "audio"]
            if not audio:
                held = ", ".join(f"{s.type} ({s.codec_context.name})" for s in container.streams) or "no streams"
                raise CtcToolError(f"{file}: no audio stream (it holds {held}); expected a file with sound")
            index = 0 if stream is None else stream
            if not 0 <= index < len(audio):
                raise CtcToolError(f"{file}: `audio_stream` {index} does not exist: it has {len(audio)} audio "
                                   f"stream(s), numbered from 0")
            chosen = audio[index]
            rate = chosen.codec_context.sample_rate
            chunks = [_frame_samples(frame) for frame in container.decode(chosen)]
            declared = _declared_seconds(file, container, chosen)
    except CtcToolError:
        raise
    except Exception as exc:  # FFmpeg reports bad files through many error types
        raise CtcToolError(f"{file}: not a readable audio or video file ({first_line(exc)})") from None
    samples = np.concatenate(chunks, axis=1).T if chunks else np.zeros((0, 1), dtype=np.float32)
    check_shortfall(file, declared, samples.shape[0] / rate if rate else 0.0)
    return samples, rate


def check_shortfall(file: Path, declared: float | None, decoded: float) -> None:
    """A CtcToolError when ``file``'s header ``declared`` clearly more seconds of audio than were ``decoded``."""
    if declared is not None and declared - decoded > max(SHORTFALL_SECONDS, SHORTFALL_FRACTION * declared):
        raise CtcToolError(f"{file}: cut short: its header declares {declared:.2f} s of audio but only {decoded:.2f} s "
                           "could be decoded (an interrupted download or copy?); fetch or export the file again")


def _quiet(av) -> None:
    """FFmpeg's own log lines (``Xing stream size off...``) stay off stderr: ctctool reports what matters."""
    av.logging.set_level(av.logging.PANIC)


def _declared_seconds(file: Path, container, stream) -> float | None:
    """The duration of ``stream`` its container's header states, when the format states one (None otherwise:
    FFmpeg's estimates from the bit rate are not evidence of a cut)."""
    formats = set(container.format.name.split(","))
    if "mp3" in formats:
        with open(file, "rb") as handle:
            if not any(tag in handle.read(8192) for tag in _MP3_DURATION_TAGS):
                return None
    elif not formats & HEADER_DURATION:
        return None
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and len(container.streams) == 1:  # the container's: the longest stream's
        return container.duration / 1_000_000
    return None


def _frame_samples(frame) -> np.ndarray:
    """(channels, samples) float32 in -1..1 of a decoded audio frame, whatever its sample format."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:  # packed: (1, samples * channels), channels interleaved
        data = data.reshape(-1, channels).T
    name = frame.format.name.rstrip("p")
    if name in _INTEGER_SCALE:
        offset = 128.0 if name == "u8" else 0.0
        return ((data.astype(np.float64) - offset) / _INTEGER_SCALE[name]).astype(np.float32)
    return data.astype(np.float32, copy=False)
