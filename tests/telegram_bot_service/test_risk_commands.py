"""/reset_kill (admins, confirmed with buttons) and /guard, and the watcher's guard alert:
the real Telegram stack against the fake Bot API, bots behind the real control API app."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fleet.guard import EquityBook, GuardState, Trip, save_state
from telegram_bot_service.notifications import Notifier
from telegram_bot_service.watcher import FleetWatcher
from testing.fakes.telegram_api import message_of
from tests.bot_runtime.control_double import InMemoryBotControl
from tests.telegram_bot_service.conftest import ADMIN, TRADER, VIEWER, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet

D = Decimal


def _killed_fleet(*, drawdown_holds: bool = False, state: str = "RUNNING") -> InMemoryFleet:
    fleet = InMemoryFleet()
    control = InMemoryBotControl(name="grid-a", killed=True, drawdown_holds=drawdown_holds)
    fleet.add_bot("grid-a", control=control, state=state)
    return fleet


async def test_an_admin_clears_a_kill_switch_after_confirming(start_service: StartService) -> None:
    fleet = _killed_fleet()
    async with start_service(fleet=fleet) as harness:
        ask = await harness.say(ADMIN, "/reset_kill grid-a venue checked by Ada")
        assert "Clear the kill switch of grid-a? It may open positions again." in ask.text
        assert "Reason: venue checked by Ada" in ask.text
        assert fleet.actions == []  # nothing happens before the button
        done = await harness.press(ADMIN, message_of(ask), "Clear the kill switch")
        assert done.text.startswith("✅ Kill switch of grid-a cleared: it may open positions")
        assert "Drawdown is measured from 1,000.00 USD now." in done.text
        [request] = fleet.bots["grid-a"].control.resets
        assert (request.reason, request.force) == ("venue checked by Ada", False)
        assert request.actor is not None
        assert "1001" in request.actor
        [row] = await harness.audit_rows("telegram.bot.reset_kill")
        assert (row.target, row.details) == (
            "grid-a",
            {"reason": "venue checked by Ada", "forced": False},
        )
        again = await harness.say(ADMIN, "/reset_kill grid-a once more")
        assert again.text == "grid-a's kill switch is not engaged: nothing to reset."


async def test_while_the_drawdown_holds_it_asks_again_with_the_numbers(
    start_service: StartService,
) -> None:
    fleet = _killed_fleet(drawdown_holds=True)
    async with start_service(fleet=fleet) as harness:
        ask = await harness.say(ADMIN, "/reset_kill grid-a loss accepted")
        second = await harness.press(ADMIN, message_of(ask), "Clear the kill switch")
        assert "still holds: 12.50% from the peak equity" in second.text
        assert "Clear the kill switch of grid-a anyway?" in second.text
        assert fleet.bots["grid-a"].control.killed
        done = await harness.press(ADMIN, message_of(second), "Clear anyway")
        assert "cleared (forced)" in done.text
        [request] = fleet.bots["grid-a"].control.resets
        assert request.force


async def test_a_stopped_bot_is_reset_through_the_fleet(start_service: StartService) -> None:
    fleet = _killed_fleet(state="STOPPED")
    async with start_service(fleet=fleet) as harness:
        ask = await harness.say(ADMIN, "/reset_kill grid-a restarting after review")
        done = await harness.press(ADMIN, message_of(ask), "Clear the kill switch")
        assert "cleared" in done.text
        assert fleet.actions == [("reset_kill", "grid-a", "False")]


async def test_reset_kill_is_for_admins_and_needs_a_reason(start_service: StartService) -> None:
    fleet = _killed_fleet()
    async with start_service(fleet=fleet) as harness:
        refused = await harness.say(TRADER, "/reset_kill grid-a please")
        assert refused.text == "/reset_kill needs the admin role; you are a trader."
        usage = await harness.say(ADMIN, "/reset_kill grid-a")
        assert usage.text.startswith("Usage: /reset_kill BOT REASON")
        bad = await harness.say(ADMIN, "/reset_kill Grid!A because")
        assert "there is no bot named" in bad.text
        assert fleet.bots["grid-a"].control.killed
        help_text = (await harness.say(ADMIN, "/help")).text
        assert "/reset_kill BOT REASON" in help_text
        assert "/reset_kill" not in (await harness.say(TRADER, "/help")).text


async def _trip(sessions: async_sessionmaker[AsyncSession]) -> GuardState:
    equity = D("9870")
    state = GuardState(
        accounts={"paper/paper:grid-a": EquityBook(equity, D(10000), _today(), D(10000))},
        total=EquityBook(equity, D(10000), _today(), D(10000)),
        tripped=Trip(
            _now(),
            "account paper/paper:grid-a: daily loss 130.00 USD (from 10000.00 to 9870.00 USD) "
            "reached the 50 USD limit",
            "pause",
        ),
        checked_at=_now(),
        bots={"grid-a": "paused"},
        settings="action pause, every 30 s; limits: total none; per account daily loss 50 USD",
    )
    async with sessions.begin() as session:
        await save_state(session, state)
    return state


def _now() -> datetime:
    return datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _today() -> date:
    return _now().date()


async def test_guard_shows_the_guard_and_the_watcher_alerts_its_trip_once(
    start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    async with start_service(fleet=fleet) as harness:
        nothing = await harness.say(VIEWER, "/guard")
        assert "fleet guard: no look yet" in nothing.text
        await harness.say(VIEWER, "/subscribe kill_switch")
        watcher = FleetWatcher(
            fleet, Notifier(harness.app.bot, sessions), sessions, harness.services.expected
        )
        await watcher.poll_once()  # baseline
        await _trip(sessions)
        mark = harness.telegram.mark()
        await watcher.poll_once()
        [alert] = harness.telegram.sent(after=mark)
        assert alert.chat_id == VIEWER
        assert alert.text.startswith("Fleet guard tripped (pause): account paper/paper:grid-a")
        mark = harness.telegram.mark()
        await watcher.poll_once()
        assert harness.telegram.sent(after=mark) == []  # once

        shown = await harness.say(VIEWER, "/guard")
        assert "fleet guard: TRIPPED at 2026-12-03 12:00:00 UTC (pause)" in shown.text
        assert "paper/paper:grid-a: equity 9870.00 USD, drawdown 1.30%" in shown.text
        assert "bot grid-a: paused" in shown.text


async def test_status_says_how_a_tripped_kill_switch_is_cleared(
    start_service: StartService,
) -> None:
    async with start_service(fleet=_killed_fleet()) as harness:
        shown = await harness.say(VIEWER, "/status grid-a")
        assert (
            "⚠️ kill switch tripped: no new entries; an admin clears it with "
            "/reset_kill grid-a REASON" in shown.text
        )
