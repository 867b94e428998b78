"""``runbot.py`` as a real subprocess: a paper grid bot with its control API, on both DBs.

The bot trades the live synthetic market (system clock); the test talks to it only the way an
operator would: HTTP with the bearer token, signals, the database.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from database.engine import create_engine, session_maker
from database.models import Bot, StrategyState
from database.models import Order as OrderRow
from tests.bot_configs import paper_grid_yaml
from tests.helpers import PROJECT_ROOT, cli_env

TOKEN = "e2e-test-token-0123456789abcdefghijklmnopqrstuvwxyz"


def grid(port: int, take_profit: str = "0.6") -> str:
    """The e2e bot: a paper grid with its control API on ``port``."""
    return paper_grid_yaml(
        "e2e-grid",
        take_profit=take_profit,
        extra=f"control_api:\n  enabled: true\n  port: {port}\n",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_bot(
    config: Path, var: Path, url: str, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    env = cli_env(var, {"DATABASE_URL": url, "PERPFLEET_CONTROL_TOKEN": TOKEN, **(extra_env or {})})
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "runbot.py", "--config", str(config), "--log-json"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


@asynccontextmanager
async def api(port: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    ) as client:
        yield client


async def eventually(check: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    for _ in range(int(seconds / 0.2)):
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
        except (httpx.HTTPError, OSError):
            result = None
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_exit(process: subprocess.Popen[bytes], seconds: float = 60) -> int:
    for _ in range(int(seconds / 0.1)):
        code = process.poll()
        if code is not None:
            return code
        await asyncio.sleep(0.1)
    raise AssertionError("the bot did not exit")


async def test_a_paper_grid_bot_end_to_end(migrated_db_url: str, tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "grid.yml"
    config.write_text(grid(port, "0.6"))
    log = tmp_path / "bot.log"
    with running_bot(config, tmp_path / "var", migrated_db_url, log) as bot:
        async with api(port) as client:
            health = await eventually(lambda: client.get("/health"), "the control API")
            assert health.json() == {"status": "ok"}
            assert (
                await client.get("/api/v1/status", headers={"Authorization": ""})
            ).status_code == 401

            status = (await client.get("/api/v1/status")).json()
            assert (status["name"], status["strategy"], status["state"]) == (
                "e2e-grid",
                "grid",
                "running",
            )
            for path in ("positions", "orders", "balances", "pnl", "config"):
                response = await client.get(f"/api/v1/{path}")
                assert response.status_code == 200, (path, response.text)
            balances = (await client.get("/api/v1/balances")).json()
            assert balances[0]["venue"] == "paper"
            assert isinstance(balances[0]["wallet"], str)  # money as exact strings

            async def orders() -> list[Any]:
                found: list[Any] = (await client.get("/api/v1/orders")).json()
                return found

            await eventually(orders, "the grid's first order")

            paused = (await client.post("/api/v1/pause")).json()
            assert paused == {"state": "paused", "cancelled_orders": []}
            assert (await client.get("/api/v1/status")).json()["state"] == "paused"

            config.write_text(grid(port, "-1"))  # invalid
            reload = await client.post("/api/v1/config/reload")
            assert reload.status_code == 422
            assert any("take_profit" in p for p in reload.json()["problems"])
            running = (await client.get("/api/v1/config")).json()
            assert running["strategy"]["params"]["take_profit"] == "0.6"  # the old one, kept
            config.write_text(grid(port, "0.6"))

            closed = (await client.post("/api/v1/close-all")).json()
            assert set(closed) == {"cancelled_orders", "closed_positions"}
            assert (await client.get("/api/v1/positions")).json() == []

            resumed = (await client.post("/api/v1/resume")).json()
            assert resumed == {"state": "running", "cancelled_orders": []}
            await eventually(orders, "an order after resuming")

        bot.send_signal(signal.SIGINT)
        assert await wait_exit(bot) == 0

    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            rows = list(await session.scalars(select(OrderRow)))
            assert rows
            resting = [r.client_order_id for r in rows if r.status in ("open", "partially_filled")]
            assert resting == []  # SIGINT cancelled every resting order
            bot_row = await session.scalar(select(Bot).where(Bot.name == "e2e-grid"))
            assert bot_row is not None
            assert bot_row.status == "stopped"
            assert bot_row.control_token_hash is not None
            assert TOKEN not in bot_row.control_token_hash
            assert await session.get(StrategyState, bot_row.id) is not None
    finally:
        await engine.dispose()

    text = log.read_text()
    assert TOKEN not in text  # the bearer token never reaches the log
    assert "Traceback" not in text

    # A restart resumes from the saved state and keeps trading.
    with running_bot(config, tmp_path / "var", migrated_db_url, log) as bot:
        async with api(port) as client:
            await eventually(lambda: client.get("/health"), "the restarted control API")
            await eventually(orders_of(client), "an order after the restart")
        bot.send_signal(signal.SIGINT)
        assert await wait_exit(bot) == 0
    assert "strategy state restored" in log.read_text()


def orders_of(client: httpx.AsyncClient) -> Callable[[], Any]:
    async def orders() -> list[Any]:
        found: list[Any] = (await client.get("/api/v1/orders")).json()
        return found

    return orders


async def test_a_second_signal_within_two_seconds_exits_at_once(
    migrated_db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "grid.yml"
    config.write_text(grid(port, "0.6"))
    with running_bot(config, tmp_path / "var", migrated_db_url, tmp_path / "bot.log") as bot:
        async with api(port) as client:
            await eventually(lambda: client.get("/health"), "the control API")
        bot.send_signal(signal.SIGINT)
        bot.send_signal(signal.SIGINT)
        code = await wait_exit(bot)
    assert code in (0, 128 + signal.SIGINT)


async def test_an_unknown_account_stops_the_start_with_one_line(
    migrated_db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "hl.yml"
    config.write_text(
        grid(free_port(), "0.6")
        .replace("exchange: paper", "exchange: hyperliquid")
        .replace("  paper: {}", "  hyperliquid:\n    account: nosuch")
    )
    result = subprocess.run(  # noqa: ASYNC221 - a short-lived CLI run
        [sys.executable, "runbot.py", "--config", str(config)],
        cwd=PROJECT_ROOT,
        env=cli_env(tmp_path / "var", {"DATABASE_URL": migrated_db_url}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("e2e-grid: hyperliquid: account 'nosuch' does not exist")
    assert "Traceback" not in result.stderr
