"""Corpus runs on the command line: batched align, transcribe and emissions over a manifest, shards (--shard,
torchrun's RANK/WORLD_SIZE) and --merge-reports.

Independent routes: batched outputs against the file-by-file commands (to float tolerance); shards against the
unsharded run, byte for byte; the split's partition by listing what each shard wrote in a folder of its own.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import ctctool.corpus.plan
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SPEECH = EXAMPLES / "speech"
SOURCES = {line.split("|")[0]: (SPEECH / "wavs" / f"{line.split('|')[0]}.wav", line.split("|")[1])
           for line in (SPEECH / "metadata.csv").read_text(encoding="utf-8").splitlines()}
SOURCES["hello"] = (EXAMPLES / "hello.wav", (EXAMPLES / "hello.txt").read_text(encoding="utf-8"))
COPIES = 5  # 20 items: with batches of 4 and groups of 2 batches, three groups to share out


@pytest.fixture(autouse=True)
def small_groups(monkeypatch):
    """Groups of two batches, so that 20 items make several groups (the split is by group)."""
    monkeypatch.setattr(ctctool.corpus.plan, "GROUP_BATCHES", 2)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    lines = [json.dumps({"audio_filepath": str(audio), "text": text, "id": f"{name}_{copy}"})
             for copy in range(COPIES) for name, (audio, text) in SOURCES.items()]
    lines.insert(7, json.dumps({"audio_filepath": str(folder / "missing.wav"), "text": "hello", "id": "broken"}))
    lines.insert(3, '{"audio_filepath": ')
    path = folder / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args):
    return run_cli(*[str(a) for a in args])


def _files(folder: Path, skip=("summary.shard-", "failures.shard-")) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(skip)}


@pytest.fixture(scope="module")
def single_run(manifest, tmp_path_factory):
    """The unsharded batched align run every other run is compared with."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ctctool.corpus.plan, "GROUP_BATCHES", 2)
        out = tmp_path_factory.mktemp("single")
        result = _run("align", "--manifest", manifest, "--out-dir", out, "--batch-size", 4, "--output-manifest",
                      "--json")
    assert result.exit_code == 1, result.stderr
    return out, result


def test_a_batched_run_aligns_every_item_and_lists_the_two_bad_ones(single_run, manifest):
    out, result = single_run
    assert "aligned 20, skipped 0 already done, failed 2 of 22 items" in result.stderr
    summary = json.loads(result.stdout)
    assert (summary["items"], summary["done"], summary["failed"], summary["batch_size"]) == (22, 20, 2, 4)
    assert summary["audio_seconds"] > 60 and summary["real_time_factor"] > 0 and summary["files_per_second"] > 0
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["id"], f["where"]) for f in failures] == [(None, f"{manifest} line 4"), ("broken", f"{manifest} line 9")]
    listed = [json.loads(line) for line in (out / "alignments.jsonl").read_text().splitlines()]
    assert len(listed) == 20 and listed[0]["id"] == "example_0001_0"


def test_batched_alignments_match_the_file_by_file_command(single_run):
    out, _ = single_run
    for name, (audio, text) in SOURCES.items():
        transcript = out.parent / f"{name}.txt"
        transcript.write_text(text, encoding="utf-8")
        alone = json.loads(_run("align", audio, transcript).stdout)
        batched = json.loads((out / f"{name}_3.json").read_text())
        assert [w["word"] for w in batched["words"]] == [w["word"] for w in alone["words"]]
        for a, b in zip(alone["words"], batched["words"]):
            assert abs(a["start"] - b["start"]) <= 0.021 and abs(a["end"] - b["end"]) <= 0.021
            assert abs(a["score"] - b["score"]) <= 0.01


def test_batched_emissions_equal_the_file_by_file_emissions(manifest, tmp_path):
    out = tmp_path / "e"
    out.mkdir()
    result = _run("emissions", "--manifest", manifest, "--out-dir", out, "--batch-size", 8)
    assert result.exit_code == 1 and "written 20, skipped 0 already done, failed 2 of 22 items" in result.stderr
    for name, (audio, _) in SOURCES.items():
        assert _run("emissions", audio, "-o", tmp_path / f"{name}.npy").exit_code == 0
        alone = np.load(tmp_path / f"{name}.npy")
        for copy in range(COPIES):
            batched = np.load(out / f"{name}_{copy}.npy")
            assert batched.shape == alone.shape and batched.dtype == np.float32
            assert np.abs(batched - alone).max() < 1e-4
    listed = [json.loads(line) for line in (out / "emissions.jsonl").read_text().splitlines()]
    assert [r["emissions_filepath"] for r in listed[:2]] == ["example_0001_0.npy", "example_0002_0.npy"]


