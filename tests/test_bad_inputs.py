"""Runs the bad-input corpus (``tests/bad_inputs/cases.py``, issue 12 "Bad input never hurts") in-process.

For each case, in a fresh folder that is also the working directory:
1. the exit code is the expected one, and no exception other than SystemExit escaped the command;
2. no "Traceback" in stdout or stderr, and no raw control character (NUL, ESC, ...) on stderr;
3. on failure, stderr has exactly one ``error: `` line, it is the last non-empty line, and it holds the
   expected fragments (for batch runs they may be on a ``failed:`` line instead); on success, no ``error:`` line;
4. every file that was there before the run is byte-identical afterwards (symlinks, FIFOs, folders too),
   except the case's declared outputs;
5. no new file except the declared outputs, never a temporary file (``.*.tmp``);
6. an input FIFO is never opened (a watcher unblocks a program that opens one, so the suite never hangs);
plus the case's own check (FIFO and symlink outputs, the native twin of a big-endian array, ...).
Each case runs under ``signal.alarm(60)``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import threading
import traceback
from pathlib import Path

import pytest
from bad_inputs.cases import CASES, FIFO_READERS, Case
from helpers import run_cli

ALARM_SECONDS = 60


class CaseTimeout(BaseException):
    """Raised by SIGALRM inside a case that runs too long (a BaseException, so the CliRunner does not swallow it)."""


def snapshot(folder: Path) -> dict[str, tuple]:
    """Relative path -> what it is: ("file", sha256), ("link", target), ("fifo",), ("dir",) or ("other", mode).
    Never opens anything but regular files, never follows a link."""
    entries = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                entries[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(mode):
                entries[rel] = ("dir",)
            elif stat.S_ISREG(mode):
                entries[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            elif stat.S_ISFIFO(mode):
                entries[rel] = ("fifo",)
            else:
                entries[rel] = ("other", mode)
    return entries


class InputFifoWatch:
    """Watches the input FIFOs of a case: if the program opens one for reading (it would hang: there is no
    writer), open it for writing at once and close it, so the program reads EOF and the suite goes on."""

    def __init__(self, fifos: list[Path]):
        self.fifos = fifos
        self.opened: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if fifos:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for path in self.fifos:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                except OSError:  # ENXIO: nobody has it open for reading (or it is gone)
                    continue
                os.close(fd)
                if path.name not in self.opened:
                    self.opened.append(path.name)

    def stop(self) -> list[str]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        return self.opened


def _on_alarm(signum, frame):
    raise CaseTimeout(f"timed out after {ALARM_SECONDS} s")


def _fragment_ok(text: str, fragment) -> bool:
    alternatives = fragment if isinstance(fragment, tuple) else (fragment,)
    return any(alternative in text for alternative in alternatives)


def _describe(fragment) -> str:
    return " or ".join(map(repr, fragment)) if isinstance(fragment, tuple) else repr(fragment)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_case(case: Case, folder: Path):
    """Run ``case`` in ``folder`` (the working directory): (argv, result or None, what is wrong: empty if it passed)."""
    problems: list[str] = []
    FIFO_READERS.clear()
    argv = case.setup(folder)
    before = snapshot(folder)
    output_fifos = set(FIFO_READERS)
    input_fifos = [folder / rel for rel, kind in before.items()
                   if kind == ("fifo",) and str((folder / rel).resolve()) not in output_fifos]
    watch = InputFifoWatch(input_fifos)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(ALARM_SECONDS)
    result = None
    try:
        result = run_cli(*argv)
    except CaseTimeout as exc:
        problems.append(str(exc))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        opened = watch.stop()
    if opened:
        problems.append(f"opened the input FIFO {', '.join(opened)} (with no writer it would hang)")
    try:
        if result is not None:
            problems += _check_result(case, result)
            if case.check is not None and (case.expect_exit != 0 or result.exit_code == 0):
                problem = case.check(folder, result, run_cli)
                if problem:
                    problems.append(problem)
    finally:
        for reader in FIFO_READERS.values():
            reader.finish()
        FIFO_READERS.clear()
    problems += _check_files(case, before, snapshot(folder))
    return argv, result, problems


def _check_result(case: Case, result) -> list[str]:
    problems = []
    exception = result.exception
    if exception is not None and not isinstance(exception, SystemExit):
        problems.append(f"exception {type(exception).__name__}: {str(exception).strip()[:300]}\n"
                        f"{_short_traceback(result.exc_info)}")
    if result.exit_code != case.expect_exit:
        problems.append(f"exit code {result.exit_code}, expected {case.expect_exit}")
    stdout, stderr = result.stdout, result.stderr
    if "Traceback" in stdout or "Traceback" in stderr:
        problems.append("'Traceback' in the output")
    control = sorted({f"U+{ord(c):04X}" for c in stderr if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127})
    if control:
        problems.append(f"raw control character(s) {', '.join(control)} on stderr (an input echoed unescaped)")
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    if case.expect_exit == 0:
        if errors:
            problems.append(f"an error: line in a run that should succeed: {errors[0][:300]!r}")
        return problems
    if len(errors) != 1:
        problems.append(f"{len(errors)} 'error: ' lines on stderr, expected exactly one"
                        + (f": {[e[:160] for e in errors]}" if errors else f"; stderr ends {_last_line(stderr)[:300]!r}"))
    if errors and lines[-1] != errors[-1]:
        problems.append(f"the error: line is not the last stderr line (last: {lines[-1][:200]!r})")
    where = stderr if case.batch else (errors[-1] if errors else "")
    missing = [_describe(f) for f in case.expect_in_message if not _fragment_ok(where, f)]
    if missing and errors:
        problems.append(f"the error message lacks {', '.join(missing)}")
    wrong = [repr(f) for f in case.not_in_message if errors and f in errors[-1]]
    if wrong:
        problems.append(f"the error message blames the wrong thing: it says {', '.join(wrong)}")
    return problems


def _short_traceback(exc_info, frames: int = 6) -> str:
    """The innermost ``frames`` frames of the traceback (where it went wrong), indented."""
    if not exc_info or exc_info[2] is None:
        return ""
    summary = traceback.extract_tb(exc_info[2])[-frames:]
    return "".join("    " + line for line in "".join(traceback.format_list(summary)).splitlines(keepends=True))


def _check_files(case: Case, before: dict, after: dict) -> list[str]:
    problems = []
    allowed = set(case.outputs)
    for rel, kind in before.items():
        if rel in allowed:
            continue
        if rel not in after:
            problems.append(f"input {rel} was removed")
        elif after[rel] != kind:
            problems.append(f"input {rel} changed: {kind[0]} -> {after[rel][0]}")
    for rel in sorted(set(after) - set(before)):
        name = rel.rsplit("/", 1)[-1]
        if name.startswith(".") and name.endswith(".tmp"):
            problems.append(f"temporary file left behind: {rel}")
        elif rel not in allowed:
            problems.append(f"new file {rel!r} ({after[rel][0]}) is not an expected output")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    monkeypatch.chdir(folder)
    argv, result, problems = run_case(case, folder)
    if problems:
        pytest.fail(report(case, argv, result, problems), pytrace=False)


def report(case: Case, argv: list[str], result, problems: list[str]) -> str:
    expected = f"exit {case.expect_exit}" + (
        f", message with {', '.join(_describe(f) for f in case.expect_in_message)}" if case.expect_in_message else "")
    got = "no result" if result is None else f"exit {result.exit_code}, stderr last line {_last_line(result.stderr)[:300]!r}"
    lines = [f"{case.id} [class {case.issue_class}]", f"  argv: ctctool {' '.join(map(str, argv[0:]))}",
             f"  expected: {expected}", f"  got: {got}", *(f"  - {p}" for p in problems)]
    return "\n".join(lines + ([f"  note: {case.note}"] if case.note else []))
