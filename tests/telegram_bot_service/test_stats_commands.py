"""/stats, /trades and /daily through the real PTB stack, the fake Bot API, the real control API
app and the fleet's HTTP client; the bot's numbers computed by analytics from a book worked
out by hand:

* 2026-11-20 10:00 buy 0.1 BTC @ 100 (fee 0.01), 12:00 sell 0.1 @ 110 (fee 0.011): long,
  gross +1.00, fees 0.021, net +0.979, held 2 h;
* 2026-11-21 09:00 sell 0.2 ETH @ 50 (fee 0.01), 09:30 buy 0.2 @ 55 (fee 0.01): short, gross
  -1.00, fees 0.02, net -1.02, held 30 min; funding -0.05 on ETH at 09:15;
* equity 1000 (11-20 00:00), 1001 (11-21 00:00), 999.5 (11-22 00:00).

So: net 0 - 0.041 - 0.05 = -0.091; 1 won, 1 lost; profit factor 0.979 / 1.02 = 0.96;
expectancy -0.0205; average hold 1 h 15 min; return -0.05 %; drawdown 1.5 (0.15 %) for 1 day,
not recovered; exposure 2.5 h of 48 h = 5.21 %; turnover 42.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from analytics.records import EquityPoint, FillRecord, FundingRecord
from telegram_bot_service.roles import Role, required_role
from tests.bot_runtime.control_double import InMemoryBotControl
from tests.telegram_bot_service.conftest import STRANGER, VIEWER, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet

DAY1 = datetime(2026, 11, 20, tzinfo=UTC)


def at(hours: float) -> datetime:
    return DAY1 + timedelta(hours=hours)


def _fleet() -> InMemoryFleet:
    control = InMemoryBotControl(
        name="grid-a",
        fills_=[
            FillRecord(at(10), "paper", "BTC", "buy", D("100"), D("0.1"), D("0.01")),
            FillRecord(at(12), "paper", "BTC", "sell", D("110"), D("0.1"), D("0.011")),
            FillRecord(at(33), "paper", "ETH", "sell", D("50"), D("0.2"), D("0.01")),
            FillRecord(at(33.5), "paper", "ETH", "buy", D("55"), D("0.2"), D("0.01")),
        ],
        funding_=[FundingRecord(at(33.25), "paper", "ETH", D("-0.05"))],
        equity_=[
            EquityPoint(at(0), D("1000")),
            EquityPoint(at(24), D("1001")),
            EquityPoint(at(48), D("999.5")),
        ],
    )
    fleet = InMemoryFleet()
    fleet.add_bot("grid-a", control=control)
    fleet.add_bot("grid-idle")
    fleet.add_bot("grid-b", state="STOPPED")
    return fleet


def _value(text: str, label: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith(label))
    return line[len(label) :].strip()


async def test_stats(start_service: StartService) -> None:
    async with start_service(fleet=_fleet()) as harness:
        answer = await harness.say(VIEWER, "/stats grid-a")
        text = answer.text
        assert text.startswith("Stats of grid-a since 2026-11-20 00:00 UTC")
        assert _value(text, "Net PnL") == "-0.09"
        assert _value(text, "  trading") == "0.00"
        assert _value(text, "  fees paid") == "0.04"
        assert _value(text, "  funding") == "-0.05"
        assert _value(text, "Equity") == "1,000.00 -> 999.50"
        assert _value(text, "Return") == "-0.05%"
        assert _value(text, "Trades") == "2 (1 won, 1 lost)"
        assert _value(text, "Win rate") == "50.00%"
        assert _value(text, "Profit factor") == "0.96"
        assert _value(text, "Expectancy") == "-0.02"
        assert _value(text, "Average hold") == "1h 15m"
        assert _value(text, "Max drawdown") == "1.50 (0.15%)"
        assert _value(text, "Longest drawdown") == "1d 0h, not recovered"
        assert _value(text, "Exposure") == "5.21%"
        assert _value(text, "Turnover") == "42.00 (0.04x equity)"
        assert _value(text, "Fills") == "4"
        assert float(_value(text, "Sharpe")) < 0  # the curve ends below its start
        symbols = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line}
        assert symbols["BTC"][:4] == ["+0.98", "0.02", "0.00", "1"]
        assert symbols["ETH"][:4] == ["-1.07", "0.02", "-0.05", "1"]
        assert "annualised x sqrt(365 days / 1 day)" in text


async def test_stats_of_a_bot_without_trades_says_why(start_service: StartService) -> None:
    async with start_service(fleet=_fleet()) as harness:
        text = (await harness.say(VIEWER, "/stats grid-idle")).text
        assert _value(text, "Win rate") == "-  (no closed trades)"
        assert _value(text, "Return") == "-  (fewer than two equity points)"
        assert _value(text, "Trades") == "0 (0 won, 0 lost)"


async def test_trades_pages(start_service: StartService) -> None:
    async with start_service(fleet=_fleet()) as harness:
        text = (await harness.say(VIEWER, "/trades grid-a")).text
        assert text.startswith("Trades of grid-a, newest first: page 1/1 (2 closed)")
        rows = [line.split() for line in text.splitlines() if line.startswith("11-")]
        assert rows == [
            ["11-21", "09:30", "paper", "ETH", "short", "0.2", "50", "55", "-1.02", "30m", "00s"],
            ["11-20", "12:00", "paper", "BTC", "long", "0.1", "100", "110", "+0.98", "2h", "00m"],
        ]
        beyond = await harness.say(VIEWER, "/trades grid-a 2")
        assert beyond.text == "grid-a has 2 closed trades on 1 pages: there is no page 2."
        bad = await harness.say(VIEWER, "/trades grid-a two")
        assert "page 'two': expected a whole number from 1" in bad.text
        none = await harness.say(VIEWER, "/trades grid-idle")
        assert none.text == "grid-idle has no closed trades yet."
        usage = await harness.say(VIEWER, "/trades")
        assert "Usage: /trades BOT [PAGE]" in usage.text
        stopped = await harness.say(VIEWER, "/trades grid-b")
        assert "grid-b is not running" in stopped.text


async def test_daily(start_service: StartService) -> None:
    async with start_service(fleet=_fleet()) as harness:
        text = (await harness.say(VIEWER, "/daily grid-a")).text
        assert text.startswith("Daily PnL of grid-a (USD)")
        rows = [line.split() for line in text.splitlines() if line.startswith("2026-")]
        assert rows == [
            ["2026-11-20", "+0.98", "+1.00", "0.02", "0.00", "1", "2"],
            ["2026-11-21", "-1.07", "-1.00", "0.02", "-0.05", "1", "2"],
        ]
        idle = await harness.say(VIEWER, "/daily grid-idle")
        assert idle.text == "grid-idle has no fills or funding yet: no daily PnL."
        assert "Usage: /daily BOT" in (await harness.say(VIEWER, "/daily")).text


async def test_viewers_may_read_them_strangers_may_not(start_service: StartService) -> None:
    assert [required_role(c) for c in ("stats", "trades", "daily")] == [Role.VIEWER] * 3
    async with start_service(fleet=_fleet()) as harness:
        refused = await harness.say(STRANGER, "/stats grid-a")
        assert "not on its list of users" in refused.text
        assert "Net PnL" not in refused.text
