"""/service for admins: the fleet's service programs over a real FleetManager (supervisord in a
short temp dir), the funding-rate service started, shown and stopped from a chat, audited;
other roles are refused."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fleet.manager import FleetManager
from fleet.services import SERVICE_PROGRAMS
from tests.telegram_bot_service.conftest import ADMIN, TRADER, StartService


@pytest.fixture
async def fleet(migrated_db_url: str) -> AsyncIterator[FleetManager]:
    root = Path(tempfile.mkdtemp(prefix="pf-svc-", dir="/tmp"))  # a short socket path
    manager = FleetManager(root / "var", database_url=migrated_db_url)
    try:
        yield manager
    finally:
        await manager.down()
        shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_admin_starts_shows_and_stops_the_funding_service(
    start_service: StartService, fleet: FleetManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERPFLEET_FUNDING_INTERVAL_SECONDS", "5")
    monkeypatch.setenv("PERPFLEET_FUNDING_BACKFILL_DAYS", "0")
    monkeypatch.setenv("PERPFLEET_FUNDING_VENUES", "paper_a")
    port = free_port()
    async with start_service(fleet=fleet) as harness:
        idle = await harness.say(ADMIN, "/service")
        [row] = [line.split() for line in idle.text.splitlines() if line.startswith("funding")]
        assert row == ["funding", "STOPPED", "-", "-", "no"]

        refused = await harness.say(TRADER, "/service start funding")
        assert "admin" in refused.text
        assert not await fleet.supervisord_running()

        started = await harness.say(ADMIN, f"/service start funding {port}", wait_seconds=120)
        assert started.text == "funding service RUNNING"
        shown = await harness.say(ADMIN, "/service status")
        [row] = [line.split() for line in shown.text.splitlines() if line.startswith("funding")]
        assert row[:3] == ["funding", "RUNNING", "answers"]
        assert row[-1] == "yes"

        stopped = await harness.say(ADMIN, "/service stop funding")
        assert stopped.text == "funding service STOPPED"
        bad = await harness.say(ADMIN, "/service restart funding")
        assert bad.text == (
            "Usage: /service [status | start NAME [PORT] | stop NAME] (PORT: 1024 to 65535)"
        )
        unknown = await harness.say(ADMIN, "/service start dashbord")
        known = ", ".join(sorted(SERVICE_PROGRAMS))
        assert unknown.text == f"No service 'dashbord' (known: {known})."

        actions = [row.action for row in await harness.audit_rows()]
        assert actions.count("telegram.service.start") == 1
        assert actions.count("telegram.service.stop") == 1
