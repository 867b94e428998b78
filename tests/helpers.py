"""Small helpers shared by tests: running the real CLIs in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def cli_env(var_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI run: no stray perpfleet settings, var/ in the test's tmp dir."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PERPFLEET_") and key != "DATABASE_URL"
    }
    env["PERPFLEET_VAR_DIR"] = str(var_dir)
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra or {})
    return env


def run_cli(
    args: list[str], var_dir: Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python <args>`` from the project root, as a user would."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=cli_env(var_dir, env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
