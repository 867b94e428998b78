"""Service programs (fleet/services.py) on a real supervisord: the funding-rate service started,
restarted by supervisord when killed, brought back by ``up``, stopped for good, and refused
with its own words when its settings are wrong - through ``python -m fleet service`` where a
person types it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.request
from typing import Any

from fleet.manager import FleetManager
from fleet.service_control import ServiceControl
from fleet.services import SERVICE_PROGRAMS, ServiceInfo
from tests.fleet.conftest import eventually
from tests.helpers import run_cli


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_cli(
    fleet: FleetManager, url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        ["-m", "fleet", "service", *args], fleet.layout.root, {"DATABASE_URL": url, **(env or {})}
    )


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test URL
        return json.loads(response.read())


SETTINGS = {
    "PERPFLEET_FUNDING_INTERVAL_SECONDS": "5",
    "PERPFLEET_FUNDING_BACKFILL_DAYS": "0",
    "PERPFLEET_FUNDING_VENUES": "paper_a",
    "PERPFLEET_FUNDING_TOKEN": "not-for-the-program-file",
}


async def test_funding_service_runs_under_the_fleet(
    idle_fleet: FleetManager, migrated_db_url: str
) -> None:
    fleet = idle_fleet
    port = free_port()
    program_file = fleet.layout.programs_dir / "funding-service.conf"

    # Reading starts nothing.
    idle = service_cli(fleet, migrated_db_url, "status", "funding")
    assert idle.returncode == 0, idle.stderr
    assert "state:   STOPPED" in idle.stdout
    assert "set up:  no" in idle.stdout
    assert not await fleet.supervisord_running()

    started = service_cli(
        fleet, migrated_db_url, "start", "funding", "--port", str(port), env=SETTINGS
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == (
        f"funding service RUNNING, http://127.0.0.1:{port}/health answers"
    )
    text = program_file.read_text()
    assert 'PERPFLEET_FUNDING_INTERVAL_SECONDS="5"' in text
    assert 'PERPFLEET_FUNDING_VENUES="paper_a"' in text
    assert "not-for-the-program-file" not in text  # a token is never written out
    assert os.stat(program_file).st_mode & 0o077 == 0
    # It is the service, collecting with the settings it was started with.
    venues = await eventually(lambda: _venues(port), "the service to collect paper_a", seconds=60)
    assert venues == ["paper_a"]

    again = service_cli(fleet, migrated_db_url, "start", "funding", "--port", str(port))
    assert again.returncode == 0, again.stderr
    assert "RUNNING (already)" in again.stdout

    control = ServiceControl(fleet)
    first = await control.status("funding")
    assert (first.state, first.set_up, first.answering) == ("RUNNING", True, True)
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)

    async def restarted() -> ServiceInfo | None:
        info = await control.status("funding")
        return info if info.answering and info.pid not in (None, first.pid) else None

    await eventually(restarted, "supervisord to restart the funding service")

    # down stops it with the bots; up brings it back, on the same port.
    await fleet.down()
    down = service_cli(fleet, migrated_db_url, "status")
    assert "state:   STOPPED" in down.stdout
    assert "set up:  yes" in down.stdout
    await fleet.up()
    back = await eventually(
        lambda: _answering(control), "up to start the funding service again", seconds=60
    )
    assert back.health_url == f"http://127.0.0.1:{port}/health"

    stopped = service_cli(fleet, migrated_db_url, "stop", "funding")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == "funding service STOPPED"
    assert not program_file.exists()
    await fleet.up()
    assert (await control.status("funding")).state == "STOPPED"


async def _venues(port: int) -> list[str] | None:
    try:
        venues = get_json(f"http://127.0.0.1:{port}/api/v1/venues")
    except OSError:
        return None
    return [v["name"] for v in venues if v["symbols"]] or None


async def _answering(control: ServiceControl) -> ServiceInfo | None:
    info = await control.status("funding")
    return info if info.answering else None


async def test_a_service_that_cannot_start_is_reported_and_not_kept(
    idle_fleet: FleetManager, migrated_db_url: str
) -> None:
    fleet = idle_fleet
    bad = service_cli(
        fleet,
        migrated_db_url,
        "start",
        "funding",
        "--port",
        str(free_port()),
        env={"PERPFLEET_FUNDING_INTERVAL_SECONDS": "1"},
    )
    assert bad.returncode == 1
    assert "the funding service did not start" in bad.stderr
    # The service's own one-line reason, from its log.
    assert "PERPFLEET_FUNDING_INTERVAL_SECONDS: expected a number of seconds >= 5" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (fleet.layout.programs_dir / "funding-service.conf").exists()
    assert (await ServiceControl(fleet).status("funding")).state == "STOPPED"


async def test_a_port_in_use_is_refused_before_anything_runs(
    idle_fleet: FleetManager, migrated_db_url: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = service_cli(idle_fleet, migrated_db_url, "start", "funding", "--port", str(port))
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"port {port} is in use on 127.0.0.1 (another funding service, started outside the "
        "fleet?): stop it, or start this one with --port"
    )
    assert not await idle_fleet.supervisord_running()


def test_every_service_program_is_a_distinct_module_port_and_program() -> None:
    services = list(SERVICE_PROGRAMS.values())
    for attribute in ("name", "module", "port", "program", "env_prefix"):
        values = [getattr(s, attribute) for s in services]
        assert len(set(values)) == len(values), attribute
