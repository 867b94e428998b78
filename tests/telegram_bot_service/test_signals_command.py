"""/signals through the real PTB stack and the fake Bot API, reading the signals tables a
signal-portfolio bot wrote (rows written here through the same repository)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from database.models import SignalTrade
from database.repositories.signals import Evaluation, add_signals, close_trade, open_trade
from telegram_bot_service.roles import Role, required_role
from tests.telegram_bot_service.conftest import VIEWER, Harness, StartService

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def _record(harness: Harness) -> None:
    def evaluation(
        minutes: int,
        strategy: str,
        direction: str | None,
        acted: bool,
        reason: str | None,
        bot: str = "sig-a",
    ) -> Evaluation:
        return Evaluation(
            bot,
            strategy,
            "BTC",
            "paper",
            T0 + timedelta(minutes=minutes),
            acted,
            reason,
            direction=direction,
            confidence=D("0.83") if direction else None,
            entry_price=D("60000") if direction else None,
        )

    async with harness.sessions.begin() as session:
        ids = await add_signals(
            session,
            [
                evaluation(0, "funding_rate", "SHORT", True, None),
                evaluation(0, "rsi_mean_reversion", None, False, "no signal"),
                evaluation(
                    1, "funding_carry", "SHORT", False, "BTC already SHORT (opened by funding_rate)"
                ),
                evaluation(
                    2,
                    "contrarian_pure",
                    "LONG",
                    False,
                    "confidence 0.40 below min_confidence 0.5",
                    bot="sig-b",
                ),
            ],
        )
        won = await open_trade(session, _trade("funding_rate", ids[0]))
        await close_trade(
            session, won, exit_price=D(59000), reason="take_profit", realized=D("9.5"), ts=T0
        )
        await open_trade(session, _trade("funding_rate", ids[0], unrealized=D("-1.25")))


def _trade(strategy: str, signal_id: int, unrealized: D | None = None) -> SignalTrade:
    return SignalTrade(
        bot="sig-a",
        strategy=strategy,
        asset="BTC",
        venue="paper",
        direction="SHORT",
        size=D("0.01"),
        entry_price=D(60000),
        stop_price=D(61200),
        take_profit_price=D(57600),
        entry_fee=D("0.3"),
        opened_at=T0,
        signal_id=signal_id,
        status="open",
        unrealized_pnl=unrealized,
    )


async def test_signals_lists_the_latest_with_why_and_each_strategys_record(
    start_service: StartService,
) -> None:
    assert required_role("signals") is Role.VIEWER
    async with start_service() as harness:
        empty = await harness.say(VIEWER, "/signals sig-a")
        assert empty.text == "No signals of sig-a recorded yet."
        await _record(harness)
        answer = await harness.say(VIEWER, "/signals sig-a")
        lines = answer.text.splitlines()
        assert lines[0] == "Latest signals of sig-a, newest first"
        assert lines[2].split() == [
            "11-20",
            "10:01",
            "funding_carry",
            "BTC",
            "SHORT",
            "0.83",
            "no:",
            "BTC",
            "already",
            "SHORT",
            "(opened",
            "by",
            "funding_rate)",
        ]
        assert lines[3].split() == ["11-20", "10:00", "funding_rate", "BTC", "SHORT", "0.83", "yes"]
        listing, _ = answer.text.split("\n\n", 1)
        assert "rsi_mean_reversion" not in listing  # a pass: counted, not listed
        stats = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("funding_")}
        assert stats["funding_rate"] == ["1", "1", "2", "100%", "+9.50", "-1.25"]
        assert stats["funding_carry"] == ["1", "0", "0", "-", "0.00", "0.00"]
        everyone = await harness.say(VIEWER, "/signals 2")
        assert "sig-b" in everyone.text
        assert "confidence 0.40 below min_confidence 0.5" in everyone.text
        assert "10:00" not in everyone.text  # only the newest two
        wrong = await harness.say(VIEWER, "/signals sig-a lots")
        assert "'lots': expected how many signals, 1 to 50" in wrong.text
