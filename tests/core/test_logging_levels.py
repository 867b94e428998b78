"""`--log-level DEBUG` shows perpfleet's debug lines, not the database driver's."""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.logging_setup import configure_logging, get_logger
from core.paths import PROJECT_ROOT
from tests.bot_configs import paper_grid_yaml
from tests.helpers import cli_env


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    yield out
    configure_logging(level="INFO", json=True, stream=sys.stderr)


def _loggers(out: io.StringIO) -> list[str]:
    return [json.loads(line)["logger"] for line in out.getvalue().splitlines()]


def test_third_party_debug_is_kept_out_unless_asked(stream: io.StringIO) -> None:
    configure_logging(level="DEBUG", json=True, stream=stream)
    get_logger("execution.journal").debug("ours")
    logging.getLogger("aiosqlite").debug("driver noise")
    logging.getLogger("asyncpg.pool").info("driver info")
    logging.getLogger("aiosqlite").warning("driver warning")
    assert _loggers(stream) == ["execution.journal", "aiosqlite"]


def test_debug_libs_lets_third_parties_log_at_the_level(stream: io.StringIO) -> None:
    configure_logging(level="DEBUG", json=True, stream=stream, debug_libs=True)
    get_logger("execution.journal").debug("ours")
    logging.getLogger("aiosqlite").debug("driver noise")
    assert _loggers(stream) == ["execution.journal", "aiosqlite"]


def test_a_level_above_warning_applies_to_everyone(stream: io.StringIO) -> None:
    configure_logging(level="ERROR", json=True, stream=stream)
    get_logger("execution.journal").warning("ours")
    logging.getLogger("aiosqlite").warning("theirs")
    assert _loggers(stream) == []


def _runbot_loggers(tmp_path: Path, database_url: str, *flags: str) -> list[str]:
    """The logger of every line a paper bot writes in a few seconds at DEBUG with ``flags``."""
    config = tmp_path / "grid.yml"
    config.write_text(paper_grid_yaml("grid-debug-log"), encoding="utf-8")
    bot = subprocess.Popen(
        [sys.executable, "runbot.py", "--config", str(config), "--log-level", "DEBUG", *flags],
        cwd=PROJECT_ROOT,
        env=cli_env(tmp_path / "var", {"DATABASE_URL": database_url}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)  # let it trade a little: journal writes are what the driver logged
    bot.send_signal(signal.SIGINT)
    _, err = bot.communicate(timeout=60)
    lines = err.splitlines()
    assert all(line.startswith("{") for line in lines), err[-2000:]
    loggers = [json.loads(line).get("logger", "") for line in lines]
    assert any(name.startswith("execution") for name in loggers), err[-2000:]
    return loggers


def _drivers(loggers: list[str]) -> list[str]:
    return [
        name for name in loggers if name.split(".")[0] in {"aiosqlite", "asyncpg", "sqlalchemy"}
    ]


def test_runbot_debug_log_has_no_driver_lines(tmp_path: Path, migrated_db_url: str) -> None:
    """A paper bot run at DEBUG for a few seconds: perpfleet's lines, none of the driver's."""
    assert _drivers(_runbot_loggers(tmp_path, migrated_db_url, "--log-json")) == []


def test_runbot_debug_libs_lets_the_driver_lines_through(
    tmp_path: Path, migrated_db_url: str
) -> None:
    loggers = _runbot_loggers(tmp_path, migrated_db_url, "--log-json", "--debug-libs")
    assert _drivers(loggers) != []
