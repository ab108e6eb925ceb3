"""The whole alignment job: a transcript and audio (with a model) or emissions -> ``AlignedTranscript``.

``align_audio`` and ``align_emissions`` are what ``ctctool align`` runs; ``align_text`` and
``align_transcript`` are the steps below them.

Shapes: T frames, C classes. A star (``*``) in the transcript absorbs any stretch of audio the
transcript does not cover (as in the MMS alignment recipe): the model's own star class when it
has one (``<star>`` or ``*``, as torchaudio's MMS_FA), else a column appended to the log-probs
with log-prob 0 on every frame (as ctc-forced-aligner does for MMS checkpoints without one).
"""

from __future__ import annotations

import os

import torch

from ctctool import _checks
from ctctool.alignment.options import MIN_CONFIDENCE, check_options
from ctctool.alignment.spans import merge_spans, token_spans
from ctctool.alignment.timing import AlignedTranscript, BoundaryCorrection, SpanTimes, TimedSpan
from ctctool.alignment.transcript import STAR, PreparedTranscript, prepare_transcript
from ctctool.text.normalize import Spelling
from ctctool.alignment.viterbi import forced_align
from ctctool.errors import CtcToolError, renamed
from ctctool.vocab import Vocabulary, vocabulary_for

#: Tokens that are a model's trained star class.
STAR_TOKENS = ("<star>", "*")



def align_audio(
    audio,
    transcript: str,
    model="default",
    *,
    sample_rate: int | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    star: bool = False,
    device="cpu",
    audio_stream: int | None = None,
    spelling: Spelling = Spelling(),
) -> AlignedTranscript:
    """Timestamps of every character, word and line of ``transcript`` in ``audio``.

    Args:
        audio: an audio file (wav, flac, ogg; any rate, mixed to mono), or a (samples,) float
            waveform at ``sample_rate`` Hz (default: the model's rate).
        transcript: the text, one line per segment; words are normalised to the model's
            vocabulary, and the output shows them as written.
        model: an acoustic model (``ctctool.AcousticModel``), or a spec: ``default`` (the built-in
            English model), a ctctool checkpoint file, or a local wav2vec2-style folder, loaded
            onto ``device``. Its frame timing and boundary correction are applied.
        min_confidence: lines scoring below it are flagged.
        star: put a ``*`` (absorbing speech the transcript lacks) at the start and the end.
        audio_stream: the audio stream of a video or multi-stream file to align (0, the default: the first).
        spelling: how words the model cannot spell are rewritten (``Spelling(romanize=True)`` for any
            script; see ``ctctool.text.normalize``).
    """
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import as_model

    acoustic = as_model(model, device)
    log_probs, _ = audio_log_probs(acoustic, audio, sample_rate, audio_stream=audio_stream)
    source = str(audio) if isinstance(audio, (str, os.PathLike)) else "the audio"
    return align_model_output(log_probs, transcript, acoustic, source=source, min_confidence=min_confidence,
                              star=star, spelling=spelling)


def align_model_output(log_probs: torch.Tensor, transcript: str, model, *, source: str,
                       min_confidence: float = MIN_CONFIDENCE, star: bool = False,
                       spelling: Spelling = Spelling()) -> AlignedTranscript:
    """``align_emissions`` of (T, C) ``log_probs`` that ``model`` computed from the audio ``source``: a problem
    with the frames (too few for the transcript) names the audio, the file to fix."""
    try:
        return align_emissions(log_probs, transcript, model=model, min_confidence=min_confidence, star=star,
                               spelling=spelling)
    except CtcToolError as exc:
        if "`emissions`" not in str(exc):
            raise
        seconds = log_probs.shape[-2] * model.frame_shift
        raise CtcToolError(f"{source}: {seconds:.2f} s of audio ({log_probs.shape[-2]} frames) is too short for "
                           f"the transcript: {renamed(exc, {'emissions': 'the audio'})}") from None


def align_emissions(
    emissions: torch.Tensor,
    transcript: str,
    *,
    model=None,
    vocab: Vocabulary | None = None,
    frame_shift: float | None = None,
    frame_offset: float | None = None,
    input_kind: str = "log-probs",
    min_confidence: float = MIN_CONFIDENCE,
    star: bool = False,
    correction: BoundaryCorrection | None = None,
    name: str | None = None,
    spelling: Spelling = Spelling(),
) -> AlignedTranscript:
    """Timestamps of ``transcript`` in saved emissions of one utterance.

    Args:
        emissions: (T, C) scores of one utterance (a (1, T, C) batch is accepted too).
        model: the acoustic model that made them: its vocabulary, frame shift and offset,
            boundary correction and name are used (leave out ``vocab``, ``frame_shift``,
            ``frame_offset``, ``correction`` and ``name``).
        vocab: the C classes (default: ``vocabulary_for(C)``, blank 0).
        frame_shift: seconds per frame (required without ``model``); frame_offset: seconds of frame 0
            (default 0).
        input_kind: ``log-probs`` (default), ``logits`` or ``probs``.
        correction: seconds added to word and line edges (default: none).
        name: the model name the result carries (default ``emissions``).
    """
    if model is not None:
        given = [key for key, value in (("vocab", vocab), ("frame_shift", frame_shift), ("frame_offset", frame_offset),
                                        ("correction", correction), ("name", name)) if value is not None]
        if given:
            raise CtcToolError(f"`model` brings its vocabulary, frame timing, boundary correction and name: leave "
                               f"{', '.join(f'`{key}`' for key in given)} out")
        vocab, frame_shift, frame_offset = model.vocab, model.frame_shift, model.frame_offset
        correction, name = model.boundary_correction, model.name
    frame_offset = 0.0 if frame_offset is None else frame_offset
    correction = BoundaryCorrection() if correction is None else correction
    name = "emissions" if name is None else name
    if vocab is None:
        vocab = vocabulary_for(_checks.batched(emissions, name="emissions")[0].shape[-1])
    log_probs = emission_log_probs(emissions, vocab, input_kind)
    check_options(min_confidence=min_confidence, frame_shift=frame_shift, frame_offset=frame_offset)
    try:
        return align_text(log_probs, transcript, vocab, SpanTimes(frame_shift, frame_offset), model=name,
                          min_confidence=min_confidence, star_ends=star, correction=correction, spelling=spelling)
    except CtcToolError as exc:
        raise renamed(exc, {"log_probs": "emissions"}) from None


