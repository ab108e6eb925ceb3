"""The library does the whole job: align_audio, align_emissions, decode and transcribe, checked against
independent routes (the synthesiser's word timings, brute force, the lower-level functions by hand)."""

import json
import math
from pathlib import Path

import pytest
import soundfile
import torch

import ctctool
from ctctool.alignment.timing import BoundaryCorrection, TimedSpan
from ctctool.decoding.options import ALPHA, BEAM_WIDTH, BETA, search_settings
from ctctool.vocab import Vocabulary, default_vocabulary
from helpers import raises_exactly, run_cli
from oracles import all_paths, collapse, logsumexp, path_log_prob

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HELLO = EXAMPLES / "hello.wav"
HELLO_TEXT = (EXAMPLES / "hello.txt").read_text(encoding="utf-8")
SPEECH = EXAMPLES / "speech"


@pytest.fixture(scope="module")
def model():
    return ctctool.load_model("default", torch.device("cpu"))


# -- align_audio / align_emissions ---------------------------------------------------------------------


def test_align_audio_matches_the_synthesiser_timings(model):
    result = ctctool.align_audio(str(HELLO), HELLO_TEXT, model)
    truth = json.loads((SPEECH / "timings" / "example_0001.json").read_text(encoding="utf-8"))
    assert [w.text for w in result.words] == HELLO_TEXT.split()
    errors = [abs(getattr(w, edge) - t[edge]) for w, t in zip(result.words, truth) for edge in ("start", "end")
              if t[f"{edge}_exact"]]
    assert len(errors) >= 20 and sum(errors) / len(errors) < 0.025


def test_align_audio_takes_a_waveform_at_any_rate_and_a_model_spec(model):
    samples, rate = soundfile.read(HELLO, dtype="float32")
    from_file = ctctool.align_audio(HELLO, HELLO_TEXT, model)
    from_waveform = ctctool.align_audio(torch.from_numpy(samples), HELLO_TEXT, "default", sample_rate=rate)
    assert from_waveform == from_file
    resampled = ctctool.resample(torch.from_numpy(samples), rate, 2 * rate)
    at_double_rate = ctctool.align_audio(resampled, HELLO_TEXT, model, sample_rate=2 * rate)
    assert max(abs(a.start - b.start) for a, b in zip(at_double_rate.words, from_file.words)) <= 0.021


def test_align_audio_is_what_the_cli_writes(model):
    cli = json.loads(run_cli("align", HELLO, EXAMPLES / "hello.txt").stdout)
    ours = ctctool.align_audio(HELLO, HELLO_TEXT, model)
    assert [(w["word"], w["start"], w["end"]) for w in cli["words"]] == [
        (w.text, round(w.start, 3), round(w.end, 3)) for w in ours.words]


def test_align_audio_applies_the_models_boundary_correction(model):
    """By hand: the same alignment without the shifts (its edges measured as the correction says), then
    BoundaryCorrection.apply."""
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    unshifted = BoundaryCorrection(edge_temperature=model.boundary_correction.edge_temperature)
    raw = ctctool.align_emissions(log_probs, HELLO_TEXT, vocab=model.vocab, frame_shift=model.frame_shift,
                                  frame_offset=model.frame_offset, correction=unshifted)
    corrected = ctctool.align_audio(HELLO, HELLO_TEXT, model)
    assert model.boundary_correction != BoundaryCorrection()
    assert corrected.words == model.boundary_correction.apply(raw.words)
    assert corrected.segments == model.boundary_correction.apply(raw.segments)


def test_align_emissions_with_the_model_equals_the_explicit_settings(model):
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    with_model = ctctool.align_emissions(log_probs, HELLO_TEXT, model=model)
    explicit = ctctool.align_emissions(log_probs, HELLO_TEXT, vocab=model.vocab, frame_shift=model.frame_shift,
                                       frame_offset=model.frame_offset, correction=model.boundary_correction,
                                       name=model.name)
    assert with_model == explicit


