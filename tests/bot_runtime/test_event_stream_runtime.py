"""The engine controls over the real runtime: a kill survives a restart, and /start refuses it.

The runtime runs in this process (no strategy loop: the controls are what is tested) on the
paper venue, with its control API on loopback; the test talks HTTP with the token.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot_runtime.control_models import ErrorBody, ErrorKind, KillSwitchResult, StateChange
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from trading_config.loader import load_config

TOKEN = "stream-runtime-token-0123456789abcdefghijklmnopqrstuvwxyz"
CONFIG = """\
name: engine-controls
strategy:
  type: l2_imbalance
  params:
    exchange: paper
    tickers: [BTC]
    order_notional_usd: 100
    daily_loss_limit_usd: 1000
    max_drawdown_usd: 1000
exchanges:
  paper: {}
"""


async def started(path: Path) -> BotRuntime:
    runtime = BotRuntime(
        load_config(path), RuntimeOptions(str(path), control_api=True, control_token=TOKEN)
    )
    await runtime.start()
    return runtime


def client(runtime: BotRuntime) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=runtime.control_server.url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )


async def test_a_killed_bot_stays_killed_after_a_restart_and_start_refuses(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "bot.yml"
    path.write_text(CONFIG)

    runtime = await started(path)
    try:
        async with client(runtime) as http:
            assert (await http.post("/api/v1/pause")).status_code == 200
            answer = await http.post("/api/v1/start")
            assert StateChange.model_validate(answer.json()).state == "running"
            answer = await http.post("/api/v1/kill", json={"reason": "restart drill"})
            assert answer.status_code == 200, answer.text
            assert KillSwitchResult.model_validate(answer.json()).complete
            assert runtime.stopping.is_set()
            assert runtime.risk.killed
            # Stopping: neither a second kill nor a start.
            assert (await http.post("/api/v1/kill")).status_code == 409
            assert (await http.post("/api/v1/start")).status_code == 409
    finally:
        await runtime.shutdown()

    runtime = await started(path)
    try:
        assert runtime.risk.killed
        async with client(runtime) as http:
            answer = await http.post("/api/v1/start")
            assert answer.status_code == 409
            error = ErrorBody.model_validate(answer.json())
            assert error.error is ErrorKind.CONFLICT
            assert "restart drill" in error.message
            assert "kill-switch/reset" in error.message
            status = (await http.get("/api/v1/status")).json()
            assert status["risk"]["killed"] is True
    finally:
        await runtime.shutdown()
