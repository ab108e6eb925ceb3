"""Training: the loss falls, --resume continues exactly, and bad corpora give one-line errors."""

from pathlib import Path

import pytest
import torch

import ctctool

from ctctool import CtcToolError
from ctctool.models.checkpoint import load_checkpoint
from ctctool.training.corpus import read_corpus
from ctctool.training.loop import TrainConfig, train
from ctctool.vocab import default_vocabulary
from helpers import cuda_only, run_cli
from toy_speech import make_corpus

CONFIG = dict(preset="tiny", features="logmel", batch_seconds=4.0, learning_rate=5e-3, warmup_steps=5,
              augment=False, seed=3)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    make_corpus(folder, count=24)
    return folder


def _train(corpus_dir, out, epochs, **overrides):
    torch.set_num_threads(1)
    events = []
    corpus = read_corpus(corpus_dir, default_vocabulary())
    result = train(corpus, default_vocabulary(), out, TrainConfig(epochs=epochs, **{**CONFIG, **overrides}),
                   device=torch.device("cpu"), on_event=lambda name, data: events.append((name, data)))
    return result, events


def test_loss_falls(corpus_dir, tmp_path):
    result, events = _train(corpus_dir, tmp_path / "m.pt", epochs=6)
    losses = [data["loss"] for name, data in events if name == "step"]
    assert result["finished"] and len(result["history"]) == 6
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert result["history"][-1]["val_loss"] < result["history"][0]["val_loss"]
    checkpoint = load_checkpoint(tmp_path / "m.pt")
    assert checkpoint["vocab"] == list(default_vocabulary().tokens)
    assert checkpoint["feature_config"]["kind"] == "logmel"
    assert [h["epoch"] for h in checkpoint["history"]] == [1, 2, 3, 4, 5, 6]


def test_resume_continues_exactly(corpus_dir, tmp_path):
    vocab = default_vocabulary()
    corpus = read_corpus(corpus_dir, vocab)
    torch.set_num_threads(1)
    config = TrainConfig(epochs=2, **CONFIG)
    train(corpus, vocab, tmp_path / "straight.pt", config, device=torch.device("cpu"))
    stopped = train(corpus, vocab, tmp_path / "resumed.pt", TrainConfig(epochs=2, max_minutes=0.0, **CONFIG),
                    device=torch.device("cpu"))
    assert stopped["finished"] is False
    saved = load_checkpoint(tmp_path / "resumed.pt")["train_state"]
    assert (saved["epoch"], saved["position"]) == (0, 1)
    events = []
    train(corpus, vocab, tmp_path / "resumed.pt", config, device=torch.device("cpu"), resume=True,
          on_event=lambda name, data: events.append((name, data)))
    start = dict(events)["start"]
    assert (start["start_epoch"], start["start_position"]) == (0, 1)
    straight = load_checkpoint(tmp_path / "straight.pt")["model_state"]
    resumed = load_checkpoint(tmp_path / "resumed.pt")["model_state"]
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name


def test_loader_processes_make_the_same_batches(corpus_dir, tmp_path):
    """Two loader processes with augmentation (vocal-tract-length perturbation and pitch shifts included)
    train the very weights the training process alone trains."""
    vocab = default_vocabulary()
    corpus = read_corpus(corpus_dir, vocab)
    torch.set_num_threads(1)
    weights = []
    for workers in (0, 2):
        config = TrainConfig(epochs=2, workers=workers, **{**CONFIG, "augment": True, "vtlp": 0.5, "pitch": 0.5})
        train(corpus, vocab, tmp_path / f"w{workers}.pt", config, device=torch.device("cpu"))
        weights.append(load_checkpoint(tmp_path / f"w{workers}.pt")["model_state"])
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]), name
    # and the augmentation did change what was trained on
    train(corpus, vocab, tmp_path / "plain.pt", TrainConfig(epochs=2, **CONFIG), device=torch.device("cpu"))
    plain = load_checkpoint(tmp_path / "plain.pt")["model_state"]
    assert not torch.equal(plain["head.3.weight"], weights[0]["head.3.weight"])


