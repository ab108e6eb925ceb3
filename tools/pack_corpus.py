"""Pack a training corpus small enough to travel: each utterance as Ogg Opus, with a JSONL manifest.

    python tools/pack_corpus.py recipe-work/mix_train recipe-work/packed/train.jsonl --bitrate-level 0.96

SOURCE is anything ``ctctool train`` reads (an LJSpeech folder or a JSONL manifest). The manifest's
``audio_filepath`` entries are relative to its folder, so the folder can be moved as a whole. Level 0.96 of
libsndfile's Opus encoder gives about 16 kbit/s on speech: 10.4 hours of training audio in 75 MB instead of
1.2 GB of 16-bit WAV. The lengths in samples stay the same; the sound is that of a wide-band speech codec.
``--parts N`` spreads the audio over N folders (``audio-1/`` ... ``audio-N/``, item i in folder i mod N + 1),
for transfers with a size limit each: the manifest lists them all, and ``NAME.part-K.jsonl`` beside it lists
folder K's. ``--every K`` packs only items 1, K + 1, 2K + 1, ... (a smaller dev set).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ctctool.io.manifest import read_manifest_items  # noqa: E402


def _pack(job: tuple[str, str, float]) -> None:
    source, target, level = job
    audio, rate = soundfile.read(source, dtype="float32")
    temporary = target + ".part"
    soundfile.write(temporary, audio, rate, format="OGG", subtype="OPUS", compression_level=level)
    os.replace(temporary, target)


def _write_manifest(path: Path, rows) -> None:
    temporary = path.with_name(path.name + ".part")
    with open(temporary, "w", encoding="utf-8") as out:
        for item, place in rows:
            out.write(json.dumps({"id": item.id, "audio_filepath": place, "text": item.text}) + "\n")
    os.replace(temporary, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("manifest", type=Path, help="the .jsonl manifest to write; audio goes to audio/ beside it")
    parser.add_argument("--bitrate-level", type=float, default=0.96, help="libsndfile's Opus compression level")
    parser.add_argument("--parts", type=int, default=1)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    items = read_manifest_items(args.source).items[:: args.every]
    folders = ["audio"] if args.parts == 1 else [f"audio-{k + 1}" for k in range(args.parts)]
    places = [f"{folders[i % len(folders)]}/{item.id}.ogg" for i, item in enumerate(items)]
    for folder in folders:
        (args.manifest.parent / folder).mkdir(parents=True, exist_ok=True)
    jobs = [(str(item.audio), str(args.manifest.parent / place), args.bitrate_level)
            for item, place in zip(items, places) if not (args.manifest.parent / place).exists()]
    with ProcessPoolExecutor(args.jobs) as pool:
        list(pool.map(_pack, jobs, chunksize=32))
    _write_manifest(args.manifest, zip(items, places))
    if args.parts > 1:
        for k, folder in enumerate(folders):
            part = args.manifest.with_name(f"{args.manifest.stem}.part-{k + 1}.jsonl")
            _write_manifest(part, [(item, place) for item, place in zip(items, places) if place.startswith(folder + "/")])
    print(f"{len(items)} utterances in {', '.join(folders)} ({len(jobs)} packed now), manifest {args.manifest}")


if __name__ == "__main__":
    main()