def test_transcribe_manifest_writes_what_transcribe_prints(manifest, tmp_path):
    result = _run("transcribe", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4)
    assert result.exit_code == 1 and "transcribed 20, skipped 0 already done, failed 2 of 22 items" in result.stderr
    printed = _run("transcribe", *[audio for audio, _ in SOURCES.values()]).stdout.splitlines()
    for (name, (audio, text)), line in zip(SOURCES.items(), printed):
        assert (tmp_path / f"{name}_2.txt").read_text(encoding="utf-8") == line + "\n"
    listed = {r["id"]: r for r in map(json.loads, (tmp_path / "transcripts.jsonl").read_text().splitlines())}
    assert len(listed) == 20 and listed["hello_4"]["text"] == SOURCES["hello"][1]
    assert listed["hello_4"]["pred_text"] == printed[-1]


def test_transcribe_manifest_takes_the_blank_penalty(manifest, tmp_path):
    result = _run("transcribe", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--blank-penalty", 3)
    assert result.exit_code == 1, result.stderr  # the two broken items
    printed = _run("transcribe", *[audio for audio, _ in SOURCES.values()], "--blank-penalty", 3).stdout.splitlines()
    default = _run("transcribe", *[audio for audio, _ in SOURCES.values()]).stdout.splitlines()
    assert printed != default  # 3 (natural log) off the blank changes what the built-in model reads
    for name, line in zip(SOURCES, printed):
        assert (tmp_path / f"{name}_0.txt").read_text(encoding="utf-8") == line + "\n"


def test_the_shards_together_write_the_single_runs_bytes(single_run, manifest, tmp_path):
    out = tmp_path / "shared"  # not there yet: the first shard makes it
    codes = [_run("align", "--manifest", manifest, "--out-dir", out, "--batch-size", 4, "--output-manifest",
                  "--shard", f"{k}/2").exit_code for k in range(2)]
    assert sorted(codes) == [0, 1]  # the two bad lines fall to one shard or the other
    assert not (out / "failures.jsonl").exists() and not (out / "alignments.jsonl").exists()
    merged = _run("align", "--manifest", manifest, "--out-dir", out, "--batch-size", 4, "--output-manifest",
                  "--merge-reports")
    assert merged.exit_code == 1, merged.stderr
    assert "2 shards: aligned 20, skipped 0 already done, failed 2 of 22 items" in merged.stderr
    assert _files(out) == _files(single_run[0])


def test_each_item_is_done_by_exactly_one_of_three_shards(single_run, manifest, tmp_path):
    written = []
    for k in range(3):
        out = tmp_path / f"shard{k}"
        out.mkdir()
        result = _run("align", "--manifest", manifest, "--out-dir", out, "--batch-size", 4, "--shard", f"{k}/3")
        assert f"shard {k}/3: aligned" in result.stderr
        written.append({p.name for p in out.glob("*.json") if not p.name.startswith("summary")})
        summary = json.loads((out / f"summary.shard-{k}-of-3.json").read_text())
        assert summary["shard"] == [k, 3] and summary["done"] == len(written[-1])
    assert sum(len(w) for w in written) == 20 and all(written)
    assert set().union(*written) == {p.name for p in single_run[0].glob("*.json")}
    for k, names in enumerate(written):  # byte for byte too, though each shard ran alone
        assert all((tmp_path / f"shard{k}" / n).read_bytes() == (single_run[0] / n).read_bytes() for n in names)


def test_a_shard_without_items_says_why(manifest, tmp_path):
    # 20 good items in groups of 2 batches of 4: 3 groups, so shard 3 of 4 gets none
    idle = _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--shard", "3/4")
    assert idle.exit_code == 0, idle.stderr
    assert "shard 3/4: aligned 0, skipped 0 already done, failed 0 of 0 items" in idle.stderr
    assert ("note: the manifest makes 3 group(s) of up to 8 items (2 batches of --batch-size 4), fewer than the 4 "
            "shards: 1 shard(s) get no items; use fewer shards or a smaller --batch-size") in idle.stderr
    busy = _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--shard", "0/3")
    assert "group(s)" not in busy.stderr


def test_torchrun_ranks_are_shards(single_run, manifest, tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    result = _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--device", "cpu")
    assert "shard 1/2: aligned" in result.stderr and (tmp_path / "summary.shard-1-of-2.json").is_file()
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    again = tmp_path / "again"
    again.mkdir()
    _run("align", "--manifest", manifest, "--out-dir", again, "--batch-size", 4, "--shard", "1/2")
    assert _files(tmp_path / "again") == {k: v for k, v in _files(tmp_path).items() if not k.startswith("again/")}


def test_a_torchrun_rank_with_bad_items_exits_0_so_the_others_finish(manifest, tmp_path, monkeypatch):
    """torchrun stops every rank when one exits non-zero: a rank reports its bad items and exits 0; the merge
    exits 1 for them."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    codes, total = {}, 0
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        result = _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--device", "cpu")
        codes[rank] = result.exit_code
        failed = len((tmp_path / f"failures.shard-{rank}-of-2.jsonl").read_text().splitlines()) \
            if (tmp_path / f"failures.shard-{rank}-of-2.jsonl").exists() else 0
        total += failed
        if failed:
            assert (f"note: shard {rank}/2: {failed} item(s) failed, listed in {tmp_path}/failures.shard-{rank}-of-2"
                    ".jsonl; this rank exits 0 so that torchrun lets the other ranks finish") in result.stderr
    assert codes == {0: 0, 1: 0} and total == 2
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name)
    merged = _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--merge-reports")
    assert merged.exit_code == 1 and "2 shards: aligned 20, skipped 0 already done, failed 2 of 22 items" in merged.stderr


def test_a_resumed_run_writes_only_what_is_missing_with_the_same_bytes(single_run, manifest, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(single_run[0], out)
    removed = {name: (out / name).read_bytes() for name in ("example_0002_1.json", "hello_4.json")}
    for name in removed:
        (out / name).unlink()
    result = _run("align", "--manifest", manifest, "--out-dir", out, "--batch-size", 4, "--output-manifest")
    assert "aligned 2, skipped 18 already done, failed 2 of 22 items" in result.stderr
    assert {name: (out / name).read_bytes() for name in removed} == removed
    assert _files(out) == _files(single_run[0])


def test_progress_lines_when_stderr_is_a_log(manifest, tmp_path, monkeypatch):
    import ctctool.cli._batch

    monkeypatch.setattr(ctctool.cli._batch, "PLAIN_EVERY", 0.0)
    result = _run("emissions", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4)
    lines = [line for line in result.stderr.splitlines() if line.startswith("progress: written ")]
    assert lines and lines[-1].startswith("progress: written 22/22 items (2 failed), 0.02 h of audio, RTF ")
    assert "ETA 0:00:00" in lines[-1]


def test_error_merge_before_every_shard_finished(manifest, tmp_path):
    _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--shard", "0/2")
    result = _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--merge-reports")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (f"error: {tmp_path}: shard(s) 1 of 2 have not finished (no "
                                              "summary.shard-K-of-2.json): run them, then merge again")


def test_error_merge_with_another_batch_size(manifest, tmp_path):
    for k in range(2):
        _run("emissions", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 4, "--shard", f"{k}/2")
    result = _run("emissions", "--manifest", manifest, "--out-dir", tmp_path, "--batch-size", 8, "--merge-reports")
    assert result.exit_code == 1 and result.stderr.splitlines()[-1] == (
        f"error: {tmp_path / 'summary.shard-0-of-2.json'}: this shard ran over another manifest or batch size; run it "
        "again with this manifest and --batch-size, or remove the file")


def test_error_merge_without_shards(manifest, tmp_path):
    result = _run("transcribe", "--manifest", manifest, "--out-dir", tmp_path, "--merge-reports")
    assert result.exit_code == 1 and result.stderr.splitlines()[-1] == (
        f"error: {tmp_path}: no shard summaries (summary.shard-K-of-N.json); run the shards first, each with its own "
        "--shard")


def test_error_batch_options_without_a_manifest():
    result = _run("align", EXAMPLES / "hello.wav", EXAMPLES / "hello.txt", "--shard", "0/2", "--workers", "2")
    assert result.exit_code == 2
    assert result.stderr == ("error: Invalid value for --shard/--workers: applies to --manifest runs (see "
                             "'ctctool align --help')\n")


def test_error_shard_out_of_range(manifest, tmp_path):
    result = _run("emissions", "--manifest", manifest, "--out-dir", tmp_path, "--shard", "2/2")
    assert result.exit_code == 2 and "Invalid value for '--shard': 2/2: expected K/N with 0 <= K < N" in result.stderr


def test_error_transcribe_manifest_needs_an_out_dir(manifest):
    result = _run("transcribe", "--manifest", manifest)
    assert result.exit_code == 2 and "give AUDIO files, or --manifest with --out-dir" in result.stderr


def test_error_ray_workers_get_gpus_by_flag(manifest, tmp_path):
    result = _run("align", "--manifest", manifest, "--out-dir", tmp_path, "--executor", "ray", "--device", "cuda")
    assert result.exit_code == 1 and result.stderr.splitlines()[-1] == (
        "error: --device cuda: with --executor ray, the workers get GPUs through --num-gpus-per-worker (e.g. 1); "
        "the driver needs none")


def test_error_ray_not_installed(manifest, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)
    result = _run("emissions", "--manifest", manifest, "--out-dir", tmp_path, "--executor", "ray")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "error: --executor ray needs Ray Data: pip install 'ctctool[ray]'"
    assert list(tmp_path.iterdir()) == []
