#!/usr/bin/env python3
"""Mismatch detection of ctctool align: transcript lines the audio does not hold, flagged at the default threshold.

The set (tools/make_mismatch_set.py, made in OUT when OUT has none) is multi-line documents of held-out
synthetic speech (piper's en_US-joe-medium by default, a voice the built-in model never heard) whose
transcripts have 20% of their lines replaced by unrelated sentences of similar length, plus whole files of
noise, near-silence and unrelated speech against a transcript. Three scores are compared:

- ``new``: what ``align_audio`` returns (the forced path against the model's best reading, per token, with
  flagged lines re-aligned so they do not pull their neighbours; ``segment.flagged``, ``word.flagged``);
- ``new-one-pass``: the same confidence from a single forced alignment (no re-alignment), for information;
- ``old``: the mean posterior of a single forced path over each line's (word's) token frames.

Each is reported at the default ``MIN_CONFIDENCE`` (share of replaced and of correct lines flagged), with its
best thresholds on this set (largest flagged-replaced minus flagged-correct share) and ROC AUC, per word, and
on the whole files (share with every line flagged, mean line score). Correct lines "pulled" are those with a
word start or end more than 50 ms away from where the alignment of the spoken transcript puts it.
Prints JSON lines, then a Markdown table.

Run: python bench/bench_mismatch.py --out /tmp/mismatch_set [--voice piper|espeak] [--records FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import make_mismatch_set  # noqa: E402

PULLED_S = 0.05      # a correct word moved by more than this (seconds) was pulled
OUTSIDE_S = 0.1      # a correct line's words more than this outside its spoken audio are misplaced
METRICS = ("new", "new-one-pass", "old")


def load_set(out: Path, config: dict, jobs: int) -> tuple[list[dict], list[dict], dict]:
    """The documents and whole-file cases in ``out``, generated first when missing or made with other settings."""
    meta = out / "generation.json"
    made = json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else None
    if made is None or {key: made.get(key) for key in config} != config:
        print(f"generating the set in {out} ...", file=sys.stderr)
        make_mismatch_set.generate(out, config, jobs, log=lambda text: print(text, file=sys.stderr))
        made = json.loads(meta.read_text(encoding="utf-8"))
    docs, whole = ([json.loads(line) for line in (out / name).read_text(encoding="utf-8").splitlines()]
                   for name in ("docs.jsonl", "whole.jsonl"))
    return docs, whole, made


def single_pass(log_probs, lines: list[str], model) -> dict:
    """One forced alignment of ``lines``: per line and per word the old mean posterior and the new confidence
    (no re-alignment), and each word's (line, start, end) in seconds."""
    from ctctool.alignment.confidence import FrameRatios
    from ctctool.alignment.spans import merge_spans, token_spans
    from ctctool.alignment.transcript import prepare_transcript
    from ctctool.alignment.viterbi import forced_align

    vocab = model.vocab
    prepared = prepare_transcript("\n".join(lines), vocab)
    alignment = forced_align(log_probs, list(prepared.labels), blank=vocab.blank)
    spans = token_spans(alignment.states[0], alignment.frame_log_probs[0], alignment.tokens[0])
    ratios = FrameRatios.of_path(log_probs, alignment.frame_log_probs[0], vocab.size)
    word_groups: list[list[int]] = [[] for _ in prepared.words]
    for index, word in enumerate(prepared.label_word):
        if word >= 0:
            word_groups[word].append(index)
    line_groups: list[list[int]] = [[] for _ in prepared.lines]
    for word, group in zip(prepared.words, word_groups):
        line_groups[word.line].extend(group)
    texts = [w.text for w in prepared.words]
    seconds = lambda frame: frame * model.frame_shift + model.frame_offset  # noqa: E731
    return {
        "old": [s.score for s in merge_spans(spans, line_groups, prepared.lines)],
        "new-one-pass": [s.score for s in merge_spans(spans, line_groups, prepared.lines, 0.0, ratios.confidence)],
        "old_words": [s.score for s in merge_spans(spans, word_groups, texts)],
        "new-one-pass_words": [s.score for s in merge_spans(spans, word_groups, texts, 0.0, ratios.confidence)],
        "word_times": [(w.line, seconds(s.start), seconds(s.end))
                       for w, s in zip(prepared.words, merge_spans(spans, word_groups, texts))],
    }


def _by_line(times) -> dict[int, list[tuple[float, float]]]:
    out: dict[int, list[tuple[float, float]]] = {}
    for line, start, end in times:
        out.setdefault(line, []).append((start, end))
    return out


