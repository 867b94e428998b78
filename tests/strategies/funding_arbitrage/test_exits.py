"""Funding-arbitrage exit rules, checked against arithmetic done by hand.

The base pair (``pair()``): long 2 BTC on alpha and short 2 BTC on beta, both entered at 95 and
marked at 100, so unrealized P&L is +10 on the long and -10 on the short. Funding: the long paid
0.5, the short received 3; fees paid 0.2 + 0.3. net_pnl = 10 - 10 - 0.5 + 3 - 0.2 - 0.3 = 2 USD.
Notional of both legs = 2 * 100 + 2 * 100 = 400 USD, so exit fees are 0.0005 * 400 = 0.2 USD
(break-even holds: 2 - 0.2 >= 0) or, with a 1 % fraction, 4 USD (it does not: 2 - 4 < 0).
Params: defaults (min liquidation distance 15 %, max imbalance 2 %, erosion 50 %, max age 168 h).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from exchange_clients.types import Position
from strategies.funding_arbitrage.exits import (
    ExitDecision,
    ExitReason,
    LegState,
    PositionState,
    break_even_ok,
    check_exit,
    spread_hold,
)
from strategies.funding_arbitrage.params import FundingArbitrageParams

D = Decimal
OPENED = datetime(2024, 3, 1, tzinfo=UTC)
NOW = OPENED + timedelta(hours=10)
CHEAP = D("0.0005")  # exit fees 0.2 USD: break-even ok
DEAR = D("0.01")  # exit fees 4 USD: break-even not ok
PARAMS = FundingArbitrageParams.model_validate(
    {"venues": ["alpha", "beta"], "target_margin_usd": "100"}
)


def long_leg(**changes: object) -> LegState:
    leg = LegState(
        venue="alpha",
        side="buy",
        size=D(2),
        entry_price=D(95),
        mark_price=D(100),
        liquidation_price=D(50),
        accrued_funding=D("-0.5"),
        fees_paid=D("0.2"),
    )
    return replace(leg, **changes)  # type: ignore[arg-type]


def short_leg(**changes: object) -> LegState:
    leg = LegState(
        venue="beta",
        side="sell",
        size=D(2),
        entry_price=D(95),
        mark_price=D(100),
        liquidation_price=D(150),
        accrued_funding=D(3),
        fees_paid=D("0.3"),
    )
    return replace(leg, **changes)  # type: ignore[arg-type]


def pair(
    *,
    long: LegState | None = None,
    short: LegState | None = None,
    peak: str = "2",
    spread: str = "0.00005",
    opened_at: datetime = OPENED,
) -> PositionState:
    return PositionState(
        symbol="BTC",
        long=long or long_leg(),
        short=short or short_leg(),
        opened_at=opened_at,
        peak_net_pnl=D(peak),
        current_hourly_spread=D(spread),
    )


def decide(
    position: PositionState,
    now: datetime = NOW,
    params: FundingArbitrageParams = PARAMS,
    fees: Decimal = CHEAP,
) -> ExitDecision | None:
    return check_exit(position, now, params, exit_fees_fraction=fees)


# --- state arithmetic -------------------------------------------------------------------------


def test_leg_and_position_arithmetic() -> None:
    position = pair()
    assert position.long.unrealized_pnl == D(10)  # (100 - 95) * 2
    assert position.short.unrealized_pnl == D(-10)  # (95 - 100) * 2
    assert position.net_pnl == D(2)  # 10 - 10 - 0.5 + 3 - 0.2 - 0.3
    assert position.notional == D(400)
    assert position.long.liquidation_distance_pct == D(50)  # |100 - 50| / 100 * 100
    assert position.short.liquidation_distance_pct == D(50)  # |100 - 150| / 100 * 100
    assert long_leg(liquidation_price=None).liquidation_distance_pct is None
    assert position.imbalance_pct == 0
    # |2 - 1.95| / 2 * 100 = 2.5
    assert pair(short=short_leg(size=D("1.95"))).imbalance_pct == D("2.5")
    assert pair(long=long_leg(size=D(0)), short=short_leg(size=D(0))).imbalance_pct == 0


def test_net_pnl_is_written_as_a_sum_from_zero_writes_it() -> None:
    """The saved peak and the exit messages print it: the digits of ``sum(..., 0)`` - a leg
    whose figure is in exponent form comes out written plainly, never in that form."""
    position = pair(
        long=long_leg(
            mark_price=D("1E+2"),
            entry_price=D("1E+2"),
            size=D("1E+1"),
            accrued_funding=D("1E+1"),
            fees_paid=D("0E+1"),
        ),
        short=short_leg(size=D("1E+1"), accrued_funding=D("0E+1"), fees_paid=D("0E+1")),
    )
    terms = [leg.unrealized_pnl + leg.accrued_funding - leg.fees_paid for leg in position.legs]
    assert [str(term) for term in terms] == ["1E+1", "-5E+1"]  # (95 - 100) * 1E+1
    assert str(position.net_pnl) == str(sum(terms, D(0))) == "-40"


def test_leg_from_a_venue_position() -> None:
    venue_position = Position(
        symbol="BTC",
        size=D(-2),
        entry_price=D(95),
        mark_price=D(100),
        liquidation_price=D(150),
        unrealized_pnl=D(-10),
        accrued_funding=D(3),
    )
    leg = LegState.from_position("beta", venue_position, fees_paid=D("0.3"))
    assert leg == short_leg()
    assert leg.unrealized_pnl == venue_position.unrealized_pnl


def test_state_validation() -> None:
    with pytest.raises(ValueError, match="long leg must buy and short leg sell, not sell/buy"):
        pair(long=short_leg(), short=long_leg())
    with pytest.raises(ValueError, match="opened_at must be timezone-aware"):
        pair(opened_at=datetime(2024, 3, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="leg size is unsigned"):
        long_leg(size=D(-1))


def test_break_even() -> None:
    assert break_even_ok(pair(), CHEAP)  # 2 - 0.0005 * 400 = 1.8
    assert break_even_ok(pair(), D("0.005"))  # 2 - 0.005 * 400 = 0: exactly break-even
    assert not break_even_ok(pair(), DEAR)  # 2 - 0.01 * 400 = -2


# --- each rule ----------------------------------------------------------------------------------


def test_healthy_pair_stays_open() -> None:
    assert decide(pair()) is None


def test_liquidation_risk() -> None:
    # long: |100 - 88| / 100 * 100 = 12 % < 15 %
    decision = decide(pair(long=long_leg(liquidation_price=D(88))))
    assert decision == ExitDecision(
        ExitReason.LIQUIDATION_RISK,
        "long leg on alpha is 12% from liquidation (mark 100, liquidation 88) < min 15%",
        urgent=True,
    )
    # short: |100 - 115| / 100 * 100 = 15 %: not below the minimum
    assert decide(pair(short=short_leg(liquidation_price=D(115)))) is None
    # 114.5 -> 14.5 % < 15 %
    decision = decide(pair(short=short_leg(liquidation_price=D("114.5"))))
    assert decision is not None
    assert decision.reason is ExitReason.LIQUIDATION_RISK
    assert decision.detail.startswith("short leg on beta is 14.5% from liquidation")


def test_no_liquidation_price_is_not_a_risk() -> None:
    position = pair(long=long_leg(liquidation_price=None), short=short_leg(liquidation_price=None))
    assert decide(position) is None


def test_leg_imbalance() -> None:
    # |2 - 1.95| / 2 * 100 = 2.5 % > 2 %
    decision = decide(pair(short=short_leg(size=D("1.95"))))
    assert decision == ExitDecision(
        ExitReason.LEG_IMBALANCE,
        "legs differ by 2.5% (long 2 on alpha, short 1.95 on beta) > max 2%",
        urgent=True,
    )
    # |2 - 1.96| / 2 * 100 = 2 %: not above the maximum
    assert decide(pair(short=short_leg(size=D("1.96")))) is None


def test_divergence_flip() -> None:
    flipped = pair(spread="-0.00001")
    assert decide(flipped) == ExitDecision(
        ExitReason.DIVERGENCE_FLIP,
        "funding spread flipped to -0.00001/h: the pair now pays",
        urgent=False,
    )
    assert decide(pair(spread="0")) is None  # zero is not a flip
    off = PARAMS.model_copy(update={"exit_on_divergence_flip": False})
    assert decide(flipped, params=off) is None


def test_profit_erosion() -> None:
    # peak 5, 50 % erosion -> floor 5 * (1 - 50/100) = 2.5; net 2 <= 2.5
    assert decide(pair(peak="5")) == ExitDecision(
        ExitReason.PROFIT_EROSION,
        "net P&L 2 USD <= 2.5 USD (50% given back from the peak 5 USD)",
        urgent=False,
    )
    # peak 4 -> floor 2; net 2 <= 2: exactly at the floor exits
    decision = decide(pair(peak="4"))
    assert decision is not None
    assert decision.reason is ExitReason.PROFIT_EROSION
    # peak 3.9 -> floor 1.95 < 2: keep
    assert decide(pair(peak="3.9")) is None
    # never in profit (peak 0): erosion does not apply
    assert decide(pair(peak="0")) is None


def test_max_age() -> None:
    # 168 h exactly is old enough; one microsecond earlier is not.
    old = OPENED + timedelta(hours=168)
    assert decide(pair(), now=old) == ExitDecision(
        ExitReason.MAX_AGE, "open 168 h >= max 168 h", urgent=False
    )
    assert decide(pair(), now=old - timedelta(microseconds=1)) is None


# --- break-even gating and precedence -----------------------------------------------------------


def test_economic_exits_wait_for_break_even() -> None:
    # exit fees 0.01 * 400 = 4 > net 2: flip and erosion wait.
    assert decide(pair(spread="-0.00001"), fees=DEAR) is None
    assert decide(pair(peak="5"), fees=DEAR) is None


def test_max_age_exits_below_break_even() -> None:
    # net 2 - exit fees 4 = -2 USD, but the position is 170 h old.
    decision = decide(pair(spread="-0.00001"), now=OPENED + timedelta(hours=170), fees=DEAR)
    assert decision == ExitDecision(
        ExitReason.MAX_AGE,
        "open 170 h >= max 168 h; closing below break-even: net P&L after exit fees -2 USD",
        urgent=False,
    )


def test_economic_order_when_break_even_holds() -> None:
    old = OPENED + timedelta(hours=200)
    everything = pair(spread="-0.00001", peak="5")
    decision = decide(everything, now=old)
    assert decision is not None
    assert decision.reason is ExitReason.DIVERGENCE_FLIP
    decision = decide(pair(peak="5"), now=old)
    assert decision is not None
    assert decision.reason is ExitReason.PROFIT_EROSION


def test_urgent_exits_come_first_and_ignore_break_even() -> None:
    old = OPENED + timedelta(hours=200)
    risky = long_leg(liquidation_price=D(90))  # 10 % from liquidation
    uneven = short_leg(size=D("1.9"))  # |2 - 1.9| / 2 * 100 = 5 %
    # Every rule fires; exit fees (0.01 * (200 + 190) = 3.9) exceed net P&L.
    everything = pair(long=risky, short=uneven, spread="-0.00001", peak="100")
    assert not break_even_ok(everything, DEAR)
    decision = decide(everything, now=old, fees=DEAR)
    assert decision is not None
    assert (decision.reason, decision.urgent) == (ExitReason.LIQUIDATION_RISK, True)

    decision = decide(pair(short=uneven, spread="-0.00001", peak="100"), now=old, fees=DEAR)
    assert decision is not None
    assert (decision.reason, decision.urgent) == (ExitReason.LEG_IMBALANCE, True)


# --- minimum hold and exit spread ---------------------------------------------------------------


def params(**over: object) -> FundingArbitrageParams:
    return FundingArbitrageParams.model_validate(
        {"venues": ["alpha", "beta"], "target_margin_usd": "100", **over}
    )


def test_min_hold_delays_economic_exits_only() -> None:
    flipped = pair(spread="-0.00001")  # divergence flip, break-even ok
    assert check_exit(flipped, NOW, params(), exit_fees_fraction=CHEAP) is not None
    # held 10 h < 12 h: the flip waits
    assert check_exit(flipped, NOW, params(min_hold_hours="12"), exit_fees_fraction=CHEAP) is None
    later = NOW + timedelta(hours=2)
    decision = check_exit(flipped, later, params(min_hold_hours="12"), exit_fees_fraction=CHEAP)
    assert decision is not None
    assert decision.reason is ExitReason.DIVERGENCE_FLIP
    # an urgent exit never waits
    near = pair(long=long_leg(liquidation_price=D(90)))  # 10 % from liquidation < 15 %
    urgent = check_exit(near, NOW, params(min_hold_hours="12"), exit_fees_fraction=CHEAP)
    assert urgent is not None
    assert urgent.reason is ExitReason.LIQUIDATION_RISK


def test_min_hold_must_be_below_max_age() -> None:
    with pytest.raises(ValueError, match="min_hold_hours 200 must be below max_position_age"):
        params(min_hold_hours="200")


ECONOMIC = ExitDecision(ExitReason.DIVERGENCE_FLIP, "flip", urgent=False)
URGENT = ExitDecision(ExitReason.LEG_IMBALANCE, "imbalance", urgent=True)
SPREADS = {"alpha": D("0.05"), "beta": D("0.3")}


def test_exit_waits_while_a_venue_spread_is_wider_than_the_max() -> None:
    assert spread_hold(ECONOMIC, SPREADS, params()) is None  # no limit set
    held = spread_hold(ECONOMIC, SPREADS, params(max_exit_spread_pct="0.2"))
    assert held == "bid/ask spread beta 0.3% > max exit spread 0.2%"
    assert spread_hold(ECONOMIC, SPREADS, params(max_exit_spread_pct="0.3")) is None


def test_urgent_exits_override_the_spread_unless_told_not_to() -> None:
    assert spread_hold(URGENT, SPREADS, params(max_exit_spread_pct="0.2")) is None
    strict = params(max_exit_spread_pct="0.2", emergency_exit_ignores_spread=False)
    assert spread_hold(URGENT, SPREADS, strict) == (
        "bid/ask spread beta 0.3% > max exit spread 0.2%"
    )
