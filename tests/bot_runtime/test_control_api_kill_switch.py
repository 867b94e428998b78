"""The kill switch reports what it could not do (it used to swallow a failed cancel silently),
and a tripped one is cleared through the control API (it used to take a database edit).

Why: ``BotRuntime.kill`` ran the cancels under ``contextlib.suppress(Exception)``: during a
venue outage the orders stayed on the book and nothing said so. A real runtime on the paper
venue, whose fault injection drops the connection between placing and killing.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from bot_runtime.control_api import create_app
from bot_runtime.control_auth import hash_token, new_token
from bot_runtime.control_models import ErrorKind
from bot_runtime.controller import RuntimeControl
from bot_runtime.kill_switch import KillConditionHolds, KillNotEngaged, kill_switch, plan_reset
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from core.clock import SystemClock
from core.errors import KillSwitchEngaged
from database.engine import create_engine, session_maker
from database.models import AuditLogEntry
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from fleet.api import ControlRefused
from fleet.control_client import HttpControlClient
from strategies.risk import RiskManager
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config
from trading_config.schema import RiskConfig

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


# --------------------------------------------------------------------------------------------
# The reset: a tripped switch cleared through the control API, with the real runtime behind it


RISKY_GRID = paper_grid_yaml("reset-grid", extra="risk:\n  max_drawdown_pct: 10\n")


@pytest.fixture
def risky_config(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "reset.yml"
    path.write_text(RISKY_GRID)
    return path


async def _tripped(config_path: Path) -> None:
    """A bot whose drawdown kill switch fired (equity had been twice what it is): it flattens,
    stops and saves the kill, as the runtime's loop does."""
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    try:
        runtime.risk.update_equity(await runtime.equity() * 2)
        await asyncio.wait_for(runtime._loop(), 30)
        assert runtime.risk.killed
    finally:
        await runtime.shutdown()


def _client(runtime: BotRuntime) -> HttpControlClient:
    token = new_token()
    app = create_app(RuntimeControl(runtime), hash_token(token))
    return HttpControlClient(runtime.config.name, 1, token, transport=httpx.ASGITransport(app=app))


async def _audit_rows(url: str) -> list[AuditLogEntry]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            query = select(AuditLogEntry).where(AuditLogEntry.action == "bot.kill_switch.reset")
            return list(await session.scalars(query))
    finally:
        await engine.dispose()


async def test_a_restarted_killed_bot_trades_again_after_a_reset_and_stays_reset(
    risky_config: Path, migrated_db_url: str
) -> None:
    await _tripped(risky_config)

    runtime = BotRuntime(load_config(risky_config), RuntimeOptions(str(risky_config)))
    await runtime.start()  # the saved kill comes back with the state
    try:
        assert runtime.stack is not None
        control = _client(runtime)
        status = await control.status()
        assert status.risk.killed
        assert status.risk.kill_reason is not None
        assert status.risk.kill_reason.startswith("drawdown 50")
        with pytest.raises(KillSwitchEngaged):
            await runtime.stack.executors["paper"].submit("BTC", "buy", D("0.002"))

        # The drawdown from the old peak still holds: a plain reset is refused with the numbers.
        with pytest.raises(ControlRefused) as refused:
            await control.reset_kill("checked the venue", actor="ops")
        assert refused.value.kind is ErrorKind.NEEDS_CONFIRMATION
        assert "repeat with force" in str(refused.value)
        assert refused.value.details["limit_pct"] == "10"
        assert D(refused.value.details["drawdown_pct"]) >= 49
        assert runtime.risk.killed
        assert await _audit_rows(migrated_db_url) == []

        result = await control.reset_kill("checked the venue", force=True, actor="ops")
        assert result.forced
        assert result.kill_reason.startswith("drawdown 50")
        assert result.peak_equity == (await runtime.equity()).quantize(D("0.000001"))
        assert not (await control.status()).risk.killed

        # Entries pass the pre-trade gate again, and the strategy opens one.
        assert await runtime.stack.executors["paper"].submit("BTC", "buy", D("0.002"))
        assert runtime.strategy is not None
        await runtime.strategy.execute_strategy()
        await runtime.stack.trackers["paper"].flush()
        assert await runtime.clients["paper"].open_orders()

        [row] = await _audit_rows(migrated_db_url)
        assert (row.actor, row.target) == ("ops", "reset-grid")
        assert row.details["reason"] == "checked the venue"
        assert row.details["forced"] is True
        assert row.details["kill_reason"].startswith("drawdown 50")

        with pytest.raises(ControlRefused) as again:
            await control.reset_kill("twice", force=True)
        assert again.value.kind is ErrorKind.CONFLICT
        assert "not engaged" in str(again.value)
    finally:
        await runtime.shutdown()

    restarted = BotRuntime(load_config(risky_config), RuntimeOptions(str(risky_config)))
    await restarted.start()
    try:
        assert not restarted.risk.killed  # the reset was saved
    finally:
        await restarted.shutdown()


async def test_a_reset_request_without_a_reason_or_with_a_typo_is_refused(
    risky_config: Path,
) -> None:
    runtime = BotRuntime(load_config(risky_config), RuntimeOptions(str(risky_config)))
    await runtime.start()
    try:
        token = new_token()
        app = create_app(RuntimeControl(runtime), hash_token(token))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bot",
            headers={"Authorization": f"Bearer {token}"},
        ) as http:
            missing = await http.post("/api/v1/kill-switch/reset", json={})
            typo = await http.post(
                "/api/v1/kill-switch/reset", json={"reason": "ok then", "forse": True}
            )
            idle = await http.post("/api/v1/kill-switch/reset", json={"reason": "ok then"})
            anonymous = await http.post(
                "/api/v1/kill-switch/reset",
                json={"reason": "ok then"},
                headers={"Authorization": "Bearer nope"},
            )
        assert missing.status_code == 422
        assert missing.json()["problems"] == ["body.reason: Field required"]
        assert typo.status_code == 422
        assert "body.forse: Extra inputs are not permitted" in typo.json()["problems"]
        assert idle.status_code == 409
        assert idle.json()["message"] == (
            "the kill switch is not engaged: there is nothing to reset"
        )
        assert anonymous.status_code == 401
    finally:
        await runtime.shutdown()


def test_a_recovered_drawdown_resets_without_force_and_the_peak_restarts() -> None:
    """Funds added since the kill: the condition no longer holds, no force needed."""
    risk = RiskManager(RiskConfig(max_drawdown_pct=D(10)), SystemClock())
    risk.update_equity(D(1000))
    assert risk.update_equity(D(850)) is not None
    with pytest.raises(KillConditionHolds, match=r"15\.00% from the peak equity 1000\.00 USD"):
        plan_reset(risk, force=False)
    risk.update_equity(D(960))  # a deposit: 4 % below the peak
    plan = plan_reset(risk, force=False)
    assert (plan.forced, plan.drawdown_pct, plan.new_peak) == (False, D("4.00"), D(960))
    risk.reset_kill()
    assert not risk.killed
    assert risk.update_equity(D(870)) is None  # 9.4 % below the new peak: not yet
    assert risk.update_equity(D(864)) is not None  # 10 % below 960


def test_a_reset_of_a_switch_that_is_not_engaged_says_so() -> None:
    risk = RiskManager(RiskConfig(max_drawdown_pct=D(10)), SystemClock())
    with pytest.raises(KillNotEngaged, match="not engaged"):
        plan_reset(risk, force=True)