def _moved(a: list, b: list) -> bool:
    return len(a) != len(b) or any(abs(x - y) > PULLED_S for p, q in zip(a, b) for x, y in zip(p, q))


def measure(docs: list[dict], whole: list[dict], out: Path, model_spec: str = "default") -> dict:
    """Per-line, per-word and per-file records of every score, plus timings."""
    import torch

    from ctctool.alignment.pipeline import align_audio, align_emissions
    from ctctool.errors import CtcToolError
    from ctctool.models.inference import audio_log_probs
    from ctctool.models.loading import load_model

    model = load_model(model_spec, torch.device("cpu"))
    lines, words, single_words, files = [], [], [], []
    clock = {"model": 0.0, "new": 0.0, "single": 0.0, "audio": 0.0}

    def timed(key, fn, *args, **kwargs):
        started = time.perf_counter()
        value = fn(*args, **kwargs)
        clock[key] += time.perf_counter() - started
        return value

    check = None
    for doc in docs:
        log_probs, seconds = timed("model", audio_log_probs, model, out / doc["wav"])
        clock["audio"] += seconds
        text = "\n".join(doc["transcript"])
        new = timed("new", align_emissions, log_probs, text, model=model)
        if check is None:  # align_emissions on saved log-probs is what align_audio does
            direct = align_audio(out / doc["wav"], text, model=model)
            check = [s.score for s in direct.segments] == [s.score for s in new.segments]
        truth = align_emissions(log_probs, "\n".join(doc["lines"]), model=model)
        single = timed("single", single_pass, log_probs, doc["transcript"], model)
        single_truth = single_pass(log_probs, doc["lines"], model)
        new_times = _by_line((k, w.start, w.end) for w, k in zip(new.words, new.word_segment))
        truth_times = _by_line((k, w.start, w.end) for w, k in zip(truth.words, truth.word_segment))
        old_times, old_truth = _by_line(single["word_times"]), _by_line(single_truth["word_times"])
        for k, segment in enumerate(new.segments):
            replaced = k in doc["replaced"]
            spoken = doc["line_times"][k]
            record = {"doc": doc["id"], "line": k, "replaced": replaced, "text": doc["transcript"][k],
                      "new": segment.score, "new_flagged": segment.flagged,
                      "old": single["old"][k], "new-one-pass": single["new-one-pass"][k],
                      "next_to_replaced": not replaced and any(abs(j - k) == 1 for j in doc["replaced"])}
            if not replaced:
                record |= {"pulled_new": _moved(new_times.get(k, []), truth_times.get(k, [])),
                           "pulled_old": _moved(old_times.get(k, []), old_truth.get(k, [])),
                           "outside_new": _outside(new_times.get(k, []), spoken),
                           "outside_old": _outside(old_times.get(k, []), spoken)}
            lines.append(record)
        words += [{"replaced": k in doc["replaced"], "new": word.flagged}
                  for word, k in zip(new.words, new.word_segment)]
        single_words += [{"replaced": k in doc["replaced"], "old": old, "new-one-pass": one}
                         for (k, _, _), old, one in zip(single["word_times"], single["old_words"],
                                                        single["new-one-pass_words"])]
    for case in whole:
        log_probs, seconds = timed("model", audio_log_probs, model, out / case["wav"])
        record = {"id": case["id"], "kind": case["kind"]}
        try:
            new = align_emissions(log_probs, "\n".join(case["transcript"]), model=model)
        except CtcToolError as exc:  # the transcript does not fit the audio: refused, which is a flag too
            files.append(record | {"refused": str(exc)})
            continue
        single = single_pass(log_probs, case["transcript"], model)
        files.append(record | {"text": case["transcript"], "new": [s.score for s in new.segments],
                               "new_flagged": [s.flagged for s in new.segments], "old": single["old"],
                               "new-one-pass": single["new-one-pass"]})
    return {"lines": lines, "words": words, "single_words": single_words, "files": files, "clock": clock,
            "check": check, "model": model.name}


def _outside(times: list, spoken: list) -> bool:
    if not times:
        return False
    return min(s for s, _ in times) < spoken[0] - OUTSIDE_S or max(e for _, e in times) > spoken[1] + OUTSIDE_S


def auc(bad: np.ndarray, good: np.ndarray) -> float:
    """P(a replaced line scores below a correct one), ties half: the ROC AUC of "score < threshold" flags."""
    less = (bad[:, None] < good[None, :]).mean()
    ties = (bad[:, None] == good[None, :]).mean()
    return float(less + 0.5 * ties)


