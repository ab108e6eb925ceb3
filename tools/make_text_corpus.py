#!/usr/bin/env python3
"""Build English training text from offline sources, split into disjoint train / dev / eval files.

Sources (all from Debian packages, nothing downloaded):
  * sentences of the BSD fortune files (``apt-get install fortunes fortunes-min``:
    /usr/share/games/fortunes): quotations, jokes, literature, science, sayings;
  * word sequences drawn from the spelling dictionary (``apt-get install wamerican``:
    /usr/share/dict/american-english), so the model meets rare words and has to spell them;
  * number phrases (digit strings, amounts, years, times) written with digits, which the
    corpus reader spells out as words.

A sentence goes to exactly one of the three files (chosen by a hash of its text), so the dev and
eval sets never share a sentence with training. Output: OUT/train.txt, OUT/dev.txt, OUT/eval.txt,
one sentence per line; OUT/lm_train.txt, the training sentences of running text (fortunes and number
phrases, not the random word sequences) for a word language model; and OUT/sources.json with the counts.

    python tools/make_text_corpus.py recipe-work/text --seed 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from pathlib import Path

FORTUNES = Path("/usr/share/games/fortunes")
DICTIONARY = Path("/usr/share/dict/american-english")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_ALLOWED = re.compile(r"^[A-Za-z0-9 ,.;:!?'\"()-]+$")


def fortune_sentences() -> list[str]:
    """Sentences of 3-30 words from the fortune files, attributions, verse layout and code left out."""
    out: list[str] = []
    for path in sorted(FORTUNES.iterdir()):
        if path.suffix in (".dat", ".u8") or path.is_dir() or path.name in ("ascii-art", "art", "translate-me"):
            continue
        text = path.read_text(encoding="latin-1")
        for entry in text.split("\n%\n"):
            lines = [line.strip() for line in entry.splitlines()]
            lines = [line for line in lines if line and not line.startswith(("--", "-- ", "\t--"))]
            body = " ".join(lines)
            for sentence in _SENTENCE_END.split(body):
                sentence = sentence.strip().strip('"').strip()
                words = sentence.split()
                if not 3 <= len(words) <= 30 or not _ALLOWED.match(sentence):
                    continue
                if sum(ch.isupper() for ch in sentence) > 0.3 * sum(ch.isalpha() for ch in sentence):
                    continue  # shouting, acronyms, code
                if re.search(r"\d|--|\.\w", sentence):
                    continue  # numbers (read differently by each synthesiser), file names, dashes
                out.append(sentence)
    return sorted(set(out))


def dictionary_words() -> list[str]:
    words = DICTIONARY.read_text(encoding="utf-8").split()
    return sorted({w for w in words if w.isascii() and w.isalpha() and w.islower() and 2 <= len(w) <= 14})


def word_sequences(words: list[str], count: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 10))) for _ in range(count)]


def number_phrases(count: int, rng: random.Random) -> list[str]:
    """Digit strings, amounts, years and page numbers, spelled out as words (every synthesiser then
    reads them as the transcript says)."""
    from num2words import num2words

    def said(n: int) -> str:
        return num2words(n).replace("-", " ").replace(",", "")

    digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh"]
    out = []
    for _ in range(count):
        kind = rng.randrange(5)
        if kind == 0:
            out.append(" ".join(rng.choice(digits) for _ in range(rng.randint(2, 7))))
        elif kind == 1:
            out.append(f"it costs {said(rng.randint(2, 999))} dollars")
        elif kind == 2:
            year = num2words(rng.randint(1700, 2030), to="year").replace("-", " ")
            out.append(f"in {year} there were {said(rng.randint(2, 5000))} of them")
        elif kind == 3:
            out.append(f"go {rng.choice(['forward', 'back'])} {said(rng.randint(1, 99))} meters and turn {rng.choice(['left', 'right'])}")
        else:
            out.append(f"page {said(rng.randint(1, 900))} line {said(rng.randint(1, 60))}")
    return out


def split_of(sentence: str, dev: float, evaluation: float) -> str:
    h = int(hashlib.sha1(sentence.lower().encode()).hexdigest()[:8], 16) / 2**32
    return "eval" if h < evaluation else "dev" if h < evaluation + dev else "train"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--word-sequences", type=int, default=4000, help="dictionary word sequences")
    parser.add_argument("--numbers", type=int, default=1500, help="number phrases")
    parser.add_argument("--dev", type=float, default=0.05, help="fraction of sentences for the dev set")
    parser.add_argument("--eval", type=float, default=0.05, help="fraction of sentences for the eval set")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    sources = {"fortunes": fortune_sentences(),
               "dictionary": word_sequences(dictionary_words(), args.word_sequences, rng),
               "numbers": number_phrases(args.numbers, rng)}
    splits: dict[str, list[str]] = {"train": [], "dev": [], "eval": []}
    running_text: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    for name, sentences in sources.items():
        counts[name] = {"train": 0, "dev": 0, "eval": 0}
        for sentence in dict.fromkeys(sentences):
            part = split_of(sentence, args.dev, args.eval)
            splits[part].append(sentence)
            if part == "train" and name != "dictionary":
                running_text.append(sentence)
            counts[name][part] += 1
    args.out.mkdir(parents=True, exist_ok=True)
    for part, sentences in splits.items():
        rng.shuffle(sentences)
        (args.out / f"{part}.txt").write_text("".join(s + "\n" for s in sentences), encoding="utf-8")
    (args.out / "lm_train.txt").write_text("".join(s + "\n" for s in running_text), encoding="utf-8")
    (args.out / "sources.json").write_text(json.dumps({"seed": args.seed, "counts": counts}, indent=1) + "\n")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
