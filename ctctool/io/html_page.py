"""Alignment as one self-contained HTML page: waveform with line and word boxes, transcript, playback.

The page fetches nothing from the network: its CSS and JavaScript are inline, the waveform is an
inline SVG drawn here from min/max peaks, and a Content-Security-Policy forbids every other source.
The audio is embedded as a base64 ``data:`` URI when the file is a WAV, FLAC, OGG or MP3 below
``EMBED_LIMIT`` bytes; otherwise it is referred to by a path relative to the folder of the output
file (as given when the page goes to standard output), so the page and the audio move together.
Without audio (alignment of saved emissions) the page shows the boxes on a timeline, and says so.

Shapes: N samples, K peak columns.
"""

from __future__ import annotations

import base64
import html
import math
import os
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence
from urllib.parse import quote

import numpy as np

from ctctool._files import input_file
from ctctool.alignment.timing import AlignedTranscript, TimedSpan
from ctctool.errors import CtcToolError
from ctctool.io.html_assets import PAGE_CSS as _CSS, PAGE_SCRIPT as _SCRIPT
from ctctool.io.times import milliseconds as _ms

if TYPE_CHECKING:
    from ctctool.io.alignment_writers import WriteOptions

#: Audio files smaller than this many bytes (2 MiB, about a minute of 16 kHz 16-bit WAV) are embedded.
EMBED_LIMIT = 2 * 1024 * 1024
#: MIME type of each audio file extension that is embedded when small (others are always referred to).
AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
               ".opus": "audio/ogg", ".mp3": "audio/mpeg"}
#: Waveform peak columns: one per 10 ms of audio, at least 1000 and at most 20000.
COLUMNS_PER_SECOND, MIN_COLUMNS, MAX_COLUMNS = 100, 1000, 20000
_BLOCK = 1 << 20  # samples read at a time


@dataclass(frozen=True)
class Waveform:
    """``peaks``: (K, 2) lowest and highest sample of each of K equal columns of the audio, in -1..1;
    ``seconds``: the length of the audio."""

    peaks: np.ndarray
    seconds: float


def read_waveform(path: str | os.PathLike, columns: int | None = None) -> Waveform:
    """The peaks of the audio file ``path`` (channels averaged), read block by block with libsndfile.

    ``columns``: K (None: ``COLUMNS_PER_SECOND`` per second, within ``MIN_COLUMNS``..``MAX_COLUMNS``).
    """
    import soundfile

    file = input_file(path, "an audio file")
    try:
        with open(file, "rb") as handle, soundfile.SoundFile(handle) as sound:
            rate, frames = sound.samplerate, sound.frames
            if not 0 < frames < 1 << 40:  # length unknown: read it whole
                blocks = [sound.read(dtype="float32", always_2d=True)]
                frames = len(blocks[0])
            else:
                blocks = sound.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True)
            if frames == 0:
                return Waveform(np.zeros((0, 2)), 0.0)
            count = min(frames, columns or min(max(math.ceil(frames / rate * COLUMNS_PER_SECOND), MIN_COLUMNS),
                                               MAX_COLUMNS))
            edges = (np.arange(count + 1, dtype=np.int64) * frames) // count  # column k: edges[k]..edges[k+1] - 1
            lows, highs = np.full(count, np.inf), np.full(count, -np.inf)
            position = 0
            for block in blocks:
                mono = np.nan_to_num(block.mean(axis=1))[:frames - position]
                if not len(mono):
                    break
                first = bisect_right(edges, position) - 1
                last = bisect_right(edges, position + len(mono) - 1) - 1
                cuts = np.maximum(edges[first:last + 1], position) - position
                lows[first:last + 1] = np.minimum(lows[first:last + 1], np.minimum.reduceat(mono, cuts))
                highs[first:last + 1] = np.maximum(highs[first:last + 1], np.maximum.reduceat(mono, cuts))
                position += len(mono)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise CtcToolError(f"{file}: libsndfile cannot read it for the waveform ({exc})") from exc
    seen = np.isfinite(lows)  # columns past the end of a file cut short stay silent
    peaks = np.stack([np.where(seen, lows, 0.0), np.where(seen, highs, 0.0)], axis=1)
    return Waveform(np.clip(peaks, -1.0, 1.0), position / rate)