def best_threshold(bad: np.ndarray, good: np.ndarray) -> tuple[float, float, float, float]:
    """The thresholds t (flag score < t) with the largest flagged-replaced minus flagged-correct share: every t
    in (lowest, highest] does as well. Returns (lowest, highest, flagged-replaced share, flagged-correct share)."""
    values = np.unique(np.concatenate([bad, good]))
    edges = np.concatenate([[-np.inf], values, [np.inf]])  # t in (edges[j], edges[j + 1]] flags values < t
    gain = np.array([(bad <= edges[j]).mean() - (good <= edges[j]).mean() for j in range(len(edges) - 1)])
    best = np.nonzero(gain >= gain.max() - 1e-12)[0]
    j = best[0]
    low, high = edges[j], edges[best[-1] + 1]
    return float(low), float(high), float((bad <= low).mean()), float((good <= low).mean())


def summary(result: dict, threshold: float) -> list[dict]:
    lines, files = result["lines"], result["files"]
    rows = []
    for metric in METRICS:
        bad = np.array([r[metric] for r in lines if r["replaced"]], dtype=float)
        good = np.array([r[metric] for r in lines if not r["replaced"]], dtype=float)
        if metric == "new":  # the pipeline's own flags (its re-alignment depends on the threshold)
            bad_flagged = np.array([r["new_flagged"] for r in lines if r["replaced"]])
            good_flagged = np.array([r["new_flagged"] for r in lines if not r["replaced"]])
            word_bad = [w["new"] for w in result["words"] if w["replaced"]]
            word_good = [w["new"] for w in result["words"] if not w["replaced"]]
        else:
            bad_flagged, good_flagged = bad < threshold, good < threshold
            word_bad = [w[metric] < threshold for w in result["single_words"] if w["replaced"]]
            word_good = [w[metric] < threshold for w in result["single_words"] if not w["replaced"]]
        low, high, bad_at, good_at = best_threshold(bad, good)
        whole = {}
        for kind in make_mismatch_set.WHOLE_KINDS:
            cases = [f for f in files if f["kind"] == kind]
            scored = [f for f in cases if "refused" not in f]
            flags = [f["new_flagged"] if metric == "new" else [s < threshold for s in f[metric]] for f in scored]
            whole[kind] = {"files": len(cases), "all_flagged": sum(all(f) for f in flags) + len(cases) - len(scored),
                           "refused": len(cases) - len(scored),
                           "mean_score": round(float(np.mean([s for f in scored for s in f[metric]])), 4)
                           if scored else None}
        rows.append({
            "metric": metric, "threshold": threshold, "replaced_lines": int(bad.size), "correct_lines": int(good.size),
            "replaced_flagged": round(float(np.mean(bad_flagged)), 4),
            "correct_flagged": round(float(np.mean(good_flagged)), 4),
            "best_threshold": [round(x, 4) if np.isfinite(x) else None for x in (low, high)],
            "replaced_flagged_at_best": round(bad_at, 4),
            "correct_flagged_at_best": round(good_at, 4), "auc": round(auc(bad, good), 4),
            "replaced_median": round(float(np.median(bad)), 4), "correct_median": round(float(np.median(good)), 4),
            "words_replaced_flagged": round(float(np.mean(word_bad)), 4),
            "words_correct_flagged": round(float(np.mean(word_good)), 4), "words": len(word_bad) + len(word_good),
            "whole": whole,
        })
    return rows


def pulled(result: dict, threshold: float) -> dict:
    correct = [r for r in result["lines"] if not r["replaced"]]
    near = [r for r in correct if r["next_to_replaced"]]
    return {"correct_lines": len(correct), "next_to_replaced": len(near),
            "pulled_new": sum(r["pulled_new"] for r in correct), "pulled_old": sum(r["pulled_old"] for r in correct),
            "pulled_new_next_to_replaced": sum(r["pulled_new"] for r in near),
            "pulled_old_next_to_replaced": sum(r["pulled_old"] for r in near),
            "outside_spoken_new": sum(r["outside_new"] for r in correct),
            "outside_spoken_old": sum(r["outside_old"] for r in correct),
            "flagged_only_after_realignment": sum(r["new_flagged"] and r["new-one-pass"] >= threshold for r in correct),
            "unflagged_by_realignment": sum(not r["new_flagged"] and r["new-one-pass"] < threshold for r in correct)}


