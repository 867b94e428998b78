"""Alerts: subscriptions, the fleet watcher (crashes, unexpected restarts, kill switches), and
the functions other components call for fills and atomic failures."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.redaction import Secret
from telegram_bot_service import users
from telegram_bot_service.notifications import (
    Notifier,
    notify_atomic_failure,
    notify_fill,
    standalone_notifier,
)
from telegram_bot_service.roles import Role
from telegram_bot_service.settings import TelegramSettings
from telegram_bot_service.watcher import FleetWatcher
from testing.fakes.telegram_api import FakeTelegramServer
from tests.bot_runtime.control_double import InMemoryBotControl
from tests.telegram_bot_service.conftest import ADMIN, TOKEN, TRADER, VIEWER, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet


async def test_subscribe_and_unsubscribe(start_service: StartService) -> None:
    async with start_service() as harness:
        listing = await harness.say(VIEWER, "/subscribe")
        assert "Your alerts: none" in listing.text
        assert "kill_switch" in listing.text
        answer = await harness.say(VIEWER, "/subscribe kill_switch bot_crash")
        assert answer.text == "Your alerts: bot_crash, kill_switch"
        answer = await harness.say(VIEWER, "/unsubscribe bot_crash")
        assert answer.text == "Your alerts: kill_switch"
        answer = await harness.say(VIEWER, "/subscribe all")
        assert answer.text == "Your alerts: atomic_failures, bot_crash, fills, kill_switch"
        wrong = await harness.say(VIEWER, "/subscribe weather")
        assert "unknown alert kind(s) weather" in wrong.text


async def test_the_watcher_reports_crashes_restarts_and_kill_switches(
    start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    fleet = InMemoryFleet()
    control = InMemoryBotControl(name="grid-a")
    fleet.add_bot("grid-a", control=control)
    fleet.add_bot("grid-b")
    fleet.add_bot("grid-c")
    async with start_service(fleet=fleet) as harness:
        tg = harness.telegram
        await harness.say(VIEWER, "/subscribe bot_crash kill_switch")
        await harness.say(TRADER, "/subscribe fills")  # not these kinds
        watcher = FleetWatcher(
            fleet, Notifier(harness.app.bot, sessions), sessions, harness.services.expected
        )
        await watcher.poll_once()  # the baseline: nothing to report
        mark = tg.mark()

        fleet.set_state("grid-b", "BACKOFF")  # died, supervisord retrying
        old_pid = fleet.bots["grid-c"].info.pid
        fleet.set_state("grid-c", "RUNNING", new_pid=True)  # restarted behind our back
        new_pid = fleet.bots["grid-c"].info.pid
        control.killed = True
        await watcher.poll_once()
        assert sorted(call.text for call in tg.sent(after=mark)) == [
            "Bot grid-b left RUNNING unexpectedly: now BACKOFF.",
            f"Bot grid-c was restarted unexpectedly (pid {old_pid} -> {new_pid}).",
            "Kill switch tripped on grid-a: it stopped trading (see /status grid-a).",
        ]
        assert {call.chat_id for call in tg.sent(after=mark)} == {VIEWER}

        # Reported once, not on every look.
        mark = tg.mark()
        await watcher.poll_once()
        assert tg.sent(after=mark) == []

        # A restart or stop asked for through the service is not a crash.
        fleet.set_state("grid-b", "RUNNING")
        await watcher.poll_once()
        mark = tg.mark()
        harness.services.expected.expect("grid-b")
        fleet.set_state("grid-b", "RUNNING", new_pid=True)
        fleet.set_state("grid-c", "STOPPED")  # stopped from the CLI: not a crash either
        await watcher.poll_once()
        assert tg.sent(after=mark) == []


async def test_fills_and_atomic_failures_reach_their_subscribers(
    start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with start_service() as harness:
        tg = harness.telegram
        await harness.say(TRADER, "/subscribe fills")
        await harness.say(ADMIN, "/subscribe atomic_failures")
        await harness.say(VIEWER, "/start")
        notifier = Notifier(harness.app.bot, sessions)
        mark = tg.mark()
        delivered = await notify_fill(
            notifier,
            "grid-a",
            venue="paper",
            symbol="BTC",
            side="buy",
            size=Decimal("0.0015"),
            price=Decimal("66229.5"),
            fee=Decimal("0.0447"),
        )
        assert delivered == 1
        [fill] = tg.sent(after=mark)
        assert fill.chat_id == TRADER
        assert fill.text == "Fill on grid-a: BUY 0.0015 BTC @ 66,229.5 on paper, fee 0.04 USD"

        mark = tg.mark()
        delivered = await notify_atomic_failure(
            notifier,
            "arb-1",
            operation_id="op-42",
            status="failed",
            detail="0.01 BTC left on paper_b",
        )
        assert delivered == 1
        [alert] = tg.sent(after=mark)
        assert alert.chat_id == ADMIN
        assert (
            alert.text == "Atomic operation op-42 of arb-1 ended failed: 0.01 BTC left on paper_b"
        )


async def test_an_unreachable_subscriber_does_not_stop_the_others(
    start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        await users.add_user(session, 4242, Role.VIEWER, "never wrote")  # no chat with the bot
        await users.subscribe(session, 4242, ["kill_switch"])
    async with start_service() as harness:
        await harness.say(VIEWER, "/subscribe kill_switch")
        mark = harness.telegram.mark()
        delivered = await Notifier(harness.app.bot, sessions).notify("kill_switch", "test alert")
        assert delivered == 1
        failed = [c for c in harness.telegram.calls[mark:] if c.error]
        assert [(c.chat_id, c.error) for c in failed] == [(4242, "Bad Request: chat not found")]


async def test_another_process_can_send_alerts(
    telegram: FakeTelegramServer, migrated_db_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """What a bot process would do: build its own notifier from the token and the database."""
    async with sessions() as session, session.begin():
        await users.subscribe(session, TRADER, ["fills"])
    telegram.private_chat(TRADER)  # the trader has talked to the bot before
    settings = TelegramSettings(token=Secret(TOKEN), api_base_url=telegram.root_url)
    async with standalone_notifier(settings, migrated_db_url) as notifier:
        delivered = await notify_fill(
            notifier,
            "grid-a",
            venue="paper",
            symbol="ETH",
            side="sell",
            size=Decimal(2),
            price=Decimal("2856.95"),
        )
    assert delivered == 1
    [sent] = telegram.sent(TRADER)
    assert sent.text == "Fill on grid-a: SELL 2 ETH @ 2,856.95 on paper"
