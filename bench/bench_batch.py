#!/usr/bin/env python3
"""Throughput of corpus runs (``--manifest``) on this machine: today's file-by-file run against batches, shards
and Ray workers, from one generated speech set, in one run.

    python bench/bench_batch.py                      # 240 utterances, align, every mode, 3 rounds
    python bench/bench_batch.py --command emissions  # the model alone (no alignment)
    python bench/bench_batch.py --num 400 --batch-size 32 --skip-ray

What it does:

1. Synthesises ``--num`` English utterances (4 to 30 words, 1 to 10 s) with tools/make_speech_set.py
   (espeak-ng), and writes a JSONL manifest of them, and one of their first item alone.
2. Runs ``ctctool COMMAND --manifest ... --out-dir ...`` as separate processes, each into a fresh folder:
   - ``today``: the code before batched runs (``git archive`` of the parent of the commit that added
     ctctool/corpus, imported through PYTHONPATH: every run starts in its own out-dir, not in the checkout,
     which ``python -m`` would import first), one file at a time through the
     model with torch's threads, as before this change (emissions and transcribe: the audio files as
     arguments); with the working tree's default model files, so both use the same weights;
   - ``one by one``: ``--batch-size 1``; ``batched``: ``--batch-size B`` (one process: the 1-shard figure);
   - ``2 shards``: ``--shard 0/2`` and ``--shard 1/2`` at once, then ``--merge-reports``;
   - ``ray 1 worker``, ``ray 2 workers``: ``--executor ray --workers W`` on a new local Ray instance.
   Each mode runs on the whole manifest and on the one-item manifest, in rounds (round robin, so a busy spell
   of the machine hits every mode), and the best of ``--repeat`` rounds is kept.
3. Prints per mode: wall-clock seconds of the whole run (start-up, model loading and Ray's start included),
   and the steady throughput: (N - 1) items over (wall of N items - wall of 1 item), files per second and
   real-time factor (seconds of work per second of audio); then checks that the batched, sharded and Ray runs
   wrote the same bytes.

Timings are wall-clock on whatever else the machine is doing: the load average is printed with each run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=240, help="utterances to synthesise (at least 200)")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--command", choices=("align", "transcribe", "emissions"), default="align")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (the best of each mode is kept)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the data and outputs (default: a "
                        "temporary folder, removed after)")
    parser.add_argument("--skip-ray", action="store_true", help="leave out the Ray runs")
    parser.add_argument("--skip-today", action="store_true", help="leave out the run of the committed code")
    parser.add_argument("--stages-only", action="store_true", help="only the CPU cost of each stage, in-process")
    parser.add_argument("--device", default="auto", help="--device of every run (a GPU machine: cuda)")
    args = parser.parse_args()
    if args.num < 200:
        parser.error("--num: at least 200 utterances")
    work = (args.work or Path(tempfile.mkdtemp(prefix="bench_batch_"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(args, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> None:
    manifest, one, seconds, first_seconds = speech_set(work, args.num, args.seed)
    if args.stages_only:
        stage_costs(args, manifest, seconds)
        return
    print(f"{args.num} utterances, {seconds / 3600:.3f} h of audio ({seconds / args.num:.1f} s mean); "
          f"{os.cpu_count()} CPUs; {args.command}; batches of {args.batch_size}", flush=True)
    modes = plan_modes(args, work)
    for name, argv_sets, env, merge in modes:  # compile numba's kernels once into each copy of the code
        if name in ("today", "batched"):
            measure(args.command, one, work / "warm_up", argv_sets, env, merge, args.device)
    walls: dict[tuple[str, str], list] = {}
    for round_ in range(args.repeat):
        for name, argv_sets, env, merge in modes:
            for size, listed in (("all", manifest), ("one", one)):
                out = work / f"{name.replace(' ', '_')}_{size}"
                wall, cpu, load = measure(args.command, listed, out, argv_sets, env, merge, args.device)
                walls.setdefault((name, size), []).append((wall, cpu))
                if size == "all":
                    print(f"  round {round_ + 1} {name:<14} {wall:6.1f} s, CPU {cpu:6.1f} s  (1 item: ", end="",
                          flush=True)
                else:
                    print(f"{wall:.1f} s, CPU {cpu:.1f} s)  load {load:.1f}", flush=True)
    report(args, modes, walls, seconds, first_seconds, work)
    stage_costs(args, manifest, seconds)


def stage_costs(args, manifest: Path, seconds: float) -> None:
    """CPU seconds of each stage per hour of audio, one thread, in this process (CPU time: what a worker costs,
    whatever else the machine runs): reading the audio, the model one file at a time and in batches, finishing
    (aligning or decoding, rendering)."""
    import torch

    from ctctool.corpus.jobs import AlignJob, EmissionsJob, TranscribeJob
    from ctctool.corpus.plan import cut_batches
    from ctctool.io.manifest import read_items
    from ctctool.io.out_folder import LocalFolder
    from ctctool.models.base import model_info
    from ctctool.models.batched import batched_log_probs
    from ctctool.models.loading import load_model
    from ctctool.audio.loading import load_audio

    torch.set_num_threads(1)
    model = load_model("default", torch.device("cuda" if args.device.startswith("cuda") else "cpu"))
    job = {"align": AlignJob, "transcribe": TranscribeJob, "emissions": EmissionsJob}[args.command]()
    items = read_items(manifest)
    clock = time.process_time
    started = clock()
    waves = [load_audio(item.audio, model.sample_rate) for item in items]
    load = clock() - started
    batches = cut_batches([w.numel() for w in waves], args.batch_size, 10 ** 9)
    costs = {}
    for size, groups in ((1, [(i,) for i in range(len(waves))]), (args.batch_size, batches)):
        batched_log_probs(model, [waves[i] for i in groups[0]])  # warm up
        started = clock()
        outputs = {i: lp for g in groups for i, lp in zip(g, batched_log_probs(model, [waves[i] for i in g]))}
        costs[size] = clock() - started
    info, folder = model_info(model), LocalFolder(tempfile.mkdtemp(prefix="bench_finish_"))
    job.finish(items[0], outputs[0], 1.0, info, folder)  # numba's compilation, once per process
    started = clock()
    for i, item in enumerate(items):
        job.finish(item, outputs[i], waves[i].numel() / model.sample_rate, info, folder)
    finish = clock() - started
    shutil.rmtree(folder.path, ignore_errors=True)
    per_hour = 3600.0 / seconds
    print(f"\nCPU seconds per hour of audio, one thread ({args.command}): reading audio {load * per_hour:.1f}, model "
          f"one by one {costs[1] * per_hour:.1f}, model in batches of {args.batch_size} "
          f"{costs[args.batch_size] * per_hour:.1f}, finishing {finish * per_hour:.1f}")


def plan_modes(args, work: Path) -> list:
    """(name, argv sets run at once (None: the committed code), environment, merge argv) of each mode."""
    batch = ["--batch-size", str(args.batch_size)]
    modes = []
    if not args.skip_today:
        modes.append(("today", None, {**os.environ, "PYTHONPATH": str(committed_code(work))}, None))
    modes += [("one by one", [["--batch-size", "1"]], None, None),
              ("batched", [batch], None, None),
              ("2 shards", [[*batch, "--shard", f"{k}/2"] for k in range(2)], None, [*batch, "--merge-reports"])]
    if not args.skip_ray:
        modes += [(f"ray {w} worker{'s' if w > 1 else ''}", [[*batch, "--executor", "ray", "--workers", str(w)]],
                   None, None) for w in (1, 2)]
    return modes


def measure(command: str, manifest: Path, out: Path, argv_sets, env, merge, device: str) -> tuple[float, float, float]:
    """Wall-clock and CPU seconds of the processes of one mode (started at once, and the merge after), and the
    load average before."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    load = os.getloadavg()[0]
    base = [command, "--manifest", str(manifest), "--out-dir", str(out)]
    commands = ([today_argv(command, manifest, out)] if argv_sets is None else [[*base, *a] for a in argv_sets])
    commands = [[*c, "--device", device if "ray" not in c else "auto"] for c in commands]
    started, cpu = time.monotonic(), _children_cpu()
    processes = [subprocess.Popen([sys.executable, "-m", "ctctool", *c], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, env=env, cwd=out) for c in commands]
    for process in processes:
        stderr = process.communicate()[1]
        if process.returncode != 0:
            sys.exit(f"{out.name}: exit {process.returncode}\n{stderr[-2000:]}")
    if merge:
        subprocess.run([sys.executable, "-m", "ctctool", *base, *merge], capture_output=True, check=True, cwd=out)
    return time.monotonic() - started, _children_cpu() - cpu, load


