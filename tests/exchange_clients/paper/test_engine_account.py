"""Fees, margin, PnL, funding and liquidation of the paper engine, computed by hand.

Book (helpers): asks 1 @ 100.0, 2 @ 100.5, 3 @ 101.0; bids 1 @ 99.5, 2 @ 99.0, 3 @ 98.5;
mark (mid) 99.75; maintenance margin rate 1/40 = 0.025; default leverage 10.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from core.errors import InsufficientMargin, InvalidOrder, UnknownSymbol
from exchange_clients.paper.state import (
    AccountRecord,
    AccountSnapshot,
    FundingPayment,
    PositionRecord,
)
from exchange_clients.types import OrderStatus
from tests.exchange_clients.paper.helpers import (
    START,
    SYMBOL,
    D,
    Now,
    funding,
    limit,
    market,
    new_engine,
)

# --- fees ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("venue", "taker_fee", "maker_fee"),
    [
        # paper_a: 0.045 % taker, 0.015 % maker; paper_b: 0.05 % / 0.02 %.
        ("paper_a", D("0.045"), D("0.014925")),
        ("paper_b", D("0.05"), D("0.0199")),
    ],
)
def test_taker_and_maker_fees_follow_the_venue_profile(
    venue: str, taker_fee: D, maker_fee: D
) -> None:
    engine = new_engine(venue)
    taker = engine.place(market("buy", "1", "taker"))  # 1 @ 100.0
    maker = engine.place(limit("buy", "1", "99.5", "maker"))
    engine.apply_trade(SYMBOL, D("99.0"), D("1"), "sell")
    assert (taker.fee_paid, maker.fee_paid) == (taker_fee, maker_fee)
    assert [f.liquidity for f in engine.drain().fills()] == ["taker", "maker"]
    assert engine.balance().wallet == D(10_000) - taker_fee - maker_fee


# --- margin ----------------------------------------------------------------------------------


def test_an_order_needs_its_initial_margin_plus_taker_fee_available() -> None:
    engine = new_engine(wallet="50")
    with pytest.raises(InsufficientMargin) as refused:
        engine.place(market("buy", "7", "big"))  # walks 604 USD: 60.4 margin + 0.302 fee
    assert (refused.value.required, refused.value.available) == (D("60.702"), D("50"))
    assert engine.drain().order_events == []


def test_resting_orders_reserve_margin() -> None:
    engine = new_engine(wallet="100")
    engine.place(limit("buy", "5", "99.0", "a"))  # reserves 5 x 99 / 10 = 49.5
    assert (engine.balance().margin_used, engine.balance().available) == (D("49.5"), D("50.5"))
    engine.place(limit("buy", "5", "99.0", "b"))  # needs 49.5 + 0.2475 <= 50.5
    assert engine.balance().available == D("1.0")
    with pytest.raises(InsufficientMargin) as refused:
        engine.place(limit("buy", "5", "99.0", "c"))
    assert (refused.value.required, refused.value.available) == (D("49.7475"), D("1.0"))


def test_orders_that_close_a_position_need_no_margin() -> None:
    engine = new_engine(wallet="100")
    engine.place(market("buy", "1", "open"))  # long 1 @ 100.0
    position_margin = D("99.75") / 10
    engine.place(limit("sell", "1", "120.0", "close"))
    assert engine.balance().margin_used == position_margin
    engine.place(limit("sell", "2", "120.0", "flip"))  # 3 sells: 2 of them open a short
    assert engine.balance().margin_used == position_margin + D("2") * D("120.0") / 10


def test_leverage_limits_and_what_it_reserves() -> None:
    engine = new_engine(wallet="100")
    assert engine.leverage(SYMBOL) == D("10")  # min(10, max leverage 20)
    for bad in ("0.5", "21"):
        with pytest.raises(InvalidOrder, match=r"outside 1\.\.20"):
            engine.set_leverage(SYMBOL, D(bad))
    assert engine.set_leverage(SYMBOL, D("20")) == D("20")
    engine.place(limit("buy", "10", "99.0", "a"))
    assert engine.balance().margin_used == D("49.5")
    with pytest.raises(InsufficientMargin) as refused:
        engine.set_leverage(SYMBOL, D("1"))  # would reserve 990 of 100 equity
    assert (refused.value.required, refused.value.available) == (D("990"), D("100"))
    assert engine.leverage(SYMBOL) == D("20")


# --- positions and PnL -----------------------------------------------------------------------


def test_entry_averages_on_increases_and_reductions_realise_pnl() -> None:
    engine = new_engine()
    engine.place(market("buy", "1", "a"))  # 1 @ 100.0, fee 0.05
    engine.place(market("buy", "2", "b"))  # 2 @ 100.5, fee 0.1005
    (position,) = engine.positions()
    assert (position.size, position.entry_price) == (D("3"), D("301") / 3)

    engine.place(market("sell", "1.5", "c"))  # 1 @ 99.5 + 0.5 @ 99.0 = 149, fee 0.0745
    # Realised: 149 - 301 x 1.5 / 3 = -1.5.
    assert engine.balance().wallet == D("10000") - D("0.05") - D("0.1005") - D("0.0745") - D("1.5")
    (position,) = engine.positions()
    assert (position.size, position.entry_price) == (D("1.5"), D("150.5") / D("1.5"))
    assert position.unrealized_pnl == D("1.5") * D("99.75") - D("150.5")


def test_a_flip_closes_the_position_and_opens_the_rest_at_the_fill_price() -> None:
    engine = new_engine()
    engine.place(market("buy", "1", "long"))  # 1 @ 100.0
    engine.place(market("sell", "3", "flip"))  # 1 @ 99.5 closes (-0.5), 2 @ 99.0 open a short
    (position,) = engine.positions()
    assert (position.size, position.entry_price) == (D("-2"), D("99.0"))
    fees = D("0.05") + (D("99.5") + D("198")) * D("0.0005")
    assert engine.balance().wallet == D("10000") - fees - D("0.5")
    assert position.unrealized_pnl == D("198") - D("2") * D("99.75")


# --- funding ---------------------------------------------------------------------------------


def test_funding_at_each_boundary_longs_pay_shorts_receive() -> None:
    now = Now()  # 12:00, paper funds hourly
    long, short = new_engine(now=now), new_engine(now=now)
    for engine in (long, short):
        engine.apply_funding_rate(funding("0.0001"))
    long.place(market("buy", "1", "long"))
    short.place(market("sell", "1", "short"))
    wallets = (long.wallet, short.wallet)
    long.drain()
    short.drain()

    now.advance(minutes=59, seconds=59)
    long.settle_funding()
    assert long.wallet == wallets[0]

    now.advance(seconds=1)  # 13:00
    for engine in (long, short):
        engine.settle_funding()
    paid = D("1") * D("99.75") * D("0.0001")  # size x mark x rate = 0.009975
    assert (long.wallet, short.wallet) == (wallets[0] - paid, wallets[1] + paid)
    assert long.drain().funding == [
        FundingPayment(
            symbol=SYMBOL,
            paid_at=START + timedelta(hours=1),
            rate=D("0.0001"),
            position_size=D("1"),
            mark_price=D("99.75"),
            amount=-paid,
        )
    ]
    assert short.positions()[0].accrued_funding == paid
    assert long.next_funding_time() == START + timedelta(hours=2)


def test_negative_funding_is_paid_by_shorts_and_missed_boundaries_are_all_settled() -> None:
    now = Now()
    engine = new_engine(now=now)
    engine.apply_funding_rate(funding("-0.0002"))
    engine.place(market("sell", "1", "short"))
    engine.drain()
    before = engine.wallet
    now.advance(hours=3, minutes=30)  # 13:00, 14:00 and 15:00 passed
    engine.settle_funding()
    payments = engine.drain().funding
    assert [p.paid_at.hour for p in payments] == [13, 14, 15]
    assert all(p.amount == D("-0.01995") for p in payments)  # -(-1) x 99.75 x -0.0002
    assert engine.wallet == before - 3 * D("0.01995")


def test_eight_hour_profile_charges_once_per_eight_hours_at_the_eight_hour_rate() -> None:
    now = Now()  # 12:00; paper_b funds at 00:00, 08:00, 16:00 UTC
    engine = new_engine("paper_b", now=now)
    engine.apply_funding_rate(funding("0.0001", venue="paper_b", hours=1))  # a 1 h feed
    rate = engine.funding_rate(SYMBOL)
    assert (rate.venue, rate.rate, rate.interval_hours) == ("paper_b", D("0.0008"), D("8"))
    assert rate.next_funding_time == START.replace(hour=16)
    engine.place(market("buy", "1", "long"))
    engine.drain()

    now.advance(hours=3)  # 15:00
    engine.settle_funding()
    assert engine.drain().funding == []
    now.advance(hours=1)  # 16:00
    engine.settle_funding()
    (payment,) = engine.drain().funding
    assert (payment.rate, payment.amount) == (D("0.0008"), -D("99.75") * D("0.0008"))


def test_the_predicted_rate_is_restated_like_the_rate() -> None:
    feed = replace(funding("0.0001", hours=1), predicted_rate=D("0.0002"))
    same = new_engine()  # 1 h, as the feed
    same.apply_funding_rate(feed)
    assert same.funding_rate(SYMBOL).predicted_rate == D("0.0002")
    eight = new_engine("paper_b")
    eight.apply_funding_rate(replace(feed, venue="paper_b"))
    assert eight.funding_rate(SYMBOL).predicted_rate == D("0.0016")
    eight.apply_funding_rate(replace(feed, venue="paper_b", predicted_rate=None))
    assert eight.funding_rate(SYMBOL).predicted_rate is None


# --- liquidation -----------------------------------------------------------------------------


def test_liquidation_price_of_a_long() -> None:
    engine = new_engine(wallet="100")
    engine.place(market("buy", "6", "long"))  # 604 USD, fee 0.302: wallet 99.698
    (position,) = engine.positions()
    # (s·e - W) / (s (1 - mmr)) = (604 - 99.698) / (6 x 0.975)
    assert position.liquidation_price == D("504.302") / D("5.85")
    assert position.liquidation_price is not None
    price = position.liquidation_price
    equity = D("99.698") + 6 * price - 604
    assert abs(equity - 6 * price * D("0.025")) < D("1e-20")


def test_liquidation_price_of_a_short() -> None:
    engine = new_engine(wallet="100")
    engine.place(market("sell", "6", "short"))  # 99.5 + 198 + 295.5 = 593, fee 0.2965
    (position,) = engine.positions()
    # (W + s·e) / (s (1 + mmr)) = (99.7035 + 593) / (6 x 1.025)
    assert position.liquidation_price == D("692.7035") / D("6.15")


def test_a_well_collateralised_long_has_no_liquidation_price() -> None:
    engine = new_engine()
    engine.place(market("buy", "1", "long"))
    assert engine.positions()[0].liquidation_price is None


def test_forced_liquidation_when_the_mark_crosses_the_liquidation_price() -> None:
    engine = new_engine(wallet="100")
    engine.place(market("buy", "6", "long"))  # liquidation price ~86.21
    resting = engine.place(limit("sell", "0.5", "120.0", "take-profit"))
    engine.drain()

    engine.apply_book_snapshot(SYMBOL, ((D("90.0"), D("10")),), ((D("90.5"), D("10")),))
    assert engine.drain().order_events == []  # mark 90.25: still above it

    with capture_logs() as logs:
        engine.apply_book_snapshot(SYMBOL, ((D("85.0"), D("10")),), ((D("85.5"), D("10")),))
    changes = engine.drain()
    updates = changes.order_updates()
    assert [(u.client_order_id, u.status) for u in updates] == [
        ("take-profit", OrderStatus.CANCELLED),
        ("liq-3", OrderStatus.FILLED),
    ]
    assert updates[1].reduce_only
    assert [(f.side, f.price, f.size, f.fee) for f in changes.fills()] == [
        ("sell", D("85.0"), D("6"), D("0.255"))
    ]
    assert resting.status is OrderStatus.CANCELLED
    assert engine.positions() == []
    assert engine.wallet == D("99.698") + (D("510") - D("604")) - D("0.255")
    assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == [
        "paper account liquidated"
    ]


# --- restart ---------------------------------------------------------------------------------


def test_restoring_a_position_on_an_unlisted_market_fails_loudly() -> None:
    engine = new_engine()
    snapshot = AccountSnapshot(
        account=AccountRecord(
            wallet=D(5),
            next_order_seq=9,
            funding_settled_until=START,
            leverage={"BTC": D(3), "GONE": D(2)},  # leverage of a delisted market is moot
        ),
        open_orders=[],
        positions=[PositionRecord("GONE", D(1), D(10), D(0))],
        client_order_ids={"old"},
    )
    with pytest.raises(UnknownSymbol, match="GONE"):
        engine.restore(snapshot)


def test_the_mark_is_the_feed_mid_and_the_feed_mark_only_without_one() -> None:
    engine = new_engine()
    engine.place(market("buy", "1", "long"))
    engine.apply_funding_rate(replace(funding("0.0001"), mark_price=D("120")))
    assert engine.positions()[0].mark_price == D("99.75")  # the book has a mid
    engine.apply_book_snapshot(SYMBOL, ((D("99.0"), D("1")),), ())  # one-sided: no mid
    engine.apply_funding_rate(replace(funding("0.0001"), mark_price=D("98.5")))
    assert engine.positions()[0].mark_price == D("98.5")
