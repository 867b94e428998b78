"""Test-wide setup: every test runs with its own var/ dir and no stray perpfleet env."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from core.logging_setup import CHATTY_LIBRARIES, HANDLER_NAME

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


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """Logging as it was before the test, once it ends.

    A test that runs an entry point configures logging: its handler on the root logger writes
    to that test's captured stderr, closed when the test ends. Left in place, every later log
    line fails with "I/O operation on closed file", reported into whatever stderr a later test
    reads (CI once failed that way, on a test asserting its one line of stderr).
    """
    root = logging.getLogger()
    level = root.level
    libraries = {name: logging.getLogger(name).level for name in CHATTY_LIBRARIES}
    config = structlog.get_config()
    yield
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, library_level in libraries.items():
        logging.getLogger(name).setLevel(library_level)
    structlog.configure(**config)
