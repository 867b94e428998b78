"""Running a fleet day to day (issue 14, items 1-3, 7, 8): a real supervisord, real paper bots,
and the real ``python -m fleet`` command line where a person would type it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from fleet.api import FleetError, FleetUserError
from fleet.manager import FleetManager
from tests.bot_configs import paper_grid_yaml
from tests.fleet.conftest import registry, write_config
from tests.helpers import run_cli


def fleet_cli(fleet: FleetManager, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        ["-m", "fleet", *args], fleet.layout.root, {"DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": ""}
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_reading_starts_nothing_and_up_brings_back_only_what_was_meant_to_run(
    idle_fleet: FleetManager, migrated_db_url: str, tmp_path: Path
) -> None:
    fleet = idle_fleet
    keep = await fleet.launch(write_config(tmp_path, "fleet-keep"))
    held = await fleet.launch(write_config(tmp_path, "fleet-held"))
    assert (keep.state, held.state) == ("RUNNING", "RUNNING")
    assert keep.desired_state == "running"
    stopped = await fleet.stop("fleet-held")
    assert (stopped.state, stopped.desired_state) == ("STOPPED", "stopped")
    await fleet.down()
    assert not await fleet.supervisord_running()
    assert keep.pid is not None
    assert not alive(keep.pid)

    # Item 1: list, status, logs and telegram-without-a-token start nothing.
    listed = fleet_cli(fleet, migrated_db_url, "list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in listed.stdout.splitlines()[1:3]}
    assert rows == {"fleet-held": ["STOPPED", "stopped"], "fleet-keep": ["STOPPED", "running"]}
    assert "supervisord is not running" in listed.stdout
    status = fleet_cli(fleet, migrated_db_url, "status", "fleet-keep")
    assert status.returncode == 0, status.stderr
    assert "wanted:      running" in status.stdout
    logs = fleet_cli(fleet, migrated_db_url, "logs", "fleet-keep", "-n", "5")
    assert logs.returncode == 0, logs.stderr
    telegram = fleet_cli(fleet, migrated_db_url, "telegram")
    assert telegram.returncode == 2
    assert telegram.stderr.strip().splitlines() == [
        "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather first"
    ]
    assert not await fleet.supervisord_running()
    assert await fleet.list_bots() == await fleet.list_bots()  # the API reads, too
    assert {info.state for info in await fleet.list_bots()} == {"STOPPED"}
    assert not await fleet.supervisord_running()

    # Item 2: up starts the bot meant to run, not the one stopped before `down`.
    assert await fleet.up() == []
    states = {info.name: info.state for info in await fleet.list_bots()}
    assert states == {"fleet-keep": "RUNNING", "fleet-held": "STOPPED"}
    bots = await registry(migrated_db_url)
    assert (bots["fleet-keep"].status, bots["fleet-held"].status) == ("running", "stopped")

    # Item 3: remove unregisters (running or not); up starts nothing of it again.
    removed = fleet_cli(fleet, migrated_db_url, "remove", "fleet-keep")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("fleet-keep removed")
    assert (await fleet.remove("fleet-held")).startswith("fleet-held removed")
    assert await fleet.list_bots() == []
    assert not fleet.layout.program_file("fleet-keep").exists()
    assert not fleet.layout.token_file("fleet-keep").exists()
    assert await fleet.up() == []
    assert await fleet.list_bots() == []
    bots = await registry(migrated_db_url)
    assert {name: (bot.status, bot.desired_state) for name, bot in bots.items()} == {
        "fleet-keep": ("stopped", None),
        "fleet-held": ("stopped", None),
    }
    gone = fleet_cli(fleet, migrated_db_url, "status", "fleet-keep")
    assert (gone.returncode, gone.stderr.strip()) == (
        2,
        "no such bot: 'fleet-keep' (see `python -m fleet list`)",
    )
    assert "Traceback" not in gone.stderr


async def test_logs_are_readable_validated_and_name_unknown_bots(
    idle_fleet: FleetManager, migrated_db_url: str, tmp_path: Path
) -> None:
    fleet = idle_fleet
    await fleet.launch(write_config(tmp_path, "fleet-logs"))
    await fleet.stop("fleet-logs")

    readable = fleet_cli(fleet, migrated_db_url, "logs", "fleet-logs", "-n", "30")
    assert readable.returncode == 0, readable.stderr
    lines = readable.stdout.splitlines()
    assert lines
    assert not any(line.startswith("{") for line in lines)
    assert any("[info" in line and "bot started" in line for line in lines)
    assert any("bot=fleet-logs" in line for line in lines)

    raw = fleet_cli(fleet, migrated_db_url, "logs", "fleet-logs", "-n", "30", "--json")
    assert raw.returncode == 0, raw.stderr
    events = [json.loads(line) for line in raw.stdout.splitlines() if line.startswith("{")]
    assert any(event["event"] == "bot started" for event in events)

    for bad in ("0", "-3", "many"):
        result = fleet_cli(fleet, migrated_db_url, "logs", "fleet-logs", "-n", bad)
        assert result.returncode == 2, (bad, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "lines" in result.stderr
    unknown = fleet_cli(fleet, migrated_db_url, "logs", "nosuch")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        2,
        "no such bot: 'nosuch' (see `python -m fleet list`)",
    )
    with pytest.raises(FleetUserError, match="no such bot"):
        await fleet.logs("nosuch")


async def test_a_failed_launch_leaves_nothing_registered(
    idle_fleet: FleetManager, migrated_db_url: str, tmp_path: Path
) -> None:
    fleet = idle_fleet
    # Refused before anything is written: the account the config names does not exist.
    real = tmp_path / "real.yml"
    real.write_text(
        paper_grid_yaml("fleet-real")
        .replace("exchange: paper", "exchange: hyperliquid")
        .replace("  paper: {}", "  hyperliquid: {account: nosuch, testnet: true}")
    )
    result = fleet_cli(fleet, migrated_db_url, "launch", str(real))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nosuch" in result.stderr
    assert not fleet.layout.program_file("fleet-real").exists()
    assert not await fleet.supervisord_running()  # a refused launch started nothing either

    # Fails inside the bot process: the paper venue lists no XYZ.
    broken = tmp_path / "broken.yml"
    broken.write_text(paper_grid_yaml("fleet-broken").replace("ticker: BTC", "ticker: XYZ"))
    with pytest.raises(FleetError, match="fleet-broken is not registered"):
        await fleet.launch(str(broken))
    assert await fleet.list_bots() == []
    assert not fleet.layout.program_file("fleet-broken").exists()
    assert not fleet.layout.token_file("fleet-broken").exists()
    bot = (await registry(migrated_db_url))["fleet-broken"]
    assert (bot.status, bot.supervisor_program, bot.desired_state) == ("crashed", None, None)
    assert bot.status_detail is not None
    assert "XYZ" in bot.status_detail
    assert await fleet.up() == []
    assert await fleet.list_bots() == []


async def test_bots_launched_at_once_all_run(idle_fleet: FleetManager, tmp_path: Path) -> None:
    """Concurrent launches (the dashboard, Telegram and the fleet bench do this): the first one
    starts supervisord, which loads every program file already written - the others' included -
    and their own load must not then fail with ALREADY_ADDED."""
    fleet = idle_fleet
    names = [f"fleet-many-{i}" for i in range(4)]
    configs = [write_config(tmp_path, name) for name in names]
    launched = await asyncio.gather(*(fleet.launch(config) for config in configs))
    assert sorted(info.name for info in launched) == names
    assert {bot.name: bot.state for bot in await fleet.list_bots()} == dict.fromkeys(
        names, "RUNNING"
    )
