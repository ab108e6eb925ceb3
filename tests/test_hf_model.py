"""Loading a local Hugging Face wav2vec2 CTC checkpoint: a tiny random one saved by the test."""

import json
import re

import pytest
import torch

from ctctool.errors import CtcToolError
from ctctool.models.hf import load_hf_model
from ctctool.models.loading import load_model
from ctctool.models.windowed import windowed_log_probs
from helpers import cuda_only, raises_exactly

transformers = pytest.importorskip("transformers", reason="transformers is not installed (pip install 'ctctool[hf]')")

CPU = torch.device("cpu")
TOKENS = {"<pad>": 0, "|": 1, "A": 2, "B": 3, "C": 4, "<unk>": 5}
KERNELS, STRIDES = (10, 3, 3), (5, 4, 4)  # 80 samples per frame, receptive field 10 + 2*5 + 2*20 = 60


def tiny_config(**overrides):
    settings = dict(
        vocab_size=len(TOKENS), pad_token_id=TOKENS["<pad>"], hidden_size=16, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=32, conv_dim=(8, 8, 8), conv_kernel=KERNELS,
        conv_stride=STRIDES, num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2,
    )
    return transformers.Wav2Vec2Config(**{**settings, **overrides})


def save_checkpoint(directory, *, pickled=False, do_normalize=True, config=None):
    """A randomly initialised Wav2Vec2ForCTC with its vocab.json and preprocessor_config.json."""
    torch.manual_seed(0)
    network = transformers.Wav2Vec2ForCTC(config or tiny_config()).eval()
    directory.mkdir(exist_ok=True)
    if pickled:
        network.config.save_pretrained(directory)
        torch.save(network.state_dict(), directory / "pytorch_model.bin")
    else:
        network.save_pretrained(directory)
    (directory / "vocab.json").write_text(json.dumps(TOKENS), encoding="utf-8")
    extractor = transformers.Wav2Vec2FeatureExtractor(sampling_rate=16000, do_normalize=do_normalize)
    extractor.save_pretrained(directory)
    return network, extractor


def direct_log_probs(network, extractor, waveform):
    """transformers alone: its feature extractor, then the network, then log_softmax."""
    inputs = extractor(waveform.numpy(), sampling_rate=16000, return_tensors="pt").input_values
    with torch.no_grad():
        return torch.log_softmax(network(inputs).logits[0], dim=-1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-wav2vec2")
    network, extractor = save_checkpoint(directory)
    return directory, network, extractor


def waveform(samples=8000, seed=1):
    return 0.3 * torch.randn(samples, generator=torch.Generator().manual_seed(seed)) + 0.05


def test_log_probs_match_transformers(checkpoint):
    directory, network, extractor = checkpoint
    model = load_model(str(directory), CPU)
    audio = waveform()
    log_probs = model.log_probs(audio)
    expected_frames = int(network._get_feat_extract_output_lengths(torch.tensor(audio.numel())))
    assert expected_frames == (audio.numel() - 60) // 80 + 1  # the conv arithmetic by hand
    assert log_probs.shape == (expected_frames, len(TOKENS)) and log_probs.dtype == torch.float32
    torch.testing.assert_close(log_probs.logsumexp(dim=-1), torch.zeros(expected_frames), rtol=0, atol=1e-5)
    torch.testing.assert_close(log_probs, direct_log_probs(network, extractor, audio), rtol=0, atol=1e-5)


def test_vocabulary_blank_and_timing(checkpoint):
    directory, _, _ = checkpoint
    model = load_hf_model(directory, CPU)
    assert model.vocab.tokens == tuple(TOKENS)
    assert model.vocab.blank == 0 and model.vocab.word_delimiter == "|"
    assert model.vocab.encode("AB CA") == [2, 3, 1, 4, 2]
    assert model.sample_rate == 16000 and model.normalize
    assert model.frame_shift == pytest.approx(80 / 16000)
    assert model.frame_offset == pytest.approx((60 - 80) / 2 / 16000)
    assert model.name == directory.name and not model.module.training


def test_pad_token_id_sets_the_blank(tmp_path):
    tokens_last_pad = {"|": 0, "A": 1, "B": 2, "C": 3, "<unk>": 4, "<pad>": 5}
    save_checkpoint(tmp_path, config=tiny_config(pad_token_id=5))
    (tmp_path / "vocab.json").write_text(json.dumps(tokens_last_pad), encoding="utf-8")
    assert load_hf_model(tmp_path, CPU).vocab.blank == 5


def test_pickled_weights_load_the_same(tmp_path, checkpoint):
    network, extractor = save_checkpoint(tmp_path, pickled=True)
    assert not (tmp_path / "model.safetensors").exists()
    audio = waveform(5000, seed=2)
    torch.testing.assert_close(
        load_hf_model(tmp_path, CPU).log_probs(audio), direct_log_probs(network, extractor, audio), rtol=0, atol=1e-5
    )


def test_half_precision_weights_run_in_float32(tmp_path):
    network, extractor = save_checkpoint(tmp_path)
    network.half().save_pretrained(tmp_path)
    model = load_hf_model(tmp_path, CPU)
    assert next(model.module.parameters()).dtype == torch.float32
    audio = waveform(3000)
    expected = direct_log_probs(network.float(), extractor, audio)
    torch.testing.assert_close(model.log_probs(audio), expected, rtol=0, atol=1e-5)


def test_without_normalisation_the_raw_waveform_goes_in(tmp_path):
    network, extractor = save_checkpoint(tmp_path, do_normalize=False)
    model = load_hf_model(tmp_path, CPU)
    audio = waveform(4000, seed=3)
    assert not model.normalize
    with torch.no_grad():
        expected = torch.log_softmax(network(audio[None]).logits[0], dim=-1)
    torch.testing.assert_close(model.log_probs(audio), expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(model.log_probs(audio), direct_log_probs(network, extractor, audio), rtol=0, atol=1e-5)


def test_windowed_frame_count_matches_a_single_pass(checkpoint):
    directory, _, _ = checkpoint
    model = load_hf_model(directory, CPU)
    audio = waveform(16000 * 3 + 123)
    stitched = windowed_log_probs(model, audio, window_seconds=1.0, overlap_seconds=0.25)
    assert stitched.shape == model.log_probs(audio).shape


@cuda_only
def test_log_probs_on_cuda_match_cpu(checkpoint):
    directory, _, _ = checkpoint
    audio = waveform()
    on_gpu = load_hf_model(directory, torch.device("cuda")).log_probs(audio)
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), load_hf_model(directory, CPU).log_probs(audio), rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    "missing,named",
    [(name, name) for name in ("config.json", "vocab.json", "preprocessor_config.json")]
    + [("model.safetensors", "model.safetensors or pytorch_model.bin")],
)
def test_missing_files(tmp_path, missing, named):
    save_checkpoint(tmp_path)
    (tmp_path / missing).unlink()
    message = (
        f"{tmp_path}: no {named}; expected a Hugging Face CTC checkpoint directory with config.json, "
        "vocab.json, preprocessor_config.json and model.safetensors or pytorch_model.bin"
    )
    with raises_exactly(message):
        load_hf_model(tmp_path, CPU)


