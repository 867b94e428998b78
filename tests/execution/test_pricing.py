"""Aggressive-limit pricing: escalation order, post-only safety, grid and break-even caps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_clients.types import Market, Side
from execution.pricing import (
    AggressiveLimitParams,
    Stage,
    aggressive_limit_price,
    break_even_limit,
)

BTC = Market(
    symbol="BTC",
    contract_id="BTC",
    tick_size=Decimal("0.5"),
    step_size=Decimal("0.001"),
    min_size=Decimal("0.001"),
    min_notional=Decimal(10),
    max_leverage=Decimal(50),
)
D = Decimal


@st.composite
def books(draw: st.DrawFn) -> tuple[Decimal, Decimal]:
    bid_ticks = draw(st.integers(min_value=10, max_value=400_000))
    spread_ticks = draw(st.integers(min_value=1, max_value=12))
    return BTC.tick_size * bid_ticks, BTC.tick_size * (bid_ticks + spread_ticks)


params_strategy = st.builds(
    AggressiveLimitParams,
    attempts=st.integers(1, 6),
    inside_ticks=st.integers(1, 5),
    through_ticks=st.integers(1, 5),
)


@given(book=books(), side=st.sampled_from(["buy", "sell"]), params=params_strategy)
def test_each_attempt_is_at_least_as_aggressive_and_stages_keep_their_promises(
    book: tuple[Decimal, Decimal], side: Side, params: AggressiveLimitParams
) -> None:
    bid, ask = book
    buy = side == "buy"
    previous: Decimal | None = None
    for attempt in range(6):
        decision = aggressive_limit_price(side, attempt, bid, ask, BTC, params)
        assert decision.price % BTC.tick_size == 0
        assert not decision.capped
        if decision.stage is Stage.TOUCH:
            assert decision.price == (bid if buy else ask)
        elif decision.stage is Stage.INSIDE:
            # Post-only safe: strictly on our side of the other touch.
            assert (bid <= decision.price < ask) if buy else (bid < decision.price <= ask)
        else:
            assert decision.price >= ask if buy else decision.price <= bid
        assert decision.post_only == (decision.stage is not Stage.THROUGH)
        if previous is not None:
            assert decision.price >= previous if buy else decision.price <= previous
        previous = decision.price


@given(
    book=books(),
    side=st.sampled_from(["buy", "sell"]),
    attempt=st.integers(0, 8),
    reference_offset_ticks=st.integers(-50, 50),
    adverse=st.decimals(min_value=D(0), max_value=D("0.5"), places=3),
)
def test_break_even_cap_is_never_exceeded(
    book: tuple[Decimal, Decimal],
    side: Side,
    attempt: int,
    reference_offset_ticks: int,
    adverse: Decimal,
) -> None:
    bid, ask = book
    reference = (bid + ask) / 2 + BTC.tick_size * reference_offset_ticks
    params = AggressiveLimitParams(max_adverse_pct=adverse)
    capped = aggressive_limit_price(side, attempt, bid, ask, BTC, params, reference)
    free = aggressive_limit_price(side, attempt, bid, ask, BTC, AggressiveLimitParams())
    limit = break_even_limit(side, reference, adverse)
    if side == "buy":
        assert capped.price <= limit
        assert capped.price == min(free.price, capped.price)
    else:
        assert capped.price >= limit
        assert capped.price == max(free.price, capped.price)
    assert capped.capped == (capped.price != free.price)
    assert capped.price % BTC.tick_size == 0


def test_hand_computed_escalation_for_a_buy() -> None:
    params = AggressiveLimitParams(inside_ticks=2, through_ticks=3)
    prices = [
        aggressive_limit_price("buy", attempt, D("60000"), D("60003"), BTC, params)
        for attempt in range(4)
    ]
    assert [(p.stage, p.price) for p in prices] == [
        (Stage.TOUCH, D("60000")),
        (Stage.INSIDE, D("60001")),
        (Stage.THROUGH, D("60004.5")),
        (Stage.THROUGH, D("60006")),
    ]


def test_one_tick_spread_has_nothing_inside() -> None:
    decision = aggressive_limit_price(
        "sell", 1, D("100"), D("100.5"), BTC, AggressiveLimitParams(inside_ticks=3)
    )
    assert (decision.stage, decision.price) == (Stage.INSIDE, D("100.5"))


def test_break_even_caps_a_chasing_hedge() -> None:
    # The long leg filled at 60000; the short hedge may give up at most 0.01 % (6 USD).
    params = AggressiveLimitParams(max_adverse_pct=D("0.01"))
    decision = aggressive_limit_price("sell", 4, D("59990"), D("59992"), BTC, params, D("60000"))
    assert (decision.price, decision.capped) == (D("59994"), True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "attempts must be at least 1, not 0"),
        ({"inside_ticks": 0}, "inside_ticks and through_ticks must be at least 1"),
        ({"max_adverse_pct": D(-1)}, "max_adverse_pct cannot be negative, not -1"),
    ],
)
def test_parameters_are_validated(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        AggressiveLimitParams(**kwargs)  # type: ignore[arg-type]


def test_crossed_book_is_refused() -> None:
    with pytest.raises(ValueError, match="crossed or locked book"):
        aggressive_limit_price("buy", 0, D(100), D(100), BTC, AggressiveLimitParams())
