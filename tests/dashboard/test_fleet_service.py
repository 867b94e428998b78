"""The dashboard as a fleet service program (fleet/services.py): ``python -m fleet service
start dashboard`` runs ``python -m dashboard`` under the fleet's supervisord, its health URL
answers, a user added with ``python -m dashboard users add`` logs in to it, and ``service
stop`` ends it. Runs when the registry has the dashboard's line."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fleet.manager import FleetManager
from fleet.services import SERVICE_PROGRAMS
from tests.dashboard.conftest import PASSWORD, login
from tests.helpers import run_cli

pytestmark = [
    pytest.mark.skipif(
        "dashboard" not in SERVICE_PROGRAMS,
        reason="fleet/services.py has no dashboard line yet (the lead adds it)",
    ),
    pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True),
]


@pytest.fixture
async def fleet(migrated_db_url: str) -> AsyncIterator[FleetManager]:
    # A short path: supervisord's unix socket path must fit in ~100 characters.
    root = Path(tempfile.mkdtemp(prefix="pf-dash-", dir="/tmp"))
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


async def test_the_dashboard_runs_as_a_fleet_service(
    fleet: FleetManager, migrated_db_url: str
) -> None:
    env = {"DATABASE_URL": migrated_db_url}
    added = run_cli(
        ["-m", "dashboard", "users", "add", "ada", "--role", "admin", "--password-stdin"],
        fleet.layout.root,
        env,
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    port = free_port()
    started = run_cli(
        ["-m", "fleet", "service", "start", "dashboard", "--port", str(port)],
        fleet.layout.root,
        {**env, "PERPFLEET_DASHBOARD_SESSION_HOURS": "2"},  # its settings reach the program
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == (
        f"dashboard service RUNNING, http://127.0.0.1:{port}/health answers"
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        logged_in = await login(client, "ada")
        assert logged_in.status_code == 303
        assert "max-age=7200" in logged_in.headers["set-cookie"].lower()
        page = await client.get("/")
        assert page.status_code == 200
        assert "<h1>Fleet</h1>" in page.text
    stopped = run_cli(["-m", "fleet", "service", "stop", "dashboard"], fleet.layout.root, env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == "dashboard service STOPPED"
