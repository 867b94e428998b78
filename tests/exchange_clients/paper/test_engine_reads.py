"""The engine's balance and positions, remembered between reads, are always what the account
holds now: read before and after every kind of change, they equal a computation from scratch
(the totals of :func:`account_totals`, the positions of its three passes), to the digit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from exchange_clients.paper.account import account_totals
from exchange_clients.paper.engine import PaperEngine
from exchange_clients.paper.margin import liquidation_price
from exchange_clients.paper.state import AccountSnapshot
from exchange_clients.types import Balance, OrderRequest, Position
from tests.exchange_clients.paper.helpers import (
    MARKET,
    SYMBOL,
    D,
    Now,
    funding,
    limit,
    market,
)
from tests.exchange_clients.paper.helpers import new_engine as one_symbol_engine

ETH = replace(MARKET, symbol="ETH", contract_id="ETH-PERP")
ETH_BIDS = ((D("49.5"), D("4")), (D("49.0"), D("4")))
ETH_ASKS = ((D("50.0"), D("4")), (D("50.5"), D("4")))


def _engine(now: Now) -> PaperEngine:
    engine = PaperEngine(
        venue="paper",
        account="test",
        profile=one_symbol_engine().profile,
        markets={SYMBOL: MARKET, "ETH": ETH},
        wallet=D("300"),
        now=now,
    )
    engine.apply_book_snapshot(SYMBOL, ((D("99.5"), D("9")),), ((D("100.0"), D("9")),), 1)
    engine.apply_book_snapshot("ETH", ETH_BIDS, ETH_ASKS, 1)
    return engine


def _eth(request: OrderRequest) -> OrderRequest:
    return replace(request, symbol="ETH")


def _balance(engine: PaperEngine) -> Balance:
    totals = account_totals(engine._symbols.values())
    return Balance(engine.wallet, totals.unrealized_pnl, totals.margin_used)


def _positions(engine: PaperEngine) -> list[Position]:
    """The positions as computed before they were remembered: totals first, then each."""
    held = [sym for sym in engine._symbols.values() if sym.size]
    totals = account_totals(held)
    result = []
    for sym in held:
        mark = sym.mark_price()
        upnl = sym.unrealized_pnl(mark)
        notional = abs(sym.size) * mark
        maintenance = notional * sym.mmr
        result.append(
            Position(
                symbol=sym.symbol,
                size=sym.size,
                entry_price=sym.entry_notional / abs(sym.size),
                mark_price=mark,
                liquidation_price=liquidation_price(
                    size=sym.size,
                    entry_notional=sym.entry_notional,
                    mmr=sym.mmr,
                    wallet=engine.wallet,
                    other_unrealized_pnl=totals.unrealized_pnl - upnl,
                    other_maintenance=totals.maintenance - maintenance,
                ),
                unrealized_pnl=upnl,
                accrued_funding=sym.accrued_funding,
                leverage=sym.leverage,
                margin=notional / sym.leverage,
            )
        )
    return result


def _digits(value: object) -> str:
    return repr(value)  # Decimal reprs: equal values written differently are told apart


def test_every_change_is_seen_by_the_next_read() -> None:
    now = Now()
    engine = _engine(now)

    def funding_time() -> None:
        now.advance(hours=1)
        engine.settle_funding()

    changes: list[tuple[str, Callable[[], object]]] = [
        ("long BTC", lambda: engine.place(market("buy", "2", "long-btc"))),
        ("short ETH", lambda: engine.place(_eth(market("sell", "3", "short-eth")))),
        ("resting buy", lambda: engine.place(limit("buy", "1", "99.0", "bid"))),
        ("resting sell", lambda: engine.place(limit("sell", "1", "101.0", "ask"))),
        ("another buy", lambda: engine.place(limit("buy", "1", "98.0", "bid2"))),
        ("cancel", lambda: engine.cancel(SYMBOL, client_order_id="bid2")),
        ("leverage", lambda: engine.set_leverage(SYMBOL, D("5"))),
        (
            "delta",
            lambda: engine.apply_book_delta(
                SYMBOL, ((D("99.6"), D("2")),), (), first_sequence=2, last_sequence=2
            ),
        ),
        (
            "snapshot",
            lambda: engine.apply_book_snapshot(
                "ETH", ((D("51.0"), D("4")),), ((D("51.5"), D("4")),), 3
            ),
        ),
        ("trade", lambda: engine.apply_trade(SYMBOL, D("99.0"), D("5"), "sell")),
        ("funding rate", lambda: engine.apply_funding_rate(funding("0.001"))),
        ("funding time", funding_time),
        ("liquidation check", engine.check_liquidation),
        ("wallet set by hand", lambda: setattr(engine, "wallet", engine.wallet + 7)),
        ("reduce", lambda: engine.place(market("sell", "1", "reduce", reduce_only=True))),
    ]
    seen: set[str] = set()
    for name, change in changes:
        before = (_digits(engine.balance()), _digits(engine.positions()))
        change()
        after = (_digits(engine.balance()), _digits(engine.positions()))
        assert after == (_digits(_balance(engine)), _digits(_positions(engine))), name
        assert after == (_digits(engine.balance()), _digits(engine.positions())), name
        if after != before:
            seen.add(name)
    # The check above proves something only where the change moved the account.
    assert seen >= {"long BTC", "short ETH", "resting buy", "cancel", "delta", "trade"}
    assert seen >= {"snapshot", "funding time", "wallet set by hand", "reduce", "leverage"}
    assert len(engine.positions()) == 2


def test_a_restore_is_seen_too() -> None:
    now = Now()
    engine = _engine(now)
    engine.place(market("buy", "2", "long-btc"))
    engine.balance(), engine.positions()
    snapshot = AccountSnapshot(
        account=replace(engine.account_record(), wallet=D("123")),
        positions=[],
        open_orders=[],
        client_order_ids=set(),
    )
    fresh = _engine(now)
    fresh.balance(), fresh.positions()
    fresh.restore(snapshot)
    assert fresh.balance() == _balance(fresh)
    assert fresh.balance().wallet == D("123")


def test_each_read_of_the_positions_is_a_list_of_its_own() -> None:
    engine = one_symbol_engine()
    engine.place(market("buy", "1", "long"))
    first = engine.positions()
    first.clear()
    assert len(engine.positions()) == 1
    assert engine.balance() is engine.balance()  # immutable: the same reading, shared


def test_two_positions_each_priced_with_the_other_held() -> None:
    engine = _engine(Now())
    engine.place(market("buy", "2", "long-btc"))
    engine.place(_eth(market("sell", "3", "short-eth")))
    btc, eth = engine.positions()
    assert _digits([btc, eth]) == _digits(_positions(engine))
    # The long's liquidation price counts the short's unrealised PnL and maintenance.
    other_upnl = eth.unrealized_pnl
    other_maintenance = abs(eth.size) * eth.mark_price * Decimal(1) / 40
    assert btc.liquidation_price == liquidation_price(
        size=btc.size,
        entry_notional=btc.size * btc.entry_price,
        mmr=Decimal(1) / 40,
        wallet=engine.wallet,
        other_unrealized_pnl=other_upnl,
        other_maintenance=other_maintenance,
    )


def test_a_funding_rate_keeps_the_positions_read_unless_it_moves_the_mark() -> None:
    engine = _engine(Now())
    engine.place(market("buy", "2", "long-btc"))
    engine.place(_eth(market("sell", "3", "short-eth")))
    read = engine.positions()
    engine.apply_funding_rate(funding("0.001"))  # the book has a mid: the mark stays
    assert [a is b for a, b in zip(engine.positions(), read, strict=True)] == [True, True]
    assert engine.balance() is engine.balance()

    engine.apply_book_snapshot(SYMBOL, (), ((D("100.0"), D("9")),), 2)  # no mid any more
    read = engine.positions()
    with_mark = replace(funding("0.001"), mark_price=D("90.00"))
    engine.apply_funding_rate(with_mark)  # now the funding's mark is the mark
    btc, _ = engine.positions()
    assert _digits(btc.mark_price) == "Decimal('90.00')"
    assert _digits(engine.positions()) == _digits(_positions(engine))
    assert _digits(engine.balance()) == _digits(_balance(engine))
    read = engine.positions()
    engine.apply_funding_rate(with_mark)  # the same mark again: nothing to recompute
    assert [a is b for a, b in zip(engine.positions(), read, strict=True)] == [True, True]


def test_the_funding_rate_is_rebuilt_when_what_it_shows_changes() -> None:
    now = Now()
    engine = _engine(now)
    engine.apply_funding_rate(funding("0.001"))
    first = engine.funding_rate(SYMBOL)
    assert engine.funding_rate(SYMBOL) is first  # same feed rate, moment and mark
    now.advance(minutes=10)
    assert engine.funding_rate(SYMBOL) is first  # the same next funding time: it shows the same

    def fresh() -> str:
        """What the rate shows, built from the engine's state without what it remembers."""
        sym = engine._symbols[SYMBOL]
        sym.funding_read = None
        return _digits(engine.funding_rate(SYMBOL))

    now.advance(minutes=50)
    moved = engine.funding_rate(SYMBOL)
    assert first.next_funding_time is not None
    assert moved.next_funding_time == first.next_funding_time + timedelta(hours=1)
    assert _digits(moved) == fresh()
    engine.apply_book_snapshot(SYMBOL, ((D("99.0"), D("9")),), ((D("100.0"), D("9")),), 2)
    marked = engine.funding_rate(SYMBOL)
    assert marked.mark_price == D("99.5")
    assert _digits(marked) == fresh()
    engine.apply_funding_rate(funding("0.002"))
    assert engine.funding_rate(SYMBOL).rate == D("0.002")
    assert _digits(engine.funding_rate(SYMBOL)) == fresh()
