"""``ctctool wer``: exact user-visible text, exit codes, formats and outputs."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctctool.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, ["wer", *map(str, args)])


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A temporary working folder, so messages name files by their short names."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def assert_error(result, line: str):
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {line}\n"
    assert result.stdout == ""


def test_examples_json_counts_by_hand():
    result = invoke(ROOT / "examples/refs.txt", ROOT / "examples/hyps.txt", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # line 1: S cat->bat, D the; line 2: I big; line 3 (empty ref): I uh; line 5: S a->the
    assert (data["hits"], data["substitutions"], data["deletions"], data["insertions"]) == (15, 2, 1, 2)
    assert data["ref_words"] == 18 and data["wer"] == pytest.approx(5 / 18)
    assert [u["ref_words"] for u in data["utterances"]] == [6, 2, 0, 1, 6, 3]
    assert data["utterances"][2] == {
        "index": 2, "key": None, "ref_words": 0, "hyp_words": 1, "hits": 0, "substitutions": 0,
        "deletions": 0, "insertions": 1, "wer": 1.0, "cer": 2.0}
    assert {"cer", "mer", "wil", "wip"} <= data.keys()
    assert result.stderr == ("warning: " + str(ROOT / "examples/refs.txt") + ": 1 empty "
                             "reference(s) (line 3); each counts its insertions as errors\n")


def test_examples_tables_and_alignment():
    result = invoke(ROOT / "examples/refs.txt", ROOT / "examples/hyps.txt", "--top", "3",
                    "--show-alignment", "2")
    assert result.exit_code == 0, result.output
    assert "27.78%" in result.stdout and "worst 3 of 6 utterances" in result.stdout
    assert "  REF: hello *** world\n  HYP: hello big world\n             I\n" in result.stdout


def test_user_text_is_not_taken_as_markup(workdir):
    write("r.txt", "[bold] x\n")
    write("h.txt", "[bold] y\n")
    result = invoke("r.txt", "h.txt", "--show-alignment", "1")
    assert result.exit_code == 0, result.output
    assert "REF: [bold] x" in result.stdout and "HYP: [bold] y" in result.stdout


def test_tab_and_nbsp_split_words(workdir):
    write("r.txt", "a\tb\na\u00a0b\n")
    write("h.txt", "a b\na b\n")
    data = json.loads(invoke("r.txt", "h.txt", "--json").stdout)
    assert (data["wer"], data["ref_words"]) == (0.0, 4)


def test_normalize_flags(workdir):
    write("r.txt", "Hello, World!\n")
    write("h.txt", "hello world\n")
    wer = lambda *flags: json.loads(invoke("r.txt", "h.txt", "--json", *flags).stdout)["wer"]
    assert (wer(), wer("--lowercase"), wer("--strip-punctuation"), wer("--normalize")) == (
        1.0, 1.0, 1.0, 0.0)
    assert wer("--lowercase", "--strip-punctuation") == 0.0


def test_keyed_files_match_by_key(workdir):
    write("r.txt", "u1 a b\nu2 c\nu3\n")
    write("h.txt", "u3 x\nu1 a b\nu2\tc\n")
    data = json.loads(invoke("r.txt", "h.txt", "--keyed", "--json").stdout)
    assert [(u["key"], u["insertions"]) for u in data["utterances"]] == [("u1", 0), ("u2", 0), ("u3", 1)]
    assert (data["ref_words"], data["wer"]) == (3, pytest.approx(1 / 3))


def test_trn_files_match_by_key(workdir):
    write("r.trn", "a b (spk-1)\n(spk-2)\nc (d) (spk-3)\n")
    write("h.trn", "c (d) (spk-3)\na (spk-1)\nz (spk-2)\n")
    data = json.loads(invoke("r.trn", "h.trn", "--trn", "--json").stdout)
    assert [u["key"] for u in data["utterances"]] == ["spk-1", "spk-2", "spk-3"]
    assert (data["deletions"], data["insertions"], data["hits"]) == (1, 1, 3)


def test_csv_rows(workdir):
    write("r.txt", "a b\n\n")
    write("h.txt", "a\nx\n")
    result = invoke("r.txt", "h.txt", "--csv", "out.csv")
    assert result.exit_code == 0, result.output
    with open("out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["index"], r["deletions"], r["insertions"], r["reference"]) for r in rows] == [
        ("0", "1", "0", "a b"), ("1", "0", "1", "")]
    assert sorted(p.name for p in workdir.iterdir()) == ["h.txt", "out.csv", "r.txt"]  # no temp file


def test_bootstrap_is_reproducible_and_contains_the_estimate(workdir):
    write("r.txt", "".join(f"a b c d {i}\n" for i in range(40)))
    write("h.txt", "".join("a b c d x\n" if i % 3 else "a c\n" for i in range(40)))
    runs = [json.loads(invoke("r.txt", "h.txt", "--json", "--bootstrap", "300", "--seed", "4").stdout)
            for _ in range(2)]
    assert runs[0]["bootstrap"] == runs[1]["bootstrap"]
    assert runs[0]["bootstrap"]["low"] < runs[0]["wer"] < runs[0]["bootstrap"]["high"]
    assert "bootstrap" not in json.loads(invoke("r.txt", "h.txt", "--json").stdout)


def test_two_systems_paired_bootstrap(workdir):
    write("r.txt", "".join(f"w{i} a b c\n" for i in range(60)))
    write("a.txt", "".join(f"w{i} a x\n" for i in range(60)))
    write("b.txt", "".join(f"w{i} a b c\n" if i % 5 else f"w{i} x b c\n" for i in range(60)))
    result = invoke("r.txt", "a.txt", "b.txt", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["wer"] == 0.5 and data["system_b"]["wer"] == pytest.approx(12 / 240)
    assert data["paired_bootstrap"]["prob_b_better"] == 1.0
    assert data["paired_bootstrap"]["resamples"] == 1000
    text = invoke("r.txt", "a.txt", "b.txt", "--top", "0").stdout
    assert "P(WER_B < WER_A) = 1.0000" in text


def test_missing_file(workdir):
    write("h.txt", "a\n")
    assert_error(invoke("nope.txt", "h.txt"), "nope.txt: no such file")


def test_bad_utf8(workdir):
    Path("r.txt").write_bytes(b"ok\n\xff\n")
    write("h.txt", "a\nb\n")
    assert_error(invoke("r.txt", "h.txt"),
                 "r.txt line 2: not valid UTF-8 (byte 0xff); save the file as UTF-8")


def test_plain_line_count_mismatch(workdir):
    write("r.txt", "a\nb\nc\n")
    write("h.txt", "a\nb\n")
    assert_error(invoke("r.txt", "h.txt"),
                 "h.txt: 2 lines but r.txt has 3; plain files are matched line by line, so give "
                 "both the same number of lines (keep empty lines for empty utterances), or match "
                 "by utterance id with --keyed or --trn")


def test_missing_keys(workdir):
    write("refs.txt", "utt1 a\nutt3 b\nutt5 c\nutt7 d\nutt9 e\n")
    write("hyps.txt", "utt1 a\nutt5 c\nutt9 e\n")
    assert_error(invoke("refs.txt", "hyps.txt", "--keyed"),
                 "hyps.txt: 2 of 5 reference keys are missing: utt3, utt7; give a hypothesis line "
                 "for each (a key alone, or '(uttid)' in trn, is an empty hypothesis)")


def test_extra_keys(workdir):
    write("refs.txt", "utt1 a\n")
    write("hyps.txt", "utt1 a\nutt2 b\n")
    assert_error(invoke("refs.txt", "hyps.txt", "--keyed"),
                 "hyps.txt: 1 of 2 keys are not in refs.txt: utt2; remove them or add their references")


def test_duplicate_key(workdir):
    write("refs.txt", "utt1 a\nutt2 b\nutt1 c\n")
    write("hyps.txt", "utt1 a\n")
    assert_error(invoke("refs.txt", "hyps.txt", "--keyed"),
                 "refs.txt line 3: duplicate key utt1 (first on line 1); each utterance id may appear once")


def test_keyed_empty_line(workdir):
    write("refs.txt", "utt1 a\n\n")
    write("hyps.txt", "utt1 a\n")
    assert_error(invoke("refs.txt", "hyps.txt", "--keyed"),
                 "refs.txt line 2: empty line, expected 'uttid words...'; remove it, or write the "
                 "key alone for an empty utterance")


def test_trn_line_without_id(workdir):
    write("refs.trn", "a b (u1)\nhello world\n")
    write("hyps.trn", "a b (u1)\n")
    assert_error(invoke("refs.trn", "hyps.trn", "--trn"),
                 "refs.trn line 2: expected 'words... (uttid)' with the utterance id in parentheses "
                 "at the end, found 'hello world'; use --keyed for 'uttid words...' files, or "
                 "neither for plain line-by-line files")


def test_references_without_words(workdir):
    write("r.txt", "\n \n")
    write("h.txt", "a\n\n")
    assert_error(invoke("r.txt", "h.txt"),
                 "r.txt: the references hold no words (2 utterances, all empty after normalisation): "
                 "corpus WER divides by the reference word count; give at least one non-empty reference")


@pytest.mark.parametrize("args", [
    ["r.txt"], ["r.txt", "h.txt", "--keyed", "--trn"], ["r.txt", "h.txt", "--top", "-1"],
    ["r.txt", "h.txt", "--bootstrap", "many"],
])
def test_usage_errors_exit_2(workdir, args):
    write("r.txt", "a\n")
    write("h.txt", "a\n")
    assert invoke(*args).exit_code == 2


def test_wer_command_does_not_import_torch():
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom ctctool.cli import app\n"
        "r = CliRunner().invoke(app, ['wer', 'examples/refs.txt', 'examples/hyps.txt', "
        "'--bootstrap', '20', '--show-alignment', '1'])\n"
        "assert r.exit_code == 0, r.output\nassert 'torch' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
