"""The make targets a person runs around the fleet (issue 14, items 4 and 5), for real: the
project's Makefile, a real supervisord, real demo bots, in temporary directories only."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx

from fleet.manager import FleetManager
from tests.bot_runtime.test_runbot_e2e import free_port
from tests.helpers import PROJECT_ROOT

STAMP = ".venv/.installed-stamp"


def make(directory: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # -o: never re-install into the shared virtualenv from a test.
        ["make", "--no-print-directory", "-o", STAMP, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def environment(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PERPFLEET_", "TELEGRAM_")) and key != "DATABASE_URL"
    }
    env.update(extra)
    return env


async def test_clean_refuses_while_the_fleet_runs_and_only_clean_all_deletes_var(
    idle_fleet: FleetManager, fleet_root: Path
) -> None:
    project = fleet_root  # a copy of the project's Makefile next to the fleet's var/
    shutil.copy(PROJECT_ROOT / "Makefile", project / "Makefile")
    (project / ".venv").mkdir()
    (project / ".venv" / "bin").mkdir()
    var = idle_fleet.layout.root
    await idle_fleet.up()
    (var / "master.key").write_text("key")
    env = environment()

    for target in ("clean", "clean-all"):
        refused = make(project, target, env=env)
        assert refused.returncode != 0
        assert "the fleet is running (supervisord pid " in refused.stderr
        assert "run 'make fleet-down' first; nothing was deleted" in refused.stderr
        assert (project / ".venv").exists()
        assert (var / "master.key").exists()

    await idle_fleet.down()
    cleaned = make(project, "clean", env=env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (project / ".venv").exists()
    assert (var / "master.key").exists()
    assert "var/ kept (database, master key, fleet files); 'make clean-all' deletes it" in (
        cleaned.stdout
    )

    everything = make(project, "clean-all", env=env)
    assert everything.returncode == 0, everything.stderr
    assert not var.exists()
    assert "master.key: credentials encrypted with it can never be decrypted again" in (
        everything.stdout
    )


async def test_make_demo_runs_again_after_fleet_down(
    migrated_db_url: str, fleet_root: Path
) -> None:
    var = fleet_root / "var"
    funding_port, dashboard_port = free_port(), free_port()
    env = environment(
        PERPFLEET_VAR_DIR=str(var),
        DATABASE_URL=migrated_db_url,
        DEMO_SETTLE_SECONDS="0",
        FUNDING_PORT=str(funding_port),
        DASHBOARD_PORT=str(dashboard_port),
    )
    try:
        for attempt in ("first", "after fleet-down"):
            demo = make(PROJECT_ROOT, "demo", env=env)
            assert demo.returncode == 0, (attempt, demo.stdout, demo.stderr)
            states = {
                line.split()[0]: line.split()[1]
                for line in demo.stdout.splitlines()
                if line.startswith("demo-")
            }
            assert states == {"demo-arb": "RUNNING", "demo-grid-btc": "RUNNING"}, demo.stdout
            # The funding-rate service and the dashboard run beside the bots, and it says where.
            async with httpx.AsyncClient(timeout=10) as http:
                health = await http.get(f"http://127.0.0.1:{funding_port}/api/v1/health")
                login = await http.get(f"http://127.0.0.1:{dashboard_port}/login")
            assert health.status_code == 200, health.text
            assert login.status_code == 200, login.text
            assert f"dashboard: http://127.0.0.1:{dashboard_port}/" in demo.stdout
            assert "python -m dashboard users add admin --role admin" in demo.stdout
            down = make(PROJECT_ROOT, "fleet-down", env=env)
            assert down.returncode == 0, down.stderr
    finally:
        await FleetManager(var, database_url=migrated_db_url).down()
