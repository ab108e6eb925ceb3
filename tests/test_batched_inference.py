"""Padded batches through acoustic models (ctctool.models.batched): each item's log-probs equal the one-by-one
run's, to float rounding; long audio keeps today's windowing; models that cannot batch exactly go one by one."""

import json

import pytest
import soundfile
import torch

from ctctool.models.batched import batched_log_probs
from ctctool.models.loading import load_model
from ctctool.models.windowed import window_samples, windowed_log_probs
from helpers import cuda_only

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CPU = torch.device("cpu")
TOLERANCE = 1e-4  # nats; batched GEMMs round differently from one-row ones


def _speech():
    """The example recordings, and cuts of them from 0.3 s to 4 s: lengths that pad each other a lot."""
    waves = [torch.from_numpy(soundfile.read(p, dtype="float32")[0])
             for p in sorted((EXAMPLES / "speech" / "wavs").glob("*.wav")) + [EXAMPLES / "hello.wav"]]
    return waves + [waves[0][:4800], waves[1][:16000], waves[2][3000:67000], waves[3][:9000]]


@pytest.fixture(scope="module")
def default_model():
    return load_model("default", CPU)


def _assert_each_equal(batched, single, atol=TOLERANCE):
    assert len(batched) == len(single)
    for b, s in zip(batched, single):
        assert b.shape == s.shape and b.dtype == s.dtype == torch.float32
        torch.testing.assert_close(b, s, rtol=0, atol=atol)


def test_default_model_batch_equals_one_by_one(default_model):
    waves = _speech()
    single = [default_model.log_probs(w) for w in waves]
    _assert_each_equal(batched_log_probs(default_model, waves), single)
    _assert_each_equal(batched_log_probs(default_model, waves[::-1]), single[::-1])


def test_without_the_padding_mask_a_batch_leaks_into_shorter_items(default_model):
    """What the mask is for: BatchNorm's shift on the padding (through ReLU) reaches the last frames of a shorter
    utterance through the second convolution's kernel."""
    from ctctool.models.features import compute_features

    waves = _speech()[3:5]  # 4.6 s and 0.3 s
    feats = [compute_features(w, default_model.features) for w in waves]
    padded = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)
    lengths = torch.tensor([f.shape[0] for f in feats])
    with torch.no_grad():
        leaky, frames = default_model.network(padded, lengths)
        masked, _ = default_model.network(padded, lengths, mask_padding=True)
    short = default_model.log_probs(waves[1])
    assert float((leaky[1, :frames[1]] - short).abs().max()) > 0.01
    torch.testing.assert_close(masked[1, :frames[1]], short, rtol=0, atol=TOLERANCE)


def test_a_batch_of_one_is_exactly_the_windowed_run(default_model):
    wave = _speech()[0]
    assert torch.equal(batched_log_probs(default_model, [wave])[0], windowed_log_probs(default_model, wave))


def test_long_audio_keeps_its_windows_and_the_rest_is_batched(default_model):
    waves = _speech()
    long = torch.cat([waves[0]] * 8)  # 37 s: longer than one 30 s window
    assert long.numel() > window_samples(default_model)
    mixed = [waves[1], long, waves[4]]
    out = batched_log_probs(default_model, mixed)
    assert torch.equal(out[1], windowed_log_probs(default_model, long))
    _assert_each_equal([out[0], out[2]], [default_model.log_probs(waves[1]), default_model.log_probs(waves[4])])