def audio_source(audio: str | os.PathLike, destination: str | os.PathLike | None) -> str:
    """The ``src`` of the page's audio: a ``data:`` URI for a small WAV/FLAC/OGG/MP3 (below ``EMBED_LIMIT``
    bytes), else the path of ``audio`` relative to the folder of ``destination`` (as given when
    ``destination`` is None or ``-``, i.e. standard output), as a URL path."""
    file = input_file(audio, "an audio file")
    mime = AUDIO_TYPES.get(file.suffix.lower())
    if mime is not None and file.stat().st_size < EMBED_LIMIT:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CtcToolError(f"{file}: cannot read ({exc.strerror}); expected an audio file") from exc
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    if destination is None or str(destination) == "-":
        return quote(file.as_posix())
    folder = os.path.dirname(os.path.abspath(destination))
    try:
        relative = os.path.relpath(os.path.abspath(file), folder)
    except ValueError:  # Windows: another drive
        return file.resolve().as_uri()
    return quote(Path(relative).as_posix())


def render_html(result: AlignedTranscript, utterance_id: str, options: WriteOptions) -> str:
    """The page of ``result`` (the ``html`` format): reads the waveform of ``options.audio`` and refers to
    it from ``options.destination`` as ``audio_source`` says; without ``options.audio``, a timeline only.

    A file libsndfile cannot read (a video, an m4a) is still played by the page; only its waveform is left out.
    """
    audio = options.audio
    if audio is None:
        return html_page(result, utterance_id)
    source = audio_source(audio, options.destination)
    try:
        waveform, notes = read_waveform(audio), ()
    except CtcToolError as exc:
        waveform, notes = None, (f"No waveform: {exc}",)
    return html_page(result, utterance_id, audio_src=source, audio_name=str(audio), waveform=waveform, notes=notes)


