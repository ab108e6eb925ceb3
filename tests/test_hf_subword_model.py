"""Loading a Hugging Face Parakeet CTC checkpoint (subword tokenizer.json, log-mel input): a tiny random one.

The checkpoint is laid out as transformers 5 saves one (model.safetensors, config.json, and a processor's
tokenizer.json, tokenizer_config.json and processor_config.json); its tokenizer is a BPE with the ``▁``
word-start marker trained here on a few sentences, with ``<pad>`` appended as the blank, as transformers'
NeMo conversion does for CTC. Every check compares ctctool with transformers run directly.
"""

import json

import numpy as np
import pytest
import torch

from ctctool.models.hf import load_hf_model
from ctctool.models.loading import load_model
from ctctool.models.windowed import windowed_log_probs
from helpers import cuda_only, raises_exactly, run_cli

transformers = pytest.importorskip("transformers", reason="transformers is not installed (pip install 'ctctool[hf]')")
pytest.importorskip("tokenizers", reason="tokenizers is not installed (pip install 'ctctool[subword]')")
soundfile = pytest.importorskip("soundfile")

CPU = torch.device("cpu")
SENTENCES = ("the cat sat on the mat", "a dog ran in the park", "hello world this is a test",
             "speech to text with subwords", "the dog and the cat")
HOP, FACTOR, RATE = 160, 8, 16000  # the extractor's hop, the encoder's subsampling: 0.08 s per frame


def tiny_tokenizer():
    """A ParakeetTokenizer: BPE pieces (``<unk>`` first) with Metaspace, then ``<pad>`` added as the last id."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    backend.train_from_iterator(SENTENCES * 4, trainers.BpeTrainer(vocab_size=48, special_tokens=["<unk>"],
                                                                   show_progress=False))
    tokenizer = transformers.ParakeetTokenizer(tokenizer_object=backend, clean_up_tokenization_spaces=False)
    pad = AddedToken("<pad>", normalized=False, special=True)
    tokenizer.add_tokens([pad])
    tokenizer.add_special_tokens({"pad_token": pad, "unk_token": AddedToken("<unk>", normalized=False, special=True)})
    return tokenizer


def save_checkpoint(directory, *, separate=False):
    """A randomly initialised ParakeetForCTC saved with its processor (``separate``: the feature extractor's
    preprocessor_config.json and the tokenizer's files saved on their own instead)."""
    tokenizer = tiny_tokenizer()
    encoder = transformers.ParakeetEncoderConfig(
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, conv_kernel_size=3,
        subsampling_conv_channels=4, num_mel_bins=16, subsampling_factor=FACTOR,
        initializer_range=0.5)  # large weights: a spread of pieces along the greedy path, clear of near-ties
    config = transformers.ParakeetCTCConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                                            encoder_config=encoder.to_dict())
    torch.manual_seed(0)
    network = transformers.ParakeetForCTC(config).eval()
    with torch.no_grad():  # as from a trained model, <unk> never wins
        network.ctc_head.bias[tokenizer.unk_token_id] = -100
    extractor = transformers.ParakeetFeatureExtractor(feature_size=16, hop_length=HOP, sampling_rate=RATE)
    directory.mkdir(exist_ok=True)
    network.save_pretrained(directory)
    if separate:
        extractor.save_pretrained(directory)
        tokenizer.save_pretrained(directory)
    else:
        transformers.ParakeetProcessor(feature_extractor=extractor, tokenizer=tokenizer,
                                       decoder_type="ctc").save_pretrained(directory)
    return network, extractor, tokenizer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny-parakeet")
    return (directory, *save_checkpoint(directory))


@pytest.fixture(scope="module")
def model(checkpoint):
    return load_hf_model(checkpoint[0], CPU)


def waveform(samples=24000, seed=1):
    return 0.3 * torch.randn(samples, generator=torch.Generator().manual_seed(seed))


def direct(network, extractor, audio):
    """transformers alone: its feature extractor, the network, log_softmax, then the frames its mask keeps."""
    inputs = extractor(audio.numpy(), sampling_rate=RATE, return_tensors="pt")
    with torch.no_grad():
        logits = network(**inputs).logits[0]
    frames = int(network._get_output_attention_mask(inputs.attention_mask, target_length=logits.shape[0]).sum())
    return torch.log_softmax(logits, dim=-1)[:frames], logits.shape[0]


def greedy_ids(log_probs):
    return [int(i) for i in log_probs.argmax(dim=-1)]


