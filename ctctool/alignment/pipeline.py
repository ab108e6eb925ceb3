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
from dataclasses import replace

import torch

from ctctool import _checks
from ctctool.alignment.confidence import FrameRatios
from ctctool.alignment.lines import align_lines
from ctctool.alignment.options import MIN_CONFIDENCE, check_options
from ctctool.alignment.soft_edges import expected_word_edges
from ctctool.alignment.spans import edge_members, merge_spans, token_spans, unspoken_classes
from ctctool.alignment.timing import AlignedTranscript, BoundaryCorrection, SpanTimes, TimedSpan
from ctctool.alignment.transcript import STAR, PreparedTranscript
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
    star: bool | str = False,
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
        star: put a ``*`` (absorbing speech the transcript lacks) at the start and the end (True or ``"ends"``),
            between every two lines (``"between-lines"``) or both (``"both"``).
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
                       min_confidence: float = MIN_CONFIDENCE, star: bool | str = False,
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
    star: bool | str = False,
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

    Scores are the confidence of ``ctctool.alignment.confidence`` (the forced path against the model's
    best reading of the same frames). One timeline: ``correction`` shifts the words; each line spans its
    words and each character lies inside its word.

    Args:
        log_probs: (T, C) log-probs of one utterance; (T, C + 1) when the transcript
            holds star labels and the model has no star class (id C, see ``ctctool.alignment.lines``).
        times: frame -> seconds.
        min_confidence: segments (lines) scoring below it are flagged.
        correction: shifts of word starts and ends (a model's calibration).
    """
    result, _ = align_prepared(log_probs, transcript, vocab, times, model=model, min_confidence=min_confidence,
                               correction=correction)
    return result


def align_prepared(log_probs: torch.Tensor, transcript: PreparedTranscript, vocab: Vocabulary, times: SpanTimes, *,
                   model: str, min_confidence: float = 0.0, correction: BoundaryCorrection = BoundaryCorrection()
                   ) -> tuple[AlignedTranscript, dict[int, tuple[int, int]]]:
    """``align_transcript``, and the frames [start, end) of each line that is a lone star (by line index).
    Such lines are not segments of the result."""
    alignment = forced_align(log_probs, list(transcript.labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    ratios = FrameRatios.of_path(log_probs, alignment.frame_log_probs[0], _reading_classes(vocab))
    star_lines = {k for k, line in enumerate(transcript.lines) if line.split() == [STAR]}
    star_frames = {transcript.words[w].line: (spans[i].start, spans[i].end)
                   for i, w in enumerate(transcript.label_word)
                   if w >= 0 and transcript.words[w].pieces == (STAR,) and transcript.words[w].line in star_lines}
    word_groups: list[list[int]] = [[] for _ in transcript.words]
    char_indices: list[int] = []
    for index, word in enumerate(transcript.label_word):
        if word >= 0 and transcript.words[word].pieces != (STAR,):
            word_groups[word].append(index)
            char_indices.append(index)
    line_groups: list[list[int]] = [[] for _ in transcript.lines]
    for word, group in zip(transcript.words, word_groups):
        line_groups[word.line].extend(group)
    silent = unspoken_classes(vocab)
    words = merge_spans(spans, word_groups, [w.text for w in transcript.words], min_confidence, ratios.confidence,
                        silent.__contains__)
    segments = merge_spans(spans, line_groups, transcript.lines, min_confidence, ratios.confidence,
                           silent.__contains__)
    kept = [i for i, w in enumerate(transcript.words) if w.pieces != (STAR,)]

    def timed(span, edges: tuple[float, float] | None = None) -> TimedSpan:
        start, end = edges or (span.start, span.end)
        return TimedSpan(span.text, times.seconds(start), times.seconds(end), span.score, span.flagged)

    edges = _expected_word_edges(log_probs, transcript, alignment.states[0], spans, word_groups, silent, vocab.blank,
                                 correction.edge_temperature, kept)
    timed_words = correction.apply(tuple(timed(words[i], edges.get(i)) for i in kept),
                                   until=times.seconds(int(log_probs.shape[0])))
    line_index = {k: n for n, k in enumerate(k for k in range(len(transcript.lines)) if k not in star_lines)}
    word_segment = tuple(line_index[transcript.words[i].line] for i in kept)
    output_index = {word: n for n, word in enumerate(kept)}
    token_word = tuple(output_index[transcript.label_word[i]] for i in char_indices)
    tokens = tuple(TimedSpan(_token_text(vocab, transcript.labels[i]), times.seconds(spans[i].start),
                             times.seconds(spans[i].end),
                             ratios.confidence(spans[i].start, spans[i].end, 1, spans[i].score))
                   for i in char_indices)
    result = AlignedTranscript(
        words=timed_words,
        segments=_spanning(tuple(timed(s) for k, s in enumerate(segments) if k not in star_lines), timed_words,
                           word_segment),
        tokens=_inside(tokens, timed_words, token_word),
        duration=times.seconds(int(log_probs.shape[0])) - times.offset,
        frame_shift=times.frame_shift,
        model=model,
        normalization=transcript.changes,
        word_segment=word_segment,
        token_word=token_word,
    )
    return result, star_frames


def _expected_word_edges(log_probs, transcript: PreparedTranscript, path, spans, word_groups, silent, blank: int,
                         temperature: float, kept: list[int]) -> dict[int, tuple[float, float]]:
    """{word index: (start, end) fractional frames} of the ``kept`` words with aligned tokens, as
    ``BoundaryCorrection.edge_temperature`` says (``ctctool.alignment.soft_edges``); {} at temperature 0
    (best-path frame edges)."""
    if not temperature:
        return {}
    measured = [i for i in kept if word_groups[i]]
    edge_labels = [edge_members(spans, word_groups[i], silent.__contains__) for i in measured]
    edges = expected_word_edges(log_probs, transcript.labels, path, blank, spans, edge_labels, temperature)
    return dict(zip(measured, edges))


def _reading_classes(vocab: Vocabulary) -> int:
    """How many classes count as the model's reading of a frame: all but a trained star class at the end."""
    star = star_class(vocab)
    return vocab.size - 1 if star == vocab.size - 1 else vocab.size


def _spanning(segments: tuple[TimedSpan, ...], words: tuple[TimedSpan, ...], word_segment: tuple[int, ...]):
    """Each segment stretched or shrunk to span its aligned words exactly (a line without one keeps its time)."""
    bounds: dict[int, tuple[float, float]] = {}
    for word, line in zip(words, word_segment):
        if word.end > word.start:
            start, end = bounds.get(line, (word.start, word.end))
            bounds[line] = (min(start, word.start), max(end, word.end))
    return tuple(replace(s, start=bounds[k][0], end=bounds[k][1]) if k in bounds else s
                 for k, s in enumerate(segments))


def _inside(tokens: tuple[TimedSpan, ...], words: tuple[TimedSpan, ...], token_word: tuple[int, ...]):
    """Tokens moved with their word's correction: the first starts with the word, the last ends with it, and
    every one is clipped to the word."""
    out = list(tokens)
    for j, (token, w) in enumerate(zip(tokens, token_word)):
        word = words[w]
        start = word.start if j == 0 or token_word[j - 1] != w else min(max(token.start, word.start), word.end)
        last = j + 1 == len(tokens) or token_word[j + 1] != w
        end = word.end if last else min(max(token.end, start), word.end)
        out[j] = replace(token, start=start, end=end)
    return tuple(out)


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
    star_ends: bool | str = False,
    correction: BoundaryCorrection = BoundaryCorrection(),
    spelling: Spelling = Spelling(),
) -> AlignedTranscript:
    """``align_transcript`` from raw transcript text: normalise, add stars where ``*`` words are and where
    ``star_ends`` says (``ends``/True, ``between-lines``, ``both``), then align line by line so that a line the
    audio does not hold is flagged without pulling its neighbours (``ctctool.alignment.lines``).

    Args:
        log_probs: (T, C) log-probs of one utterance, C = ``vocab.size``.
    """
    return align_lines(log_probs, text, vocab, times, model=model, min_confidence=min_confidence, star=star_ends,
                       correction=correction, spelling=spelling)
