"""Audio in containers and codecs beyond libsndfile (mp4, m4a, mkv, webm, opus, mp3) through PyAV.

The files are made here with PyAV from a waveform; what is read back is checked against that
waveform (its tone, its length), and alignment of speech in a video against the same speech in WAV.
"""

import json

import numpy as np
import pytest
import soundfile

pytest.importorskip("av", reason="the av extra is not installed (pip install -e '.[av]')")

from ctctool.audio.loading import load_audio  # noqa: E402
from ctctool.errors import CtcToolError  # noqa: E402
from helpers import run_cli  # noqa: E402
from media import write_media, write_video_only  # noqa: E402
from pathlib import Path  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RATE = 16000


def tone(hz: float, seconds: float = 1.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def main_frequency(waveform: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(waveform))
    return float(np.argmax(spectrum) * rate / len(waveform))


# (file name, codec, rate, samples of padding a lossy codec may add: its frame, twice)
FORMATS = [("a.m4a", "aac", 16000, 2048), ("a.mp4", "aac", 16000, 2048), ("a.webm", "libopus", 48000, 1920),
           ("a.opus", "libopus", 48000, 1920), ("a.mp3", "libmp3lame", 16000, 2304), ("a.mkv", "flac", 16000, 0)]


@pytest.mark.parametrize("name, codec, rate, padding", FORMATS, ids=[f[0] for f in FORMATS])
def test_each_container_reads_back_the_tone_it_holds(tmp_path, name, codec, rate, padding):
    write_media(tmp_path / name, [(tone(440, rate=rate), rate)], codec, video=name == "a.mp4")
    waveform = load_audio(tmp_path / name, RATE).numpy()
    assert RATE <= len(waveform) <= RATE + padding * RATE // rate
    assert abs(main_frequency(waveform[:RATE]) - 440) <= 2


def test_lossless_audio_in_a_container_is_sample_exact(tmp_path):
    samples = np.round(tone(300) * 32767) / 32767  # exactly representable in the 16 bits FLAC stores
    write_media(tmp_path / "a.mkv", [(samples, RATE)], "flac")
    np.testing.assert_allclose(load_audio(tmp_path / "a.mkv", RATE).numpy(), samples, atol=1 / 32767)


def test_audio_stream_picks_the_stream(tmp_path):
    write_media(tmp_path / "two.mkv", [(tone(300), RATE), (tone(1200), RATE)], "flac", video=True)
    assert abs(main_frequency(load_audio(tmp_path / "two.mkv", RATE).numpy()) - 300) <= 2
    assert abs(main_frequency(load_audio(tmp_path / "two.mkv", RATE, stream=1).numpy()) - 1200) <= 2
    with pytest.raises(CtcToolError, match=r"two.mkv: `audio_stream` 2 does not exist: it has 2 audio stream\(s\), "
                                           r"numbered from 0$"):
        load_audio(tmp_path / "two.mkv", RATE, stream=2)


def test_a_video_without_sound_is_a_clear_error(tmp_path):
    write_video_only(tmp_path / "silent.mp4")
    result = run_cli("transcribe", tmp_path / "silent.mp4", "--lm", "none")
    assert result.exit_code == 1
    assert result.stderr == (f"error: {tmp_path / 'silent.mp4'}: no audio stream (it holds video (mpeg4)); "
                             "expected a file with sound\n")


def test_speech_in_a_video_aligns_as_the_wav_does(tmp_path):
    """The words of examples/hello.wav, from a video whose second audio stream holds the speech."""
    speech, rate = soundfile.read(EXAMPLES / "hello.wav", dtype="float32")
    write_media(tmp_path / "talk.mp4", [(np.zeros_like(speech), rate), (speech, rate)], "aac", video=True)
    transcript = EXAMPLES / "hello.txt"
    from_video = run_cli("align", tmp_path / "talk.mp4", transcript, "--audio-stream", "1")
    from_wav = run_cli("align", EXAMPLES / "hello.wav", transcript)
    assert from_video.exit_code == 0 and from_wav.exit_code == 0, from_video.stderr
    video_words, wav_words = (json.loads(r.stdout)["words"] for r in (from_video, from_wav))
    assert [w["word"] for w in video_words] == [w["word"] for w in wav_words]
    # AAC's encoder delay is trimmed by the mp4's edit list: the times agree within a frame (20 ms)
    shifts = [v[edge] - w[edge] for v, w in zip(video_words, wav_words) for edge in ("start", "end")]
    assert max(map(abs, shifts)) <= 0.02 + 1e-9, shifts  # one frame, to the rounding of the seconds


def test_sixteen_plain_channels_are_averaged(tmp_path):
    """16 channels without named positions (FFmpeg's resampler crashes on them): the mean of the channels."""
    import av

    channels, samples = 16, tone(440)
    gains = np.linspace(0.2, 1.0, channels)
    packed = np.round(samples[:, None] * gains[None, :] * 32767).astype(np.int16)
    with av.open(str(tmp_path / "many.mkv"), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=RATE, layout=f"{channels} channels")
        for start in range(0, len(samples), 1024):
            chunk = np.ascontiguousarray(packed[start:start + 1024].reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout=f"{channels} channels")
            frame.sample_rate, frame.pts = RATE, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    expected = (packed.astype(np.float64) / 32768).mean(axis=1)
    np.testing.assert_allclose(load_audio(tmp_path / "many.mkv", RATE).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("name, codec, rate", [("a.mp3", "libmp3lame", 16000), ("a.mkv", "aac", 16000),
                                               ("a.webm", "libopus", 48000)])
def test_a_file_cut_short_is_an_error_not_half_the_audio(tmp_path, name, codec, rate):
    """An interrupted download: the header declares 4 s, half the bytes are there. FFmpeg decodes what is left
    without complaint; ctctool names the cut."""
    whole = write_media(tmp_path / name, [(tone(440, seconds=4.0, rate=rate), rate)], codec)
    assert len(load_audio(whole, RATE)) >= 4 * RATE
    cut = tmp_path / f"cut_{name}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CtcToolError, match=rf"cut_{name}: cut short: its header declares 4\.\d\d s of audio but only "
                                           r"[12]\.\d\d s could be decoded"):
        load_audio(cut, RATE)


def test_audio_shorter_than_the_video_is_not_cut_short(tmp_path):
    """In a video the container's duration is the longest stream's: only the audio stream's own counts."""
    path = write_media(tmp_path / "v.mkv", [(tone(440, seconds=1.0), RATE)], "aac", video=True, video_seconds=4.0)
    assert RATE <= len(load_audio(path, RATE)) <= RATE + 2048
