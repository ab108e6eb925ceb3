"""``transcribe``: audio to text with an acoustic model, decoded by ``decode`` (word times in seconds)."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from ctctool.alignment.timing import TimedSpan
from ctctool.decoding.decoder import DecodedWord, Decoding, decode
from ctctool.decoding.options import OOV_PENALTY, TOKEN_MIN_LOG_PROB
from ctctool.lm.loading import AUTO, as_language_model
from ctctool.models.inference import audio_log_probs
from ctctool.models.loading import DEFAULT_MODEL, as_model


def transcribe(
    audio,
    model="default",
    *,
    sample_rate: int | None = None,
    lm=AUTO,
    hotwords: Mapping[str, float] | None = None,
    beam_width: int | None = None,
    nbest: int = 1,
    alpha: float | None = None,
    beta: float | None = None,
    oov_penalty: float = OOV_PENALTY,
    token_min_log_prob: float = TOKEN_MIN_LOG_PROB,
    device="cpu",
    audio_stream: int | None = None,
) -> Decoding:
    """The text of ``audio``: greedy, or a prefix beam search with a word LM and hotwords.

    Args:
        audio: an audio file, or a (samples,) float waveform at ``sample_rate`` Hz (default: the model's).
        model: an acoustic model or a spec (``default``, a checkpoint file, a wav2vec2-style folder),
            loaded onto ``device``.
        lm: a word n-gram model, a file (ARPA or KenLM binary), ``default`` (the default model's LM),
            ``none``/None, or ``auto``: the default model's LM when ``model`` is the default model.
        audio_stream: the audio stream of a video or multi-stream file (0, the default: the first).
        Other options as for ``ctctool.decode``. Word times are in seconds and carry the model's
        boundary correction, as alignments do.
    """
    acoustic = as_model(model, device)
    language_model = as_language_model(lm, default_model=getattr(acoustic, "name", None) == DEFAULT_MODEL)
    log_probs, _ = audio_log_probs(acoustic, audio, sample_rate, audio_stream=audio_stream)
    result = decode(log_probs, vocab=acoustic.vocab, lm=language_model, hotwords=hotwords, beam_width=beam_width,
                    nbest=nbest, alpha=alpha, beta=beta, oov_penalty=oov_penalty,
                    token_min_log_prob=token_min_log_prob, frame_shift=acoustic.frame_shift,
                    frame_offset=acoustic.frame_offset)
    spans = acoustic.boundary_correction.apply(tuple(TimedSpan(w.text, w.start, w.end, None) for w in result.words))
    words = tuple(DecodedWord(w.text, w.start_frame, w.end_frame, s.start, s.end) for w, s in zip(result.words, spans))
    return replace(result, words=words)
