"""`python -m bench --help` works, `--only` is checked, and every benchmark is registered."""

from __future__ import annotations

import ast
import subprocess
import sys

from bench.__main__ import BENCHMARKS
from core.paths import PROJECT_ROOT


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_every_benchmark() -> None:
    result = _bench("--help")
    assert result.returncode == 0, result.stderr
    for name in BENCHMARKS:
        assert f"  {name} " in result.stdout


def test_an_unknown_benchmark_is_refused_in_one_line() -> None:
    result = _bench("--only", "nosuch")
    assert result.returncode == 2
    assert "invalid choice: 'nosuch'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_module_with_a_main_is_registered() -> None:
    """A benchmark written but not registered would silently never run in `make bench`."""
    modules = {
        path.stem
        for path in (PROJECT_ROOT / "bench").glob("*.py")
        if not path.stem.startswith("_")
        and any(
            isinstance(node, ast.FunctionDef) and node.name == "main"
            for node in ast.parse(path.read_text(encoding="utf-8")).body
        )
    }
    assert modules == set(BENCHMARKS)