def star_class(vocab: Vocabulary) -> int | None:
    """The model's own star class (a ``<star>`` or ``*`` token, as torchaudio's MMS_FA has), or None."""
    for token in STAR_TOKENS:
        class_id = vocab.id_of(token)
        if class_id is not None and class_id != vocab.blank:
            return class_id
    return None


def with_star_column(log_probs: torch.Tensor) -> torch.Tensor:
    """(T, C) -> (T, C + 1): the star class C scores 0 (probability 1) on every frame."""
    return torch.cat([log_probs, torch.zeros_like(log_probs[:, :1])], dim=1)


def align_transcript(
    log_probs: torch.Tensor,
    transcript: PreparedTranscript,
    vocab: Vocabulary,
    times: SpanTimes,
    *,
    model: str,
    min_confidence: float = 0.0,
    correction: BoundaryCorrection = BoundaryCorrection(),
) -> AlignedTranscript:
    """Timestamps of every character, word and line of ``transcript``.

    Args:
        log_probs: (T, C) log-probs of one utterance; (T, C + 1) when the transcript
            holds star labels and the model has no star class (id C, see ``with_star_column``).
        times: frame -> seconds.
        min_confidence: segments (lines) scoring below it are flagged.
        correction: shifts of word and line starts and ends (a model's calibration).
    """
    alignment = forced_align(log_probs, list(transcript.labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    word_groups: list[list[int]] = [[] for _ in transcript.words]
    char_indices: list[int] = []
    for index, word in enumerate(transcript.label_word):
        if word >= 0 and transcript.words[word].pieces != (STAR,):
            word_groups[word].append(index)
            char_indices.append(index)
    line_groups: list[list[int]] = [[] for _ in transcript.lines]
    for word, group in zip(transcript.words, word_groups):
        line_groups[word.line].extend(group)
    words = merge_spans(spans, word_groups, [w.text for w in transcript.words])
    segments = merge_spans(spans, line_groups, transcript.lines, min_confidence)
    chars = [(spans[i], _token_text(vocab, transcript.labels[i])) for i in char_indices]

    def timed(span) -> TimedSpan:
        return TimedSpan(span.text, times.seconds(span.start), times.seconds(span.end), span.score, span.flagged)

    return AlignedTranscript(
        words=correction.apply(tuple(timed(w) for w in words if w.text != STAR)),
        segments=correction.apply(tuple(timed(s) for s in segments)),
        tokens=tuple(TimedSpan(text, times.seconds(s.start), times.seconds(s.end), s.score) for s, text in chars),
        duration=times.seconds(int(log_probs.shape[0])) - times.offset,
        frame_shift=times.frame_shift,
        model=model,
        normalization=transcript.changes,
    )


def _token_text(vocab: Vocabulary, class_id: int) -> str:
    return vocab.tokens[class_id]


def emission_log_probs(emissions: torch.Tensor, vocab: Vocabulary, input_kind: str = "log-probs") -> torch.Tensor:
    """Validated (T, C) log-probs of one utterance's ``emissions`` ((T, C), or a (1, T, C) batch) for ``vocab``."""
    x, _ = _checks.batched(emissions, name="emissions")
    if x.shape[0] != 1:
        raise CtcToolError(f"`emissions`: expected one utterance (T, C), found a batch of {x.shape[0]} "
                           f"{tuple(emissions.shape)}")
    _checks.check_classes(x, vocab.size, "emissions")
    return _checks.log_probs_from(x[0], input_kind, name="emissions")


def align_text(
    log_probs: torch.Tensor,
    text: str,
    vocab: Vocabulary,
    times: SpanTimes,
    *,
    model: str,
    min_confidence: float = 0.0,
    star_ends: bool = False,
    correction: BoundaryCorrection = BoundaryCorrection(),
    spelling: Spelling = Spelling(),
) -> AlignedTranscript:
    """``align_transcript`` from raw transcript text: normalise, add star columns when a ``*``
    word is present (or ``star_ends`` puts one at each end), then align.

    Args:
        log_probs: (T, C) log-probs of one utterance, C = ``vocab.size``.
    """
    if star_ends:
        text = f"{STAR}\n{text}\n{STAR}"
    star_id = None
    if STAR in text.split():
        star_id = star_class(vocab)
        if star_id is None:
            star_id = vocab.size
            log_probs = with_star_column(log_probs)
    prepared = prepare_transcript(text, vocab, star_id=star_id, spelling=spelling)
    return align_transcript(log_probs, prepared, vocab, times, model=model, min_confidence=min_confidence,
                            correction=correction)