def html_page(result: AlignedTranscript, utterance_id: str, *, audio_src: str | None = None,
              audio_name: str | None = None, waveform: Waveform | None = None, notes: Sequence[str] = ()) -> str:
    """The whole page of ``result``: pure, every user text escaped.

    ``audio_src``: the ``src`` of its audio element (None: no audio, no playback); ``audio_name``: how the
    audio is named on the page; ``waveform``: peaks drawn under the boxes; ``notes``: lines shown at the top.
    """
    end = max([result.duration, waveform.seconds if waveform else 0.0]
              + [s.end for s in (*result.words, *result.segments, *result.tokens)])
    total = end if end > 0 else 1.0
    lines = _word_lines(result)
    flagged = sum(s.flagged for s in result.segments)
    notes = list(notes)
    if audio_src is None:
        notes.append(f"No audio: the boxes lie on the alignment's own timeline (one frame every {result.frame_shift:g} "
                     "s), with no waveform, and nothing plays.")
    facts = [f"model {result.model}", f"{result.duration:.3f} s", f"{len(result.words)} words",
             f"{len(result.segments)} lines", f"{flagged} flagged" if flagged else "none flagged"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(utterance_id)}: alignment</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(utterance_id)}</h1>",
        f'<p class="facts">{_e(" · ".join(facts))}</p>',
        *(f'<p class="note">{_e(note)}</p>' for note in notes),
    ]
    if audio_src is not None:
        parts.append(f'<p class="audio"><audio id="audio" controls preload="auto" src="{_e(audio_src)}"></audio> '
                     f'<span class="source">{_e(audio_name or "")}</span></p>')
    parts += [
        '<p class="tools"><button type="button" data-zoom="out" title="zoom out">&minus;</button>'
        '<button type="button" data-zoom="in" title="zoom in">+</button> '
        f'<span class="hint">{"Click a word or a box to play it." if audio_src else "Click a word to find it."} '
        "Hover for times and scores; colour shows the score (green high, red low).</span></p>",
        "</header>",
        '<div id="scroller" class="scroller">',
        f'<div id="timeline" class="timeline" data-duration="{total:.3f}">',
        '<div class="row lines">', *(_line_box(i, s, total) for i, s in enumerate(result.segments)), "</div>",
        f'<div class="row wave{"" if waveform else " empty"}">', "" if waveform is None else _wave_svg(waveform, total),
        *(_word_box(i, w, total) for i, w in enumerate(result.words)), "</div>",
        '<div class="row tokens">', *(_token_box(j, t, total, result) for j, t in enumerate(result.tokens)), "</div>",
        '<div id="axis" class="row axis"></div>',
        '<div id="playhead" class="playhead"></div>',
        "</div>",
        "</div>",
        '<section class="transcript">',
        *_transcript(result, lines),
        "</section>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _times(span: TimedSpan) -> str:
    return f'data-start="{_ms(span.start) / 1000:.3f}" data-end="{_ms(span.end) / 1000:.3f}"'


def _place(span: TimedSpan, total: float) -> str:
    left = 100 * min(max(span.start, 0.0), total) / total
    width = max(100 * min(span.end, total) / total - left, 0.0)
    return f"left:{left:.4f}%;width:{width:.4f}%"


def _hue(score: float | None) -> str:
    return "--h:0;--s:0%" if score is None else f"--h:{round(120 * min(max(score, 0.0), 1.0))}"


def _about(what: str, span: TimedSpan) -> str:
    """The hover text of a span: what, times, score."""
    score = "not aligned" if span.score is None else f"score {span.score:.4f}"
    return f"{what}: {_ms(span.start) / 1000:.3f}-{_ms(span.end) / 1000:.3f} s, {score}"


_FLAG = "\u26a0 flagged"  # the text marker of a flagged line, beside its colour


def _line_box(index: int, segment: TimedSpan, total: float) -> str:
    flag = f'<b class="flag">{_FLAG}</b> ' if segment.flagged else ""
    about = _about(f"line {index + 1}", segment) + (": may not match the audio" if segment.flagged else "")
    return (f'<div class="box seg{" flagged" if segment.flagged else ""}" data-segment="{index}" '
            f'{_times(segment)} style="{_place(segment, total)}" title="{_e(about)}">{flag}{_e(segment.text)}</div>')


def _word_box(index: int, word: TimedSpan, total: float) -> str:
    if not word.end > word.start:
        return ""
    return (f'<div class="box word" data-word="{index}" {_times(word)} '
            f'style="{_place(word, total)};{_hue(word.score)}" title="{_e(_about(repr(word.text), word))}">'
            f'<span>{_e(word.text)}</span></div>')


def _token_box(index: int, token: TimedSpan, total: float, result: AlignedTranscript) -> str:
    owners = result.token_word
    word = f' data-word="{owners[index]}"' if len(owners) == len(result.tokens) else ""
    return (f'<div class="box token"{word} {_times(token)} style="{_place(token, total)};{_hue(token.score)}" '
            f'title="{_e(_about(repr(token.text), token))}">{_e(token.text)}</div>')


def _word_lines(result: AlignedTranscript) -> list[int]:
    """The segment of each word: ``result.word_segment`` when it is known; else the words of each line in order
    when the counts agree; else the last line starting at or before the word."""
    known = result.word_segment
    segments = result.segments
    if len(known) == len(result.words) and all(0 <= k < len(segments) for k in known):
        return list(known)
    counts = [len(s.text.split()) for s in segments]
    if sum(counts) == len(result.words):
        return [k for k, count in enumerate(counts) for _ in range(count)]
    starts = [s.start for s in segments]
    return [max(bisect_right(starts, w.start) - 1, 0) for w in result.words]


def _transcript(result: AlignedTranscript, lines: list[int]) -> list[str]:
    """One paragraph per line: its number, the flag marker when flagged, then its words."""
    by_line: dict[int, list[int]] = {}
    for index, line in enumerate(lines):
        by_line.setdefault(line, []).append(index)
    out = []
    for k in range(max(len(result.segments), 1 if result.words else 0)):
        segment = result.segments[k] if k < len(result.segments) else None
        attributes = f' data-segment="{k}" {_times(segment)}' if segment else ""
        flagged = segment is not None and segment.flagged
        marker = ""
        if flagged:
            score = "" if segment.score is None else f" (score {segment.score:.3f})"
            marker = f'<b class="flag">{_FLAG}: may not match the audio{score}</b> '
        words = []
        for index in by_line.get(k, []):
            word = result.words[index]
            unaligned = " unaligned" if not word.end > word.start else ""
            words.append(f'<span class="w{unaligned}" data-word="{index}" {_times(word)} tabindex="0" '
                         f'title="{_e(_about(repr(word.text), word))}">{_e(word.text)}</span>')
        out.append(f'<p class="line{" flagged" if flagged else ""}"{attributes}><span class="n">{k + 1}</span> '
                   f'{marker}{" ".join(words)}</p>')
    return out


def _wave_svg(waveform: Waveform, total: float) -> str:
    """The peaks as one filled outline (upper edge left to right, lower edge back), scaled to the loudest peak."""
    peaks = waveform.peaks
    count = len(peaks)
    if not count:
        return ""
    loudest = float(np.abs(peaks).max()) or 1.0
    scaled = np.round(peaks / loudest * 0.95, 3)
    upper = " ".join(f"{k + 0.5:g},{-scaled[k, 1]:g}" for k in range(count))
    lower = " ".join(f"{k + 0.5:g},{-scaled[k, 0]:g}" for k in reversed(range(count)))
    width = 100 * min(waveform.seconds, total) / total
    return (f'<svg class="waveform" style="width:{width:.4f}%" viewBox="0 -1 {count} 2" preserveAspectRatio="none" '
            f'aria-label="waveform"><line x1="0" y1="0" x2="{count}" y2="0"/>'
            f'<path d="M{upper} L{lower} Z"/></svg>')


_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
           "media-src 'self' data: file: blob:")
