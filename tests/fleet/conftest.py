"""Shared by the fleet tests: a real supervisord in a temporary directory, real paper bots."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from database.engine import create_engine, session_maker
from database.models import Bot
from fleet.manager import FleetManager
from tests.bot_configs import paper_grid_yaml


@pytest.fixture
async def fleet_root() -> AsyncIterator[Path]:
    # A short path: supervisord's unix socket path must fit in ~100 characters.
    root = Path(tempfile.mkdtemp(prefix="pf-fleet-", dir="/tmp"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def idle_fleet(migrated_db_url: str, fleet_root: Path) -> AsyncIterator[FleetManager]:
    """A fleet whose supervisord is not started: the test decides what starts it."""
    manager = FleetManager(fleet_root / "var", database_url=migrated_db_url)
    try:
        yield manager
    finally:
        await manager.down()


def write_config(directory: Path, name: str, **kwargs: Any) -> str:
    path = directory / f"{name}.yml"
    path.write_text(paper_grid_yaml(name, **kwargs))
    return str(path)


async def eventually(check: Callable[[], Awaitable[Any]], what: str, seconds: float = 90) -> Any:
    for _ in range(int(seconds / 0.25)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def registry(url: str) -> dict[str, Bot]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            return {bot.name: bot for bot in await session.scalars(select(Bot))}
    finally:
        await engine.dispose()
