"""`--format html`: the page's structure read back with html.parser, its audio reference, and the page in
headless Chromium (skipped where no Chromium or Chrome is installed)."""

import base64
import dataclasses
import json
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ctctool.alignment.timing import AlignedTranscript, TimedSpan
from ctctool.errors import CtcToolError
from ctctool.io import html_page
from ctctool.io.alignment_writers import WriteOptions, render_alignment, write_alignment
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
VOID = {"meta", "br", "img", "input", "link", "hr", "source", "wbr"}
NASTY = ["<script>alert(1)</script>", '"quote"', "a&b", "it's"]


class Element:
    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.text = tag, dict(attrs), ""

    @property
    def classes(self):
        return set((self.attrs.get("class") or "").split())


class Page(HTMLParser):
    """Every element of a page in document order, with its attributes (unescaped) and all the text inside it."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.open = [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs)
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, attrs))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element.text += data

    def find(self, tag=None, cls=None):
        return [e for e in self.elements if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)]


def span(text, start, end, score=0.9, flagged=False):
    return TimedSpan(text, start, end, score, flagged)


def result_of(lines, flagged=(), gap=0.1, word_length=0.3):
    """An alignment of ``lines`` (lists of words), each word ``word_length`` s, a ``gap`` between them."""
    words, segments, tokens, t = [], [], [], 0.05
    for k, line in enumerate(lines):
        first = len(words)
        for word in line:
            words.append(span(word, t, t + word_length, 0.5 + 0.01 * len(words)))
            step = word_length / len(word)
            tokens += [span(c, t + i * step, t + (i + 1) * step) for i, c in enumerate(word)]
            t += word_length + gap
        segments.append(span(" ".join(line), words[first].start, words[-1].end, 0.8, k in flagged))
    return AlignedTranscript(words=tuple(words), segments=tuple(segments), tokens=tuple(tokens), duration=t + 0.2,
                             frame_shift=0.02, model="test-model")


RESULT = result_of([["The", "quick", "brown"], ["fox", "jumps"], ["over", "the", "lazy", "dog"]], flagged=(1,))


def ms(seconds):
    return f"{math.floor(seconds * 1000 + 0.5) / 1000:.3f}"


def words_of(page):
    return page.find("span", "w")


def write_wav(path, seconds, rate=16000, seed=0):
    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, int(seconds * rate)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, samples, rate, subtype="PCM_16")
    return path


# ---------------------------------------------------------------- structure


def test_one_word_element_per_word_in_order_with_its_times():
    page = Page(render_alignment(RESULT, "html", "utt"))
    words = words_of(page)
    assert [w.text for w in words] == [w.text for w in RESULT.words]
    assert [w.attrs["data-word"] for w in words] == [str(i) for i in range(len(RESULT.words))]
    assert [(w.attrs["data-start"], w.attrs["data-end"]) for w in words] == [(ms(w.start), ms(w.end))
                                                                             for w in RESULT.words]
    boxes = page.find("div", "word")
    assert [(b.text, b.attrs["data-start"], b.attrs["data-end"]) for b in boxes] == [
        (w.text, ms(w.start), ms(w.end)) for w in RESULT.words]
    assert "score 0.5000" in words[0].attrs["title"] and "score 0.5000" in boxes[0].attrs["title"]


def test_words_are_grouped_by_line_in_the_transcript():
    page = Page(render_alignment(RESULT, "html", "utt"))
    lines = page.find("p", "line")
    assert [" ".join(e.text.split()[1:]) for e in lines] == ["The quick brown", "\u26a0 flagged: may not match the "
                                                             "audio (score 0.800) fox jumps", "over the lazy dog"]


def test_lines_of_a_known_word_segment_map_are_used():
    # three words, two lines, but the text split would say otherwise: the map wins when the result has one
    result = dataclasses.replace(result_of([["a", "b"], ["c"]]), word_segment=(0, 1, 1))
    lines = Page(render_alignment(result, "html", "utt")).find("p", "line")
    assert [e.text.split()[1:] for e in lines] == [["a"], ["b", "c"]]


def test_tokens_name_their_word_when_it_is_known():
    assert all("data-word" not in t.attrs for t in Page(render_alignment(RESULT, "html", "utt")).find("div", "token"))
    owners = tuple(k for k, w in enumerate(RESULT.words) for _ in w.text)
    tokens = Page(render_alignment(dataclasses.replace(RESULT, token_word=owners), "html", "utt")).find("div", "token")
    assert [t.attrs["data-word"] for t in tokens] == [str(k) for k in owners]


def test_flagged_lines_are_marked_by_text_not_only_colour():
    page = Page(render_alignment(RESULT, "html", "utt"))
    boxes = page.find("div", "seg")
    assert ["flagged" in b.classes for b in boxes] == [False, True, False]
    assert ["\u26a0 flagged" in b.text for b in boxes] == [False, True, False]
    assert "may not match the audio" in boxes[1].attrs["title"]
    paragraphs = page.find("p", "line")
    assert ["flagged" in p.classes for p in paragraphs] == [False, True, False]
    assert ["may not match the audio" in p.text for p in paragraphs] == [False, True, False]
    assert "1 flagged" in page.find("p", "facts")[0].text


def test_user_text_is_escaped():
    result = result_of([NASTY[:2], NASTY[2:]])
    text = render_alignment(result, "html", '<b id="x">&')
    page = Page(text)
    assert [e.tag for e in page.elements].count("script") == 1
    assert "<script>alert" not in text and "<b id" not in text
    assert [w.text for w in words_of(page)] == NASTY
    assert [b.text for b in page.find("div", "word")] == NASTY
    assert [w.attrs["title"].split(":")[0] for w in words_of(page)] == [repr(w) for w in NASTY]
    assert page.find("title")[0].text == '<b id="x">&: alignment'
    assert [b.text for b in page.find("div", "seg")] == [" ".join(NASTY[:2]), " ".join(NASTY[2:])]


def test_unaligned_words_are_listed_but_have_no_box():
    words = (span("hello", 0.1, 0.4), TimedSpan("###", 0.4, 0.4, None))
    result = AlignedTranscript(words=words, segments=(span("hello ###", 0.1, 0.4),), tokens=(), duration=1.0,
                               frame_shift=0.02, model="m")
    page = Page(render_alignment(result, "html", "utt"))
    assert [(w.text, "unaligned" in w.classes) for w in words_of(page)] == [("hello", False), ("###", True)]
    assert "not aligned" in words_of(page)[1].attrs["title"]
    assert [b.text for b in page.find("div", "word")] == ["hello"]


def test_page_without_audio_says_so_and_has_no_player_or_waveform():
    text = render_alignment(RESULT, "html", "utt")
    page = Page(text)
    assert page.find("audio") == [] and page.find("svg") == []
    assert "No audio: the boxes lie on the alignment's own timeline" in page.find("p", "note")[0].text


def _no_network(text):
    page = Page(text)
    assert "http://" not in text and "https://" not in text
    assert not page.find("link") and not page.find("img") and not page.find("iframe")
    assert all("src" not in e.attrs for e in page.find("script"))
    assert "url(" not in text and "@import" not in text
    assert "default-src 'none'" in page.find("meta")[1].attrs["content"]


def test_no_network_reference(tmp_path):
    _no_network(render_alignment(RESULT, "html", "utt"))
    audio = write_wav(tmp_path / "a.wav", 1.0)
    _no_network(render_alignment(RESULT, "html", "utt", WriteOptions(audio=str(audio))))


# ---------------------------------------------------------------- audio


def test_small_audio_is_embedded(tmp_path):
    audio = write_wav(tmp_path / "small.wav", 2.0)
    assert audio.stat().st_size < html_page.EMBED_LIMIT
    options = WriteOptions(audio=str(audio), destination=str(tmp_path / "elsewhere" / "page.html"))
    src = Page(render_alignment(RESULT, "html", "utt", options)).find("audio")[0].attrs["src"]
    prefix = "data:audio/wav;base64,"
    assert src.startswith(prefix) and base64.b64decode(src[len(prefix):]) == audio.read_bytes()


def test_audio_from_the_size_limit_on_is_referred_to_relative_to_the_page(tmp_path, monkeypatch):
    audio = write_wav(tmp_path / "audio" / "my talk.wav", 2.0)
    monkeypatch.setattr(html_page, "EMBED_LIMIT", audio.stat().st_size)
    out = tmp_path / "pages" / "day 1" / "page.html"
    out.parent.mkdir(parents=True)
    write_alignment(out, RESULT, "html", "utt", WriteOptions(audio=str(audio), destination=str(out)))
    src = Page(out.read_text(encoding="utf-8")).find("audio")[0].attrs["src"]
    assert src == "../../audio/my%20talk.wav"
    monkeypatch.setattr(html_page, "EMBED_LIMIT", audio.stat().st_size + 1)
    assert html_page.audio_source(audio, out).startswith("data:audio/wav;base64,")


def test_big_audio_is_referred_to(tmp_path):
    audio = write_wav(tmp_path / "big.wav", html_page.EMBED_LIMIT / 32000 + 1)  # 16-bit, 16 kHz: 32000 bytes/s
    assert audio.stat().st_size >= html_page.EMBED_LIMIT
    assert html_page.audio_source(audio, tmp_path / "sub" / "p.html") == "../big.wav"
    assert html_page.audio_source(audio, tmp_path / "p.html") == "big.wav"


def test_to_standard_output_the_audio_path_is_kept_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_wav(tmp_path / "a.wav", 1.0)
    monkeypatch.setattr(html_page, "EMBED_LIMIT", 0)
    assert html_page.audio_source("a.wav", None) == "a.wav"
    assert html_page.audio_source("a.wav", "-") == "a.wav"


@pytest.mark.parametrize("suffix, mime", [(".flac", "audio/flac"), (".ogg", "audio/ogg"), (".mp3", "audio/mpeg"),
                                          (".m4a", None)])
def test_embedding_follows_the_extension(tmp_path, suffix, mime):
    audio = tmp_path / f"a{suffix}"
    audio.write_bytes(b"\0" * 100)
    src = html_page.audio_source(audio, tmp_path / "p.html")
    assert src == (f"data:{mime};base64,{base64.b64encode(audio.read_bytes()).decode()}" if mime else "a.m4a")


def test_audio_libsndfile_cannot_read_is_played_without_a_waveform(tmp_path):
    audio = tmp_path / "talk.m4a"
    audio.write_bytes(b"not audio libsndfile reads")
    page = Page(render_alignment(RESULT, "html", "utt", WriteOptions(audio=str(audio),
                                                                      destination=str(tmp_path / "p.html"))))
    assert page.find("audio")[0].attrs["src"] == "talk.m4a" and page.find("svg") == []
    assert page.find("p", "note")[0].text.startswith(f"No waveform: {audio}: libsndfile cannot read it")


def test_missing_audio_is_an_error(tmp_path):
    with pytest.raises(CtcToolError, match=f"^{tmp_path}/gone.wav: no such file$"):
        render_alignment(RESULT, "html", "utt", WriteOptions(audio=str(tmp_path / "gone.wav")))


def test_waveform_peaks_match_a_direct_computation(tmp_path, monkeypatch):
    rate, rng = 8000, np.random.default_rng(1)
    stereo = rng.uniform(-1, 1, (12345, 2)).astype(np.float32) * np.linspace(0, 1, 12345)[:, None]
    soundfile.write(tmp_path / "s.wav", stereo, rate, subtype="FLOAT")
    monkeypatch.setattr(html_page, "_BLOCK", 1000)  # columns straddle blocks
    waveform = html_page.read_waveform(tmp_path / "s.wav", columns=97)
    mono = stereo.mean(axis=1)
    edges = [k * len(mono) // 97 for k in range(98)]
    expected = [(mono[a:b].min(), mono[a:b].max()) for a, b in zip(edges, edges[1:])]
    assert waveform.peaks.shape == (97, 2)
    assert np.allclose(waveform.peaks, expected)
    assert waveform.seconds == 12345 / rate
    assert html_page.read_waveform(tmp_path / "s.wav").peaks.shape == (html_page.MIN_COLUMNS, 2)


def test_waveform_is_drawn_under_the_boxes(tmp_path):
    audio = write_wav(tmp_path / "a.wav", 2.0)
    page = Page(render_alignment(RESULT, "html", "utt", WriteOptions(audio=str(audio))))
    wave = page.find("div", "wave")[0]
    assert page.elements[page.elements.index(wave) + 1].tag == "svg"
    assert page.find("path")[0].attrs["d"].startswith("M0.5,")


# ---------------------------------------------------------------- the command


def test_cli_emissions_page(tmp_path):
    out = tmp_path / "out.html"
    args = ["align", "--emissions", EXAMPLES / "align_emissions.npy", "--frame-shift", "0.02",
            EXAMPLES / "align_transcript.txt"]
    result = run_cli(*args, "--format", "html", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    expected = json.loads(run_cli(*args).stdout)["words"]
    page = Page(out.read_text(encoding="utf-8"))
    assert [(w.text, w.attrs["data-start"], w.attrs["data-end"]) for w in words_of(page)] == [
        (w["word"], f"{w['start']:.3f}", f"{w['end']:.3f}") for w in expected]
    assert page.find("audio") == [] and "No audio" in page.find("p", "note")[0].text


def test_cli_audio_page(tmp_path):
    out = tmp_path / "out.html"
    args = ["align", EXAMPLES / "hello.wav", EXAMPLES / "hello.txt"]
    result = run_cli(*args, "--format", "html", "-o", out)
    assert result.exit_code == 0, result.stderr
    expected = json.loads(run_cli(*args).stdout)["words"]
    page = Page(out.read_text(encoding="utf-8"))
    assert [(w.text, w.attrs["data-start"], w.attrs["data-end"]) for w in words_of(page)] == [
        (w["word"], f"{w['start']:.3f}", f"{w['end']:.3f}") for w in expected]
    assert page.find("audio")[0].attrs["src"].startswith("data:audio/wav;base64,")
    assert page.find("svg") and not page.find("p", "note")


# ---------------------------------------------------------------- in a browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "chrome-headless-shell")


def _browser():
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found is None:
        pytest.skip(f"no headless browser to render the page: none of {', '.join(BROWSERS)} is on PATH")
    return found


def _chromium(tmp_path, *args):
    command = [_browser(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", "--autoplay-policy=no-user-gesture-required",
               "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_page_renders_in_chromium(tmp_path):
    audio = write_wav(tmp_path / "a.wav", 2.0)
    page = tmp_path / "page.html"
    write_alignment(page, RESULT, "html", "utt", WriteOptions(audio=str(audio), destination=str(page)))
    shot = tmp_path / "shot.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,800", page.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (800, 1200)
    rgb = (pixels[..., :3] * 255).round().astype(np.int64)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert len(colours) > 100
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red.sum() > 200  # the border of the flagged line


def test_clicking_a_word_plays_it_from_a_relative_audio_path(tmp_path, monkeypatch):
    monkeypatch.setattr(html_page, "EMBED_LIMIT", 0)
    audio = write_wav(tmp_path / "audio" / "a.wav", 2.0)
    page = tmp_path / "pages" / "page.html"
    page.parent.mkdir()
    word = RESULT.words[1]
    probe = f"""<script>
window.addEventListener("load", function () {{
  var a = document.getElementById("audio"), root = document.documentElement;
  function go() {{
    document.querySelector('.transcript .w[data-word="1"]').click();
    root.setAttribute("data-started", a.currentTime.toFixed(3) + " " + a.paused);
    a.currentTime = {word.end + 0.002};  // as if it had played to the end of the word
    a.dispatchEvent(new Event("timeupdate"));
    root.setAttribute("data-stopped", a.currentTime.toFixed(3) + " " + a.paused);
  }}
  if (a.readyState >= 1) go(); else a.addEventListener("loadedmetadata", go);
}});
</script></body>"""
    text = render_alignment(RESULT, "html", "utt", WriteOptions(audio=str(audio), destination=str(page)))
    page.write_text(text.replace("</body>", probe), encoding="utf-8")
    done = _chromium(tmp_path, "--dump-dom", page.as_uri())
    root = Page(done.stdout).find("html")[0].attrs
    assert root.get("data-ready") == "1" and root.get("data-audio") == "ready", done.stderr[-2000:]
    assert root["data-started"] == f"{word.start:.3f} false"
    assert root["data-stopped"] == f"{word.end + 0.002:.3f} true"
