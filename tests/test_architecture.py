"""Layering rules of ../STYLE: a pure core, an io layer, a thin CLI; light imports."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ctctool"
CLI_STACK = ("typer", "rich", "click", "ctctool.cli")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules(layer: str):
    if layer == "core":
        return [p for p in PACKAGE.glob("*.py") if p.name != "__main__.py"]
    return list((PACKAGE / layer).rglob("*.py"))


def _offending(names: set[str], banned) -> list[str]:
    return sorted(n for n in names if any(n == b or n.startswith(b + ".") for b in banned))


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: p.name)
def test_core_never_imports_the_cli_stack_or_io(path):
    assert _offending(_imports(path), CLI_STACK + ("ctctool.io",)) == []


@pytest.mark.parametrize("path", _modules("io"), ids=lambda p: p.name)
def test_io_never_imports_the_cli_stack(path):
    assert _offending(_imports(path), CLI_STACK) == []


@pytest.mark.parametrize("path", _modules("models"), ids=lambda p: p.name)
def test_models_never_import_the_cli_stack(path):
    assert _offending(_imports(path), CLI_STACK) == []


def test_no_module_imports_click():
    for path in PACKAGE.rglob("*.py"):
        assert _offending(_imports(path), ("click",)) == [], path


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_ctctool_is_light():
    loaded = _loaded_after("import ctctool")
    assert loaded.isdisjoint({"torch", "numpy", "typer", "rich", "matplotlib", "jiwer"})


def test_import_ctctool_models_is_light():
    assert _loaded_after("import ctctool.models").isdisjoint({"torch", "numpy", "transformers"})


def test_help_does_not_import_torch():
    loaded = _loaded_after(
        "import sys\nsys.argv = ['ctctool', '--help']\nfrom ctctool.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert "typer" in loaded and "torch" not in loaded


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "ctctool", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "loss" in result.stdout and "wer" in result.stdout
