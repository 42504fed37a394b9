"""The code stays readable: no function of the project over 60 lines (from its `def` to its last
line, docstring and comments counted), so that each one does one phase of the work."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
LONGEST = 60


def function_lengths(path: Path) -> dict[str, int]:
    """Every function and method of a module (nested ones too), by qualified name: its lines."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    lengths[name] = child.end_lineno - child.lineno + 1
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return lengths


BENCH_WORK = PROJECT / "bench" / "out"


def test_no_function_is_longer_than_sixty_lines():
    long = {
        f"{path.relative_to(PROJECT)}:{name}": lines
        for folder in ("assets", "pipelines", "bench")
        for path in sorted((PROJECT / folder).rglob("*.py"))
        if BENCH_WORK not in path.parents  # `make bench`'s work folder: a clone with its own .venv
        for name, lines in function_lengths(path).items()
        if lines > LONGEST
    }
    assert long == {}, "split these along their phases"


def test_the_measure_counts_nested_functions_and_methods(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def outer():\n    def inner():\n        pass\n    return inner\n\n\nclass C:\n    def m(self):\n        pass\n")
    assert function_lengths(module) == {"outer": 4, "outer.inner": 2, "C.m": 2}
