"""Audio and video files made with PyAV for the tests: any codec and container FFmpeg writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_media(path: Path, tracks: list[tuple[np.ndarray, int]], codec: str, *, video: bool = False,
                video_seconds: float | None = None) -> Path:
    """Write ``tracks`` ((samples,) float32 in -1..1, rate) as audio streams of ``codec``, in the container that
    ``path``'s suffix names; ``video``: a small black video stream first, as long as the longest track unless
    ``video_seconds`` says."""
    import av

    with av.open(str(path), "w") as container:
        picture = None
        if video:
            picture = container.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        streams = [container.add_stream(codec, rate=rate, layout="mono") for _, rate in tracks]
        for stream, (samples, rate) in zip(streams, tracks):
            step = stream.codec_context.frame_size or 1024
            for start in range(0, len(samples), step):
                chunk = np.ascontiguousarray(samples[start:start + step], dtype=np.float32)[None, :]
                frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        if picture is not None:
            seconds = video_seconds or max(len(samples) / rate for samples, rate in tracks)
            for _ in range(int(seconds * 10)):
                image = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), dtype=np.uint8), format="rgb24")
                container.mux(picture.encode(image))
            container.mux(picture.encode(None))
    return path


def write_video_only(path: Path) -> Path:
    """A one-second video file with no audio stream."""
    import av

    with av.open(str(path), "w") as container:
        picture = container.add_stream("mpeg4", rate=10)
        picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        for _ in range(10):
            container.mux(picture.encode(av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), dtype=np.uint8),
                                                                    format="rgb24")))
        container.mux(picture.encode(None))
    return path