def test_log_probs_match_transformers(checkpoint):
    directory, network, extractor, _ = checkpoint
    model = load_model(str(directory), CPU)
    audio = waveform()
    log_probs = model.log_probs(audio)
    expected, _ = direct(network, extractor, audio)
    assert log_probs.shape == (24000 // HOP // FACTOR + 1, network.config.vocab_size) and log_probs.dtype == torch.float32
    torch.testing.assert_close(log_probs, expected, rtol=0, atol=1e-5)
    assert not model.module.training and model.name == directory.name


def test_vocabulary_is_the_tokenizer_with_the_pad_token_as_blank(checkpoint, model):
    directory, network, extractor, tokenizer = checkpoint
    vocab = model.vocab
    assert vocab.tokens == tuple(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))))
    assert vocab.blank == network.config.pad_token_id == len(tokenizer) - 1 and vocab.tokens[vocab.blank] == "<pad>"
    assert vocab.encode("the cat") == tokenizer("the cat", add_special_tokens=False)["input_ids"]


def test_greedy_text_matches_the_tokenizers_ctc_decoding(checkpoint, model):
    directory, network, extractor, tokenizer = checkpoint
    audio = waveform(24000, seed=7)
    ids = greedy_ids(model.log_probs(audio))
    labels = [i for k, i in enumerate(ids) if i != model.vocab.blank and (k == 0 or ids[k - 1] != i)]
    assert len(set(labels)) >= 4 and any(model.vocab.tokens[i].startswith("\u2581") for i in labels[1:])
    expected = tokenizer.decode(greedy_ids(direct(network, extractor, audio)[0]))  # groups repeats, drops <pad>
    assert model.vocab.text_of(labels) == expected.strip() != ""
    processor = transformers.AutoProcessor.from_pretrained(directory, local_files_only=True)
    assert processor.batch_decode([ids]) == [expected]


