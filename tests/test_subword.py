"""Subword vocabularies (SentencePiece .model, tokenizer.json): classes, text <-> pieces, loss, alignment,
decoding with a word LM and hotwords, against the tokenizers themselves, torch and brute force."""

import io
import json
import math
import random

import numpy as np
import pytest
import torch

from ctctool import CtcToolError
from ctctool.alignment.pipeline import align_emissions
from ctctool.decoding.beam import beam_search
from ctctool.decoding.decoder import decode
from ctctool.io.tokenizer_file import load_tokenizer
from ctctool.kernels import beam_numba
from ctctool.lm.arpa import read_arpa
from ctctool.subword import WORD_START, PieceVocabulary
from helpers import cuda_only, run_cli
from oracles import TOY_ARPA, best_per_text, fused_scores

spm = pytest.importorskip("sentencepiece")
tokenizers = pytest.importorskip("tokenizers")

CORPUS = [
    "the cat sat on the mat", "a quick brown fox jumps over the lazy dog", "hello world this is a test",
    "the rain in spain stays mainly in the plain", "she sells sea shells by the sea shore",
    "peter piper picked a peck of pickled peppers", "how much wood would a woodchuck chuck",
]


def _train_sentencepiece(path, vocab_size=60, **options):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS * 5), model_writer=model, vocab_size=vocab_size,
                                   model_type="unigram", minloglevel=2, **options)
    path.write_bytes(model.getvalue())
    return path


@pytest.fixture(scope="module")
def sp_model(tmp_path_factory):
    return _train_sentencepiece(tmp_path_factory.mktemp("sp") / "tokenizer.model")