def test_vocabulary_must_match_the_output_classes(tmp_path):
    save_checkpoint(tmp_path)
    (tmp_path / "vocab.json").write_text(json.dumps({"<pad>": 0, "|": 1, "A": 2}), encoding="utf-8")
    message = (
        f"{tmp_path}/vocab.json: 3 tokens but config.json has vocab_size 6; "
        "the model's output classes must match the vocabulary"
    )
    with raises_exactly(message):
        load_hf_model(tmp_path, CPU)


def test_a_model_without_a_ctc_head(tmp_path):
    save_checkpoint(tmp_path)
    transformers.BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2).save_pretrained(tmp_path)
    message = (
        f"{tmp_path}/config.json: model_type 'bert' has no CTC head in transformers; expected a Hugging Face "
        "CTC checkpoint directory with config.json, vocab.json, preprocessor_config.json and "
        "model.safetensors or pytorch_model.bin"
    )
    with raises_exactly(message):
        load_hf_model(tmp_path, CPU)


def test_pickled_weights_are_loaded_without_running_code(tmp_path):
    save_checkpoint(tmp_path, pickled=True)
    torch.save({"weights": object()}, tmp_path / "pytorch_model.bin")  # needs a full unpickler
    message = (
        f"{tmp_path / 'pytorch_model.bin'}: not a weights-only PyTorch state dict (Weights only load failed); "
        "convert the checkpoint to model.safetensors"
    )
    with raises_exactly(message):
        load_hf_model(tmp_path, CPU)


def save_without(directory, ending):
    """A pickled checkpoint lacking the parameters whose names end with ``ending``."""
    network, extractor = save_checkpoint(directory, pickled=True)
    state = {k: v for k, v in network.state_dict().items() if not k.endswith(ending)}
    torch.save(state, directory / "pytorch_model.bin")
    return network, extractor


def test_a_checkpoint_without_its_ctc_head(tmp_path):
    save_without(tmp_path, "lm_head.weight")
    message = f"{tmp_path}/pytorch_model.bin: no weights for lm_head.weight; expected a checkpoint fine-tuned for CTC"
    with raises_exactly(message):
        load_hf_model(tmp_path, CPU)


def test_the_unused_spec_augment_mask_may_be_missing(tmp_path):
    network, extractor = save_without(tmp_path, "masked_spec_embed")
    audio = waveform(3000)
    expected = direct_log_probs(network, extractor, audio)
    torch.testing.assert_close(load_hf_model(tmp_path, CPU).log_probs(audio), expected, rtol=0, atol=1e-5)


def test_corrupt_safetensors(tmp_path):
    save_checkpoint(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CtcToolError, match=rf"^{re.escape(str(tmp_path))}/model.safetensors: cannot load the weights \("):
        load_hf_model(tmp_path, CPU)


def test_too_short_audio(checkpoint):
    model = load_hf_model(checkpoint[0], CPU)
    message = f"model {checkpoint[0].name}: audio of 59 samples is shorter than one frame (60 samples, 0.004 s at 16000 Hz)"
    with raises_exactly(message):
        model.log_probs(torch.zeros(59))


def test_without_transformers_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "transformers", None)  # import now raises ImportError
    message = f"{tmp_path}: loading a Hugging Face checkpoint needs transformers; pip install 'ctctool[hf]'"
    with raises_exactly(message):
        load_hf_model(tmp_path, CPU)