def test_align_emissions_takes_logits(model):
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    logits = log_probs * 1.0 + 3.0  # a row shift: the same log-probs after log_softmax
    a = ctctool.align_emissions(log_probs, HELLO_TEXT, model=model)
    b = ctctool.align_emissions(logits, HELLO_TEXT, model=model, input_kind="logits")
    # the same edges, to float rounding (the expected edges sum posteriors of the renormalised log-probs)
    edges_a = [t for w in a.words for t in (w.start, w.end)]
    assert edges_a == pytest.approx([t for w in b.words for t in (w.start, w.end)], abs=1e-9)


def test_align_emissions_errors_name_the_parameters(model):
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    with raises_exactly("`frame_shift` None: expected the seconds between frames (> 0), e.g. 0.02"):
        ctctool.align_emissions(log_probs, HELLO_TEXT, vocab=model.vocab)
    with raises_exactly("`model` brings its vocabulary, frame timing, boundary correction and name: leave "
                        "`frame_shift`, `name` out"):
        ctctool.align_emissions(log_probs, HELLO_TEXT, model=model, frame_shift=0.02, name="x")
    with raises_exactly("`min_confidence` nan: expected a number from 0 to 1"):
        ctctool.align_emissions(log_probs, HELLO_TEXT, model=model, min_confidence=math.nan)
    with raises_exactly("`emissions` have C=31 classes but the vocabulary has 4 tokens; pass `vocab` with one "
                        "token per class"):
        ctctool.align_emissions(log_probs, HELLO_TEXT, vocab=Vocabulary(("<b>", "a", "b", " ")), frame_shift=0.02)


def test_a_model_without_the_interface_is_named():
    class Half:
        vocab = default_vocabulary()

    with raises_exactly("`model`: expected a model spec or an acoustic model (see ctctool.AcousticModel); Half has "
                        "no sample_rate, frame_shift, frame_offset, boundary_correction, log_probs"):
        ctctool.align_audio(HELLO, HELLO_TEXT, Half())


# -- decode ---------------------------------------------------------------------------------------------------


def _brute_force_best(log_probs):
    """(label sequence, ln P) of the most probable label sequence: every frame path, summed per sequence."""
    T, C = log_probs.shape
    totals = {}
    for path in all_paths(T, C):
        totals.setdefault(collapse(path), []).append(path_log_prob(log_probs.tolist(), path))
    scored = {labels: logsumexp(values) for labels, values in totals.items()}
    best = max(scored, key=scored.get)
    return best, scored[best]


def test_greedy_decode_scores_its_labels_over_all_their_paths():
    g = torch.Generator().manual_seed(1)
    log_probs = (torch.randn(6, 3, generator=g, dtype=torch.float64) * 2).log_softmax(-1)
    result = ctctool.decode(log_probs, vocab=Vocabulary(("<b>", "a", "b")))
    totals = [path_log_prob(log_probs.tolist(), p) for p in all_paths(6, 3) if collapse(p) == result.labels]
    assert result.score == pytest.approx(logsumexp(totals), rel=1e-12)
    assert result.hypotheses[0].acoustic_score == result.score and len(result.hypotheses) == 1


def test_unpruned_beam_finds_the_most_probable_text():
    g = torch.Generator().manual_seed(2)
    log_probs = (torch.randn(6, 3, generator=g, dtype=torch.float64) * 1.5).log_softmax(-1)
    best, score = _brute_force_best(log_probs)
    result = ctctool.decode(log_probs, vocab=Vocabulary(("<b>", "a", "b")), beam_width=64,
                            token_min_log_prob=-math.inf)
    assert result.labels == best and result.score == pytest.approx(score, rel=1e-9)


def test_decode_batch_equals_each_utterance_and_time_major_on_request():
    g = torch.Generator().manual_seed(3)
    batch = torch.randn(3, 40, 31, generator=g).log_softmax(-1)
    singles = [ctctool.decode(batch[b]) for b in range(3)]
    assert ctctool.decode(batch) == tuple(singles)
    assert ctctool.decode(batch.transpose(0, 1), time_major=True) == tuple(singles)
    lengths = [40, 25, 10]
    cut = ctctool.decode(batch, input_lengths=lengths)
    assert [d.text for d in cut] == [ctctool.decode(batch[b, :n]).text for b, n in enumerate(lengths)]


