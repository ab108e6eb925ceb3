"""Word timings from pocketsphinx 5's forced aligner (HMM-GMM, the en-us model in its wheel), as JSON.

Run with the peer venv's python, never the project's (pocketsphinx is not a ctctool dependency):
    /tmp/psvenv/bin/python bench/peer_pocketsphinx_times.py ITEMS.json
ITEMS.json is a list of {"key", "wav", "text"} (16 kHz 16-bit mono WAV, lower-case words). Prints one JSON
object: {"peer" (name and version), "seconds",
"utterances": {key: {"words": [[word, start_s, end_s], ...]} or {"error": message}}}.
Silences and fillers (<sil>, [noise], ...) are left out; pronunciation variants (``to(3)``) keep the plain word.
The decoder settings (wide beams, two passes: words, then states) are those of
../shared/bench/peer_pocketsphinx_align.py.
"""

import json
import re
import sys
import time
import wave
from importlib.metadata import version

from pocketsphinx import Decoder

RATE = 16000  # Hz
FRAMES_PER_SECOND = 100  # pocketsphinx's frame rate


def read_pcm(path):
    """The 16-bit PCM bytes of a 16 kHz mono WAV file."""
    with wave.open(path) as handle:
        if (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) != (RATE, 1, 2):
            raise ValueError(f"{path}: expected 16 kHz 16-bit mono")
        return handle.readframes(handle.getnframes())


def run_twice(decoder, pcm):
    """Search with the alignment grammar set, then again after set_alignment for the state-level alignment."""
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    decoder.set_alignment()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def align(decoder, wav, text):
    """[(word, start_s, end_s)] of the words of ``text`` in ``wav``."""
    decoder.set_align_text(text)
    run_twice(decoder, read_pcm(wav))
    words = []
    for segment in decoder.get_alignment():
        if segment.name.startswith(("<", "[")):
            continue
        word = re.sub(r"\(\d+\)$", "", segment.name)
        start = segment.start / FRAMES_PER_SECOND
        words.append([word, start, start + segment.duration / FRAMES_PER_SECOND])
    return words


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        items = json.load(handle)
    decoder = Decoder(samprate=RATE, bestpath=False, beam=1e-100, wbeam=1e-80, pbeam=1e-100, loglevel="ERROR")
    started = time.perf_counter()
    results = {}
    for item in items:
        try:
            results[item["key"]] = {"words": align(decoder, item["wav"], item["text"])}
        except (RuntimeError, ValueError) as exc:  # unknown word, failed search, wrong format: reported per item
            results[item["key"]] = {"error": str(exc)}
    peer = f"pocketsphinx {version('pocketsphinx')} forced alignment (en-us)"
    print(json.dumps({"peer": peer, "seconds": time.perf_counter() - started, "utterances": results}))


if __name__ == "__main__":
    main()