def misses(result: dict) -> list[dict]:
    """Replaced lines the pipeline left unflagged, correct lines it flagged, and unflagged lines of whole files."""
    out = [{"miss": {key: r[key] for key in ("doc", "line", "replaced", "new", "old", "new-one-pass", "text")}}
           for r in result["lines"] if r["replaced"] != r["new_flagged"]]
    for f in result["files"]:
        out += [{"whole_miss": {"id": f["id"], "line": k, "new": f["new"][k], "old": f["old"][k], "text": f["text"][k]}}
                for k, flagged in enumerate(f.get("new_flagged", [])) if not flagged]
    return out


def table(rows: list[dict], moved: dict) -> str:
    pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    head = ("| score | replaced lines flagged | correct lines flagged | best thresholds (repl. / corr. flagged there) "
            "| AUC | words flagged: replaced / correct lines | " + " | ".join(make_mismatch_set.WHOLE_KINDS) + " |")
    out = [head, "|" + "---|" * (6 + len(make_mismatch_set.WHOLE_KINDS))]
    for r in rows:
        whole = [f"{w['all_flagged']}/{w['files']} (mean {w['mean_score']})" for w in r["whole"].values()]
        out.append(f"| {r['metric']} | {pct(r['replaced_flagged'])} of {r['replaced_lines']} | "
                   f"{pct(r['correct_flagged'])} of {r['correct_lines']} | "
                   f"({r['best_threshold'][0]}, {r['best_threshold'][1]}] "
                   f"({pct(r['replaced_flagged_at_best'])} / {pct(r['correct_flagged_at_best'])}) | {r['auc']:.3f} | "
                   f"{pct(r['words_replaced_flagged'])} / {pct(r['words_correct_flagged'])} | "
                   + " | ".join(whole) + " |")
    out.append("")
    out.append(f"Correct lines pulled (a word edge > {1000 * PULLED_S:.0f} ms from the spoken transcript's alignment): "
               f"new {moved['pulled_new']}/{moved['correct_lines']} ({moved['pulled_new_next_to_replaced']} of "
               f"{moved['next_to_replaced']} next to a replaced line), old single pass {moved['pulled_old']} "
               f"({moved['pulled_old_next_to_replaced']}); outside their spoken audio by > {1000 * OUTSIDE_S:.0f} ms: "
               f"new {moved['outside_spoken_new']}, old {moved['outside_spoken_old']}. "
               f"Correct lines flagged only after the re-alignment: {moved['flagged_only_after_realignment']}; "
               f"unflagged by it: "
               f"{moved['unflagged_by_realignment']}.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the set (generated there when missing)")
    parser.add_argument("--voice", choices=make_mismatch_set.VOICES, default="piper")
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--whole", type=int, default=10, help="whole-file cases of each kind")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the speech synthesis")
    parser.add_argument("--model", default="default")
    parser.add_argument("--records", type=Path, help="also write every line's and file's scores here (JSON lines)")
    args = parser.parse_args()
    from ctctool.alignment.options import MIN_CONFIDENCE

    started = time.perf_counter()
    config = make_mismatch_set.settings(args.docs, args.seed, "4:12", args.voice, args.whole)
    docs, whole, made = load_set(args.out, config, args.jobs)
    result = measure(docs, whole, args.out, args.model)
    rows = summary(result, MIN_CONFIDENCE)
    moved = pulled(result, MIN_CONFIDENCE)
    clock = result["clock"]
    speech = sum(d["duration"] for d in docs)
    print(json.dumps({"set": str(args.out), "voice": args.voice, "model": result["model"], "documents": len(docs),
                      "lines": len(result["lines"]), "replaced": sum(r["replaced"] for r in result["lines"]),
                      "speech_seconds": round(speech, 1), "whole_files": len(whole),
                      "whole_seconds": round(sum(w["duration"] for w in whole), 1),
                      "generation_seconds": made.get("seconds"), "align_audio_check": result["check"]}))
    for row in rows:
        print(json.dumps(row))
    print(json.dumps({"pulled": moved}))
    for miss in misses(result):
        print(json.dumps(miss))
    print(json.dumps({"timing": {"model_s": round(clock["model"], 1), "new_align_s": round(clock["new"], 1),
                                 "single_pass_s": round(clock["single"], 1),
                                 "x_realtime_new": round(clock["audio"] / max(clock["model"] + clock["new"], 1e-9), 1),
                                 "total_s": round(time.perf_counter() - started, 1)}}))
    if args.records:
        args.records.write_text("".join(json.dumps(r) + "\n" for r in result["lines"] + result["files"]),
                                encoding="utf-8")
    print()
    print(table(rows, moved))


if __name__ == "__main__":
    main()
