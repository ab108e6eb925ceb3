"""Unix conventions: '-' is standard input for a text input and standard output for an output; --version;
a reader that goes away ends the run quietly."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ctctool
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_a_fifo_transcript_is_refused_unopened_with_the_way_to_pipe_text_in(tmp_path):
    import os

    fifo = tmp_path / "transcript.fifo"
    os.mkfifo(fifo)  # nothing ever writes to it: opening it for reading would block the run
    result = run_cli("align", "--emissions", EXAMPLES / "align_emissions.npy", "--frame-shift", "0.02", fifo)
    assert result.exit_code == 1
    assert result.stderr == (f"error: {fifo}: is a FIFO (named pipe), not a regular file; expected a text file "
                             "(to pipe text in, give - and send it on standard input)\n")


def test_version():
    result = run_cli("--version")
    assert (result.exit_code, result.stdout) == (0, f"ctctool {ctctool.__version__}\n")


def test_transcript_from_stdin_and_subtitles_to_stdout_match_the_files(tmp_path):
    emissions = ["align", "--emissions", EXAMPLES / "align_emissions.npy", "--frame-shift", "0.02"]
    text = (EXAMPLES / "align_transcript.txt").read_text(encoding="utf-8")
    piped = run_cli(*emissions, "-", "--format", "srt", "-o", "-", stdin=text)
    written = run_cli(*emissions, EXAMPLES / "align_transcript.txt", "--format", "srt", "-o", tmp_path / "a.srt")
    assert piped.exit_code == 0 and written.exit_code == 0, piped.stderr + written.stderr
    assert piped.stdout == (tmp_path / "a.srt").read_text(encoding="utf-8") and "-->" in piped.stdout
    assert not Path("-").exists()


def test_hypotheses_from_stdin_score_as_the_file():
    refs, hyps = EXAMPLES / "refs.txt", EXAMPLES / "hyps.txt"
    piped = run_cli("wer", refs, "-", "--json", stdin=hyps.read_bytes())
    named = run_cli("wer", refs, hyps, "--json")
    assert piped.exit_code == 0
    assert {**json.loads(piped.stdout), "hyps": None} == {**json.loads(named.stdout), "hyps": None}


def test_stdin_for_two_inputs_is_a_clear_error():
    result = run_cli("wer", "-", "-", stdin="a\n")
    assert result.exit_code == 1
    assert result.stderr == "error: '-' (standard input) is given for two inputs; it can be only one of them\n"


def test_language_model_to_stdout(tmp_path):
    (tmp_path / "c.txt").write_text("the cat\nthe dog\n", encoding="utf-8")
    piped = run_cli("lm", tmp_path / "c.txt", "-o", "-")
    run_cli("lm", tmp_path / "c.txt", "-o", tmp_path / "lm.arpa")
    assert piped.exit_code == 0 and piped.stdout == (tmp_path / "lm.arpa").read_text(encoding="utf-8")


def test_a_closed_pipe_ends_the_run_quietly(tmp_path):
    refs = tmp_path / "r.txt"
    refs.write_text("a b c\n" * 50_000, encoding="utf-8")
    done = subprocess.run(f"'{sys.executable}' -m ctctool wer '{refs}' '{refs}' --show-alignment 50000 | head -n 1",
                          shell=True, capture_output=True, text=True)
    assert done.stderr == "" and len(done.stdout.splitlines()) == 1


@pytest.mark.parametrize("args, flag, report", [
    (["wer", EXAMPLES / "refs.txt", EXAMPLES / "hyps.txt", "--json", "--csv", "-"], "--csv", "the report"),
    (["align", EXAMPLES / "hello.wav", EXAMPLES / "hello.txt", "--plot", "-"], "--plot", "the alignment"),
    (["loss", EXAMPLES / "emissions.npz", EXAMPLES / "targets.txt", "--grad-out", "-"], "--grad-out", "the losses"),
])
def test_a_second_output_on_a_busy_standard_output_is_refused(args, flag, report):
    result = run_cli(*args)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: {flag} -: standard output already carries {report}; write this to a file\n"


def test_standard_input_is_not_audio():
    result = run_cli("align", "-", EXAMPLES / "hello.txt", stdin=(EXAMPLES / "hello.wav").read_bytes())
    assert result.exit_code == 1 and result.stderr == (
        "error: -: standard input is for text inputs (a transcript, targets, references...); name an audio or "
        "video file instead\n")