def test_decode_words_come_from_the_forced_alignment_of_the_text(model):
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    result = ctctool.decode(log_probs, vocab=model.vocab, frame_shift=0.02, frame_offset=0.01)
    spans = ctctool.word_frames(log_probs, list(result.labels), model.vocab)
    assert [(w.text, w.start_frame, w.end_frame) for w in result.words] == [(s.word, s.start, s.end) for s in spans]
    assert [(w.start, w.end) for w in result.words] == [(s.start * 0.02 + 0.01, s.end * 0.02 + 0.01) for s in spans]
    assert " ".join(w.text for w in result.words) == result.text


def test_decode_with_an_lm_is_the_beam_search_with_the_defaults(model):
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    lm = ctctool.load_language_model(Path(ctctool.__file__).parent / "models" / "default_en.arpa.gz")
    result = ctctool.decode(log_probs, vocab=model.vocab, lm=lm, nbest=3)
    by_hand = ctctool.beam_search(log_probs, beam_width=BEAM_WIDTH, nbest=3, vocab=model.vocab, lm=lm, alpha=ALPHA,
                                  beta=BETA)[0]
    assert result.hypotheses == by_hand
    assert result.text == by_hand[0].text == model.vocab.text_of(by_hand[0].labels)


def test_decode_takes_logits_and_probs():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(30, 31, generator=g, dtype=torch.float64)
    expected = ctctool.decode(logits.log_softmax(-1))
    assert ctctool.decode(logits, input_kind="logits") == expected
    assert ctctool.decode(logits.softmax(-1), input_kind="probs").text == expected.text


def test_decode_errors_name_the_parameters():
    log_probs = torch.zeros(5, 31).log_softmax(-1)
    with raises_exactly("`alpha` weighs a language model, and there is none: pass `lm`, or leave `alpha` out"):
        ctctool.decode(log_probs, alpha=0.5)
    with raises_exactly("`beta` inf: expected a finite number"):
        ctctool.decode(log_probs, beta=math.inf)
    with raises_exactly("`token_min_log_prob` nan: expected a log-probability <= 0 (-inf turns the pruning off)"):
        ctctool.decode(log_probs, token_min_log_prob=math.nan)
    with raises_exactly("`blank` 3 differs from the vocabulary's blank id 0; leave `blank` out"):
        ctctool.decode(log_probs, vocab=default_vocabulary(), blank=3)


@pytest.mark.parametrize("request_, expected", [
    ({}, (True, 1, 0.0, 0.0)),
    ({"beam_width": 8}, (False, 8, 0.0, 0.0)),
    ({"nbest": 3}, (False, BEAM_WIDTH, 0.0, 0.0)),
    ({"beta": 0.5}, (False, BEAM_WIDTH, 0.0, 0.5)),
    ({"has_lm": True}, (False, BEAM_WIDTH, ALPHA, BETA)),
    ({"has_lm": True, "alpha": 0.1, "beta": 0.0, "beam_width": 4}, (False, 4, 0.1, 0.0)),
    ({"has_hotwords": True}, (False, BEAM_WIDTH, 0.0, 0.0)),
])
def test_search_settings_rule(request_, expected):
    settings = search_settings(**{"has_lm": False, "has_hotwords": False, **request_})
    assert (settings.greedy, settings.beam_width, settings.alpha, settings.beta) == expected


# -- transcribe ------------------------------------------------------------------------------------------------


def test_transcribe_is_what_the_cli_prints(model):
    wavs = sorted((SPEECH / "wavs").glob("*.wav"))
    cli = run_cli("transcribe", *wavs, "--keyed").stdout.splitlines()
    ours = [f"{wav.stem} {ctctool.transcribe(wav, model).text}" for wav in wavs]
    assert ours == cli


