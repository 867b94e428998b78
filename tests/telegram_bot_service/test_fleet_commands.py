"""The fleet-driven commands against an in-memory fleet whose bots answer through the real
control API app (see fleet_double.py): tables, confirmations, actions, audit rows.

The same flows against the real ``fleet.manager.FleetManager`` (supervisord, paper bots) are
in test_fleet_manager.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot_runtime.control import ControlError, NeedsConfirmation
from bot_runtime.control_models import CloseMode, CloseResult
from testing.fakes.telegram_api import message_of
from tests.bot_runtime.control_double import InMemoryBotControl
from tests.telegram_bot_service.conftest import ADMIN, TRADER, VIEWER, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet


def _fleet() -> InMemoryFleet:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a")
    fleet.add_bot("grid-b", state="STOPPED")
    return fleet


async def test_bots_table(start_service: StartService) -> None:
    async with start_service(fleet=_fleet()) as harness:
        table = await harness.say(VIEWER, "/bots")
        assert table.params["parse_mode"] == "HTML"
        lines = table.text.splitlines()
        assert lines[0] == "Bots: 2, 1 running"
        assert lines[1].split() == ["BOT", "STATE", "UPTIME", "PNL", "USD"]
        # realized 12.5 (after its fees) + unrealized (0.115 + 1.875) + funding -0.0375 = 14.4525
        assert lines[2].split() == ["grid-a", "RUNNING", "1h", "02m", "+14.45"]
        assert lines[3].split() == ["grid-b", "STOPPED", "-", "-"]
        assert table.params.get("reply_markup") is None


async def test_bots_table_is_paginated_with_buttons(start_service: StartService) -> None:
    fleet = InMemoryFleet()
    for index in range(25):
        fleet.add_bot(f"bot-{index:02d}", state="STOPPED")
    async with start_service(fleet=fleet, bots_page_size=10) as harness:
        first = await harness.say(VIEWER, "/bots")
        assert "page 1/3" in first.text
        assert "bot-00" in first.text
        assert "bot-09" in first.text
        assert "bot-10" not in first.text
        message = message_of(first)
        assert [label for label, _ in harness.telegram.buttons(message)] == ["Next ▶"]

        second = await harness.press(VIEWER, message, "Next")
        assert second.method == "editMessageText"
        assert second.params["message_id"] == message["message_id"]
        assert "page 2/3" in second.text
        assert "bot-10" in second.text
        assert "bot-00" not in second.text
        labels = [label for label, _ in harness.telegram.buttons(message)]
        assert labels == ["◀ Prev", "Next ▶"]

        third = await harness.press(VIEWER, message, "Next")
        assert "page 3/3" in third.text
        assert "bot-24" in third.text
        assert [label for label, _ in harness.telegram.buttons(message)] == ["◀ Prev"]
        back = await harness.press(VIEWER, message, "Prev")
        assert "page 2/3" in back.text
        # Every pressed button was answered (the client's spinner stops).
        assert len(harness.telegram.calls_of("answerCallbackQuery")) == 3


async def test_a_long_table_is_split_into_messages_under_the_limit(
    start_service: StartService,
) -> None:
    fleet = InMemoryFleet()
    bot = fleet.add_bot("chatty")
    bot.log_lines = [f"2026-11-21T08:00:{i % 60:02d}Z line {i} " + "x" * 80 for i in range(300)]
    async with start_service(fleet=fleet) as harness:
        mark = harness.telegram.mark()
        await harness.telegram.send_text(VIEWER, "/logs chatty 300")
        last = await harness.telegram.reply_to(VIEWER, after=mark, contains="line 299")
        pages = harness.telegram.sent(VIEWER, after=mark)
        assert len(pages) > 1
        assert pages[-1] is last
        assert all(len(page.text) <= 4096 for page in pages)
        assert "(1/" in pages[0].text
        text = "".join(page.text for page in pages)
        assert all(f"line {i} " in text for i in range(300))


async def test_status_positions_balances_orders(start_service: StartService) -> None:
    async with start_service(fleet=_fleet()) as harness:
        status = await harness.say(VIEWER, "/status grid-a")
        assert "grid-a: RUNNING" in status.text
        assert "equity: 1,001.99 USD" in status.text  # 1000.00 + 0.115 + 1.875
        assert "PnL net: +14.45 USD" in status.text  # fees 1.2 are inside realized already
        assert "fees 1.20)" in status.text

        positions = await harness.say(VIEWER, "/positions")
        assert "pos-btc" in positions.text
        assert "pos-eth" in positions.text
        assert "3,000.5" in positions.text  # a price keeps its digits, with separators

        balances = await harness.say(VIEWER, "/balances grid-a")
        assert "1,000.00" in balances.text
        assert "1,001.99" in balances.text

        orders = await harness.say(VIEWER, "/orders grid-a")
        assert "grid-0001" in orders.text
        assert "take_profit" not in orders.text
        assert "99.9" in orders.text

        usage = await harness.say(VIEWER, "/orders")
        assert "Usage: /orders BOT" in usage.text
        assert "grid-a" in usage.text
        unknown = await harness.say(VIEWER, "/status nope")
        assert "unknown bot 'nope'" in unknown.text
        stopped = await harness.say(VIEWER, "/orders grid-b")
        assert "grid-b is not running" in stopped.text


async def test_pause_and_resume(start_service: StartService) -> None:
    fleet = _fleet()
    async with start_service(fleet=fleet) as harness:
        paused = await harness.say(TRADER, "/pause grid-a")
        assert paused.text.startswith("grid-a is paused")
        assert fleet.bots["grid-a"].control.paused
        resumed = await harness.say(TRADER, "/resume grid-a")
        assert resumed.text.startswith("grid-a is running")
        assert not fleet.bots["grid-a"].control.paused
        actions = [row.action for row in await harness.audit_rows()]
        assert actions == ["telegram.bot.pause", "telegram.bot.resume"]


async def test_close_a_position_with_confirmation(start_service: StartService) -> None:
    fleet = _fleet()
    control = fleet.bots["grid-a"].control
    async with start_service(fleet=fleet) as harness:
        ask = await harness.say(TRADER, "/close grid-a pos-btc")
        assert "Close long 0.1 pos-btc on grid-a" in ask.text
        done = await harness.press(TRADER, message_of(ask), "Close at market")
        assert done.text.startswith("Closed pos-btc on grid-a (market)")
        assert control.closed == [("pos-btc", "market")]

        # pos-eth has a wide spread: the bot asks for confirmation, so does the service.
        ask = await harness.say(TRADER, "/close grid-a pos-eth")
        wide = await harness.press(TRADER, message_of(ask), "Close with limit orders")
        assert "spread" in wide.text
        assert "Close pos-eth anyway?" in wide.text
        assert control.closed == [("pos-btc", "market")]
        done = await harness.press(TRADER, message_of(ask), "Close anyway")
        assert done.text.startswith("Closed pos-eth on grid-a (limit)")
        assert control.closed[-1] == ("pos-eth", "limit")

        [first, second] = await harness.audit_rows("telegram.position.close")
        assert first.target == "grid-a/pos-btc"
        assert first.details["mode"] == "market"
        assert second.details == {"mode": "limit", "confirmed_wide_spread": True}

        missing = await harness.say(TRADER, "/close grid-a pos-doge")
        assert "no open position pos-doge" in missing.text


async def test_a_confirmation_cannot_be_used_twice_or_by_someone_else(
    start_service: StartService,
) -> None:
    fleet = _fleet()
    async with start_service(fleet=fleet) as harness:
        tg = harness.telegram
        ask = await harness.say(TRADER, "/restart grid-a")
        message = message_of(ask)
        data = tg.button_data(message, "Confirm restart")
        # Another (admin) user pressing the trader's button is refused.
        mark = tg.mark()
        await tg.press(ADMIN, message, data)
        answer = await tg.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        assert answer.params["text"] == "These buttons belong to someone else."
        assert fleet.actions == []

        done = await harness.press(TRADER, message, "Confirm restart", contains="Restarted")
        assert "grid-a is RUNNING" in done.text
        mark = tg.mark()
        await tg.press(TRADER, message, data)  # a second tap on the old button
        answer = await tg.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)
        assert "expired" in answer.params["text"]
        assert fleet.actions == [("restart", "grid-a")]


async def test_stop_asks_keep_or_close_then_confirms(start_service: StartService) -> None:
    fleet = _fleet()
    async with start_service(fleet=fleet) as harness:
        ask = await harness.say(TRADER, "/stop grid-a")
        message = message_of(ask)
        labels = [label for label, _ in harness.telegram.buttons(message)]
        assert labels == ["Stop, keep positions", "Close positions, then stop", "Cancel"]
        confirm = await harness.press(TRADER, message, "Close positions, then stop")
        assert "closing its positions first" in confirm.text
        assert fleet.actions == []
        done = await harness.press(TRADER, message, "Confirm stop", contains="Stopped")
        assert "grid-a is STOPPED" in done.text
        assert fleet.actions == [("stop", "grid-a", "True")]
        assert fleet.bots["grid-a"].control.positions_ == []
        assert harness.services.expected.is_expected("grid-a")
        [row] = await harness.audit_rows("telegram.bot.stop")
        assert row.details == {"close_positions": True}

        ask = await harness.say(TRADER, "/stop grid-b")
        cancelled = await harness.press(TRADER, message_of(ask), "Cancel")
        assert cancelled.text == "Cancelled."
        assert fleet.actions == [("stop", "grid-a", "True")]


async def test_launch_picks_config_and_account(
    start_service: StartService, master_key: str
) -> None:
    fleet = InMemoryFleet()
    async with start_service(fleet=fleet) as harness:
        await harness.say(ADMIN, "/add_account")
        await harness.say(ADMIN, "sim")
        await harness.say(ADMIN, "paper")

        ask = await harness.say(TRADER, "/launch")
        message = message_of(ask)
        assert [label for label, _ in harness.telegram.buttons(message)] == [
            "paper_grid.yml",
            "Cancel",
        ]
        accounts = await harness.press(TRADER, message, "paper_grid.yml")
        assert "Which account?" in accounts.text
        labels = [label for label, _ in harness.telegram.buttons(message)]
        assert labels == ["sim", "No account (paper venues)", "Cancel"]
        confirm = await harness.press(TRADER, message, "No account")
        assert "Launch paper_grid.yml with account none (paper)?" in confirm.text
        done = await harness.press(TRADER, message, "Launch", contains="Launched")
        assert "grid-btc-paper is RUNNING" in done.text
        config = str(harness.services.configs_dir / "paper_grid.yml")
        assert fleet.actions == [("launch", config, "None")]
        [row] = await harness.audit_rows("telegram.bot.launch")
        assert row.target == "grid-btc-paper"
        assert row.details["account"] is None


async def test_killall_stops_every_running_bot_closing_positions(
    start_service: StartService,
) -> None:
    fleet = _fleet()
    fleet.add_bot("arb-c")
    async with start_service(fleet=fleet) as harness:
        ask = await harness.say(ADMIN, "/killall")
        assert "Stop ALL 2 running bots" in ask.text
        done = await harness.press(ADMIN, message_of(ask), "Stop all", contains="Kill all")
        assert "✅ arb-c: STOPPED" in done.text
        assert "✅ grid-a: STOPPED" in done.text
        assert sorted(fleet.actions) == [("stop", "arb-c", "True"), ("stop", "grid-a", "True")]
        assert not any(bot.info.running for bot in fleet.bots.values())
        nothing = await harness.say(ADMIN, "/killall")
        assert nothing.text == "No bot is running."


async def test_pnl_without_history_says_so(start_service: StartService) -> None:
    async with start_service(fleet=_fleet()) as harness:
        tg = harness.telegram
        mark = tg.mark()
        await tg.send_text(VIEWER, "/pnl grid-a")
        note = await tg.reply_to(VIEWER, after=mark, contains="No equity history")
        [numbers] = [c for c in tg.sent(VIEWER, after=mark) if c is not note]
        assert "+14.45" in numbers.text
        assert "live" in numbers.text
        assert tg.calls_of("sendPhoto") == []
        assert Decimal("14.4525").quantize(Decimal("0.01")) == Decimal("14.45")


@dataclass
class WordedControl(InMemoryBotControl):
    """A bot whose refusals are worded otherwise: the service must go by the error kind."""

    async def close_position(self, position_id: str, mode: CloseMode, confirm: bool) -> CloseResult:
        if position_id == "pos-eth" and not confirm:
            raise NeedsConfirmation("el diferencial es amplio")  # no "confirm=true" in it
        if position_id == "pos-btc":
            raise ControlError("refused; confirm=true would not help")  # the wording misleads
        return await super().close_position(position_id, mode, confirm)


async def test_close_asks_again_by_the_error_kind_not_its_wording(
    start_service: StartService,
) -> None:
    fleet = InMemoryFleet()
    control = WordedControl(name="grid-a")
    fleet.add_bot("grid-a", control=control)
    async with start_service(fleet=fleet) as harness:
        ask = await harness.say(TRADER, "/close grid-a pos-eth")
        wide = await harness.press(TRADER, message_of(ask), "Close at market")
        assert "el diferencial es amplio" in wide.text
        done = await harness.press(TRADER, message_of(ask), "Close anyway")
        assert done.text.startswith("Closed pos-eth on grid-a (market)")

        ask = await harness.say(TRADER, "/close grid-a pos-btc")
        refused = await harness.press(TRADER, message_of(ask), "Close at market")
        assert "confirm=true would not help" in refused.text
        assert "anyway" not in refused.text
        assert control.closed == [("pos-eth", "market")]
