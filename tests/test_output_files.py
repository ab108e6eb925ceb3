"""Where outputs go: /dev/stdout-like paths and FIFOs are written in place, never replaced by a rename."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctctool.errors import CtcToolError
from ctctool.io.atomic import atomic_open, written_in_place
from ctctool.io.paths import check_outputs

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_an_output_through_a_descriptor_link_is_appended_to_what_was_printed(tmp_path):
    """``--csv /proc/self/fd/1`` with stdout redirected to a file: the file keeps the JSON printed first and
    gets the CSV after it (a rename would have detached the file from the descriptor, or failed)."""
    out = tmp_path / "out.txt"
    with open(out, "wb") as stdout:
        done = subprocess.run([sys.executable, "-m", "ctctool", "wer", EXAMPLES / "refs.txt", EXAMPLES / "hyps.txt",
                               "--json", "--csv", "/proc/self/fd/1"], stdout=stdout, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('{"hyps": ') and lines[1].startswith("system,index,key,ref_words")
    assert len(lines) == 2 + 6  # the JSON line, the CSV header, one row per utterance of refs.txt


def test_written_in_place(tmp_path):
    fifo, regular = tmp_path / "pipe", tmp_path / "file.txt"
    os.mkfifo(fifo)
    regular.write_text("x", encoding="utf-8")
    assert written_in_place(fifo) and written_in_place("/dev/null") and written_in_place("/dev/stdout")
    assert not written_in_place(regular) and not written_in_place(tmp_path / "new.txt")


def test_atomic_open_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    (tmp_path / "real.txt").write_text("old", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to("real.txt")
    with atomic_open(tmp_path / "link.txt") as handle:
        handle.write("new")
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "real.txt").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


@pytest.mark.parametrize("spelling", ["same", "dotted", "hard link", "symbolic link"])
def test_an_output_that_is_an_input_is_refused(tmp_path, spelling):
    source = tmp_path / "in.txt"
    source.write_text("keep", encoding="utf-8")
    output = {"same": source, "dotted": tmp_path / "sub" / ".." / "in.txt", "hard link": tmp_path / "hard.txt",
              "symbolic link": tmp_path / "soft.txt"}[spelling]
    (tmp_path / "sub").mkdir()
    os.link(source, tmp_path / "hard.txt")
    (tmp_path / "soft.txt").symlink_to("in.txt")
    with pytest.raises(CtcToolError, match=r"^--out .*: is the input file .*in.txt; writing there would destroy it"):
        check_outputs({"--out": output}, [source])
    assert source.read_text(encoding="utf-8") == "keep"


def test_two_outputs_on_one_new_file_are_refused(tmp_path):
    with pytest.raises(CtcToolError, match=r"^-o .*x.json and --plot .*x.json are the same file; give each its own$"):
        check_outputs({"-o": tmp_path / "x.json", "--plot": tmp_path / "." / "x.json"}, [])


def test_a_full_disk_is_one_error_line_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    import errno

    from helpers import run_cli

    def disk_full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(os, "replace", disk_full)
    (tmp_path / "c.txt").write_text("the cat\n", encoding="utf-8")
    result = run_cli("lm", tmp_path / "c.txt", "-o", tmp_path / "lm.arpa")
    assert (result.exit_code, result.stderr) == (1, f"error: {tmp_path / 'lm.arpa'}: No space left on device\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]
