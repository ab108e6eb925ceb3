"""Regenerate the non-Latin-script speech of the --romanize tests: espeak-ng speaks each text, saved as
16 kHz mono 16-bit WAV next to its transcript (run from anywhere; needs the espeak-ng program)."""

import subprocess
import tempfile
from pathlib import Path

import soundfile
import torch

from ctctool.audio.resample import resample

HERE = Path(__file__).resolve().parent
TEXTS = {
    "ru": "Москва это столица России",
    "el": "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας",
    "hi": "दिल्ली भारत की राजधानी है",
}


def main() -> None:
    for language, text in TEXTS.items():
        with tempfile.TemporaryDirectory() as folder:
            raw = Path(folder) / "raw.wav"
            subprocess.run(["espeak-ng", "-v", language, "-s", "140", "-w", str(raw), text], check=True)
            samples, rate = soundfile.read(raw, dtype="float32")
        waveform = resample(torch.from_numpy(samples), rate, 16000).numpy()
        soundfile.write(HERE / f"{language}.wav", waveform, 16000, subtype="PCM_16")
        (HERE / f"{language}.txt").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