@pytest.fixture(scope="module")
def hf_tokenizer(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.train_from_iterator(CORPUS * 5, trainers.UnigramTrainer(vocab_size=50, special_tokens=["<unk>", "<pad>"],
                                                                       unk_token="<unk>"))
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    tokenizer.save(str(path))
    return path


# --- classes and text ---------------------------------------------------------------------------------------------

def test_sentencepiece_classes_are_the_pieces_then_the_blank(sp_model):
    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    vocab = load_tokenizer(sp_model)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    assert list(vocab.tokens) == [*pieces, "<blank>"]
    assert vocab.blank == len(pieces)


@pytest.mark.parametrize("sentence", CORPUS[:4] + ["the woodchuck sells peppers"])
def test_encoding_is_the_tokenizers_own(sp_model, hf_tokenizer, sentence):
    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    assert load_tokenizer(sp_model).encode(sentence) == processor.encode(sentence)
    reference = tokenizers.Tokenizer.from_file(str(hf_tokenizer))
    assert load_tokenizer(hf_tokenizer).encode(sentence) == reference.encode(sentence).ids


@pytest.mark.parametrize("sentence", CORPUS)
def test_decoding_detokenizes(sp_model, hf_tokenizer, sentence):
    for path in (sp_model, hf_tokenizer):
        vocab = load_tokenizer(path)
        ids = vocab.encode(sentence)
        assert WORD_START not in vocab.text_of(ids)
        assert vocab.text_of(ids) == sentence
    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    assert load_tokenizer(sp_model).text_of(processor.encode(sentence)) == processor.decode(processor.encode(sentence))


def test_blank_placement(tmp_path, sp_model, hf_tokenizer):
    icefall = _train_sentencepiece(tmp_path / "icefall.model", user_defined_symbols=["<blk>", "<sos/eos>"])
    vocab = load_tokenizer(icefall)
    assert vocab.tokens[vocab.blank] == "<blk>" and vocab.size == spm.SentencePieceProcessor(
        model_file=str(icefall)).get_piece_size()
    assert load_tokenizer(sp_model, blank=0).blank == 0  # <unk> made the blank
    assert load_tokenizer(sp_model, blank=60).size == 61
    hf = load_tokenizer(hf_tokenizer, classes=50)  # as many classes as pieces: the pad token (HF convention)
    assert hf.size == 50 and hf.tokens[hf.blank] == "<pad>"
    assert load_tokenizer(hf_tokenizer).size == 51


def test_bad_blanks(sp_model):
    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    text_piece = next(i for i in range(processor.get_piece_size()) if processor.id_to_piece(i).startswith(WORD_START))
    with pytest.raises(CtcToolError, match=f"`blank` {text_piece} is the text piece"):
        load_tokenizer(sp_model, blank=text_piece)
    with pytest.raises(CtcToolError, match="`blank` 99 is outside the 60 pieces plus an appended blank"):
        load_tokenizer(sp_model, blank=99)
    with pytest.raises(CtcToolError, match="as many as the tokenizer has pieces, and no piece is named"):
        load_tokenizer(sp_model, classes=60)


def test_characters_no_piece_holds(sp_model):
    vocab = load_tokenizer(sp_model)
    with pytest.raises(CtcToolError, match=r"^line 2: character 'Z' \(U\+005A\) is in no piece .* lowercase the text, or pass another `vocab`$"):
        vocab.encode("the Zoo", where="line 2")


def test_not_a_tokenizer(tmp_path):
    bad = tmp_path / "words.model"
    bad.write_text("hello\n")
    with pytest.raises(CtcToolError, match="words.model: not a SentencePiece model"):
        load_tokenizer(bad)
    bad_json = tmp_path / "tokenizer.json"
    bad_json.write_text('{"model": 3}')
    with pytest.raises(CtcToolError, match="tokenizer.json: not a Hugging Face tokenizer"):
        load_tokenizer(bad_json)


def test_a_character_tokenizer_is_refused(tmp_path):
    from tokenizers import Tokenizer, models

    path = tmp_path / "chars.json"
    Tokenizer(models.WordLevel({c: i for i, c in enumerate("<abc|")}, unk_token="<")).save(str(path))
    with pytest.raises(CtcToolError, match="no piece starts with '▁'"):
        load_tokenizer(path)


# --- loss and alignment -------------------------------------------------------------------------------------------

def test_loss_of_text_targets_equals_torch_on_the_piece_ids(tmp_path, sp_model):
    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    logits = torch.randn(2, 40, 61, generator=torch.Generator().manual_seed(0))
    np.save(tmp_path / "logits.npy", logits.numpy())
    lines = ["the cat sat", "hello world"]
    (tmp_path / "targets.txt").write_text("\n".join(lines) + "\n")
    result = run_cli("loss", tmp_path / "logits.npy", tmp_path / "targets.txt", "--tokenizer", sp_model,
                     "--reduction", "none", "--json")
    assert result.exit_code == 0, result.output
    losses = [u["loss"] for u in json.loads(result.stdout)["utterances"]]
    targets = [processor.encode(line) for line in lines]
    expected = torch.nn.functional.ctc_loss(
        logits.log_softmax(-1).transpose(0, 1), torch.tensor(sum(targets, [])), torch.tensor([40, 40]),
        torch.tensor([len(t) for t in targets]), blank=60, reduction="none")
    assert losses == pytest.approx(expected.tolist(), rel=1e-5)


def test_espnet_token_list_with_the_tokenizer_segmenting(tmp_path, sp_model):
    """ESPnet: the classes are a token list (<blank> first, <sos/eos> last); the tokenizer only segments text."""
    processor = spm.SentencePieceProcessor(model_file=str(sp_model))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    tokens = ["<blank>", "<unk>", *[p for p in pieces if not p.startswith("<")], "<sos/eos>"]
    (tmp_path / "tokens.txt").write_text("\n".join(tokens) + "\n")
    logits = torch.randn(1, 30, len(tokens), generator=torch.Generator().manual_seed(1))
    np.save(tmp_path / "logits.npy", logits[0].numpy())
    (tmp_path / "t.txt").write_text("the lazy dog\n")
    result = run_cli("loss", tmp_path / "logits.npy", tmp_path / "t.txt", "--tokenizer", sp_model, "--vocab",
                     tmp_path / "tokens.txt", "--json")
    assert result.exit_code == 0, result.output
    target = [tokens.index(p) for p in processor.encode("the lazy dog", out_type=str)]
    expected = torch.nn.functional.ctc_loss(logits.log_softmax(-1).transpose(0, 1), torch.tensor([target]),
                                            torch.tensor([30]), torch.tensor([len(target)]), blank=0, reduction="sum")
    assert json.loads(result.stdout)["utterances"][0]["loss"] == pytest.approx(float(expected), rel=1e-5)


def _planted(ids, blank, classes, repeat=3):
    """(T, C) log-probs: each label for ``repeat - 1`` frames then a blank frame."""
    lp = torch.full((len(ids) * repeat, classes), -12.0, dtype=torch.float64)
    for i, c in enumerate(ids):
        lp[i * repeat : (i + 1) * repeat - 1, c] = 0.0
        lp[(i + 1) * repeat - 1, blank] = 0.0
    return lp.log_softmax(-1)


def test_alignment_words_span_their_pieces(sp_model):
    vocab = load_tokenizer(sp_model)
    ids = vocab.encode("she sells sea shells")
    lp = _planted(ids, vocab.blank, vocab.size)
    result = align_emissions(lp, "She sells sea-shells!", vocab=vocab, frame_shift=0.04)
    pieces_per_word = [len(vocab.encode(w)) for w in ("she", "sells", "sea", "shells")]
    starts = np.cumsum([0, *pieces_per_word])
    assert [w.text for w in result.words] == ["She", "sells", "sea-shells!"]
    expected = [(starts[0] * 3, starts[1] * 3 - 1), (starts[1] * 3, starts[2] * 3 - 1), (starts[2] * 3, starts[4] * 3 - 1)]
    assert [(round(w.start / 0.04), round(w.end / 0.04)) for w in result.words] == expected


def test_align_cli_with_a_tokenizer(tmp_path, hf_tokenizer):
    vocab = load_tokenizer(hf_tokenizer, classes=50)
    lp = _planted(vocab.encode("the lazy dog"), vocab.blank, vocab.size).float()
    np.save(tmp_path / "emissions.npy", lp.numpy())
    (tmp_path / "t.txt").write_text("The lazy dog.\n")
    result = run_cli("align", "--emissions", tmp_path / "emissions.npy", "--tokenizer", hf_tokenizer,
                     "--frame-shift", "0.04", tmp_path / "t.txt")
    assert result.exit_code == 0, result.output
    words = json.loads(result.stdout)["words"]
    assert [w["word"] for w in words] == ["The", "lazy", "dog."]


# --- decoding -----------------------------------------------------------------------------------------------------

def test_greedy_decode_cli_detokenizes_and_times_words(tmp_path, sp_model):
    vocab = load_tokenizer(sp_model)
    ids = vocab.encode("peter picked peppers")
    np.save(tmp_path / "lp.npy", _planted(ids, vocab.blank, vocab.size).float().numpy())
    result = run_cli("decode", tmp_path / "lp.npy", "--tokenizer", sp_model, "--json", "--frame-shift", "0.04")
    assert result.exit_code == 0, result.output
    (utterance,) = json.loads(result.stdout)["utterances"]
    assert utterance["text"] == "peter picked peppers"
    counts = [len(vocab.encode(w)) for w in ("peter", "picked", "peppers")]
    starts = np.cumsum([0, *counts]) * 3
    assert [(w["word"], w["start_frame"], w["end_frame"]) for w in utterance["words"]] == [
        (word, int(starts[i]), int(starts[i + 1]) - 1) for i, word in enumerate(("peter", "picked", "peppers"))]


# A piece vocabulary small enough to enumerate: pieces "▁a", "▁b", "a", "b", "▁" and an appended blank (C = 6).
PIECES = PieceVocabulary(("▁a", "▁b", "a", "b", "▁", "<blank>"), blank=5, special=frozenset({"<blank>"}),
                         split=lambda word: ["▁" + word[0], *word[1:]])

@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    path = tmp_path_factory.mktemp("lm") / "lm.arpa"
    path.write_text(TOY_ARPA, encoding="utf-8")
    return read_arpa(path)


@pytest.mark.parametrize("seed", range(10))
def test_unpruned_piece_beam_with_lm_and_hotwords_equals_brute_force(lm, seed):
    """Words end where a ``▁`` piece starts one, whichever way the pieces spell them ("▁a" "b" or "▁ab")."""
    g = torch.Generator().manual_seed(seed)
    lp = (torch.randn(5, 6, generator=g, dtype=torch.float64) * 2).log_softmax(-1)
    alpha, beta, penalty = 0.7, 0.3 + 0.1 * seed, -0.5 * (seed % 3)
    hotwords = {"ab": 2.0, "b": 0.5} if seed % 2 else {}
    truth = fused_scores(lp.tolist(), PIECES, lm, alpha, beta, penalty, hotwords)
    ranked = best_per_text(truth, PIECES, 4)
    (hypotheses,) = beam_search(lp, beam_width=4096, nbest=4, blank=5, token_min_log_prob=-math.inf, vocab=PIECES,
                                lm=lm, alpha=alpha, beta=beta, oov_penalty=penalty, hotwords=hotwords)
    assert [h.text for h in hypotheses] == [PIECES.text_of(r) for r in ranked]
    assert [h.score for h in hypotheses] == pytest.approx([truth[r] for r in ranked], abs=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_the_pruning_bound_holds_for_every_piece(lm, seed):
    """What a label adds to a prefix's LM and hotword terms never exceeds the bound the kernel prunes with."""
    from ctctool.decoding.beam import compiled_lm
    from ctctool.decoding.hotwords import hotword_trie

    tables = compiled_lm(lm, PIECES).as_tuple()
    hot = hotword_trie({"ab": 2.0, "b a": 1.5, "aab": 4.0}, PIECES)
    symbols = PIECES.symbol_table()
    alpha, beta, penalty = 0.8, [-1.0, 0.0, 1.5][seed % 3], -2.0
    rng = random.Random(seed)
    ints = np.zeros((2, 7), dtype=np.int64)
    floats = np.zeros((2, 4))
    ints[0, beam_numba.STATE] = tables[13]
    for _ in range(12):
        before = beam_numba._bonus(ints, floats, 0, alpha, beta, penalty, hot)
        bound = max(beam_numba._letter_gain(ints, floats, 0, alpha, beta, tables, hot),
                    beam_numba._word_start_gain(ints, floats, 0, alpha, beta, hot, symbols[3]))
        for label in range(5):
            beam_numba._extend(ints, floats, 0, label, symbols, tables, hot, ints, floats, 1)
            gain = beam_numba._bonus(ints, floats, 1, alpha, beta, penalty, hot) - before
            assert gain <= bound + 1e-12, (label, gain, bound)
        label = rng.randrange(5)
        beam_numba._extend(ints, floats, 0, label, symbols, tables, hot, ints, floats, 1)
        ints[0], floats[0] = ints[1], floats[1]


def test_hotword_phrase_spelled_in_pieces_rescues_a_rare_word():
    """Frames say "▁b a" weakly against "▁a a"; the hotword "b a" (two words) tips it."""
    frames = [{"▁b": -0.9, "▁a": -0.6}, {"▁": -0.2}, {"a": -0.1}]
    lp = torch.full((3, 6), -9.0, dtype=torch.float64)
    for t, scores in enumerate(frames):
        for token, value in scores.items():
            lp[t, PIECES.id_of(token)] = value
    lp = lp.log_softmax(-1)
    plain = decode(lp, vocab=PIECES, beam_width=8)
    boosted = decode(lp, vocab=PIECES, beam_width=8, hotwords={"b a": 3.0})
    assert (plain.text, boosted.text) == ("a a", "b a")


def test_decode_cli_with_lm_and_hotword_on_sentencepiece(tmp_path, sp_model):
    vocab = load_tokenizer(sp_model)
    ids = vocab.encode("the lazy dog")
    lp = _planted(ids, vocab.blank, vocab.size).float()
    np.save(tmp_path / "lp.npy", lp.numpy())
    arpa = tmp_path / "words.arpa"
    arpa.write_text("\\data\\\nngram 1=5\n\n\\1-grams:\n-1.0\t<s>\n-1.0\t</s>\n-0.5\tthe\n-0.7\tlazy\n-0.7\tdog\n\n\\end\\\n")
    result = run_cli("decode", tmp_path / "lp.npy", "--tokenizer", sp_model, "--beam-width", "16", "--lm", arpa,
                     "--hotword", "lazy dog:2", "--json")
    assert result.exit_code == 0, result.output
    (utterance,) = json.loads(result.stdout)["utterances"]
    assert utterance["text"] == "the lazy dog"
    best = utterance["nbest"][0]
    lm = read_arpa(arpa)
    assert best["lm_score"] == pytest.approx(0.5 * lm.sentence_log10(["the", "lazy", "dog"]) * math.log(10) + 3.0)
    assert best["hotword_score"] == pytest.approx(2.0)


def test_cli_size_mismatch_names_the_tokenizer(tmp_path, sp_model):
    np.save(tmp_path / "lp.npy", np.zeros((4, 31), dtype=np.float32))
    (tmp_path / "t.txt").write_text("the cat\n")
    result = run_cli("loss", tmp_path / "lp.npy", tmp_path / "t.txt", "--tokenizer", sp_model)
    assert result.exit_code == 1
    assert "C=31 classes but the vocabulary has 61 tokens" in result.stderr
    assert "pieces with the blank make 61" in result.stderr


@cuda_only
def test_pieces_on_cuda_match_the_cpu(sp_model):
    vocab = load_tokenizer(sp_model)
    planted = _planted(vocab.encode("she sells sea shells"), vocab.blank, vocab.size, repeat=4)
    noise = torch.randn(planted.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    lp = (planted + noise).log_softmax(-1)
    for width in (1, 8):
        cpu, gpu = decode(lp, vocab=vocab, beam_width=width), decode(lp.cuda(), vocab=vocab, beam_width=width)
        assert gpu.text == cpu.text and gpu.score == pytest.approx(cpu.score, abs=1e-6)
    on_cpu = align_emissions(lp, "she sells sea shells", vocab=vocab, frame_shift=0.04)
    on_gpu = align_emissions(lp.cuda(), "she sells sea shells", vocab=vocab, frame_shift=0.04)
    assert [(w.start, w.end) for w in on_gpu.words] == [(w.start, w.end) for w in on_cpu.words]
