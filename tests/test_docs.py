"""The README's set-up commands, its Python example and docs/cli.md stay true."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_blocks(language: str = "") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_setup_commands():
    main_job, tests = (block.strip() for block in _code_blocks()[:2])
    assert main_job.startswith("pip install torch==2.13.0 && pip install -e . && ctctool ")
    assert tests == 'pip install torch==2.13.0 && pip install -e ".[test]" && python -m pytest'
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci_script.splitlines()


def test_readme_main_job_runs():
    main_job = _code_blocks()[0].strip()
    job = main_job.split(" && ", 2)[2]  # the ctctool part; CI has just done the two installs
    assert job.startswith("ctctool align")
    commands = [c.split() for c in job.split(" && ")]
    for argv in commands:
        result = subprocess.run([sys.executable, "-m", "ctctool", *argv[1:]], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_readme_python_examples_run():
    examples = _code_blocks("python")
    assert len(examples) >= 2
    for example in examples:
        exec(compile(example, "README.md", "exec"), {})


def test_cli_reference_is_up_to_date():
    sys.path.insert(0, str(ROOT / "tools"))
    import make_cli_docs

    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == make_cli_docs.render(), (
        "docs/cli.md is stale: run python tools/make_cli_docs.py"
    )
