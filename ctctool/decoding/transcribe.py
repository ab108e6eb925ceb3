"""``transcribe``: audio to text with an acoustic model, decoded by ``decode`` (word times in seconds)."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from ctctool.alignment.timing import SpanTimes, TimedSpan
from ctctool.decoding.decoder import DecodedWord, Decoding, decode
from ctctool.decoding.options import OOV_PENALTY, TOKEN_MIN_LOG_PROB
from ctctool.decoding.words import word_frames
from ctctool.lm.loading import as_language_model
from ctctool.models.inference import audio_log_probs
from ctctool.models.base import model_blank_penalty
from ctctool.models.loading import DEFAULT_MODEL, as_model


def transcribe(
    audio,
    model="default",
    *,
    sample_rate: int | None = None,
    lm=None,
    hotwords: Mapping[str, float] | None = None,
    beam_width: int | None = None,
    nbest: int = 1,
    alpha: float | None = None,
    beta: float | None = None,
    oov_penalty: float = OOV_PENALTY,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
    device="cpu",
    audio_stream: int | None = None,
    blank_penalty: float | None = None,
) -> Decoding:
    """The text of ``audio``: greedy, or a prefix beam search with a word LM and hotwords.

    Args:
        audio: an audio file, or a (samples,) float waveform at ``sample_rate`` Hz (default: the model's).
        model: an acoustic model or a spec (``default``, a checkpoint file, a wav2vec2-style folder),
            loaded onto ``device``.
        lm: None (the default: no LM, greedy unless hotwords or ``beam_width`` ask for a search), a word
            n-gram model, a file (ARPA or KenLM binary), ``default`` (the general English LM shipped with the
            default model), ``none``, or ``auto``: that LM when ``model`` is the default model.
        audio_stream: the audio stream of a video or multi-stream file (0, the default: the first).
        blank_penalty: as for ``ctctool.decode``; None (the default): the model's own (``blank_penalty``, chosen
            on its dev set; 0 for a model without one).
        Other options as for ``ctctool.decode``. Word times are in seconds and carry the model's
        boundary correction, as alignments do.
    """
    acoustic = as_model(model, device)
    log_probs, _ = audio_log_probs(acoustic, audio, sample_rate, audio_stream=audio_stream)
    return transcribe_log_probs(log_probs, acoustic, lm=lm, hotwords=hotwords, beam_width=beam_width, nbest=nbest,
                                alpha=alpha, beta=beta, oov_penalty=oov_penalty, token_min_log_prob=token_min_log_prob,
                                blank_penalty=blank_penalty)


def transcribe_log_probs(
    log_probs,
    model,
    *,
    lm=None,
    hotwords: Mapping[str, float] | None = None,
    beam_width: int | None = None,
    nbest: int = 1,
    alpha: float | None = None,
    beta: float | None = None,
    oov_penalty: float = OOV_PENALTY,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
    blank_penalty: float | None = None,
) -> Decoding:
    """``transcribe`` of (T, C) ``log_probs`` that ``model`` (an acoustic model, or its ``ModelInfo``) computed:
    its vocabulary, frame timing and boundary correction give the text and the word times in seconds, and its
    ``blank_penalty`` (if it has one) the penalty when ``blank_penalty`` is None."""
    language_model = as_language_model(lm, default_model=getattr(model, "name", None) == DEFAULT_MODEL)
    temperature = model.boundary_correction.edge_temperature
    result = decode(log_probs, vocab=model.vocab, lm=language_model, hotwords=hotwords, beam_width=beam_width,
                    nbest=nbest, alpha=alpha, beta=beta, oov_penalty=oov_penalty,
                    token_min_log_prob=token_min_log_prob, frame_shift=model.frame_shift,
                    frame_offset=model.frame_offset, words=not temperature,
                    blank_penalty=model_blank_penalty(model) if blank_penalty is None else blank_penalty)
    if temperature:  # the correction was fitted on expected edges: measure the words' edges that way too
        times = SpanTimes(model.frame_shift, model.frame_offset)
        found = word_frames(log_probs, result.labels, model.vocab, edge_temperature=temperature)
        result = replace(result, words=tuple(DecodedWord(w.word, w.start, w.end, times.seconds(w.expected_start),
                                                         times.seconds(w.expected_end)) for w in found))
    spans = model.boundary_correction.apply(tuple(TimedSpan(w.text, w.start, w.end, None) for w in result.words),
                                            until=log_probs.shape[0] * model.frame_shift + model.frame_offset)
    words = tuple(DecodedWord(w.text, w.start_frame, w.end_frame, s.start, s.end) for w, s in zip(result.words, spans))
    return replace(result, words=words)