def test_a_random_checkpoint_with_spectrogram_features_batches_too(tmp_path):
    from ctctool.models.checkpoint import checkpoint_payload, save_checkpoint
    from ctctool.models.ds2 import DeepSpeech2, model_config
    from ctctool.models.features import PRESET_FEATURES
    from ctctool.vocab import default_vocabulary

    torch.manual_seed(5)
    features = PRESET_FEATURES["spectrogram"]
    network = DeepSpeech2(model_config("tiny", features.bins, 31)).eval()
    for norm in (network.conv[1], network.conv[4]):  # trained-looking statistics, so the padding is not 0
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
        norm.bias.data.uniform_(-1, 1)
    save_checkpoint(tmp_path / "m.pt", checkpoint_payload(network, features, default_vocabulary()))
    model = load_model(str(tmp_path / "m.pt"), CPU)
    waves = _speech()
    _assert_each_equal(batched_log_probs(model, waves), [model.log_probs(w) for w in waves])


def test_a_model_without_batch_log_probs_goes_one_by_one(default_model):
    class Plain:
        def __init__(self, inner):
            self.inner = inner
            self.name, self.sample_rate, self.frame_shift = inner.name, inner.sample_rate, inner.frame_shift
            self.calls = 0

        def log_probs(self, waveform):
            self.calls += 1
            return self.inner.log_probs(waveform)

    plain = Plain(default_model)
    waves = _speech()[:3]
    out = batched_log_probs(plain, waves)
    assert plain.calls == 3 and all(torch.equal(o, default_model.log_probs(w)) for o, w in zip(out, waves))


# --- Hugging Face wav2vec2 ------------------------------------------------------------------------------------

TOKENS = {"<pad>": 0, "|": 1, "A": 2, "B": 3, "C": 4, "<unk>": 5}


def _wav2vec2(directory: Path, norm: str):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (the hf extra)")
    config = transformers.Wav2Vec2Config(
        vocab_size=len(TOKENS), pad_token_id=0, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, conv_dim=(8, 8, 8), conv_kernel=(10, 3, 3), conv_stride=(5, 4, 4),
        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, feat_extract_norm=norm,
        do_stable_layer_norm=norm == "layer")
    torch.manual_seed(0)
    transformers.Wav2Vec2ForCTC(config).eval().save_pretrained(directory)
    (directory / "vocab.json").write_text(json.dumps(TOKENS), encoding="utf-8")
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=16000, do_normalize=True).save_pretrained(directory)
    return load_model(str(directory), CPU)


def _noise():
    generator = torch.Generator().manual_seed(1)
    return [0.3 * torch.randn(n, generator=generator) + 0.05 for n in (8000, 1200, 5003, 16000, 40)]


def test_wav2vec2_with_layer_norm_batches_with_an_attention_mask(tmp_path):
    model = _wav2vec2(tmp_path, "layer")
    assert model.batchable
    waves = _noise()[:4]
    _assert_each_equal(batched_log_probs(model, waves), [model.log_probs(w) for w in waves], atol=1e-5)


def test_wav2vec2_with_group_norm_goes_one_by_one(tmp_path):
    """Its first convolution normalises over time, padding included: a batch would change every item."""
    model = _wav2vec2(tmp_path, "group")
    assert not model.batchable
    waves = _noise()[:4]
    out = batched_log_probs(model, waves)
    assert all(torch.equal(o, model.log_probs(w)) for o, w in zip(out, waves))


def test_wav2vec2_refuses_audio_shorter_than_a_frame_in_a_batch(tmp_path):
    from ctctool.errors import CtcToolError

    model = _wav2vec2(tmp_path, "layer")
    with pytest.raises(CtcToolError, match="audio of 40 samples is shorter than one frame"):
        batched_log_probs(model, _noise())


@cuda_only
def test_cuda_batch_matches_the_cpu_batch():
    """cuDNN runs the convolutions in TF32 (torch's default, as users get it): on an H100 (2026-11-26) the
    log-probs were up to 4.8e-3 from the CPU's, on values down to -20 (a relative 1e-3, TF32's precision)."""
    waves = _speech()
    cpu = batched_log_probs(load_model("default", CPU), waves)
    cuda = batched_log_probs(load_model("default", torch.device("cuda")), waves)
    _assert_each_equal([c.cpu() for c in cuda], cpu, atol=1e-2)
