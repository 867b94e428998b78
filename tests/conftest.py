"""Test-wide setup: every test runs with its own var/ dir and no stray perpfleet env."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.database_fixtures"]


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point var/ at a temp dir and drop PERPFLEET_*/DATABASE_URL settings from the outer shell.

    Keeps a developer's real database, master key and overrides out of the tests.
    """
    for key in list(os.environ):
        if key.startswith("PERPFLEET_") and not key.startswith("PERPFLEET_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    var = tmp_path / "var"
    monkeypatch.setenv("PERPFLEET_VAR_DIR", str(var))
    return var
