"""`ctctool align --split-audio`: one WAV clip per transcript line, NeMo-style manifests, and the output
manifest of `--manifest` runs.

The checks read the clips back with soundfile and compare them with the source file's own samples over the
bounds the manifest states, and compare those bounds with the line times of the alignment's JSON: they do
not go through ctctool's clip code.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from ctctool.alignment.timing import TimedSpan
from ctctool.errors import CtcToolError
from ctctool.io.alignment_manifest import alignment_scores
from ctctool.io.clips import NOT_ALIGNED, plan_clips, split_audio
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HELLO, HELLO_TEXT = EXAMPLES / "hello.wav", EXAMPLES / "hello.txt"
WAVS = EXAMPLES / "speech" / "wavs"
PAD = 0.1


def _jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def _split(tmp_path, audio=HELLO, transcript=HELLO_TEXT, *extra):
    result = run_cli("align", audio, transcript, "--split-audio", tmp_path / "clips", "-o", tmp_path / "out.json",
                     *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))


def _check_clips(folder, records, source):
    """Every clip is the source's samples over [source_offset, source_end), at the source's rate."""
    samples, rate = soundfile.read(source, dtype="int16")
    for record in records:
        clip = folder / record["audio_filepath"]
        assert record["audio_filepath"] == clip.name  # relative to the manifest's folder
        info = soundfile.info(clip)
        assert (info.samplerate, info.channels, info.subtype) == (rate, 1, "PCM_16")
        got, _ = soundfile.read(clip, dtype="int16")
        first, stop = round(record["source_offset"] * rate), round(record["source_end"] * rate)
        assert np.array_equal(got, samples[first:stop])
        assert record["duration"] == pytest.approx(len(got) / rate, abs=1e-6)
        assert record["source"] == os.path.abspath(source)


def test_one_clip_per_line_is_the_source_audio_padded(tmp_path):
    alignment = _split(tmp_path)
    folder = tmp_path / "clips"
    kept = _jsonl(folder / "manifest.jsonl")
    assert _jsonl(folder / "rejected.jsonl") == []
    assert [r["audio_filepath"] for r in kept] == ["hello_0000.wav", "hello_0001.wav"]
    assert [r["line"] for r in kept] == [0, 1]
    assert [r["text"] for r in kept] == HELLO_TEXT.read_text(encoding="utf-8").splitlines()
    segments = alignment["segments"]
    assert [(r["score"], r["flagged"]) for r in kept] == [(s["score"], s["flagged"]) for s in segments]
    _check_clips(folder, kept, HELLO)
    duration = soundfile.info(HELLO).duration
    gap_middle = (segments[0]["end"] + segments[1]["start"]) / 2
    # line 0: padded before (the audio starts 0.246 s before it), stopped at the middle of the pause after it
    assert kept[0]["source_offset"] == pytest.approx(segments[0]["start"] - PAD, abs=2e-3)
    assert kept[0]["source_end"] == pytest.approx(gap_middle, abs=2e-3)
    assert kept[0]["source_end"] < segments[0]["end"] + PAD
    # line 1 starts where line 0 stops (no sample in both), and is padded at the end, inside the audio
    assert kept[1]["source_offset"] == kept[0]["source_end"]
    assert kept[1]["source_end"] == pytest.approx(min(segments[1]["end"] + PAD, duration), abs=2e-3)


def test_pad_zero_cuts_the_lines_exactly(tmp_path):
    alignment = _split(tmp_path, HELLO, HELLO_TEXT, "--pad", "0")
    kept = _jsonl(tmp_path / "clips" / "manifest.jsonl")
    for record, segment in zip(kept, alignment["segments"]):
        assert (record["source_offset"], record["source_end"]) == (pytest.approx(segment["start"], abs=1e-3),
                                                                   pytest.approx(segment["end"], abs=1e-3))
    _check_clips(tmp_path / "clips", kept, HELLO)


def _hello_at_32k(tmp_path):
    """hello.wav at 32000 Hz (every sample twice), so that the source rate is not the model's."""
    samples, rate = soundfile.read(HELLO, dtype="int16")
    path = tmp_path / "hello32k.wav"
    soundfile.write(path, np.repeat(samples, 2), 2 * rate, subtype="PCM_16")
    return path


