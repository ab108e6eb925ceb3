"""Layering rules of ../STYLE: a pure core, an io layer, a thin CLI; light imports.

Every module of the package belongs to a part (a top-level module or a subpackage), and each
part may import only the parts listed in ``ALLOWED``: the table is the architecture.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ctctool"
CLI_STACK = ("typer", "rich", "click")

#: part -> the parts of ctctool it may import.
ALLOWED = {
    "errors": set(),
    "vocab": {"errors"},
    "subword": {"errors", "vocab"},
    "_checks": {"errors"},
    "_files": {"errors"},
    "devices": {"errors"},
    "kernels": set(),
    "loss": {"errors", "_checks", "kernels"},
    "metrics": {"errors"},
    "text": {"errors", "vocab"},
    "audio": {"errors", "_files"},
    "alignment": {"errors", "vocab", "_checks", "kernels", "text", "models"},
    "decoding": {"errors", "vocab", "_checks", "kernels", "alignment", "lm", "loss", "models"},
    "lm": {"errors", "_files", "vocab", "kernels", "io"},
    "models": {"errors", "_files", "vocab", "subword", "devices", "audio", "alignment", "io", "kernels"},
    "training": {"errors", "_files", "vocab", "text", "audio", "decoding", "metrics", "models", "io"},
    "io": {"errors", "_files", "vocab", "subword", "alignment", "decoding"},
    "corpus": {"errors", "_files", "vocab", "text", "audio", "alignment", "decoding", "lm", "models", "io"},
    "cli": {"errors", "_files", "vocab", "_checks", "devices", "loss", "metrics", "text", "audio", "alignment", "decoding",
            "lm", "models", "training", "io", "kernels", "corpus"},
    "__init__": {"errors"},
    "__main__": {"cli"},
}
#: The computational core: never reads or writes files itself (no io), never prints.
CORE = ("errors", "vocab", "subword", "_checks", "devices", "kernels", "loss", "metrics", "text", "audio", "alignment",
        "decoding")
#: The modules of the core that run a whole job from audio, and so may load a model.
PIPELINES = {"alignment/pipeline.py", "decoding/transcribe.py"}


def _part(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "ctctool":
                names.update(f"ctctool.{alias.name}" for alias in node.names)
    return names


def _internal(names: set[str]) -> set[str]:
    return {name.split(".")[1] for name in names if name.startswith("ctctool.")}


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_known_part():
    assert {_part(path) for path in MODULES} <= set(ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_what_its_part_may(path):
    part = _part(path)
    used = _internal(_imports(path)) - {part}
    allowed = set(ALLOWED[part])
    if part in ("alignment", "decoding") and str(path.relative_to(PACKAGE)) not in PIPELINES:
        allowed.discard("models")
    assert used <= allowed, f"{part} may not import {sorted(used - allowed)}"


@pytest.mark.parametrize("path", [p for p in MODULES if _part(p) != "cli"], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_cli_imports_the_cli_stack(path):
    offending = [n for n in _imports(path) if any(n == b or n.startswith(b + ".") for b in CLI_STACK)]
    assert offending == [] and (_part(path) == "__main__" or "ctctool.cli" not in _imports(path))


@pytest.mark.parametrize("path", [p for p in MODULES if _part(p) in CORE], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_never_prints_reads_the_environment_or_imports_io(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    attributes = {f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    assert "print" not in calls and "input" not in calls
    assert not attributes & {"sys.stdout", "sys.stderr", "os.environ", "os.getenv"}
    assert "io" not in _internal(_imports(path))


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


@pytest.mark.parametrize("path", [p for p in MODULES if _part(p) != "cli"], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_messages_name_parameters_not_flags(path):
    """Outside the CLI, a message names `parameter` (the CLI shows it as its flag), never --flag."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    texts = [node.value for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]
    assert [t for t in texts if FLAG.search(t)] == []


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_ctctool_is_light():
    loaded = _loaded_after("import ctctool")
    assert loaded.isdisjoint({"torch", "numpy", "typer", "rich", "matplotlib", "jiwer"})


@pytest.mark.parametrize("package", ["models", "alignment", "decoding", "lm", "text", "audio"])
def test_importing_a_subpackage_is_light(package):
    assert _loaded_after(f"import ctctool.{package}").isdisjoint({"torch", "numpy", "transformers", "numba"})


def test_help_does_not_import_torch():
    loaded = _loaded_after(
        "import sys\nsys.argv = ['ctctool', '--help']\nfrom ctctool.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert "typer" in loaded and "torch" not in loaded


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "ctctool", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "loss" in result.stdout and "wer" in result.stdout


def test_no_runtime_dependency_goes_unused():
    """Every runtime dependency in pyproject.toml is imported by the package."""
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)\]", pyproject, flags=re.S | re.M).group(1)
    required = {re.split(r"[<>=!~\[ ]", item.strip().strip('",'))[0] for item in block.split(",") if item.strip()}
    imported = {name.split(".")[0] for path in MODULES for name in _imports(path)}
    import_name = {"soundfile": "soundfile", "numba": "numba"}
    assert {r for r in required if import_name.get(r, r) not in imported} == set()
