"""The Ray executor on a local Ray instance of 2 CPUs: the same bytes as the local run, resumable, failures
listed as the local run lists them, and an out-dir named by URI (pyarrow's file system)."""

import json
import shutil
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[ray]')")

import ctctool.corpus.plan  # noqa: E402
from helpers import run_cli  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SPEECH = EXAMPLES / "speech"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(autouse=True)
def small_groups(monkeypatch):
    monkeypatch.setattr(ctctool.corpus.plan, "GROUP_BATCHES", 2)  # 10 items in batches of 2: three groups


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    rows = [line.split("|") for line in (SPEECH / "metadata.csv").read_text(encoding="utf-8").splitlines()]
    lines = [json.dumps({"audio_filepath": str(SPEECH / "wavs" / f"{u}.wav"), "text": t, "id": f"{u}_{c}"})
             for c in range(3) for u, t, _ in rows]
    lines.insert(4, json.dumps({"audio_filepath": str(folder / "gone.wav"), "text": "x", "id": "broken"}))
    lines.append("[1, 2]")
    path = folder / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _pair(manifest, tmp_path, *args):
    """The same run here and on Ray (two model workers)."""
    here, there = tmp_path / "local", tmp_path / "ray"
    here.mkdir()
    there.mkdir()
    local = run_cli(*map(str, args[:1]), "--manifest", str(manifest), "--out-dir", str(here), *map(str, args[1:]))
    remote = run_cli(*map(str, args[:1]), "--manifest", str(manifest), "--out-dir", str(there), *map(str, args[1:]),
                     "--executor", "ray", "--workers", "2")
    return here, local, there, remote


def test_align_on_ray_writes_the_local_runs_bytes_and_resumes(manifest, tmp_path):
    here, local, there, remote = _pair(manifest, tmp_path, "align", "--batch-size", 2, "--output-manifest",
                                       "--format", "srt")
    assert local.exit_code == remote.exit_code == 1, remote.stderr
    assert "aligned 9, skipped 0 already done, failed 2 of 11 items" in remote.stderr
    assert len(list(there.glob("*.srt"))) == 9 and _files(there) == _files(here)
    failures = [json.loads(line) for line in (there / "failures.jsonl").read_text().splitlines()]
    assert [f["id"] for f in failures] == [None, "broken"] and "gone.wav: no such file" in failures[1]["error"]
    kept = (there / "example_0003_1.srt").read_bytes()
    (there / "example_0003_1.srt").unlink()
    again = run_cli("align", "--manifest", str(manifest), "--out-dir", str(there), "--batch-size", "2",
                    "--output-manifest", "--format", "srt", "--executor", "ray")
    assert "aligned 1, skipped 8 already done, failed 2 of 11 items" in again.stderr
    assert (there / "example_0003_1.srt").read_bytes() == kept and _files(there) == _files(here)


def test_emissions_on_ray_into_a_uri_folder(manifest, tmp_path):
    here = tmp_path / "local"
    here.mkdir()
    shutil.rmtree(tmp_path / "uri", ignore_errors=True)
    (tmp_path / "uri").mkdir()
    local = run_cli("emissions", "--manifest", str(manifest), "--out-dir", str(here), "--batch-size", "4")
    remote = run_cli("emissions", "--manifest", str(manifest), "--out-dir", (tmp_path / "uri").as_uri(),
                     "--batch-size", "4", "--executor", "ray", "--json")
    assert local.exit_code == remote.exit_code == 1, remote.stderr
    summary = json.loads(remote.stdout)
    assert (summary["executor"], summary["done"], summary["failed"]) == ("ray", 9, 2)
    assert _files(tmp_path / "uri") == _files(here)