@cuda_only
def test_cuda_training_starts_from_the_loss_the_cpu_computes(corpus_dir, tmp_path):
    """The first batch (before any update) through bfloat16 autocast on the GPU, with loader processes, has
    the CPU's float32 loss to 2%; and the run trains."""
    vocab = default_vocabulary()
    corpus = read_corpus(corpus_dir, vocab)
    first = {}
    for device, workers in (("cpu", 0), ("cuda", 2)):
        losses = []
        train(corpus, vocab, tmp_path / f"{device}.pt", TrainConfig(epochs=3, workers=workers, **CONFIG),
              device=torch.device(device), on_event=lambda name, data: losses.append(data["loss"]) if name == "step" else None)
        first[device] = losses[0]
    assert first["cuda"] == pytest.approx(first["cpu"], rel=0.02)
    assert sum(losses[-3:]) < 0.7 * sum(losses[:3])


@pytest.mark.parametrize("workers", [0, 2])
def test_audio_that_breaks_mid_file_is_left_out_with_one_line(corpus_dir, tmp_path, workers):
    """A FLAC whose header reads but whose frames do not: in training (in a loader process or not) and in
    validation it is left out with one warning line each, and training goes on."""
    import json

    import soundfile

    audio, rate = soundfile.read(sorted((corpus_dir / "wavs").glob("*.wav"))[0], dtype="float32")
    soundfile.write(tmp_path / "clean.flac", audio, rate)
    data = bytearray((tmp_path / "clean.flac").read_bytes())
    for i in range(200, len(data) - 10, 7):
        data[i] = (data[i] * 31 + 7) % 256
    bad = tmp_path / "bad.flac"
    bad.write_bytes(bytes(data))
    assert soundfile.info(bad).duration > 0.5  # the premise: the header reads...
    with pytest.raises(soundfile.LibsndfileError):  # ... and the frames do not
        soundfile.read(bad)
    good = [{"audio_filepath": str(p), "text": "hello"} for p in sorted((corpus_dir / "wavs").glob("*.wav"))[:6]]
    bad_item = {"audio_filepath": str(bad), "text": "hello"}
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(x) for x in good[:4] + [bad_item]) + "\n")
    (tmp_path / "dev.jsonl").write_text("\n".join(json.dumps(x) for x in good[4:] + [bad_item]) + "\n")
    result = run_cli("train", tmp_path / "train.jsonl", "--dev", tmp_path / "dev.jsonl", "--out", tmp_path / "m.pt",
                     "--epochs", "2", "--preset", "tiny", "--features", "logmel", "--workers", str(workers))
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: left out")]
    assert warnings == [f"warning: left out {bad}: not a readable audio file (Error : flac decoder lost sync); "
                        "expected WAV, FLAC, OGG or a container FFmpeg reads (mp4, mkv, webm, m4a, ...)"]
    assert "Traceback" not in result.stderr
    assert [h["epoch"] for h in load_checkpoint(tmp_path / "m.pt")["history"]] == [1, 2]


def test_the_built_in_model_is_the_medium_preset():
    from ctctool.models.ds2 import DeepSpeech2, model_config

    shipped = load_checkpoint(Path(ctctool.__file__).parent / "models" / "default_en.pt")
    preset = DeepSpeech2(model_config("medium", 80, 31))
    assert {k: list(v.shape) for k, v in shipped["model_state"].items()} == \
        {k: list(v.shape) for k, v in preset.state_dict().items()}
    small = sum(t.numel() for t in DeepSpeech2(model_config("small", 80, 31)).parameters())
    assert 2.5 < sum(t.numel() for t in preset.parameters()) / small < 3.0


def _error(result, message):
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.splitlines()[-1] == f"error: {message}"


def test_cli_trains_and_reports(corpus_dir, tmp_path):
    result = run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--epochs", "1", "--preset", "tiny",
                     "--features", "logmel", "--batch-seconds", "4", "--threads", "1")
    assert result.exit_code == 0, result.stderr
    assert "epoch 1: validation loss" in result.stderr
    assert (tmp_path / "m.pt").is_file()


def test_missing_wav_is_reported_not_fatal(corpus_dir, tmp_path):
    folder = tmp_path / "c"
    make_corpus(folder, count=6)
    (folder / "wavs" / "u002.wav").unlink()
    corpus = read_corpus(folder, default_vocabulary())
    assert len(corpus.utterances) == 5
    assert corpus.rejected == (f"{folder / 'metadata.csv'} line 3: audio file {folder / 'wavs' / 'u002.wav'} not found",)


