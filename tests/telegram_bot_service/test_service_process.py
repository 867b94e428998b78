"""``python -m telegram_bot_service run`` as supervisord would run it: a real process polling the
fake Bot API, with the real fleet manager; it stops cleanly on SIGTERM and never logs the token.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from testing.fakes.telegram_api import FakeTelegramServer
from tests.helpers import PROJECT_ROOT, cli_env
from tests.telegram_bot_service.conftest import ADMIN, TOKEN

try:
    from fleet.manager import FleetManager
except ImportError:
    FLEET_MANAGER_AVAILABLE = False
else:
    FLEET_MANAGER_AVAILABLE = True


@pytest.mark.skipif(not FLEET_MANAGER_AVAILABLE, reason="fleet.manager not yet available")
async def test_the_service_process_serves_and_stops_on_sigterm(
    telegram: FakeTelegramServer,
    migrated_db_url: str,
    sessions: async_sessionmaker[AsyncSession],  # seeds the allowlist
    configs_dir: Path,
    tmp_path: Path,
) -> None:
    var = tmp_path / "var"
    env = cli_env(
        var,
        {
            "DATABASE_URL": migrated_db_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.root_url,
            "PERPFLEET_CONFIGS_DIR": str(configs_dir),
        },
    )
    log_path = tmp_path / "service.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "telegram_bot_service",
            "run",
            "--poll-seconds",
            "1",
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await telegram.wait_for(lambda call: call.method == "getUpdates", wait_seconds=90)
            mark = telegram.mark()
            await telegram.send_text(ADMIN, "/start")
            hello = await telegram.reply_to(ADMIN, after=mark)
            assert "Your role in this perpfleet: admin." in hello.text
            mark = telegram.mark()
            await telegram.send_text(ADMIN, "/bots")
            bots = await telegram.reply_to(ADMIN, after=mark)
            assert bots.text == "No bots yet. Launch one with /launch."
            configs = await _say(telegram, "/configs")
            assert "paper_grid.yml" in configs
            # Serving and reading started nothing: the service never brings the fleet up.
            assert not await FleetManager(var, database_url=migrated_db_url).supervisord_running()
        finally:
            if process.returncode is None:
                process.terminate()
            code = await asyncio.wait_for(process.wait(), 60)
            await FleetManager(var, database_url=migrated_db_url).down()
    output = log_path.read_text()
    assert code == 0, output
    assert "telegram service running" in output
    assert TOKEN not in output
    assert TOKEN.split(":", 1)[1] not in output


async def _say(telegram: FakeTelegramServer, text: str) -> str:
    mark = telegram.mark()
    await telegram.send_text(ADMIN, text)
    return (await telegram.reply_to(ADMIN, after=mark)).text
