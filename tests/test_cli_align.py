"""`ctctool align --emissions` end to end on the planted example, and its errors."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import make_align_example  # noqa: E402  (the planted word times)

EMISSIONS = EXAMPLES / "align_emissions.npy"
TRANSCRIPT = EXAMPLES / "align_transcript.txt"


def _align(*extra):
    return run_cli("align", "--emissions", EMISSIONS, "--frame-shift", "0.02", TRANSCRIPT, *extra)


def test_example_is_reproducible(tmp_path):
    subprocess.run([sys.executable, str(EXAMPLES / "make_align_example.py"), str(tmp_path / "e.npy")], check=True)
    assert np.array_equal(np.load(tmp_path / "e.npy"), np.load(EMISSIONS))


def test_recovers_every_planted_word_time():
    result = _align()
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    words = payload["words"]
    assert [w["word"] for w in words] == TRANSCRIPT.read_text().split()
    assert [(w["start"], w["end"]) for w in words] == [pytest.approx(p) for p in make_align_example.PLANTED]
    assert [s["text"] for s in payload["segments"]] == ["The quick brown", "fox jumps over lazy"]
    assert payload["segments"][0]["start"] == 0.3 and payload["segments"][1]["end"] == 3.7
    assert not any(s["flagged"] for s in payload["segments"])
    assert "".join(t["token"] for t in payload["tokens"]) == "thequickbrownfoxjumpsoverlazy"
    assert payload["frame_shift"] == 0.02 and payload["duration"] == 4.0
    assert result.stderr == "note: normalised 1 word(s) to the vocabulary: 'The' -> 'the'\n"


def test_offset_shifts_every_time():
    payload = json.loads(_align("--offset", "0.5").stdout)
    assert payload["words"][0]["start"] == 0.8


def test_wrong_line_is_flagged(tmp_path):
    transcript = tmp_path / "t.txt"
    transcript.write_text("The quick brown\nzzz zzz zzz zzz\n", encoding="utf-8")
    result = run_cli("align", "--emissions", EMISSIONS, "--frame-shift", "0.02", transcript)
    assert result.exit_code == 0
    flagged = [s["flagged"] for s in json.loads(result.stdout)["segments"]]
    assert flagged == [False, True]
    assert "warning: line 'zzz zzz zzz zzz' scores" in result.stderr


def test_star_absorbs_untranscribed_speech(tmp_path):
    transcript = tmp_path / "t.txt"
    transcript.write_text("* fox jumps over lazy\n", encoding="utf-8")
    result = run_cli("align", "--emissions", EMISSIONS, "--frame-shift", "0.02", transcript)
    assert result.exit_code == 0, result.stderr
    words = json.loads(result.stdout)["words"]
    assert [w["word"] for w in words] == ["fox", "jumps", "over", "lazy"]
    assert [(w["start"], w["end"]) for w in words] == [pytest.approx(p) for p in make_align_example.PLANTED[3:]]


# "The": the model's own reading (ratio 0), mean posterior 0.93864 -> 0.2 + (0.93864 - 0.3) * 0.8 / 0.7 = 0.9299
@pytest.mark.parametrize("fmt, first_line", [("srt", "1"), ("vtt", "WEBVTT"), ("ctm", "align_transcript 1 0.300 0.320 The 0.9299"),
                                             ("tsv", "start\tend\tword\tscore"), ("textgrid", 'File type = "ooTextFile"'),
                                             ("audacity", "0.300\t0.620\tThe")])
def test_formats_to_file(tmp_path, fmt, first_line):
    out = tmp_path / f"out.{fmt}"
    result = _align("--format", fmt, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8").splitlines()[0] == first_line


def _error(result, message):
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.splitlines()[-1] == f"error: {message}"


def test_error_missing_frame_shift():
    _error(run_cli("align", "--emissions", EMISSIONS, TRANSCRIPT),
           "--emissions needs --frame-shift SECONDS (> 0), the time between frames, e.g. 0.02")


def test_error_vocabulary_size(tmp_path):
    np.save(tmp_path / "e.npy", np.zeros((50, 29), dtype=np.float32))
    _error(run_cli("align", "--emissions", tmp_path / "e.npy", "--frame-shift", "0.02", TRANSCRIPT),
           f"{tmp_path / 'e.npy'}: the emissions have C=29 classes but the vocabulary has 31 tokens; pass --vocab with "
           "one token per class")


def test_error_not_log_probs(tmp_path):
    np.save(tmp_path / "e.npy", np.ones((50, 31), dtype=np.float32))
    _error(run_cli("align", "--emissions", tmp_path / "e.npy", "--frame-shift", "0.02", TRANSCRIPT),
           f"{tmp_path / 'e.npy'}: the emissions: --input-kind log-probs needs values <= 0; these look like logits, "
           "so pass --input-kind logits")


def test_error_too_short(tmp_path):
    np.save(tmp_path / "e.npy", np.load(EMISSIONS)[:20])
    _error(run_cli("align", "--emissions", tmp_path / "e.npy", "--frame-shift", "0.02", TRANSCRIPT),
           f"{TRANSCRIPT}: utterance 0: 35 labels with 0 repeats need >= 35 frames; there are 20 in the emissions")


def test_error_unknown_model(tmp_path):
    _error(run_cli("align", tmp_path / "a.wav", TRANSCRIPT, "--model", tmp_path / "nope"),
           f"{tmp_path / 'nope'}: no such file or directory; expected 'default', a ctctool checkpoint file, "
           "a wav2vec2-style checkpoint directory or a Hugging Face hub id (owner/name)")


def test_usage_error_for_wrong_argument_count():
    assert run_cli("align", "--emissions", EMISSIONS, "--frame-shift", "0.02").exit_code == 2
