"""``python -m tests.bad_inputs``: the size of the bad-input corpus, per command and per issue class."""

from __future__ import annotations

try:
    from .cases import CASES, CLASS_NAMES, counts
except ImportError:  # run as a script, tests/bad_inputs/__main__.py
    from cases import CASES, CLASS_NAMES, counts  # type: ignore[no-redef]


def main() -> None:
    per_command, per_class = counts()
    print(f"{len(CASES)} cases")
    print("per command:")
    for command, count in per_command.items():
        print(f"  {command:<11} {count:>4}")
    print("per issue class:")
    for cls, count in per_class.items():
        print(f"  {str(cls):<6} {count:>4}  {CLASS_NAMES[cls]}")
    expect = {code: sum(c.expect_exit == code for c in CASES) for code in (0, 1, 2)}
    print("expected exit codes: " + ", ".join(f"{code}: {n}" for code, n in expect.items()))


if __name__ == "__main__":
    main()