def test_transcripts_are_normalised_as_alignment_does_and_unspellable_ones_reported(tmp_path):
    make_corpus(tmp_path, count=4)
    (tmp_path / "metadata.csv").write_text("u000|ab|ab\nu001||\nu002|Ab bж|Ab bж\nu003|Hello, 42 cafés!|\n",
                                           encoding="utf-8")
    corpus = read_corpus(tmp_path, default_vocabulary())
    assert [u.text for u in corpus.utterances] == ["ab", "hello forty two cafes!"]
    assert corpus.rejected == (f"{tmp_path / 'metadata.csv'} line 2: empty transcript",
                               f"{tmp_path / 'metadata.csv'} line 3: 'bж' holds 'ж', which the vocabulary cannot spell")
    assert corpus.normalised == 1 and corpus.examples == ("'Hello, 42 cafés!' -> 'hello forty two cafes!'",)


def test_error_no_metadata(tmp_path):
    _error(run_cli("train", tmp_path, "--out", tmp_path / "m.pt"),
           f"{tmp_path}: no metadata.csv; an LJSpeech folder holds metadata.csv (id|text|normalized) and wavs/")


def test_error_unreadable_audio(tmp_path):
    make_corpus(tmp_path, count=4)
    (tmp_path / "wavs" / "u000.wav").write_bytes(b"not a wav file at all")
    vocab = default_vocabulary()
    corpus = read_corpus(tmp_path, vocab)
    with pytest.raises(CtcToolError, match=r"u000.wav: cannot read audio"):
        train(corpus, vocab, tmp_path / "m.pt", TrainConfig(epochs=1, **{**CONFIG, "val_fraction": 0.0}),
              device=torch.device("cpu"))


def test_error_resume_with_another_vocabulary(corpus_dir, tmp_path):
    assert run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--epochs", "1", "--preset", "tiny",
                   "--features", "logmel", "--batch-seconds", "4", "--threads", "1").exit_code == 0
    (tmp_path / "vocab.txt").write_text("<blank>\na\nb\nc\nd\n<space>\n", encoding="utf-8")
    _error(run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--epochs", "2", "--preset", "tiny",
                   "--features", "logmel", "--resume", "--vocab", tmp_path / "vocab.txt"),
           f"{tmp_path / 'm.pt'}: its vocabulary (31 tokens) differs from this run's (6); resume with the same --vocab")


def test_error_resume_without_checkpoint(corpus_dir, tmp_path):
    _error(run_cli("train", corpus_dir, "--out", tmp_path / "none.pt", "--resume"),
           f"{tmp_path / 'none.pt'}: --resume needs the checkpoint of an earlier run, and there is none")