@pytest.mark.parametrize("samples", [24000, 25600, 16000 + 37, 320])
def test_frames_per_sample_count(checkpoint, model, samples):
    """T = ceil(valid mel frames / 8), valid mel frames = samples // hop; the extractor's extra frame is dropped."""
    directory, network, extractor, _ = checkpoint
    _, computed = direct(network, extractor, waveform(samples))
    frames = model.log_probs(waveform(samples)).shape[0]
    assert frames == -(-(samples // HOP) // FACTOR) == model.front_end.frames(samples)
    assert computed == frames + (samples // HOP % FACTOR == 0)  # 25600: 160 mel frames + 1 padding, 21 computed


def test_timing(model):
    assert model.sample_rate == RATE and model.frame_shift == pytest.approx(HOP * FACTOR / RATE) == 0.08
    assert model.frame_offset == pytest.approx(-0.04)  # frame t centred on t * 0.08 s, as its centred convolutions
    assert model.min_samples == 2 * HOP


def test_too_short_audio(model):
    message = f"model {model.name}: audio of 319 samples is shorter than one frame (320 samples, 0.020 s at 16000 Hz)"
    with raises_exactly(message):
        model.log_probs(torch.zeros(319))


def test_extractor_and_tokenizer_saved_on_their_own_load_the_same(tmp_path, checkpoint):
    network, extractor, _ = save_checkpoint(tmp_path, separate=True)
    assert (tmp_path / "preprocessor_config.json").is_file() and not (tmp_path / "processor_config.json").exists()
    audio = waveform(20000, seed=2)
    torch.testing.assert_close(load_hf_model(tmp_path, CPU).log_probs(audio), direct(network, extractor, audio)[0],
                               rtol=0, atol=1e-5)


def test_windowed_frame_count_matches_a_single_pass(model):
    audio = waveform(16000 * 2 + 123)
    stitched = windowed_log_probs(model, audio, window_seconds=0.8, overlap_seconds=0.24)
    assert stitched.shape == model.log_probs(audio).shape


@cuda_only
def test_log_probs_on_cuda_match_cpu(checkpoint, model, monkeypatch):
    """In full float32: cuDNN's TF32 convolutions (torch's default) differ from the CPU by ~1e-2 on this
    model's large random weights, which says nothing of ctctool's code path."""
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    audio = waveform()
    on_gpu = load_hf_model(checkpoint[0], torch.device("cuda")).log_probs(audio)
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), model.log_probs(audio), rtol=0, atol=1e-4)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """1.5 s of noise at 16 kHz as a float WAV (read back exactly), and a transcript of the tokenizer's words."""
    folder = tmp_path_factory.mktemp("audio")
    soundfile.write(folder / "noise.wav", waveform(24000, seed=7).numpy(), RATE, subtype="FLOAT")
    (folder / "noise.txt").write_text("the cat sat on the mat\n", encoding="utf-8")
    return folder / "noise.wav", folder / "noise.txt"


def test_cli_transcribe_prints_the_greedy_text(checkpoint, speech):
    directory, network, extractor, tokenizer = checkpoint
    audio = torch.from_numpy(soundfile.read(speech[0], dtype="float32")[0])
    expected = tokenizer.decode(greedy_ids(direct(network, extractor, audio)[0])).strip()
    result = run_cli("transcribe", speech[0], "--model", directory, "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{expected}\n" and expected != ""


def test_cli_align_times_every_word(checkpoint, speech):
    result = run_cli("align", *speech, "--model", checkpoint[0], "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    words = payload["words"]
    assert [w["word"] for w in words] == "the cat sat on the mat".split()
    assert payload["frame_shift"] == 0.08 and payload["duration"] == pytest.approx(19 * 0.08)  # 19 frames
    edges = [t for w in words for t in (w["start"], w["end"])]
    assert edges == sorted(edges) and -0.04 <= edges[0] and edges[-1] <= 19 * 0.08 - 0.04  # frame 0 starts at -0.04 s


@pytest.fixture(scope="module")
def hub_home(tmp_path_factory):
    """An HF_HOME whose hub cache holds tiny-org/tiny-parakeet at the main branch."""
    from test_hub_models import COMMIT

    home = tmp_path_factory.mktemp("hf-home")
    repo = home / "hub" / "models--tiny-org--tiny-parakeet"
    (repo / "snapshots").mkdir(parents=True)
    save_checkpoint(repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    return home, repo / "snapshots" / COMMIT


def test_a_hub_id_resolves_through_the_cache(hub_home, speech, tmp_path):
    pytest.importorskip("huggingface_hub")
    from test_hub_models import run_offline

    home, snapshot = hub_home
    done = run_offline(home, "emissions", speech[0], "-o", tmp_path / "e.npy", "--model", "tiny-org/tiny-parakeet",
                       "--device", "cpu")
    assert done.returncode == 0, done.stderr
    audio = torch.from_numpy(soundfile.read(speech[0], dtype="float32")[0])
    expected = load_hf_model(snapshot, CPU).log_probs(audio)
    np.testing.assert_allclose(np.load(tmp_path / "e.npy"), expected.numpy(), atol=1e-5)


def test_without_tokenizer_json(tmp_path):
    save_checkpoint(tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    message = (f"{tmp_path}: no tokenizer.json; expected a Hugging Face Parakeet CTC checkpoint directory with "
               "config.json, tokenizer.json, preprocessor_config.json or processor_config.json, and "
               "model.safetensors or pytorch_model.bin")
    with raises_exactly(message):
        load_model(str(tmp_path), CPU)


def test_tokenizer_must_match_the_output_classes(tmp_path):
    network, _, _ = save_checkpoint(tmp_path)
    classes = network.config.vocab_size
    network.config.vocab_size = classes + 1  # one more output than the tokenizer's pieces, <pad> the blank
    network.config.save_pretrained(tmp_path)
    message = (f"{tmp_path}/tokenizer.json: {classes} classes (pieces and the blank) but config.json has "
               f"vocab_size {classes + 1}; the model's output classes must match the vocabulary")
    with raises_exactly(message):
        load_hf_model(tmp_path, CPU)


def test_a_feature_extractor_needing_a_missing_package_is_one_line(checkpoint, monkeypatch):
    """transformers 5.17's ParakeetFeatureExtractor needs librosa: its ImportError becomes one line."""
    def needs_librosa(*args, **kwargs):
        raise ImportError("\nParakeetFeatureExtractor requires the librosa library. But that was not found in your "
                          "environment. You can install them with pip:\n`pip install librosa`")

    monkeypatch.setattr(transformers.AutoFeatureExtractor, "from_pretrained", needs_librosa)
    message = (f"{checkpoint[0]}: transformers cannot build the feature extractor (ParakeetFeatureExtractor "
               "requires the librosa library); install what it names")
    with raises_exactly(message):
        load_hf_model(checkpoint[0], CPU)
