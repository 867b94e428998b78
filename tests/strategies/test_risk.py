"""The risk manager: every rule with hand-checked numbers, rule order, pauses, kill switch,
persistence and fractional Kelly, plus a property: a resized entry never breaks a cap."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from core.clock import ManualClock
from core.logging_setup import configure_logging
from strategies.risk import (
    MIN_KELLY_TRADES,
    EntryProposal,
    KillSwitch,
    PortfolioSnapshot,
    RiskDecision,
    RiskManager,
    RiskVerdict,
)
from trading_config.schema import RiskConfig

D = Decimal
NOON = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
NEXT_MIDNIGHT = datetime(2024, 3, 6, 0, 0, tzinfo=UTC)


def manager(clock: ManualClock | None = None, **limits: Any) -> RiskManager:
    return RiskManager(RiskConfig(**limits), clock or ManualClock(NOON), bot="test-bot")


def entry(opens_position: bool = True, **notional: str) -> EntryProposal:
    return EntryProposal(
        strategy="grid",
        symbol="BTC",
        notional_by_venue={venue: D(amount) for venue, amount in notional.items()},
        opens_position=opens_position,
    )


def book(open_positions: int = 0, equity: str = "10000", **exposure: str) -> PortfolioSnapshot:
    return PortfolioSnapshot(
        equity=D(equity),
        exposure_by_venue={venue: D(amount) for venue, amount in exposure.items()},
        open_positions=open_positions,
    )


def check(
    risk: RiskManager, proposal: EntryProposal, portfolio: PortfolioSnapshot | None = None
) -> RiskDecision:
    return risk.evaluate_entry(proposal, portfolio or book())


def roundtrip(state: dict[str, Any]) -> Any:
    return json.loads(json.dumps(state, default=str))


# ---------------------------------------------------------------------------- value types


def test_proposal_notional_is_the_sum_over_venues() -> None:
    assert entry(A="200.5", B="99.5").notional == D(300)


@pytest.mark.parametrize(
    "notional",
    [{}, {"A": D(-1)}, {"A": D(0)}, {"A": D("NaN")}, {"A": D(10), "B": D(-1)}],
)
def test_proposal_refuses_empty_negative_or_zero_notional(notional: dict[str, Decimal]) -> None:
    with pytest.raises(ValueError, match="notional"):
        EntryProposal(strategy="grid", symbol="BTC", notional_by_venue=notional)


def test_decision_allowed_only_for_allow_and_resize() -> None:
    allowed = {v for v in RiskVerdict if RiskDecision(v, "", D(0)).allowed}
    assert allowed == {RiskVerdict.ALLOW, RiskVerdict.RESIZE}


def test_no_limits_allows_everything_in_full() -> None:
    decision = check(manager(), entry(A="1000000"), book(open_positions=500, A="9999999"))
    assert decision.verdict is RiskVerdict.ALLOW
    assert decision.allowed_notional == D(1000000)
    assert decision.reason == "within all risk limits"


# ---------------------------------------------------------------------------- rule 4: positions


def test_max_open_positions_rejects_a_new_position_at_the_limit() -> None:
    risk = manager(max_open_positions=3)
    assert check(risk, entry(A="100"), book(open_positions=2)).verdict is RiskVerdict.ALLOW
    decision = check(risk, entry(A="100"), book(open_positions=3))
    assert decision.verdict is RiskVerdict.REJECT
    assert decision.allowed_notional == 0
    assert decision.reason == "3 positions open already, the limit is 3"


def test_adding_to_an_open_position_does_not_count_as_a_new_one() -> None:
    risk = manager(max_open_positions=3)
    decision = check(risk, entry(opens_position=False, A="100"), book(open_positions=3))
    assert decision.verdict is RiskVerdict.ALLOW


# ---------------------------------------------------------------------------- rule 5: per position


def test_position_notional_above_the_limit_is_resized_to_the_limit() -> None:
    risk = manager(max_position_notional_usd=D(1000))
    decision = check(risk, entry(A="900", B="600"))
    assert decision.verdict is RiskVerdict.RESIZE
    assert decision.allowed_notional == D(1000)
    assert decision.reason == (
        "position notional 1500 USD would exceed the 1000 USD per-position limit; "
        "resized to 1000 USD"
    )


def test_position_notional_at_the_limit_is_allowed() -> None:
    decision = check(manager(max_position_notional_usd=D(1000)), entry(A="1000"))
    assert decision.verdict is RiskVerdict.ALLOW
    assert decision.allowed_notional == D(1000)


# ---------------------------------------------------------------------------- rule 6: per venue


def test_per_venue_cap_resizes_a_two_venue_entry_proportionally() -> None:
    # A has 1000 - 900 = 100 headroom for a 200 share -> factor 1/2; B has 1000 for 200 -> 5.
    # The tightest venue decides: 400 * 1/2 = 200 in total, i.e. 100 on A (exactly at the cap)
    # and 100 on B.
    risk = manager(max_exposure_per_venue_usd=D(1000))
    decision = check(risk, entry(A="200", B="200"), book(A="900", B="0"))
    assert decision.verdict is RiskVerdict.RESIZE
    assert decision.allowed_notional == D(200)
    assert decision.reason == (
        "A exposure 900 + 200 USD would exceed the 1000 USD per-venue cap; "
        "resized to 200 USD in total"
    )


def test_per_venue_cap_picks_the_tightest_venue() -> None:
    # A: headroom 300 for a 300 share -> factor 1 (fits); B: headroom 150 for 600 -> 1/4.
    # 900 * 1/4 = 225 in total: 75 on A (775 <= 1000) and 150 on B (exactly 1000).
    risk = manager(max_exposure_per_venue_usd=D(1000))
    decision = check(risk, entry(A="300", B="600"), book(A="700", B="850"))
    assert decision.verdict is RiskVerdict.RESIZE
    assert decision.allowed_notional == D(225)
    assert decision.reason.startswith("B exposure 850 + 600 USD")


def test_per_venue_resize_rounds_down_so_the_cap_holds() -> None:
    # B: headroom 100 for a 300 share of 400 -> 400 * 100 / 300 = 133.333... -> 133.33333333;
    # B then gets 300 / 400 * 133.33333333 = 99.9999999975 <= 100.
    risk = manager(max_exposure_per_venue_usd=D(1000))
    decision = check(risk, entry(A="100", B="300"), book(B="900"))
    assert decision.allowed_notional == D("133.33333333")
    assert D(300) / D(400) * decision.allowed_notional <= D(100)


def test_per_venue_cap_ignores_venues_the_entry_does_not_touch() -> None:
    risk = manager(max_exposure_per_venue_usd=D(1000))
    decision = check(risk, entry(A="500"), book(A="400", C="5000"))
    assert decision.verdict is RiskVerdict.ALLOW


@pytest.mark.parametrize("exposure", ["1000", "1200", "-1000"])
def test_per_venue_cap_rejects_when_a_venue_has_no_headroom(exposure: str) -> None:
    risk = manager(max_exposure_per_venue_usd=D(1000))
    decision = check(risk, entry(A="10", B="10"), book(A="0", B=exposure))
    assert decision.verdict is RiskVerdict.REJECT
    assert decision.allowed_notional == 0
    assert decision.reason == (
        f"B exposure {exposure.lstrip('-')} USD is already at or above the 1000 USD per-venue cap"
    )


# ---------------------------------------------------------------------------- rule 7: total


def test_total_exposure_cap_resizes_to_the_headroom() -> None:
    risk = manager(max_total_exposure_usd=D(1500))
    decision = check(risk, entry(A="100"), book(A="1000", B="-450"))  # a short counts too
    assert decision.verdict is RiskVerdict.RESIZE
    assert decision.allowed_notional == D(50)
    assert decision.reason == (
        "total exposure 1450 + 100 USD would exceed 1500 USD; resized to 50 USD"
    )


def test_total_exposure_cap_rejects_without_headroom() -> None:
    decision = check(
        manager(max_total_exposure_usd=D(1500)), entry(A="100"), book(A="1000", B="500")
    )
    assert decision.verdict is RiskVerdict.REJECT
    assert decision.reason == "total exposure 1500 USD is already at or above the 1500 USD cap"


def test_size_caps_apply_one_after_the_other() -> None:
    # 1200 requested (600 + 600) -> per position: 1000 (500 + 500)
    # -> per venue: A has 1000 - 800 = 200 headroom for its 600 share: 1200 * 200/600 = 400
    # -> total: 2000 - (800 + 900) = 300 headroom < 400 -> 300.
    risk = manager(
        max_position_notional_usd=D(1000),
        max_exposure_per_venue_usd=D(1000),
        max_total_exposure_usd=D(2000),
    )
    decision = check(risk, entry(A="600", B="600"), book(A="800", C="900"))
    assert decision.verdict is RiskVerdict.RESIZE
    assert decision.allowed_notional == D(300)
    assert decision.reason == (
        "total exposure 1700 + 400 USD would exceed 2000 USD; resized to 300 USD"
    )


# ---------------------------------------------------------------------------- rule order


def test_kill_switch_comes_before_the_daily_loss_pause() -> None:
    risk = manager(max_drawdown_pct=D(10), daily_loss_limit_usd=D(100))
    risk.update_equity(D(10000))
    assert risk.update_equity(D(8000)) is not None
    assert risk.paused_until == NEXT_MIDNIGHT
    assert check(risk, entry(A="10")).verdict is RiskVerdict.KILLED


def test_daily_loss_pause_comes_before_the_cooldown() -> None:
    risk = manager(daily_loss_limit_usd=D(100), loss_cooldown_minutes=30)
    risk.update_equity(D(10000))
    risk.record_trade(D(-150))
    risk.update_equity(D(9850))
    decision = check(risk, entry(A="10"))
    assert decision.verdict is RiskVerdict.PAUSED
    assert decision.reason.startswith("daily loss 150 USD")


def test_cooldown_comes_before_the_position_limit() -> None:
    risk = manager(loss_cooldown_minutes=30, max_open_positions=1)
    risk.record_trade(D(-1))
    decision = check(risk, entry(A="10"), book(open_positions=5))
    assert decision.verdict is RiskVerdict.PAUSED
    assert decision.reason.startswith("losing trade at")


def test_position_limit_comes_before_any_resize() -> None:
    risk = manager(max_open_positions=1, max_position_notional_usd=D(100))
    decision = check(risk, entry(A="500"), book(open_positions=1))
    assert decision.verdict is RiskVerdict.REJECT
    assert decision.reason == "1 positions open already, the limit is 1"


def test_per_venue_rejection_comes_before_the_total_cap() -> None:
    risk = manager(max_exposure_per_venue_usd=D(1000), max_total_exposure_usd=D(1000))
    decision = check(risk, entry(A="10"), book(A="1000"))
    assert decision.verdict is RiskVerdict.REJECT
    assert "per-venue" in decision.reason


def test_kelly_comes_last_and_only_tightens() -> None:
    risk = manager(max_position_notional_usd=D(100), kelly_fraction=D("0.5"))
    _record(risk, _EDGE_TRADES)  # Kelly allows 20 % of the request (see below)
    decision = check(risk, entry(A="1000"))
    assert decision.allowed_notional == D(100)  # Kelly's 200 is looser than the 100 cap
    assert "per-position" in decision.reason


# ---------------------------------------------------------------------------- daily loss


async def test_daily_loss_pause_lasts_until_next_midnight_utc() -> None:
    clock = ManualClock(NOON)
    risk = manager(clock, daily_loss_limit_usd=D(100))
    risk.update_equity(D(10000))  # the day's starting equity
    risk.update_equity(D("9900.01"))
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW  # lost 99.99
    risk.update_equity(D(9900))  # lost 100: at the limit

    decision = check(risk, entry(A="10"))
    assert decision.verdict is RiskVerdict.PAUSED
    assert decision.allowed_notional == 0
    assert decision.reason == (
        "daily loss 100 USD reached the 100 USD limit; paused until 2024-03-06T00:00:00+00:00"
    )
    assert risk.paused_until == NEXT_MIDNIGHT

    risk.update_equity(D(10500))  # recovering does not lift the pause
    assert check(risk, entry(A="10")).verdict is RiskVerdict.PAUSED
    await clock.advance(timedelta(hours=11, minutes=59, seconds=59).total_seconds())
    assert check(risk, entry(A="10")).verdict is RiskVerdict.PAUSED
    assert risk.paused_until == NEXT_MIDNIGHT

    await clock.advance(1)  # 00:00:00 UTC
    assert clock.now() == NEXT_MIDNIGHT
    assert risk.paused_until is None
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW


async def test_a_new_utc_day_starts_from_its_first_equity() -> None:
    clock = ManualClock(NOON)
    risk = manager(clock, daily_loss_limit_usd=D(100))
    risk.update_equity(D(10000))
    risk.update_equity(D(9950))  # -50 today
    await clock.advance(timedelta(hours=12).total_seconds())
    risk.update_equity(D(9950))  # the new day starts here
    risk.update_equity(D(9880))  # -70 today (-120 since yesterday's start: not counted)
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW
    risk.update_equity(D(9850))  # -100 today
    decision = check(risk, entry(A="10"))
    assert decision.verdict is RiskVerdict.PAUSED
    assert risk.paused_until == datetime(2024, 3, 7, tzinfo=UTC)


async def test_yesterdays_equity_does_not_pause_today_before_fresh_equity() -> None:
    clock = ManualClock(NOON)
    risk = manager(clock, daily_loss_limit_usd=D(100))
    risk.update_equity(D(10000))
    risk.update_equity(D(9950))
    await clock.advance(timedelta(hours=12).total_seconds())
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW


# ---------------------------------------------------------------------------- cooldown


async def test_cooldown_after_a_loss_lifts_after_n_minutes() -> None:
    clock = ManualClock(NOON)
    risk = manager(clock, loss_cooldown_minutes=15)
    risk.record_trade(D("-12.5"))
    decision = check(risk, entry(A="10"))
    assert decision.verdict is RiskVerdict.PAUSED
    assert decision.reason == (
        "losing trade at 2024-03-05T12:00:00+00:00: cooling down 15 minutes, no entries until "
        "2024-03-05T12:15:00+00:00"
    )
    assert risk.paused_until == NOON + timedelta(minutes=15)

    await clock.advance(14 * 60 + 59)
    assert check(risk, entry(A="10")).verdict is RiskVerdict.PAUSED
    await clock.advance(1)
    assert risk.paused_until is None
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW


async def test_cooldown_restarts_from_the_latest_loss() -> None:
    clock = ManualClock(NOON)
    risk = manager(clock, loss_cooldown_minutes=15)
    risk.record_trade(D(-1))
    await clock.advance(10 * 60)
    risk.record_trade(D(-1))
    await clock.advance(10 * 60)
    assert check(risk, entry(A="10")).verdict is RiskVerdict.PAUSED
    await clock.advance(5 * 60)
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW


@pytest.mark.parametrize("pnl", ["0", "5"])
def test_break_even_and_winning_trades_do_not_cool_down(pnl: str) -> None:
    risk = manager(loss_cooldown_minutes=15)
    risk.record_trade(D(pnl))
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW
    assert risk.paused_until is None


def test_no_cooldown_when_it_is_zero_minutes() -> None:
    risk = manager()
    risk.record_trade(D(-100))
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW


@pytest.mark.parametrize(
    ("start", "cooldown", "expected"),
    [
        # daily pause until midnight, cooldown until 00:20: the cooldown is later
        (datetime(2024, 3, 5, 23, 50, tzinfo=UTC), 30, datetime(2024, 3, 6, 0, 20, tzinfo=UTC)),
        # cooldown until 12:30, daily pause until midnight: the daily pause is later
        (NOON, 30, NEXT_MIDNIGHT),
    ],
)
def test_paused_until_reports_the_later_pause(
    start: datetime, cooldown: int, expected: datetime
) -> None:
    risk = manager(ManualClock(start), daily_loss_limit_usd=D(100), loss_cooldown_minutes=cooldown)
    risk.update_equity(D(1000))
    risk.record_trade(D(-200))
    risk.update_equity(D(800))
    assert risk.paused_until == expected


# ---------------------------------------------------------------------------- kill switch


async def test_kill_switch_fires_once_and_blocks_entries() -> None:
    clock = ManualClock(NOON)
    risk = manager(clock, max_drawdown_pct=D(20))
    assert risk.update_equity(D(10000)) is None
    assert risk.update_equity(D(12000)) is None  # new peak
    assert risk.update_equity(D(9700)) is None  # 2300 / 12000 = 19.17 %
    await clock.advance(60)
    event = risk.update_equity(D(9600))  # 2400 / 12000 = 20 %: at the limit
    assert event == KillSwitch(
        reason="drawdown 20% from peak equity 12000 USD to 9600 USD reached the 20% limit",
        equity=D(9600),
        peak_equity=D(12000),
        at=NOON + timedelta(seconds=60),
    )
    assert risk.killed
    assert risk.update_equity(D(9000)) is None  # once only
    assert risk.update_equity(D(13000)) is None  # recovering does not clear it
    assert risk.killed

    decision = check(risk, entry(A="10"))
    assert decision.verdict is RiskVerdict.KILLED
    assert decision.allowed_notional == 0
    assert decision.reason.startswith("kill switch engaged at 2024-03-05T12:01:00+00:00")
    assert decision.reason.endswith(
        "no entries until it is cleared (`python -m fleet reset-kill BOT --reason ...`, "
        "Telegram /reset_kill)"
    )


def test_reset_kill_clears_it_and_measures_from_the_last_equity() -> None:
    risk = manager(max_drawdown_pct=D(20))
    risk.update_equity(D(10000))
    assert risk.update_equity(D(8000)) is not None
    risk.reset_kill()
    assert not risk.killed
    assert check(risk, entry(A="10")).verdict is RiskVerdict.ALLOW
    assert risk.update_equity(D(7000)) is None  # 12.5 % below the new peak of 8000
    assert risk.update_equity(D(6400)) is not None  # 20 % below 8000


async def test_trip_engages_the_kill_switch_for_a_strategys_own_limit() -> None:
    """A limit the risk manager does not know (the scalper's daily loss in USD) trips the same
    switch: entries refused, carried by the saved state, cleared only by the reset."""
    clock = ManualClock(NOON)
    risk = manager(clock)  # no drawdown limit of its own
    risk.update_equity(D(10000))
    kill = risk.trip("daily loss 600 USD reached the 500 USD limit", D(9400), D(10000))
    assert risk.killed
    assert (kill.equity, kill.peak_equity, kill.at) == (D(9400), D(10000), NOON)
    decision = check(risk, entry(A="10"))
    assert decision.verdict is RiskVerdict.KILLED
    assert "daily loss 600 USD reached the 500 USD limit" in decision.reason
    await clock.advance(60)
    assert risk.trip("another", D(1), D(1)) is kill  # engaged once, by the first reason
    restored = manager(clock)
    restored.restore(roundtrip(risk.state()))
    assert restored.killed
    assert check(restored, entry(A="10")).reason == decision.reason
    restored.reset_kill()
    assert check(restored, entry(A="10")).verdict is RiskVerdict.ALLOW


def test_no_kill_switch_without_a_drawdown_limit() -> None:
    risk = manager()
    risk.update_equity(D(10000))
    assert risk.update_equity(D(1)) is None
    assert not risk.killed


# ---------------------------------------------------------------------------- persistence


async def test_state_round_trip_keeps_the_kill_switch_and_the_pause() -> None:
    clock = ManualClock(NOON)
    limits: dict[str, Any] = {
        "max_drawdown_pct": D(20),
        "daily_loss_limit_usd": D(100),
        "loss_cooldown_minutes": 30,
        "kelly_fraction": D("0.5"),
    }
    risk = manager(clock, **limits)
    _record(risk, _EDGE_TRADES)
    risk.update_equity(D(10000))
    event = risk.update_equity(D(7500))
    assert event is not None
    saved = roundtrip(risk.state())

    restored = manager(clock, **limits)
    restored.restore(saved)
    assert restored.killed
    assert restored.update_equity(D(7400)) is None  # does not fire a second time
    assert check(restored, entry(A="10")).verdict is RiskVerdict.KILLED
    assert restored.paused_until == NEXT_MIDNIGHT
    assert restored.kelly_notional(D(1000)) == D(200)

    restored.reset_kill()
    decision = check(restored, entry(A="10"))
    assert decision.verdict is RiskVerdict.PAUSED
    assert decision.reason.startswith("daily loss 2500 USD reached the 100 USD limit")


async def test_state_round_trip_keeps_peak_day_start_and_cooldown() -> None:
    clock = ManualClock(NOON)
    limits: dict[str, Any] = {
        "max_drawdown_pct": D(20),
        "daily_loss_limit_usd": D(100),
        "loss_cooldown_minutes": 30,
    }
    risk = manager(clock, **limits)
    risk.update_equity(D(10000))  # day start
    risk.update_equity(D(12000))  # peak
    risk.update_equity(D(12000))
    risk.record_trade(D(-10))
    await clock.advance(60)

    restored = manager(clock, **limits)
    restored.restore(roundtrip(risk.state()))
    assert roundtrip(restored.state()) == roundtrip(risk.state())
    assert restored.paused_until == NOON + timedelta(minutes=30)  # cooldown survives
    assert not restored.killed

    await clock.advance(30 * 60)
    assert check(restored, entry(A="10")).verdict is RiskVerdict.ALLOW
    assert restored.update_equity(D(9901)) is None  # 17.49 % below the kept 12000 peak
    assert check(restored, entry(A="10")).verdict is RiskVerdict.ALLOW  # -99 vs day start
    event = restored.update_equity(D(9600))  # 20 % below 12000, -400 vs 10000
    assert event is not None
    assert event.peak_equity == D(12000)


def test_state_is_json_ready() -> None:
    state = manager().state()
    assert roundtrip(state)["killed"] is False
    assert state["version"] == 1


def test_restore_refuses_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="version"):
        manager().restore({"version": 99})


# ---------------------------------------------------------------------------- Kelly

# 15 wins averaging 20 USD and 10 losses averaging 10 USD, in a seeded random order:
# p = 15/25 = 0.6, W/L = 20/10 = 2, f* = 0.6 - 0.4 / 2 = 0.4; at kelly_fraction 0.5 -> 0.2.
_EDGE_TRADES = [D(10), D(30)] * 7 + [D(20)] + [D(-5), D(-15)] * 5
random.Random(20240305).shuffle(_EDGE_TRADES)


def _record(risk: RiskManager, pnls: list[Decimal]) -> None:
    for pnl in pnls:
        risk.record_trade(pnl)


def test_fractional_kelly_resizes_by_hand_computed_fraction() -> None:
    risk = manager(kelly_fraction=D("0.5"))
    _record(risk, _EDGE_TRADES)
    assert risk.kelly_notional(D(1000)) == D(200)
    decision = check(risk, entry(A="600", B="400"))
    assert decision.verdict is RiskVerdict.RESIZE
    assert decision.allowed_notional == D(200)
    assert decision.reason == (
        "fractional Kelly sizing (0.5 x edge over the last 25 trades) allows 200 of 1000 USD"
    )


def test_full_kelly_never_sizes_above_the_request() -> None:
    risk = manager(kelly_fraction=D(1))
    _record(risk, [D(100)] * 19 + [D(-1)])  # f* = 0.95 - 0.05 / 100 = 0.9495
    assert risk.kelly_notional(D(1000)) == D("949.5")
    risk2 = manager(kelly_fraction=D(1))
    _record(risk2, [D(100)] * 19 + [D(-1)] + [D(100)] * 80)  # f* close to 1, still <= 1
    assert risk2.kelly_notional(D(1000)) <= D(1000)


def test_break_even_trades_count_toward_the_total_only() -> None:
    # 12 wins of 20, 8 losses of 10, 5 at zero: p = 12/25 = 0.48, W/L = 2,
    # f* = 0.48 - 0.52 / 2 = 0.22; at 0.5 -> 0.11.
    risk = manager(kelly_fraction=D("0.5"))
    _record(risk, [D(20)] * 12 + [D(-10)] * 8 + [D(0)] * 5)
    assert risk.kelly_notional(D(1000)) == D(110)


def test_negative_edge_rejects() -> None:
    # 5 wins of 10, 15 losses of 10: p = 0.25, W/L = 1, f* = 0.25 - 0.75 = -0.5 -> 0.
    risk = manager(kelly_fraction=D("0.5"))
    _record(risk, [D(10)] * 5 + [D(-10)] * 15)
    assert risk.kelly_notional(D(1000)) == 0
    decision = check(risk, entry(A="1000"))
    assert decision.verdict is RiskVerdict.REJECT
    assert decision.allowed_notional == 0
    assert decision.reason == "fractional Kelly sizing is 0: no edge in the last 20 trades"


@pytest.mark.parametrize(
    "pnls",
    [
        [D(20)] * 12 + [D(-10)] * (MIN_KELLY_TRADES - 13),  # too few trades
        [D(20)] * 30,  # no loss yet
        [D(-20)] * 30,  # no win yet
    ],
)
def test_kelly_does_not_resize_without_enough_evidence(pnls: list[Decimal]) -> None:
    with capture_logs() as logs:
        risk = manager(kelly_fraction=D("0.5"))
        _record(risk, pnls)
        assert risk.kelly_notional(D(1000)) == D(1000)
        assert check(risk, entry(A="1000")).verdict is RiskVerdict.ALLOW
    inactive = [line for line in logs if line["event"] == "risk kelly sizing inactive"]
    assert len(inactive) == 1  # logged once, not on every entry


def test_kelly_is_inactive_without_a_fraction() -> None:
    risk = manager()
    _record(risk, [D(10)] * 5 + [D(-10)] * 15)
    assert risk.kelly_notional(D(1000)) == D(1000)


# ---------------------------------------------------------------------------- logging


def test_every_decision_is_logged_with_its_numbers() -> None:
    with capture_logs() as logs:
        risk = manager(max_total_exposure_usd=D(1500), max_open_positions=1)
        check(risk, entry(A="100"), book(A="1450"))
        check(risk, entry(A="100"), book(open_positions=1))
    decisions = [line for line in logs if line["event"] == "risk decision"]
    assert decisions == [
        {
            "event": "risk decision",
            "log_level": "info",
            "bot": "test-bot",
            "verdict": "resize",
            "reason": "total exposure 1450 + 100 USD would exceed 1500 USD; resized to 50 USD",
            "strategy": "grid",
            "symbol": "BTC",
            "requested": "100",
            "allowed": "50",
        },
        {
            "event": "risk decision",
            "log_level": "warning",
            "bot": "test-bot",
            "verdict": "reject",
            "reason": "1 positions open already, the limit is 1",
            "strategy": "grid",
            "symbol": "BTC",
            "requested": "100",
            "allowed": "0",
        },
    ]


@pytest.mark.parametrize(("level", "lines"), [("INFO", 0), ("DEBUG", 1)])
def test_an_entry_allowed_as_asked_is_logged_at_debug_only(level: str, lines: int) -> None:
    out = io.StringIO()
    configure_logging(level=level, json=True, stream=out)
    check(manager(), entry(A="100"), book())
    decisions = [
        record
        for record in map(json.loads, out.getvalue().splitlines())
        if record["event"] == "risk decision"
    ]
    assert [d["verdict"] for d in decisions] == ["allow"] * lines


# ---------------------------------------------------------------------------- property

_VENUES = ("A", "B", "C")
_money = st.decimals(min_value=0, max_value=100_000, places=2)
_cap = st.none() | st.decimals(min_value=D("0.01"), max_value=100_000, places=2)


@settings(max_examples=400, deadline=None)
@given(
    per_position=_cap,
    per_venue=_cap,
    total=_cap,
    exposure=st.fixed_dictionaries({v: _money for v in _VENUES}),
    shares=st.dictionaries(st.sampled_from(_VENUES), _money, min_size=1).filter(
        lambda d: sum(d.values()) > 0
    ),
)
def test_allowed_notional_never_exceeds_the_request_or_a_cap(
    per_position: Decimal | None,
    per_venue: Decimal | None,
    total: Decimal | None,
    exposure: dict[str, Decimal],
    shares: dict[str, Decimal],
) -> None:
    risk = manager(
        max_position_notional_usd=per_position,
        max_exposure_per_venue_usd=per_venue,
        max_total_exposure_usd=total,
    )
    proposal = EntryProposal(strategy="grid", symbol="BTC", notional_by_venue=shares)
    decision = check(risk, proposal, PortfolioSnapshot(D(0), exposure, open_positions=0))

    requested = proposal.notional
    allowed = decision.allowed_notional
    assert 0 <= allowed <= requested
    assert decision.allowed == (allowed > 0)
    assert (decision.verdict is RiskVerdict.ALLOW) == (allowed == requested)
    if not decision.allowed:
        return
    if per_position is not None:
        assert allowed <= per_position
    if total is not None:
        assert sum(exposure.values()) + allowed <= total
    if per_venue is not None:
        factor = Fraction(allowed) / Fraction(requested)  # exact, no rounding
        for venue, share in shares.items():
            if share > 0:
                assert Fraction(exposure[venue]) + Fraction(share) * factor <= Fraction(per_venue)
