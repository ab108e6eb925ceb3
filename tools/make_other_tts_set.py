#!/usr/bin/env python3
"""Generate English speech with flite and festival (Debian: apt-get install flite festival
festvox-kallpc16k festvox-kdlpc16k), in the LJSpeech layout that `ctctool train` reads.

Sentences come from the same grammar as make_speech_set.py. Each utterance gets a random
voice, speaking rate (duration stretch), pitch (flite), silence at both ends, level and,
for a share of them, white or pink noise. These synthesisers report no word timings, so
the set is for training and recognition tests, not for the alignment benchmark.

Output: OUT/wavs/<id>.wav (16 kHz mono 16-bit), OUT/metadata.csv (id|text|text),
OUT/info.jsonl (voice, stretch, pitch, snr per utterance).

Example:
    python tools/make_other_tts_set.py OUT --num 3000 --voices flite:kal,flite:awb,festival:kal_diphone
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_speech_set import _pink_noise, resample, sentence_maker  # noqa: E402

VOICES = ["flite:kal", "flite:kal16", "flite:awb", "flite:rms", "flite:slt", "festival:kal_diphone",
          "festival:ked_diphone"]
SAMPLE_RATE = 16000


def synthesise(voice: str, text: str, stretch: float, pitch: float, work: str) -> np.ndarray:
    """Float samples at 16 kHz of ``text`` spoken by ``voice`` ("flite:NAME" or "festival:NAME")."""
    engine, name = voice.split(":", 1)
    wav = os.path.join(work, "out.wav")
    if engine == "flite":
        subprocess.run(["flite", "-voice", name, "--setf", f"duration_stretch={stretch:.3f}",
                        "--setf", f"int_f0_target_mean={pitch:.1f}", "-t", text, "-o", wav], check=True,
                       capture_output=True)
    elif engine == "festival":
        source = os.path.join(work, "text.txt")
        Path(source).write_text(text + "\n", encoding="utf-8")
        subprocess.run(["text2wave", "-eval", f"(voice_{name})", "-eval",
                        f"(Parameter.set 'Duration_Stretch {stretch:.3f})", "-o", wav, source], check=True,
                       capture_output=True)
    else:
        raise ValueError(f"voice {voice!r}: expected flite:NAME or festival:NAME")
    samples, rate = sf.read(wav, dtype="float64")
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    return resample(samples, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else samples


def make_one(job: dict) -> dict:
    rng = np.random.default_rng(job["seed"])
    with tempfile.TemporaryDirectory() as work:
        try:
            y = synthesise(job["voice"], job["text"], job["stretch"], job["pitch"], work)
        except subprocess.CalledProcessError as exc:  # festival crashes on a few texts: leave them out
            return {"id": job["id"], "failed": f"{job['voice']} on {job['text']!r}: {exc}"}
    pads = [np.zeros(int(SAMPLE_RATE * p)) for p in job["pads"]]
    y = np.concatenate([pads[0], y, pads[1]])
    y *= 32767.0 * 10 ** (job["level_db"] / 20.0) / (np.max(np.abs(y)) + 1e-9)
    if job["snr_db"] is not None:
        speech = y[len(pads[0]) : len(y) - len(pads[1])]
        noise = _pink_noise(len(y), rng) if job["noise"] == "pink" else rng.standard_normal(len(y))
        y = y + noise * math.sqrt(np.mean(speech ** 2) / 10 ** (job["snr_db"] / 10.0))
        y *= min(1.0, 32767.0 / np.max(np.abs(y)))
    pcm = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    sf.write(job["path"], pcm, SAMPLE_RATE, subtype="PCM_16")
    return {key: job[key] for key in ("id", "voice", "stretch", "pitch", "snr_db", "noise")} | {
        "duration": round(len(pcm) / SAMPLE_RATE, 4)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--num", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prefix", default="tts_")
    parser.add_argument("--voices", default=",".join(VOICES))
    parser.add_argument("--text", default=None, help="draw sentences from this file (one per line) instead of the grammar")
    parser.add_argument("--words", default="3:30", help="words per sentence (min:max)")
    parser.add_argument("--stretch", default="0.75:1.35", help="duration stretch (min:max); >1 is slower")
    parser.add_argument("--pitch", default="85:190", help="flite target mean F0 in Hz (min:max)")
    parser.add_argument("--snr", default="8:30", help="noise SNR in dB (min:max)")
    parser.add_argument("--noise-prob", type=float, default=0.5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    maker = sentence_maker(rng, args.text)
    voices = [v for v in args.voices.split(",") if v]
    low, high = (int(x) for x in args.words.split(":"))
    s_low, s_high = (float(x) for x in args.stretch.split(":"))
    p_low, p_high = (float(x) for x in args.pitch.split(":"))
    n_low, n_high = (float(x) for x in args.snr.split(":"))
    (args.out / "wavs").mkdir(parents=True, exist_ok=True)
    jobs = []
    for k in range(args.num):
        uid = f"{args.prefix}{k + 1:05d}"
        noisy = rng.random() < args.noise_prob
        jobs.append({"id": uid, "voice": rng.choice(voices), "text": maker.sentence(low, high, "log"),
                     "stretch": rng.uniform(s_low, s_high), "pitch": rng.uniform(p_low, p_high),
                     "pads": (rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)), "level_db": rng.uniform(-9, -1),
                     "snr_db": rng.uniform(n_low, n_high) if noisy else None,
                     "noise": rng.choice(["white", "pink"]) if noisy else None, "seed": args.seed * 100003 + k,
                     "path": str(args.out / "wavs" / f"{uid}.wav")})
    with Pool(args.jobs) as pool:
        infos = pool.map(make_one, jobs, chunksize=8)
    for info in infos:
        if "failed" in info:
            print(f"left out {info['id']}: {info['failed']}", file=sys.stderr)
    jobs = [job for job, info in zip(jobs, infos) if "failed" not in info]
    infos = [info for info in infos if "failed" not in info]
    (args.out / "metadata.csv").write_text("".join(f"{j['id']}|{j['text']}|{j['text']}\n" for j in jobs),
                                           encoding="utf-8")
    (args.out / "info.jsonl").write_text("".join(json.dumps(i) + "\n" for i in infos), encoding="utf-8")
    hours = sum(i["duration"] for i in infos) / 3600
    print(f"wrote {len(jobs)} utterances ({hours:.2f} h) to {args.out}")


if __name__ == "__main__":
    main()
