"""The dashboard in front of the real fleet (``fleet.manager.FleetManager``: supervisord in a
temp var dir) as ``python -m dashboard`` builds it (:func:`dashboard.server.fleet_services`):
a paper bot launched by the fleet shows on the overview through its control API (pooled
client: the fleet's port lookup and token file), and its fills reach a browser's event
stream through the relay (the bot's WebSocket, with the token the fleet gave it)."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dashboard.app import create_app
from dashboard.server import ServeSettings, fleet_services
from database.engine import create_engine, session_maker
from database.repositories import dashboard_users as repo
from fleet.manager import FleetManager
from tests.dashboard.conftest import login, password_hash, served
from tests.dashboard.real_bot import l2_config

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
BOT = "dash-fleet-l2"
GUARD_SECONDS = 120.0  # guards a hang; not a speed assertion


@pytest.fixture
async def fleet(migrated_db_url: str) -> AsyncIterator[FleetManager]:
    root = Path(tempfile.mkdtemp(prefix="pf-dashf-", dir="/tmp"))  # short socket path
    manager = FleetManager(root / "var", database_url=migrated_db_url)
    try:
        yield manager
    finally:
        await manager.down()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_launched_bot_and_its_fills_through_the_real_fleet(
    fleet: FleetManager, migrated_db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / f"{BOT}.yml"
    config.write_text(l2_config(BOT, 0).replace("  port: 0\n", ""))
    await fleet.launch(str(config))
    engine = create_engine(migrated_db_url)
    sessions = session_maker(engine)
    async with sessions() as session, session.begin():
        await repo.add_user(session, "vic", "viewer", password_hash())
    services = fleet_services(fleet, sessions, ServeSettings(configs_dir=tmp_path))
    try:
        async with (
            served(create_app(services)) as port,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
        ):
            assert (await login(client, "vic")).status_code == 303
            overview = (await client.get("/")).text
            row = overview.split(f'<tr data-bot="{BOT}">')[1].split("</tr>")[0]
            assert "l2_imbalance" in row
            assert '<span class="state" data-field="state">running</span>' in row
            async with client.stream("GET", f"/events/{BOT}") as answer:
                async with asyncio.timeout(GUARD_SECONDS):
                    async for line in answer.aiter_lines():
                        if line.startswith("data:") and '"type":"fill"' in line:
                            fill = json.loads(line.removeprefix("data: "))
                            break
            assert (fill["bot"], fill["data"]["venue"], fill["data"]["symbol"]) == (
                BOT,
                "paper",
                "BTC",
            )
            assert float(fill["data"]["size"]) > 0
    finally:
        await engine.dispose()
