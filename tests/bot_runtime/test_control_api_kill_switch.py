"""The kill switch reports what it could not do (it used to swallow a failed cancel silently).

Why: ``BotRuntime.kill`` ran the cancels under ``contextlib.suppress(Exception)``: during a
venue outage the orders stayed on the book and nothing said so. A real runtime on the paper
venue, whose fault injection drops the connection between placing and killing.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot_runtime.kill_switch import kill_switch
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config

D = Decimal


@pytest.fixture
def config_path(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml("kill-grid"))
    return path


async def _runtime_with_an_order_and_a_position(config_path: Path) -> BotRuntime:
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    assert runtime.stack is not None
    assert runtime.strategy is not None
    await runtime.stack.executors["paper"].submit("BTC", "buy", D("0.002"))
    await runtime.strategy.execute_strategy()  # the grid's resting entry
    await runtime.stack.trackers["paper"].flush()
    assert await runtime.clients["paper"].open_orders()
    return runtime


async def test_failed_cancels_and_closes_are_logged_and_reported(config_path: Path) -> None:
    runtime = await _runtime_with_an_order_and_a_position(config_path)
    client = runtime.clients["paper"]
    assert isinstance(client, PaperExchangeClient)
    try:
        [resting] = [order.client_order_id for order in await client.open_orders()]
        client.faults = FaultPlan(disconnected=True)
        with capture_logs() as logs:
            result = await kill_switch(runtime, "drawdown 50%")

        assert not result.complete
        assert result.cancelled == []
        assert list(result.failed_cancels) == [resting]
        assert "VenueUnavailable" in result.failed_cancels[resting]
        assert list(result.failed_closes) == ["paper:*"]
        assert runtime.stopping.is_set()
        assert runtime.stop_reason == "kill switch: drawdown 50%"
        errors = [(e["event"], e.get("client_order_id")) for e in logs if e["log_level"] == "error"]
        assert ("kill switch: cancel failed; the order may still rest", resting) in errors
        assert any(e["event"].startswith("kill switch INCOMPLETE") for e in logs)
        assert result.as_json()["failed_cancels"] == result.failed_cancels

        client.faults = FaultPlan()  # the venue is back: the order really is still there
        assert [o.client_order_id for o in await client.open_orders()] == [resting]
    finally:
        client.faults = FaultPlan()
        await runtime.shutdown()


async def test_a_kill_that_works_cancels_closes_and_says_so(config_path: Path) -> None:
    runtime = await _runtime_with_an_order_and_a_position(config_path)
    client = runtime.clients["paper"]
    try:
        result = await kill_switch(runtime, "test")
        assert result.complete
        assert len(result.cancelled) == 1
        assert result.closed == ["paper:BTC"]
        assert await client.open_orders() == []
        assert await client.position("BTC") is None
    finally:
        await runtime.shutdown()