def test_transcribe_words_carry_the_boundary_correction(model):
    result = ctctool.transcribe(HELLO, model, lm="none")
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    plain = ctctool.decode(log_probs, vocab=model.vocab, frame_shift=model.frame_shift,
                           frame_offset=model.frame_offset, blank_penalty=model.blank_penalty)
    assert result.text == plain.text
    # the built-in model's correction is fitted on expected edges: the words are timed as an alignment of the
    # decoded text times them, edges and shifts alike
    assert model.boundary_correction.edge_temperature > 0
    aligned = ctctool.align_emissions(log_probs, result.text, model=model)
    assert [w.text for w in aligned.words] == [w.text for w in result.words]
    assert [t for w in result.words for t in (w.start, w.end)] == pytest.approx(
        [t for w in aligned.words for t in (w.start, w.end)], abs=1e-9)
    # best-path frame edges (no temperature) with the same shifts are a different, wrong, answer
    hard = BoundaryCorrection.from_dict({**model.boundary_correction.as_dict(), "word_edge_temperature": 0.0})
    by_hand = hard.apply(tuple(TimedSpan(w.text, w.start, w.end, None) for w in plain.words))
    assert [(w.start, w.end) for w in result.words] != [(s.start, s.end) for s in by_hand]


def test_transcribe_lm_auto_means_the_default_models_lm_only_with_the_default_model(model):
    samples, rate = soundfile.read(HELLO, dtype="float32")
    waveform = torch.from_numpy(samples)
    auto = ctctool.transcribe(waveform, model, sample_rate=rate, lm="auto")
    default = ctctool.transcribe(waveform, model, sample_rate=rate, lm="default")
    assert auto == default
    assert auto.hypotheses[0].lm_score != 0.0


def test_transcribe_uses_no_lm_unless_asked(model):
    """No LM is applied to user audio by default: the result is the greedy path's (with the model's blank
    penalty off the blank's log-prob)."""
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    by_default = ctctool.transcribe(HELLO, model)
    assert all(h.lm_score == 0.0 for h in by_default.hypotheses)
    penalised = log_probs.clone()
    penalised[:, model.vocab.blank] -= model.blank_penalty
    greedy = penalised.argmax(-1).tolist()
    collapsed = [c for i, c in enumerate(greedy) if c != model.vocab.blank and (i == 0 or c != greedy[i - 1])]
    assert by_default.text == model.vocab.decode(collapsed).strip()


def test_cli_maps_parameter_mentions_to_flags():
    from ctctool.cli._common import as_flags

    flags = {"zero_infinity": "--zero-infinity", "input_kind": "--input-kind", "blank": "--blank",
             "scores": "scores", "fmt=keyed": "--keyed"}
    message = ("pass `zero_infinity=True`, `input_kind=logits`, `input_kind='probs'`, a valid `blank`, "
               "`fmt=keyed`; `scores` hold `other=3`")
    assert as_flags(message, flags) == ("pass --zero-infinity, --input-kind logits, --input-kind probs, a valid "
                                        "--blank, --keyed; scores hold other=3")


def test_transcribe_lm_auto_is_none_for_another_model(tmp_path):
    """The same weights loaded from a file are not 'the default model': auto uses no LM there."""
    import shutil

    copy = tmp_path / "mine.pt"
    shutil.copy(Path(ctctool.__file__).parent / "models" / "default_en.pt", copy)
    result = ctctool.transcribe(HELLO, str(copy), lm="auto")
    assert all(h.lm_score == 0.0 for h in result.hypotheses)
    assert result == ctctool.transcribe(HELLO, str(copy), lm="none")


def test_decode_refuses_what_it_cannot_use():
    log_probs = torch.zeros(5, 31).log_softmax(-1)
    with raises_exactly("`lm`: expected an n-gram model (ctctool.load_language_model reads a file), found str"):
        ctctool.decode(log_probs, lm="default")
    with raises_exactly("`blank` 1.5 is outside the 31 classes (ids 0 to 30)"):
        ctctool.decode(log_probs, blank=1.5)
    with raises_exactly("`frame_shift` inf: expected seconds per frame > 0"):
        ctctool.decode(log_probs, frame_shift=math.inf)
    with raises_exactly("`frame_offset` nan: expected a finite number of seconds"):
        ctctool.decode(log_probs, frame_shift=0.02, frame_offset=math.nan)


def test_alignment_errors_name_the_emissions(model):
    log_probs, _ = ctctool.audio_log_probs(model, HELLO)
    # by hand: 71 letters and 13 spaces; "ff" in office and "ll" in cellar are the repeats
    with raises_exactly("utterance 0: 84 labels with 2 repeats need >= 86 frames; there are 10 in `emissions`"):
        ctctool.align_emissions(log_probs[:10], HELLO_TEXT, model=model)