def _children_cpu() -> float:
    """CPU seconds (user and system) of the processes this one has waited for (Ray's own workers are not)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def speech_set(work: Path, num: int, seed: int) -> tuple[Path, Path, float, float]:
    """``num`` synthesised utterances (tools/make_speech_set.py): their manifest, one of the first alone, and the
    seconds of audio of each."""
    speech = work / "speech"
    if not (speech / "metadata.csv").is_file():
        subprocess.run([sys.executable, str(ROOT / "tools" / "make_speech_set.py"), str(speech), "--num", str(num),
                        "--seed", str(seed), "--prefix", "utt_", "--words", "4:30", "--length-dist", "log"],
                       check=True, capture_output=True)
    rows = [line.split("|") for line in (speech / "metadata.csv").read_text(encoding="utf-8").splitlines()][:num]
    lines = [json.dumps({"audio_filepath": str(speech / "wavs" / f"{r[0]}.wav"), "text": r[1], "id": r[0]}) + "\n"
             for r in rows]
    manifest, one = work / "manifest.jsonl", work / "one.jsonl"
    manifest.write_text("".join(lines), encoding="utf-8")
    one.write_text(lines[0], encoding="utf-8")
    durations = [soundfile.info(str(speech / "wavs" / f"{r[0]}.wav")).duration for r in rows]
    return manifest, one, sum(durations), durations[0]


def today_argv(command: str, manifest: Path, out: Path) -> list[str]:
    """The committed code's way to do ``command`` over the manifest: align has --manifest; emissions and
    transcribe take the audio files (one at a time through the model, in one process)."""
    if command == "align":
        return ["align", "--manifest", str(manifest), "--out-dir", str(out)]
    audio = [json.loads(line)["audio_filepath"] for line in manifest.read_text(encoding="utf-8").splitlines()]
    return ["emissions", *audio, "--out-dir", str(out)] if command == "emissions" else ["transcribe", *audio]


def base_revision() -> str:
    """The last commit before batched corpus runs: the parent of the commit that added ctctool/corpus (HEAD when
    no commit has it yet)."""
    added = subprocess.run(["git", "log", "-1", "--diff-filter=A", "--format=%H", "--", "ctctool/corpus/__init__.py"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    return f"{added}^" if added else "HEAD"


def committed_code(work: Path) -> Path:
    """ctctool as it was before batched corpus runs (``base_revision``), with the working tree's model files,
    for the 'today' run."""
    head = work / "head"
    shutil.rmtree(head, ignore_errors=True)
    head.mkdir()
    archive = subprocess.run(["git", "archive", base_revision(), "ctctool"], cwd=ROOT, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(head)], input=archive, check=True)
    for name in ("default_en.pt", "default_en.arpa.gz"):
        shutil.copy(ROOT / "ctctool" / "models" / name, head / "ctctool" / "models" / name)
    # python -m looks in the working folder first: every run starts in its out-dir, never in the checkout
    found = subprocess.run([sys.executable, "-c", "import ctctool, ctctool.cli; print(ctctool.cli.__file__)"],
                           cwd=work, env={**os.environ, "PYTHONPATH": str(head)}, capture_output=True, text=True,
                           check=True)
    if not found.stdout.startswith(str(head)) or (head / "ctctool" / "corpus").exists():
        sys.exit(f"the 'today' runs would import {found.stdout.strip()}, not the code before batching in {head}")
    return head


def report(args, modes, walls: dict, seconds: float, first_seconds: float, work: Path) -> None:
    """The best round of each mode as a Markdown table, and whether the outputs agree."""
    print(f"\n{args.command}, {args.num} utterances, {seconds / 3600:.3f} h of audio, best of {args.repeat} rounds. "
          "Whole run: wall-clock of the process(es), start-up included. Steady: (N - 1) items over the wall-clock "
          "of N items less that of 1, in the same round (the best round). CPU: user + system seconds of the "
          "processes (not of Ray's workers) per hour of audio, steady.\n")
    print("| mode | whole run s | files/s | steady files/s | steady real-time factor | steady x today | CPU s / h |")
    print("|---|---|---|---|---|---|---|")
    steady = {}
    for name, *_ in modes:
        rounds = list(zip(walls[(name, "all")], walls[(name, "one")]))  # each round: N items, then 1 item
        full = min(all_[0] for all_, _ in rounds)
        work_seconds, cpu = min(((a[0] - o[0], a[1] - o[1]) for a, o in rounds), key=lambda pair: pair[0])
        work_seconds = max(work_seconds, 1e-9)
        steady[name] = (args.num - 1) / work_seconds
        rtf = work_seconds / (seconds - first_seconds)
        times = f"{steady[name] / steady['today']:.2f}" if "today" in steady else "-"
        shown_cpu = "-" if name.startswith("ray") else f"{cpu * 3600 / (seconds - first_seconds):.0f}"
        print(f"| {name} | {full:.1f} | {args.num / full:.1f} | {steady[name]:.1f} | {rtf:.4f} | {times} | "
              f"{shown_cpu} |")
    reference = files(work / "batched_all")
    for name, *_ in modes:
        if name not in ("today", "one by one", "batched"):
            same = files(work / f"{name.replace(' ', '_')}_all") == reference
            print(f"{name}: outputs {'byte-identical to' if same else 'DIFFER from'} the batched run's")


def files(folder: Path) -> dict:
    skip = ("summary.shard-", "failures.shard-")
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(skip)}


if __name__ == "__main__":
    main()