def test_torchrun_two_processes_on_cpu(corpus_dir, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29517",
               "-m", "ctctool", "train", str(corpus_dir), "--out", str(tmp_path / "ddp.pt"), "--epochs", "1",
               "--preset", "tiny", "--features", "logmel", "--batch-seconds", "4", "--threads", "1", "--device", "cpu"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("epoch 1: validation loss") == 1  # only rank 0 reports
    checkpoint = load_checkpoint(tmp_path / "ddp.pt")
    assert checkpoint["train_state"]["epoch"] == 1
    assert [h["epoch"] for h in checkpoint["history"]] == [1]


def test_init_starts_from_the_given_weights(corpus_dir, tmp_path):
    """With a zero learning rate a fine-tuning run must end on exactly the weights it started from
    (only BatchNorm's running statistics move); a run that ignored --init would hold fresh random ones."""
    from ctctool.training.loop import starting_point

    _train(corpus_dir, tmp_path / "base.pt", epochs=1)
    base = load_checkpoint(tmp_path / "base.pt")
    vocab = default_vocabulary()
    events = []
    result = train(read_corpus(corpus_dir, vocab), vocab, tmp_path / "ft.pt",
                   TrainConfig(epochs=1, **{**CONFIG, "learning_rate": 0.0, "seed": 11}), device=torch.device("cpu"),
                   init=starting_point(tmp_path / "base.pt"), on_event=lambda name, data: events.append((name, data)))
    assert result["finished"]
    tuned = load_checkpoint(tmp_path / "ft.pt")
    parameters = [name for name in base["model_state"] if not name.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert len(parameters) > 10
    for name in parameters:
        assert torch.equal(tuned["model_state"][name], base["model_state"][name]), name
    assert [h["epoch"] for h in tuned["history"]] == [1]  # a new run: its own history and schedule
    assert tuned["train_state"]["config"]["init_from"] == str(tmp_path / "base.pt")
    assert tuned["train_state"]["schedule"]["last_epoch"] == dict(events)["start"]["batches_per_epoch"]


def test_cli_fine_tunes_the_default_model(corpus_dir, tmp_path):
    from ctctool.models.loading import DEFAULT_MODEL_FILE

    result = run_cli("train", corpus_dir, "--out", tmp_path / "ft.pt", "--init", "default", "--epochs", "1",
                     "--batch-seconds", "4", "--threads", "1", "--learning-rate", "1e-4")
    assert result.exit_code == 0, result.stderr
    tuned, default = load_checkpoint(tmp_path / "ft.pt"), load_checkpoint(DEFAULT_MODEL_FILE)
    assert tuned["model_config"] == default["model_config"]
    assert tuned["feature_config"] == default["feature_config"]  # logmel, taken from the default model
    assert tuned["vocab"] == default["vocab"]
    assert tuned["train_state"]["config"]["init_from"] == "default"


@pytest.mark.parametrize("extra, message", [
    (["--resume"], "{out}: --resume continues a run and --init starts a new one; pass only one of them"),
    (["--preset", "tiny"], "--preset tiny: --init {base} brings its own network size; leave --preset out"),
    (["--features", "spectrogram"], "{base}: it was trained on logmel features, not spectrogram; "
                                    "pass --features logmel (or leave --features out)"),
    (["--vocab", "{vocab}"], "{base}: its vocabulary (31 tokens) differs from this run's (6); "
                             "fine-tune with its vocabulary (leave out --vocab)"),
])
def test_init_errors(corpus_dir, tmp_path, extra, message):
    _train(corpus_dir, tmp_path / "base.pt", epochs=1)
    (tmp_path / "vocab.txt").write_text("<blank>\na\nb\nc\nd\n<space>\n", encoding="utf-8")
    fill = dict(out=tmp_path / "ft.pt", base=tmp_path / "base.pt", vocab=tmp_path / "vocab.txt")
    _train(corpus_dir, tmp_path / "ft.pt", epochs=1)  # something for --resume to find
    result = run_cli("train", corpus_dir, "--out", tmp_path / "ft.pt", "--init", tmp_path / "base.pt",
                     *[item.format(**fill) for item in extra])
    _error(result, message.format(**fill))


def test_init_error_missing_checkpoint(corpus_dir, tmp_path):
    _error(run_cli("train", corpus_dir, "--out", tmp_path / "ft.pt", "--init", tmp_path / "none.pt"),
           f"{tmp_path / 'none.pt'}: no such file")


def test_resume_takes_the_features_of_the_run_it_continues(corpus_dir, tmp_path):
    common = ["--preset", "tiny", "--batch-seconds", "4", "--threads", "1"]
    assert run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--epochs", "1", "--features", "logmel",
                   *common).exit_code == 0
    result = run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--epochs", "2", "--resume", *common)
    assert result.exit_code == 0, result.stderr
    checkpoint = load_checkpoint(tmp_path / "m.pt")
    assert checkpoint["feature_config"]["kind"] == "logmel"
    assert [h["epoch"] for h in checkpoint["history"]] == [1, 2]


def test_a_resumed_fine_tuning_run_remembers_its_start(corpus_dir, tmp_path):
    from ctctool.training.loop import starting_point

    _train(corpus_dir, tmp_path / "base.pt", epochs=1)
    vocab = default_vocabulary()
    corpus = read_corpus(corpus_dir, vocab)
    stopped = train(corpus, vocab, tmp_path / "ft.pt", TrainConfig(epochs=1, max_minutes=0.0, **CONFIG),
                    device=torch.device("cpu"), init=starting_point(tmp_path / "base.pt"))
    assert stopped["finished"] is False
    train(corpus, vocab, tmp_path / "ft.pt", TrainConfig(epochs=1, **CONFIG), device=torch.device("cpu"), resume=True)
    assert load_checkpoint(tmp_path / "ft.pt")["train_state"]["config"]["init_from"] == str(tmp_path / "base.pt")


def test_dev_set_is_validated_and_all_of_data_trained(corpus_dir, tmp_path):
    dev = tmp_path / "dev"
    make_corpus(dev, count=5)
    result = run_cli("train", corpus_dir, "--dev", dev, "--out", tmp_path / "m.pt", "--epochs", "1", "--preset", "tiny",
                     "--features", "logmel", "--batch-seconds", "4", "--threads", "1")
    assert result.exit_code == 0, result.stderr
    assert "training on 24 utterances" in result.stderr and "validating on 5" in result.stderr


def _tone(frequency, seconds=1.0, rate=16000):
    t = torch.arange(int(seconds * rate)) / rate
    return torch.sin(2 * torch.pi * frequency * t)


def _peak_hz(wave, rate=16000):
    spectrum = torch.fft.rfft(wave * torch.hann_window(wave.numel()))
    return float(spectrum.abs().argmax()) * rate / wave.numel()


def test_speed_perturbation_scales_duration_and_pitch_together():
    from ctctool.training.batches import SPEED_FACTORS, perturb_speed

    seen = set()
    generator = torch.Generator().manual_seed(0)
    for _ in range(40):
        out = perturb_speed(_tone(500.0), 16000, generator)
        factor = 16000 / out.numel()  # played `factor` times faster: 1/factor as long
        nearest = min(SPEED_FACTORS, key=lambda f: abs(f - factor))
        assert abs(nearest - factor) < 1e-3
        assert abs(_peak_hz(out) - 500.0 * nearest) < 2.0  # and the tone rises by the same factor
        seen.add(nearest)
    assert seen == set(SPEED_FACTORS)


def test_telephone_band_removes_what_is_above_4_khz_and_keeps_what_is_below():
    from ctctool.training.batches import telephone_band

    low, high = _tone(1000.0), _tone(6000.0)
    assert telephone_band(low, 16000).numel() == low.numel()
    kept = telephone_band(low, 16000)[1000:-1000].pow(2).mean() / low[1000:-1000].pow(2).mean()
    removed = telephone_band(high, 16000)[1000:-1000].pow(2).mean() / high[1000:-1000].pow(2).mean()
    assert kept > 0.95 and removed < 1e-3


def _frame_spectrum(wave, config):
    """(T, K) |STFT| of ``wave`` with ``config``'s window: the spectrum compute_features starts from."""
    frames = wave.unfold(0, config.frame_length, config.hop_length)
    window = torch.hann_window(config.frame_length, periodic=True)
    return torch.fft.rfft(frames * window, n=config.n_fft).abs()


@pytest.mark.parametrize("factor", [0.9, 0.95, 1.07, 1.1])
def test_vocal_tract_length_warp_moves_a_tone_as_a_tone_at_the_scaled_frequency(factor):
    from ctctool.models.features import PRESET_FEATURES, warp_frequencies

    config = PRESET_FEATURES["logmel"]  # 512-point FFT: 31.25 Hz bins
    for hz in (500.0, 1200.0, 3000.0):  # below the knee (0.8 x Nyquist x min(1, factor)): a plain scaling
        warped = warp_frequencies(_frame_spectrum(_tone(hz), config), factor).mean(dim=0)
        synthesised = _frame_spectrum(_tone(hz * factor), config).mean(dim=0)
        assert abs(int(warped.argmax()) - int(synthesised.argmax())) <= 1, hz
        # the peak's height is kept, as a tone's at the new frequency
        assert 0.75 < float(warped.max() / synthesised.max()) < 1.34, hz


def test_vocal_tract_length_warp_above_the_knee_and_at_the_ends():
    from ctctool.models.features import warp_frequencies

    spectrum = torch.zeros(1, 193)  # last bin 192 = Nyquist
    spectrum[0, 180] = 1.0
    # factor 1.1: knee at output bin 0.8 * 192 = 153.6, where the source is 153.6 / 1.1 = 139.64; the line
    # from there reaches 192 at 192, so output bin b reads source 139.636 + 1.36364 (b - 153.6): bin 182 reads
    # 178.36, bin 183 reads 179.727 (0.727 of bin 180), bin 184 reads 181.09. Only bin 183 sees bin 180.
    warped = warp_frequencies(spectrum, 1.1)[0]
    assert torch.nonzero(warped).flatten().tolist() == [183]
    assert abs(float(warped[183]) - 0.7273) < 1e-3
    ramp = torch.arange(193, dtype=torch.float32)[None]  # the spectrum whose value is its bin
    for factor in (0.9, 1.1):
        source = warp_frequencies(ramp, factor)[0]
        assert float(source[0]) == 0.0 and float(source[-1]) == 192.0  # 0 Hz and Nyquist stay
        assert bool((source.diff() > 0).all())  # a monotone warp: no bin read twice in reverse
        assert abs(float(source[50]) - 50 / factor) < 1e-4
    assert torch.equal(warp_frequencies(ramp, 1.0), ramp)


def test_features_without_a_warp_are_unchanged_and_a_warp_changes_them():
    from ctctool.models.features import PRESET_FEATURES, compute_features

    wave = torch.randn(16000, generator=torch.Generator().manual_seed(0))
    for config in PRESET_FEATURES.values():
        plain = compute_features(wave, config)
        assert torch.equal(compute_features(wave, config, vtl_factor=1.0), plain)
        assert not torch.allclose(compute_features(wave, config, vtl_factor=1.1), plain)


def _voice(f0: float, seconds: float = 1.0, sample_rate: int = 16000) -> torch.Tensor:
    """A pulse train at ``f0`` Hz through three fixed formant resonators (500, 1500 and 2500 Hz): a vowel
    whose pitch can change while its vocal tract does not."""
    import math

    import numpy as np

    phase = np.arange(int(seconds * sample_rate)) * f0 / sample_rate
    wave = np.diff(np.floor(phase), prepend=0.0).tolist()  # one pulse per period
    for centre, bandwidth in ((500, 80), (1500, 100), (2500, 120)):
        # y[n] = (1 - r) x[n] + 2 r cos(w) y[n-1] - r^2 y[n-2]: a resonance at `centre` Hz
        radius, angle = math.exp(-math.pi * bandwidth / sample_rate), 2 * math.pi * centre / sample_rate
        a1, a2, out, y1, y2 = 2 * radius * math.cos(angle), radius * radius, [], 0.0, 0.0
        for x in wave:
            y1, y2 = (1 - radius) * x + a1 * y1 - a2 * y2, y1
            out.append(y1)
        wave = out
    return torch.tensor(wave, dtype=torch.float32)


@pytest.mark.parametrize("factor", [0.8, 0.9, 1.25, 1.5])
def test_pitch_shift_looks_like_the_same_vowel_spoken_at_the_new_pitch(factor):
    """Moving the harmonics of a 200 Hz vowel by ``factor`` gives log-mel bands much nearer to the vowel
    synthesised at ``factor`` x 200 Hz through the same formants than the unshifted vowel's, and nearer than
    a vocal-tract-length warp (which moves the formants too) gives; its first harmonic is where the
    synthesised one is."""
    from ctctool.models.features import PRESET_FEATURES, mel_filterbank, shift_pitch, warp_frequencies

    config = PRESET_FEATURES["logmel"]  # 512-point FFT: 31.25 Hz bins

    def log_mel(spectrum):  # (T, K) -> (n_mels,) mean log-mel over frames
        return torch.log(spectrum.pow(2) @ mel_filterbank(config) + 1e-6).mean(dim=0)

    spoken = _frame_spectrum(_voice(200.0), config)
    target_spectrum = _frame_spectrum(_voice(200.0 * factor), config)
    shifted = shift_pitch(spoken, factor, config.sample_rate)
    target = log_mel(target_spectrum)
    gap = {name: float((log_mel(s) - target).abs().mean())
           for name, s in (("shifted", shifted), ("unshifted", spoken), ("warped", warp_frequencies(spoken, factor)))}
    assert gap["shifted"] < 0.5 * gap["unshifted"], gap
    assert gap["shifted"] < 0.75 * gap["warped"], gap
    below = int(1.5 * 200.0 * factor / 31.25)  # bins up to halfway to the second harmonic
    first = int(shifted.mean(dim=0)[2:below].argmax()) + 2
    assert abs(first - int(target_spectrum.mean(dim=0)[2:below].argmax()) - 2) <= 1


def test_features_of_digital_silence_are_zero_and_of_speech_normalised():
    """Each bin is normalised over the utterance; a bin that is the same in every frame (all-zero audio:
    log(0 + 1e-6) in every log-mel band) is 0, not float rounding divided by a tiny deviation."""
    from ctctool.models.features import PRESET_FEATURES, compute_features

    for config in PRESET_FEATURES.values():
        assert torch.equal(compute_features(torch.zeros(16000), config), torch.zeros(98 if config.frame_length == 400 else 99, config.bins))
        features = compute_features(_voice(150.0) + 0.01 * torch.randn(16000, generator=torch.Generator().manual_seed(0)), config)
        assert torch.allclose(features.mean(dim=0), torch.zeros(config.bins), atol=1e-4)
        assert torch.allclose(features.std(dim=0, unbiased=False), torch.ones(config.bins), atol=1e-3)


def test_pitch_shift_by_1_changes_nothing_and_a_shift_changes_features():
    from ctctool.models.features import PRESET_FEATURES, compute_features, shift_pitch

    spectrum = _frame_spectrum(_voice(150.0), PRESET_FEATURES["logmel"])
    assert torch.equal(shift_pitch(spectrum, 1.0, 16000), spectrum)
    with pytest.raises(CtcToolError, match="pitch factor 2.5: expected 0.5 to 2"):
        shift_pitch(spectrum, 2.5, 16000)
    wave = _voice(150.0)
    for config in PRESET_FEATURES.values():
        plain = compute_features(wave, config)
        assert torch.equal(compute_features(wave, config, pitch_factor=1.0), plain)
        shifted = compute_features(wave, config, pitch_factor=1.3)
        assert shifted.shape == plain.shape and not torch.allclose(shifted, plain)


def test_vtlp_and_pitch_off_draw_nothing_from_the_batch_generator(corpus_dir):
    """Runs without vocal-tract-length perturbation make the batches they made before it existed, and runs
    with it but without pitch shifts make the batches they made before those existed."""
    from ctctool.models.features import PRESET_FEATURES, compute_features
    from ctctool.training.batch_source import augmented_waveform, utterance_features
    from ctctool.training.batches import spec_augment

    utterance = read_corpus(corpus_dir, default_vocabulary()).utterances[0]
    config = PRESET_FEATURES["logmel"]
    made = utterance_features(utterance, config, "cpu", torch.Generator().manual_seed(5), vtlp=0.0)
    rng = torch.Generator().manual_seed(5)
    wave = augmented_waveform(utterance, config.sample_rate, rng)
    assert torch.equal(made, spec_augment(compute_features(wave, config), rng))
    warped = utterance_features(utterance, config, "cpu", torch.Generator().manual_seed(5), vtlp=1.0)
    assert warped.shape == made.shape and not torch.equal(warped, made)
    rng = torch.Generator().manual_seed(5)  # the draws of a --vtlp run before --pitch existed
    wave = augmented_waveform(utterance, config.sample_rate, rng)
    assert float(torch.rand(1, generator=rng)) < 1.0
    factor = 0.9 + 0.2 * float(torch.rand(1, generator=rng))
    assert torch.equal(warped, spec_augment(compute_features(wave, config, vtl_factor=factor), rng))
    shifted = utterance_features(utterance, config, "cpu", torch.Generator().manual_seed(5), pitch=1.0)
    assert shifted.shape == made.shape and not torch.equal(shifted, made) and not torch.equal(shifted, warped)


def test_pitch_factors_are_drawn_from_the_stated_range_after_the_vtlp_draws(corpus_dir, monkeypatch):
    """With both on, the vocal-tract-length draws come first, then the pitch draws: a pitch chance of 1 draws a
    factor log-uniformly from PITCH_FACTORS, which compute_features receives."""
    import ctctool.training.batch_source as batch_source
    from ctctool.models.features import PRESET_FEATURES

    utterance = read_corpus(corpus_dir, default_vocabulary()).utterances[0]
    seen = []
    real = batch_source.compute_features
    monkeypatch.setattr(batch_source, "compute_features",
                        lambda wave, config, **factors: seen.append(factors) or real(wave, config, **factors))
    for seed in range(30):
        batch_source.utterance_features(utterance, PRESET_FEATURES["logmel"], "cpu",
                                        torch.Generator().manual_seed(seed), vtlp=1.0, pitch=1.0)
    low, high = batch_source.PITCH_FACTORS
    pitch = torch.tensor([f["pitch_factor"] for f in seen])
    vtl = torch.tensor([f["vtl_factor"] for f in seen])
    assert bool(((pitch >= low) & (pitch <= high)).all()) and bool(((vtl >= 0.9) & (vtl <= 1.1)).all())
    assert float(pitch.min()) < 0.9 and float(pitch.max()) > 1.4  # the range is used, not one value
    # the draws, replayed: augmentation, the vtlp chance and factor, the pitch chance and factor
    rng = torch.Generator().manual_seed(0)
    batch_source.augmented_waveform(utterance, 16000, rng)
    torch.rand(2, generator=rng)
    torch.rand(1, generator=rng)
    assert abs(float(pitch[0]) - low * (high / low) ** float(torch.rand(1, generator=rng))) < 1e-6


def test_pitch_needs_augmentation(corpus_dir, tmp_path):
    with pytest.raises(CtcToolError, match="pitch 0.3 is an augmentation, and augment is off"):
        TrainConfig(pitch=0.3, augment=False)
    with pytest.raises(CtcToolError, match="pitch -0.1: expected a chance from 0 to 1"):
        TrainConfig(pitch=-0.1)
    result = run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--pitch", "0.3", "--no-augment")
    _error(result, "--pitch 0.3 is an augmentation and --no-augment turns augmentation off; leave out one of them")
    assert not (tmp_path / "m.pt").exists()
    result = run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--pitch", "1.5")
    assert result.exit_code == 2 and "--pitch" in result.stderr and "Traceback" not in result.stderr


def test_error_resume_with_other_augmentation_or_seed(corpus_dir, tmp_path):
    """--resume continues exactly only with the batches of the run it continues: another seed or
    augmentation setting is a one-line error that leaves the checkpoint as it was."""
    common = ["--preset", "tiny", "--features", "logmel", "--batch-seconds", "4", "--threads", "1"]
    out = tmp_path / "m.pt"
    assert run_cli("train", corpus_dir, "--out", out, "--epochs", "1", "--pitch", "0.3", "--seed", "2",
                   *common).exit_code == 0
    before = out.read_bytes()
    for extra, message in (
            (["--seed", "2"], "pitch 0.3 and this one asks for 0.0; resume with the same --pitch"),
            (["--seed", "2", "--pitch", "0.3", "--vtlp", "0.2"], "vtlp 0.0 and this one asks for 0.2; resume with the same --vtlp"),
            (["--pitch", "0.3"], "seed 2 and this one asks for 0; resume with the same --seed")):
        _error(run_cli("train", corpus_dir, "--out", out, "--epochs", "2", "--resume", *extra, *common),
               f"{out}: that run was trained with {message}, or start a new run")
        assert out.read_bytes() == before
    result = run_cli("train", corpus_dir, "--out", out, "--epochs", "2", "--resume", "--seed", "2", "--pitch", "0.3",
                     *common)
    assert result.exit_code == 0, result.output
    assert len(load_checkpoint(out)["history"]) == 2


def test_vtlp_needs_augmentation(corpus_dir, tmp_path):
    with pytest.raises(CtcToolError, match="vtlp 0.3 is an augmentation, and augment is off"):
        TrainConfig(vtlp=0.3, augment=False)
    with pytest.raises(CtcToolError, match="vtlp 1.5: expected a chance from 0 to 1"):
        TrainConfig(vtlp=1.5)
    result = run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--vtlp", "0.3", "--no-augment")
    _error(result, "--vtlp 0.3 is an augmentation and --no-augment turns augmentation off; leave out one of them")
    assert not (tmp_path / "m.pt").exists()
    result = run_cli("train", corpus_dir, "--out", tmp_path / "m.pt", "--vtlp", "2")
    assert result.exit_code == 2 and "--vtlp" in result.stderr and "Traceback" not in result.stderr
