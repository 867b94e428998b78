"""A real paper bot for the dashboard's tests: ``runbot.py`` trading the synthetic market with
l2_imbalance (it fills within seconds), its control API and event stream on a free port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.bot_runtime.test_runbot_e2e import TOKEN, free_port, running_bot

STARTUP_GUARD_SECONDS = 90.0  # guards a hang; not a speed assertion


def l2_config(name: str, port: int) -> str:
    return f"""\
name: {name}
strategy:
  type: l2_imbalance
  params:
    exchange: paper
    tickers: [BTC]
    order_notional_usd: 1000
    buy_ratio: 1.2
    sell_ratio: 0.83
    take_profit_pct: 0.02
    stop_loss_pct: 0.02
    time_stop_seconds: 2
    daily_loss_limit_usd: 500
    max_drawdown_usd: 1000
    resync_quiet_seconds: 0
exchanges:
  paper: {{}}
control_api:
  enabled: true
  port: {port}
"""


@dataclass(frozen=True)
class RealBot:
    name: str
    port: int
    token: str


@contextlib.asynccontextmanager
async def real_bot(name: str, tmp_path: Path, database_url: str) -> AsyncIterator[RealBot]:
    port = free_port()
    config = tmp_path / f"{name}.yml"
    config.write_text(l2_config(name, port))
    with running_bot(config, tmp_path / "bot-var", database_url, tmp_path / f"{name}.log"):
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        ) as client:
            async with asyncio.timeout(STARTUP_GUARD_SECONDS):
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get("/api/v1/status")).status_code == 200:
                            break
                    await asyncio.sleep(0.2)
        yield RealBot(name, port, TOKEN)
