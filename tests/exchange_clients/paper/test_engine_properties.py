"""Properties of the paper engine under random order/cancel/trade/book/funding sequences.

* Conservation: equity (wallet + unrealised PnL) always equals the initial deposit plus, for
  every fill, its PnL at the current mark (signed size x (mark - price)), minus fees, plus
  funding. Nothing is created or lost by entry averaging, flips, reduce-only resizing or
  liquidation. (Exact up to the 28-digit Decimal context: realised PnL divides.)
* Orders: 0 <= filled <= size at every published state; open orders have size left; a
  final status is never followed by another update of that order.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import TradingError
from exchange_clients.paper.changes import EngineChanges
from exchange_clients.paper.engine import PaperEngine
from exchange_clients.types import OrderRequest, OrderType, Side, TimeInForce
from tests.exchange_clients.paper.helpers import SYMBOL, D, Now, funding, new_engine

TICK = D("0.1")
STEP = D("0.01")
CENTRE = D("99.8")
TOLERANCE = D("1e-15")
ZERO = D(0)


def price(offset: int) -> Decimal:
    return CENTRE + offset * TICK


@dataclass(frozen=True)
class Place:
    side: Side
    size: int  # steps
    offset: int | None  # ticks from CENTRE; None: a market order
    ioc: bool
    post_only: bool
    reduce_only: bool

    def run(self, engine: PaperEngine, now: Now) -> None:
        engine.place(
            OrderRequest(
                symbol=SYMBOL,
                side=self.side,
                size=self.size * STEP,
                order_type=OrderType.MARKET if self.offset is None else OrderType.LIMIT,
                client_order_id=f"o{engine.account_record().next_order_seq}",
                price=None if self.offset is None else price(self.offset),
                post_only=self.post_only and not self.ioc and self.offset is not None,
                reduce_only=self.reduce_only,
                time_in_force=TimeInForce.IOC if self.ioc else TimeInForce.GTC,
            )
        )


@dataclass(frozen=True)
class Cancel:
    pick: int

    def run(self, engine: PaperEngine, now: Now) -> None:
        open_orders = engine.open_orders()
        if open_orders:
            order = open_orders[self.pick % len(open_orders)]
            engine.cancel(SYMBOL, venue_order_id=order.venue_order_id)


@dataclass(frozen=True)
class Trade:
    taker: Side
    offset: int
    size: int

    def run(self, engine: PaperEngine, now: Now) -> None:
        engine.apply_trade(SYMBOL, price(self.offset), self.size * STEP, self.taker)


@dataclass(frozen=True)
class Level:
    bid: bool
    offset: int
    size: int  # 0 removes the level

    def run(self, engine: PaperEngine, now: Now) -> None:
        level = ((price(self.offset), self.size * STEP),)
        engine.apply_book_delta(SYMBOL, level if self.bid else (), () if self.bid else level)


@dataclass(frozen=True)
class Funding:
    basis_points: int
    minutes: int

    def run(self, engine: PaperEngine, now: Now) -> None:
        engine.apply_funding_rate(funding(str(D(self.basis_points) / 10_000)))
        now.advance(minutes=self.minutes)
        engine.settle_funding()


sides: st.SearchStrategy[Side] = st.sampled_from(["buy", "sell"])
offsets = st.integers(min_value=-15, max_value=15)
sizes = st.integers(min_value=2, max_value=300)  # 0.02 .. 3.00
rarely = st.sampled_from([False, False, False, True])
places = st.builds(
    Place,
    side=sides,
    size=sizes,
    offset=st.none() | offsets | offsets,
    ioc=rarely,
    post_only=rarely,
    reduce_only=rarely,
)
operations = st.one_of(
    places,
    places,
    st.builds(Cancel, pick=st.integers(min_value=0, max_value=20)),
    st.builds(Trade, taker=sides, offset=offsets, size=sizes),
    st.builds(Level, bid=st.booleans(), offset=offsets, size=st.integers(0, 300)),
    st.builds(Funding, basis_points=st.integers(-5, 5), minutes=st.integers(1, 180)),
)


@dataclass
class Ledger:
    """An independent account of what equity should be, and of every order's history."""

    equity: Decimal
    net_size: Decimal = ZERO
    cost: Decimal = ZERO  # sum of signed size x price over every fill
    final: set[str] = field(default_factory=set)

    def record(self, changes: EngineChanges) -> None:
        for fill in changes.fills():
            signed = fill.size if fill.side == "buy" else -fill.size
            self.net_size += signed
            self.cost += signed * fill.price
            self.equity -= fill.fee
        for payment in changes.funding:
            self.equity += payment.amount
        for order in changes.order_updates():
            assert order.client_order_id not in self.final, f"{order} changed after final"
            assert 0 <= order.filled_size <= order.size
            if order.status.is_final:
                self.final.add(order.client_order_id)

    def expected_equity(self, mark: Decimal) -> Decimal:
        return self.equity + self.net_size * mark - self.cost


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(operations, min_size=10, max_size=80), wallet=st.sampled_from(["200", "10000"]))
def test_equity_is_conserved_and_order_states_stay_sane(
    ops: list[Place | Cancel | Trade | Level | Funding], wallet: str
) -> None:
    now = Now()
    engine = new_engine(wallet=wallet, now=now)
    engine.apply_funding_rate(funding("0.0001"))
    ledger = Ledger(equity=D(wallet))
    for op in ops:
        # A refused order (margin, post-only, reduce-only, minimums ...) changes nothing.
        with contextlib.suppress(TradingError):
            op.run(engine, now)
        ledger.record(engine.drain())

        positions = engine.positions()
        size = positions[0].size if positions else D(0)
        mark = positions[0].mark_price if positions else D(0)
        assert size == ledger.net_size
        assert abs(engine.balance().equity - ledger.expected_equity(mark)) <= TOLERANCE
        for order in engine.open_orders():
            assert order.status.is_resting
            assert 0 < order.remaining <= order.size
            assert order.queue_ahead >= 0
