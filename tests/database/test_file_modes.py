"""The SQLite database and its directory are private to the bot's user.

Why: the database (order journal, positions, encrypted credentials) was created 0644 with its
``-wal``/``-shm`` files in a 0755 ``var/``: every local user could read it. A real SQLite file,
written through the real engine so WAL files exist, under the usual umask 022.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from database.engine import create_engine, database_url, sqlite_path


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def write_something(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as connection:  # WAL and shared memory exist while open
            assert (await connection.execute(text("SELECT x FROM t"))).scalar() == 1
            database = Path(sqlite_path(url) or "")
            assert {mode(database.with_name(database.name + s)) for s in ("-wal", "-shm")} == {
                0o600
            }
    finally:
        await engine.dispose()


async def test_a_new_default_database_and_var_dir_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var = tmp_path / "var"
    monkeypatch.setenv("PERPFLEET_VAR_DIR", str(var))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = database_url()  # creates var/ as every entry point does
    await write_something(url)
    assert mode(var) == 0o700
    assert mode(var / "perpfleet.db") == 0o600


async def test_a_database_in_a_new_directory_elsewhere_is_private(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bots.db"
    await write_something(f"sqlite+aiosqlite:///{database}")
    assert (mode(database.parent), mode(database)) == (0o700, 0o600)


async def test_loose_modes_on_an_existing_database_are_warned_about_with_the_fix(
    tmp_path: Path,
) -> None:
    database = tmp_path / "shared" / "old.db"
    database.parent.mkdir(mode=0o755)
    database.touch(mode=0o644)
    database.chmod(0o644)
    with capture_logs() as logs:
        for _ in range(2):  # once per process, not per engine
            await create_engine(f"sqlite+aiosqlite:///{database}").dispose()
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [(w["path"], w["mode"], w["fix"]) for w in warnings] == [
        (str(database.parent), "0755", f"chmod 700 {database.parent}"),
        (str(database), "0644", f"chmod 600 {database}"),
    ]
    assert mode(database) == 0o644  # reported, not changed behind the operator's back


def test_var_dir_is_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before any database exists: the fleet's tokens and the key file land in a 0700 var/."""
    from core.paths import VAR_DIR_ENV, var_dir

    monkeypatch.setenv(VAR_DIR_ENV, str(tmp_path / "fresh-var"))
    old_umask = os.umask(0o022)
    try:
        path = var_dir()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
