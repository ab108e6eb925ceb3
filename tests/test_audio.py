"""load_audio (soundfile in, mono float32 out) and the band-limited resampler."""

import math
import time

import numpy as np
import pytest
import soundfile
import torch

from ctctool.audio.loading import load_audio
from ctctool.audio.resample import _resample_conv, _resample_gather, resample, resampled_length
from helpers import cuda_only, raises_exactly

rng = np.random.default_rng(0)


def sine(rate: int, seconds: float, hz: float, phase: float = 0.3, amplitude: float = 0.5) -> np.ndarray:
    """An analytic sine sampled at ``rate``, in float64."""
    t = np.arange(round(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t + phase)


# --- load_audio ---------------------------------------------------------------


def test_int16_stereo_is_scaled_and_mixed_to_mono(tmp_path):
    left = rng.integers(-32768, 32768, size=1000, dtype=np.int16)
    right = rng.integers(-32768, 32768, size=1000, dtype=np.int16)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], axis=1), 16000, subtype="PCM_16")
    audio = load_audio(path, 16000)
    expected = (left.astype(np.float64) + right.astype(np.float64)) / 2 / 32768
    assert audio.dtype == torch.float32 and audio.shape == (1000,)
    np.testing.assert_allclose(audio.numpy(), expected, rtol=0, atol=1e-7)


def test_int32_four_channels_are_averaged(tmp_path):
    channels = rng.integers(-(2**31), 2**31, size=(500, 4), dtype=np.int32)
    path = tmp_path / "quad.wav"
    soundfile.write(path, channels, 8000, subtype="PCM_32")
    expected = channels.astype(np.float64).mean(axis=1) / 2**31
    np.testing.assert_allclose(load_audio(path, 8000).numpy(), expected, rtol=0, atol=1e-7)


@pytest.mark.parametrize("suffix,subtype", [(".wav", "FLOAT"), (".flac", "PCM_24"), (".ogg", "VORBIS")])
def test_formats_round_trip_a_mono_signal(tmp_path, suffix, subtype):
    signal = sine(16000, 0.5, 440.0)
    path = tmp_path / f"mono{suffix}"
    soundfile.write(path, signal, 16000, subtype=subtype)
    audio = load_audio(path, 16000).numpy()
    tolerance = {"FLOAT": 1e-7, "PCM_24": 1e-6, "VORBIS": 0.05}[subtype]
    assert audio.shape == signal.shape
    np.testing.assert_allclose(audio, signal, rtol=0, atol=tolerance)


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_other_rates_are_resampled_to_the_requested_rate(tmp_path, rate):
    path = tmp_path / f"sine_{rate}.wav"
    soundfile.write(path, sine(rate, 1.0, 440.0).astype(np.float32), rate, subtype="FLOAT")
    audio = load_audio(path, 16000).numpy()
    expected = sine(16000, 1.0, 440.0)
    assert audio.shape == (16000,)
    inner = slice(800, -800)  # away from the edges, where the signal was cut off
    np.testing.assert_allclose(audio[inner], expected[inner], rtol=0, atol=2e-5)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.wav"
    with raises_exactly(f"{path}: no such file"):
        load_audio(path, 16000)


def test_a_directory_is_not_a_file(tmp_path):
    with raises_exactly(f"{tmp_path}: is a folder; expected an audio or video file"):
        load_audio(tmp_path, 16000)


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk")
    message = f"{path}: not a readable audio file (Error in WAV file. No 'data' chunk marker); expected WAV, FLAC, OGG or a container FFmpeg reads (mp4, mkv, webm, m4a, ...)"
    with raises_exactly(message) as info:
        load_audio(path, 16000)
    assert isinstance(info.value.__cause__, soundfile.LibsndfileError)


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n", encoding="utf-8")
    message = f"{path}: not a readable audio file (Format not recognised); expected WAV, FLAC, OGG or a container FFmpeg reads (mp4, mkv, webm, m4a, ...)"
    with raises_exactly(message):
        load_audio(path, 16000)


def test_empty_recording(tmp_path):
    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros((0, 2), dtype=np.float32), 16000)
    message = f"{path}: no audio samples; expected a non-empty recording"
    with raises_exactly(message):
        load_audio(path, 16000)