def test_clip_rate_source_keeps_the_file_rate_and_model_uses_the_model_rate(tmp_path):
    source = _hello_at_32k(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _split(tmp_path / "a", source, HELLO_TEXT)
    _split(tmp_path / "b", source, HELLO_TEXT, "--clip-rate", "model")
    at_source = _jsonl(tmp_path / "a" / "clips" / "manifest.jsonl")
    _check_clips(tmp_path / "a" / "clips", at_source, source)
    at_model = _jsonl(tmp_path / "b" / "clips" / "manifest.jsonl")
    for fine, coarse in zip(at_source, at_model):
        assert coarse["audio_filepath"] == fine["audio_filepath"] == f"hello32k_{fine['line']:04d}.wav"
        clip, rate = soundfile.read(tmp_path / "b" / "clips" / coarse["audio_filepath"], dtype="int16")
        assert rate == 16000 and len(clip) == round(coarse["duration"] * 16000)
        for key in ("source_offset", "source_end", "duration"):
            assert coarse[key] == pytest.approx(fine[key], abs=1 / 16000)


def test_flagged_and_unaligned_lines_go_to_rejected(tmp_path):
    transcript = tmp_path / "t.txt"
    transcript.write_text("zzz qqq xxx\n---\n" + HELLO_TEXT.read_text(encoding="utf-8"), encoding="utf-8")
    segments = _split(tmp_path, HELLO, transcript)["segments"]
    folder = tmp_path / "clips"
    kept, rejected = _jsonl(folder / "manifest.jsonl"), _jsonl(folder / "rejected.jsonl")
    aligned = [s["end"] > s["start"] for s in segments]
    assert [r["line"] for r in kept] == [k for k, s in enumerate(segments) if aligned[k] and not s["flagged"]] != []
    assert not any(r["flagged"] for r in kept)
    low = [r for r in rejected if r["reason"] == "low_confidence"]
    assert [r["line"] for r in low] == [k for k, s in enumerate(segments) if aligned[k] and s["flagged"]]
    bogus = [r for r in rejected if r["line"] == 0]  # the words are not in the audio: flagged, and kept out
    assert [(r["text"], r["flagged"]) for r in bogus] == [("zzz qqq xxx", True)]
    assert all((folder / r["audio_filepath"]).is_file() for r in low)  # written, to listen to
    _check_clips(folder, [*low, *kept], HELLO)
    unaligned = [r for r in rejected if r["reason"] == NOT_ALIGNED]
    assert [r["line"] for r in unaligned] == [k for k, s in enumerate(segments) if not aligned[k]]
    dashes = [r for r in unaligned if r["line"] == 1]
    assert [(r["text"], r["audio_filepath"], r["duration"], r["score"]) for r in dashes] == [("---", None, 0.0, None)]
    assert all(r["audio_filepath"] is None for r in unaligned)
    assert not (folder / "hello_0001.wav").exists()
    assert len(kept) + len(rejected) == len(segments)


def test_min_confidence_decides_what_is_rejected(tmp_path):
    transcript = tmp_path / "t.txt"
    transcript.write_text("zzz qqq xxx\n" + HELLO_TEXT.read_text(encoding="utf-8"), encoding="utf-8")
    _split(tmp_path, HELLO, transcript, "--min-confidence", "0")
    assert len(_jsonl(tmp_path / "clips" / "manifest.jsonl")) == 3
    assert _jsonl(tmp_path / "clips" / "rejected.jsonl") == []


def test_a_second_audio_into_the_same_folder_adds_its_lines(tmp_path):
    _split(tmp_path)
    result = run_cli("align", WAVS / "example_0003.wav", "-", "--split-audio", tmp_path / "clips",
                     stdin="a duck read the cloud on one open arrow today\n")
    assert result.exit_code == 0, result.stderr
    kept = _jsonl(tmp_path / "clips" / "manifest.jsonl")
    assert [r["audio_filepath"] for r in kept] == ["example_0003_0000.wav", "hello_0000.wav", "hello_0001.wav"]
    _split(tmp_path)  # again: its lines are replaced, not repeated
    assert _jsonl(tmp_path / "clips" / "manifest.jsonl") == kept


def _batch(tmp_path, *extra, items=("example_0001", "example_0002")):
    manifest = tmp_path / "items.jsonl"
    manifest.write_text("".join(json.dumps({"audio_filepath": f"{WAVS / u}.wav", "text": t}) + "\n"
                                for u, t in _texts(items)), encoding="utf-8")
    (tmp_path / "out").mkdir(exist_ok=True)
    return run_cli("align", "--manifest", manifest, "--out-dir", tmp_path / "out", *extra)


def _texts(items):
    rows = dict(line.split("|")[:2] for line in (EXAMPLES / "speech" / "metadata.csv").read_text(
        encoding="utf-8").splitlines())
    return [(u, rows[u]) for u in items]


def test_manifest_batch_splits_every_item_and_resumes_without_duplicates(tmp_path):
    clips = tmp_path / "clips"
    first = _batch(tmp_path, "--split-audio", clips, "--output-manifest")
    assert first.exit_code == 0, first.stderr
    assert "aligned 2, skipped 0 already done, failed 0 of 2 items" in first.stderr
    manifests = {name: (clips / name).read_bytes() for name in ("manifest.jsonl", "rejected.jsonl")}
    kept = _jsonl(clips / "manifest.jsonl")
    assert [r["audio_filepath"] for r in kept] == ["example_0001_0000.wav", "example_0002_0000.wav"]
    for record in kept:
        _check_clips(clips, [record], WAVS / (record["audio_filepath"][:-len("_0000.wav")] + ".wav"))
    listing = (tmp_path / "out" / "alignments.jsonl").read_bytes()

    second = _batch(tmp_path, "--split-audio", clips, "--output-manifest")
    assert "aligned 0, skipped 2 already done, failed 0 of 2 items" in second.stderr
    assert {name: (clips / name).read_bytes() for name in manifests} == manifests
    assert (tmp_path / "out" / "alignments.jsonl").read_bytes() == listing

    (clips / "parts" / "example_0002.jsonl").unlink()  # its split was lost: that item alone is done again
    third = _batch(tmp_path, "--split-audio", clips, "--output-manifest")
    assert "aligned 1, skipped 1 already done, failed 0 of 2 items" in third.stderr
    assert {name: (clips / name).read_bytes() for name in manifests} == manifests
    assert (tmp_path / "out" / "alignments.jsonl").read_bytes() == listing


def test_split_audio_added_to_an_aligned_out_dir_splits_the_items_done(tmp_path):
    assert _batch(tmp_path).exit_code == 0
    again = _batch(tmp_path, "--split-audio", tmp_path / "clips")
    assert "aligned 2, skipped 0 already done" in again.stderr
    assert len(_jsonl(tmp_path / "clips" / "manifest.jsonl")) == 2


def test_output_manifest_lists_each_item_with_its_outputs_and_scores(tmp_path):
    result = _batch(tmp_path, "--split-audio", tmp_path / "clips", "--format", "json", "--output-manifest")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    lines = _jsonl(out / "alignments.jsonl")
    assert [line["id"] for line in lines] == ["example_0001", "example_0002"]
    for line, (utt_id, text) in zip(lines, _texts(["example_0001", "example_0002"])):
        assert (line["audio_filepath"], line["text"]) == (str(WAVS / f"{utt_id}.wav"), text)
        assert line["duration"] == pytest.approx(soundfile.info(WAVS / f"{utt_id}.wav").duration, abs=1e-3)
        assert line["alignment_filepath"] == f"{utt_id}.json"
        segments = json.loads((out / line["alignment_filepath"]).read_text(encoding="utf-8"))["segments"]
        scores = [s["score"] for s in segments]
        assert line["score"] == pytest.approx(sum(scores) / len(scores), abs=1e-4)
        assert line["min_score"] == pytest.approx(min(scores), abs=1e-4)
        assert (line["lines"], line["flagged"], line["not_aligned"]) == (len(segments), 0, 0)
        assert line["clips"] == [f"../clips/{utt_id}_0000.wav"]
        assert (out / line["clips"][0]).is_file()
    again = _batch(tmp_path, "--output-manifest")  # resumed without --split-audio: the same items, once each
    assert "aligned 0, skipped 2 already done" in again.stderr
    assert _jsonl(out / "alignments.jsonl") == lines


def test_output_manifest_is_only_written_when_asked(tmp_path):
    assert _batch(tmp_path).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["example_0001.json", "example_0002.json"]
    listed = _batch(tmp_path, "--output-manifest")  # items aligned without their scores kept: aligned again
    assert "aligned 2, skipped 0 already done" in listed.stderr
    assert [line["score"] is not None for line in _jsonl(tmp_path / "out" / "alignments.jsonl")] == [True, True]


def test_error_output_manifest_needs_a_manifest():
    result = run_cli("align", HELLO, HELLO_TEXT, "--output-manifest")
    assert result.exit_code == 2 and "lists the items of a --manifest run" in result.stderr


def test_a_clip_is_never_written_over_an_input_audio(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    audio = clips / "b_0000.wav"  # the audio of item a is where item b's first clip would go
    audio.write_bytes((WAVS / "example_0003.wav").read_bytes())
    before = audio.read_bytes()
    manifest = tmp_path / "items.jsonl"
    text = _texts(["example_0003"])[0][1]
    manifest.write_text(json.dumps({"audio_filepath": str(audio), "text": text, "id": "a"}) + "\n"
                        + json.dumps({"audio_filepath": str(WAVS / "example_0003.wav"), "text": text, "id": "b"})
                        + "\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    result = run_cli("align", "--manifest", manifest, "--out-dir", tmp_path / "out", "--split-audio", clips)
    assert result.exit_code == 1
    assert f"failed: b: {audio}: is one of the input files; writing there would destroy it" in result.stderr
    assert audio.read_bytes() == before
    assert [r["audio_filepath"] for r in _jsonl(clips / "manifest.jsonl")] == ["a_0000.wav"]


def _error(result, message):
    assert (result.exit_code, result.stdout) == (1, ""), result.stderr
    assert result.stderr == f"error: {message}\n"


def test_error_split_folder_is_a_file(tmp_path):
    target = tmp_path / "clips"
    target.write_text("keep", encoding="utf-8")
    _error(run_cli("align", HELLO, HELLO_TEXT, "--split-audio", target),
           f"--split-audio {target}: is a file; expected a folder for the clips (created when missing)")
    assert target.read_text(encoding="utf-8") == "keep" and sorted(tmp_path.iterdir()) == [target]


def test_error_split_folder_in_a_missing_folder(tmp_path):
    target = tmp_path / "missing" / "clips"
    _error(run_cli("align", HELLO, HELLO_TEXT, "--split-audio", target),
           f"--split-audio {target}: folder {target.parent} does not exist; create it first")


def test_error_split_folder_is_the_input_audio(tmp_path):
    _error(run_cli("align", HELLO, HELLO_TEXT, "--split-audio", HELLO),
           f"--split-audio {HELLO}: is a file; expected a folder for the clips (created when missing)")


def test_error_clips_manifest_would_replace_the_input_manifest(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(json.dumps({"audio_filepath": str(HELLO), "text": "hello"}) + "\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    before = manifest.read_bytes()
    _error(run_cli("align", "--manifest", manifest, "--out-dir", tmp_path / "out", "--split-audio", tmp_path),
           f"--split-audio manifest {manifest}: is the input file {manifest}; writing there would destroy it, so "
           "name another output file")
    assert manifest.read_bytes() == before and list((tmp_path / "out").iterdir()) == []


def test_error_split_audio_needs_audio():
    result = run_cli("align", "--emissions", EXAMPLES / "align_emissions.npy", "--frame-shift", "0.02",
                     EXAMPLES / "align_transcript.txt", "--split-audio", "clips")
    assert result.exit_code == 2
    assert "clips are cut from audio: give AUDIO TRANSCRIPT or --manifest, not --emissions" in result.stderr


def test_error_negative_pad():
    result = run_cli("align", HELLO, HELLO_TEXT, "--split-audio", "clips", "--pad", "-1")
    assert result.exit_code == 2 and "expected a number >= 0, found -1" in result.stderr


# The library route: plan_clips on hand-made line times.

def _span(start, end, score=0.9, flagged=False, text="x"):
    return TimedSpan(text, start, end, score, flagged)


def test_plan_clips_pads_within_the_audio_and_the_middle_of_each_pause():
    rate = 100  # samples per second: bounds in samples are hundredths of a second
    lines = [_span(0.05, 1.0), _span(1.2, 2.0), _span(2.0, 2.0, None), _span(2.02, 2.9)]
    clips = plan_clips(lines, 300, rate, pad=0.3)
    assert [(c.first, c.stop) for c in clips] == [(0, 110), (110, 201), (200, 200), (201, 300)]
    assert [c.reason for c in clips] == [None, None, NOT_ALIGNED, None]
    wide = plan_clips([_span(1.0, 1.5)], 300, rate, pad=10)
    assert [(c.first, c.stop) for c in wide] == [(0, 300)]


def test_plan_clips_refuses_a_negative_pad():
    with pytest.raises(CtcToolError, match=r"^`pad` -0.5: expected a finite number of seconds >= 0$"):
        plan_clips([_span(0, 1)], 100, 100, pad=-0.5)


def test_split_audio_writes_what_it_returns(tmp_path):
    waveform = np.linspace(-1, 1, 400, dtype=np.float32)
    records = split_audio([_span(0.5, 1.5), _span(2.0, 3.0, 0.1, True)], waveform, 100, tmp_path, "u", "src.wav",
                          pad=0)
    assert [(r["audio_filepath"], r["source_offset"], r["source_end"], r.get("reason")) for r in records] == [
        ("u_0000.wav", 0.5, 1.5, None), ("u_0001.wav", 2.0, 3.0, "low_confidence")]
    got, rate = soundfile.read(tmp_path / "u_0000.wav", dtype="float32")
    assert rate == 100 and np.allclose(got, waveform[50:150], atol=1 / 32768)
    assert _jsonl(tmp_path / "parts" / "u.jsonl") == list(records)


def test_alignment_scores_of_lines():
    lines = [_span(0, 1, 0.9), _span(1, 2, 0.1, True), _span(2, 2, None)]
    assert alignment_scores(lines) == {"score": 0.5, "min_score": 0.1, "lines": 3, "flagged": 1, "not_aligned": 1}


def test_an_output_in_the_clips_folder_is_refused_before_work(tmp_path):
    (tmp_path / "clips").mkdir()
    result = run_cli("align", HELLO, HELLO_TEXT, "--split-audio", tmp_path / "clips", "-o", tmp_path / "clips" / "manifest.jsonl")
    assert result.exit_code == 1 and list((tmp_path / "clips").iterdir()) == []
    assert result.stderr.strip().endswith("is in the --split-audio folder " + str(tmp_path / "clips") +
                                          ", where the clips and manifest.jsonl go; write it elsewhere")


def test_a_second_file_of_the_same_name_does_not_replace_the_first_ones_clips(tmp_path):
    _split(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "hello.wav").write_bytes(HELLO.read_bytes())
    before = {p.name: p.read_bytes() for p in (tmp_path / "clips").glob("*.wav")}
    result = run_cli("align", other / "hello.wav", HELLO_TEXT, "--split-audio", tmp_path / "clips", "-o", tmp_path / "b.json")
    assert result.exit_code == 1 and "has the same name: split it into another folder" in result.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "clips").glob("*.wav")} == before
    assert not (tmp_path / "b.json").exists()
