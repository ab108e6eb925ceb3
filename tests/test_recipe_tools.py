"""The data tools of the default model's recipe: text splits, Piper word timings, codec round trips."""

import random
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import make_piper_set  # noqa: E402
import make_speech_set  # noqa: E402
import make_text_corpus  # noqa: E402

Phoneme = namedtuple("Phoneme", "phoneme num_samples")


def test_sentences_go_to_one_split_by_their_text():
    sentences = [f"sentence number {i}" for i in range(3000)]
    parts = [make_text_corpus.split_of(s, 0.05, 0.05) for s in sentences]
    assert parts == [make_text_corpus.split_of(s.upper(), 0.05, 0.05) for s in sentences]  # case does not move it
    share = {p: parts.count(p) / len(parts) for p in ("train", "dev", "eval")}
    assert abs(share["dev"] - 0.05) < 0.015 and abs(share["eval"] - 0.05) < 0.015


def test_number_phrases_are_spelled_out():
    phrases = make_text_corpus.number_phrases(200, random.Random(1))
    assert not any(ch.isdigit() for phrase in phrases for ch in phrase)
    assert any(p.startswith("it costs ") and p.endswith(" dollars") for p in phrases)


def test_text_file_sentences_respect_the_word_bounds(tmp_path):
    lines = ["one two", "one two three", "a b c d e", "x y z w v u t s"]
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    maker = make_speech_set.sentence_maker(random.Random(0), tmp_path / "t.txt")
    drawn = {maker.sentence(3, 5) for _ in range(100)}
    assert drawn == {"one two three", "a b c d e"}


def test_piper_word_spans_run_between_separators():
    rate = 1000
    alignment = [Phoneme("^", 10), Phoneme("h", 20), Phoneme("ˈ", 5), Phoneme("ə", 15), Phoneme(" ", 30),
                 Phoneme("w", 25), Phoneme(",", 50), Phoneme(" ", 5), Phoneme("d", 10), Phoneme("$", 40)]
    # by hand: word 1 from 10 to 10+20+5+15 = 50; word 2 from 80 to 105; word 3 from 160 to 170 samples
    assert make_piper_set.word_spans(alignment, rate) == [(0.010, 0.050), (0.080, 0.105), (0.160, 0.170)]


@pytest.mark.parametrize("codec", ["mp3", "opus"])
def test_codec_round_trip_keeps_length_and_timing(codec):
    pytest.importorskip("av", reason="the av extra (PyAV) is not installed")
    rate = 16000
    t = np.arange(rate) / rate
    signal = 0.5 * np.sin(2 * np.pi * 440 * t) * (t > 0.3) * (t < 0.7)  # a tone burst from 0.3 to 0.7 s
    out = make_piper_set.codec_round_trip(signal, rate, codec, 32000)
    assert out.shape == signal.shape
    envelope = np.abs(out) > 0.1
    onset, offset = np.argmax(envelope) / rate, (len(envelope) - np.argmax(envelope[::-1])) / rate
    assert abs(onset - 0.3) < 0.005 and abs(offset - 0.7) < 0.005  # the codec's delay is taken out
    assert np.corrcoef(out, signal)[0, 1] > 0.9


def test_the_report_names_each_gap_range_of_the_calibration_in_frames():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "recipes" / "default_model"))
    import report  # noqa: E402

    from ctctool.alignment.calibration import fit_boundary_correction, EdgeErrors

    gaps = np.repeat([0.02, 0.04, 0.06, 0.12, 0.3], 20)
    errors = EdgeErrors(-gaps, gaps, -2 * gaps, gaps)  # a start error of -gap, an end error of -2 gap
    calibration = fit_boundary_correction([errors], frame_shift=0.02).as_dict()
    assert report.gap_shifts(calibration) == (
        "starts after a gap of 0-1: +20.0 ms, 2: +40.0 ms, 3-4: +60.0 ms, 5-9: +120.0 ms, 10+: +300.0 ms; "
        "ends before a gap of 0-1: +40.0 ms, 2: +80.0 ms, 3-4: +120.0 ms, 5-9: +240.0 ms, 10+: +600.0 ms")
    assert report.gap_shifts({"word_start": 0.01, "word_end": 0.02}).startswith("none")


def test_the_report_lists_the_letter_shifts_of_the_calibration():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "recipes" / "default_model"))
    import report  # noqa: E402

    from ctctool.alignment.timing import BoundaryCorrection

    calibration = BoundaryCorrection(0.01, 0.02, start_by_letter={"o": -0.0111, "b": 0.02},
                                     end_by_letter={"s": 0.004}).as_dict()
    assert report.letter_shifts(calibration) == (
        "starts of words beginning with b +20.0, o -11.1 ms; ends of words ending with s +4.0 ms")
    assert report.letter_shifts(BoundaryCorrection(0.01).as_dict()) == "none"
    assert report.letter_shifts({"word_start": 0.01}) == "none"  # a calibration from before 0.7.4


def test_finish_refuses_a_missing_dev_set_or_writing_over_its_checkpoint(tmp_path):
    import subprocess

    script = Path(__file__).resolve().parent.parent / "recipes" / "default_model" / "finish.py"
    checkpoint = tmp_path / "train.pt"
    checkpoint.write_bytes(b"not read: the arguments are checked first")
    for args, message in (([str(tmp_path / "out.pt"), "--calibrate", str(tmp_path / "nowhere")], "--calibrate"),
                          ([str(checkpoint), "--calibrate", str(tmp_path)], "one of the input checkpoints")):
        if message == "one of the input checkpoints":
            (tmp_path / "metadata.csv").write_text("a|b\n")
            (tmp_path / "timings").mkdir()
        run = subprocess.run([sys.executable, str(script), str(checkpoint), *args], capture_output=True, text=True)
        assert run.returncode == 1 and run.stderr.startswith("error: ") and message in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
    assert checkpoint.read_bytes() == b"not read: the arguments are checked first"
    assert not (tmp_path / "out.pt").exists()


@pytest.mark.parametrize("missing,flags,expected", [
    ("onnx", ["--timings"], "error: --timings needs the Python module onnx, which is not installed: pip install onnx"),
    ("piper", [], "error: needs the Python module piper, which is not installed: pip install piper-tts"),
    ("av", [], "error: --lossy-prob above 0 needs the Python module av, which is not installed: pip install av"),
])
def test_the_piper_tool_names_a_missing_module_in_one_line_before_any_work(monkeypatch, tmp_path, capsys, missing,
                                                                           flags, expected):
    # every other module counts as installed, whether or not this machine has Piper
    monkeypatch.setattr(make_piper_set.importlib.util, "find_spec",
                        lambda name, *a: None if name == missing else object())
    with pytest.raises(SystemExit) as exit_info:
        make_piper_set.main([str(tmp_path / "out"), "--num", "1", *flags])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith(expected)
    assert not (tmp_path / "out").exists()  # nothing written