def test_nan_sample(tmp_path):
    signal = np.zeros((16000, 2), dtype=np.float32)
    signal[8000, 1] = np.nan
    path = tmp_path / "nan.wav"
    soundfile.write(path, signal, 16000, subtype="FLOAT")
    message = f"{path}: sample 8000 (at 0.500 s) is NaN or infinite; expected finite audio samples"
    with raises_exactly(message):
        load_audio(path, 16000)


# --- resample -----------------------------------------------------------------

RATE_PAIRS = [(44100, 16000), (22050, 16000), (8000, 16000), (48000, 16000), (16000, 8000), (11025, 16000)]


@pytest.mark.parametrize("orig,new", RATE_PAIRS + [(16000, 16001)])
@pytest.mark.parametrize("hz", [440.0, 3100.0])
def test_a_sine_keeps_its_amplitude_and_phase(orig, new, hz):
    signal = torch.from_numpy(sine(orig, 1.0, hz, phase=1.1, amplitude=0.8)).float()
    out = resample(signal, orig, new)
    expected = sine(new, out.numel() / new, hz, phase=1.1, amplitude=0.8)
    assert out.numel() == round(signal.numel() * new / orig) == expected.size
    inner = slice(new // 20, -new // 20)
    np.testing.assert_allclose(out.numpy()[inner], expected[inner], rtol=0, atol=2e-5)


@pytest.mark.parametrize("hz", [8500.0, 10000.0, 15000.0])
def test_frequencies_above_the_new_nyquist_are_removed(hz):
    signal = torch.from_numpy(sine(44100, 1.0, hz, amplitude=1.0)).float()
    out = resample(signal, 44100, 16000)
    assert out[800:-800].abs().max() < 1e-4  # about -80 dB: no aliasing


def test_a_constant_stays_constant():
    out = resample(torch.full((30000,), 0.25), 44100, 16000)
    np.testing.assert_allclose(out[200:-200].numpy(), 0.25, rtol=0, atol=1e-6)


@pytest.mark.parametrize("num_samples,orig,new,expected", [(3, 2, 1, 2), (1, 2, 1, 1), (44100, 44100, 16000, 16000), (7, 3, 2, 5)])
def test_resampled_length_rounds_half_up(num_samples, orig, new, expected):
    assert resampled_length(num_samples, orig, new) == expected


@pytest.mark.parametrize("orig,new", RATE_PAIRS)
def test_the_conv_and_gather_paths_agree(orig, new):
    signal = torch.from_numpy(rng.standard_normal(4001)).float()
    up, down = new // math.gcd(orig, new), orig // math.gcd(orig, new)
    length = resampled_length(signal.numel(), orig, new)
    conv, gather = _resample_conv(signal, up, down, length), _resample_gather(signal, up, down, length)
    assert conv.shape == gather.shape == (length,)
    torch.testing.assert_close(conv, gather, rtol=0, atol=5e-6)


@cuda_only
@pytest.mark.parametrize("orig,new", [(44100, 16000), (16000, 16001)])
def test_resample_on_cuda_matches_cpu(orig, new):
    signal = torch.from_numpy(rng.standard_normal(20000)).float()
    on_gpu = resample(signal.cuda(), orig, new)
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), resample(signal, orig, new), rtol=0, atol=1e-5)


def test_equal_rates_return_the_input_untouched():
    hour = torch.zeros(3600 * 16000)
    start = time.perf_counter()
    assert resample(hour, 16000, 16000) is hour
    assert time.perf_counter() - start < 0.01


@pytest.mark.parametrize(
    "waveform,orig,new,message",
    [
        (torch.zeros(10), 0, 16000, "resample: orig_rate must be a positive whole number of Hz, found 0"),
        (torch.zeros(10), 16000, 8000.0, "resample: new_rate must be a positive whole number of Hz, found 8000.0"),
        (torch.zeros(2, 10), 16000, 8000, "resample: expected a 1-D float waveform (samples,), found shape (2, 10) float32"),
        (torch.zeros(10, dtype=torch.int16), 16000, 8000, "resample: expected a 1-D float waveform (samples,), found shape (10,) int16"),
    ],
)
def test_resample_errors(waveform, orig, new, message):
    with raises_exactly(message):
        resample(waveform, orig, new)
