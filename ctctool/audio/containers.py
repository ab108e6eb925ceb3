"""Audio in any container FFmpeg reads (mp4, m4a, mkv, webm, mov, aac, opus, mp3, ...), through PyAV.

PyAV's wheels carry their own FFmpeg libraries, so no system ffmpeg is needed; it is the optional
``av`` extra (``pip install -e ".[av]"``), imported only here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ctctool.errors import CtcToolError, first_line

INSTALL_HINT = "install the audio/video extra: pip install 'ctctool[av]'"


def decode_container(file: Path, stream: int | None = None) -> tuple[np.ndarray, int]:
    """(samples, channels) float32 and the sample rate of audio stream ``stream`` (0: the first audio stream,
    the default) of ``file``."""
    try:
        import av
    except ImportError:
        raise CtcToolError(f"{file}: libsndfile cannot read it, and PyAV is not installed to try FFmpeg; "
                           f"{INSTALL_HINT}") from None
    try:
        with open(file, "rb") as handle, av.open(handle) as container:
            audio = [s for s in container.streams if s.type == "audio"]
            if not audio:
                held = ", ".join(f"{s.type} ({s.codec_context.name})" for s in container.streams) or "no streams"
                raise CtcToolError(f"{file}: no audio stream (it holds {held}); expected a file with sound")
            index = 0 if stream is None else stream
            if not 0 <= index < len(audio):
                raise CtcToolError(f"{file}: `audio_stream` {index} does not exist: it has {len(audio)} audio "
                                   f"stream(s), numbered from 0")
            chosen = audio[index]
            resampler = av.AudioResampler(format="fltp", rate=chosen.codec_context.sample_rate)
            chunks = []
            for frame in container.decode(chosen):
                for converted in resampler.resample(frame):
                    chunks.append(converted.to_ndarray())
            for converted in resampler.resample(None):
                chunks.append(converted.to_ndarray())
            rate = chosen.codec_context.sample_rate
    except CtcToolError:
        raise
    except Exception as exc:  # FFmpeg reports bad files through many error types
        raise CtcToolError(f"{file}: not a readable audio or video file ({first_line(exc)})") from None
    if not chunks:
        return np.zeros((0, 1), dtype=np.float32), rate
    return np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False), rate
