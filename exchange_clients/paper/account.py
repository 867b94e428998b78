"""The account as a whole, computed from its symbols: totals for margin checks, and the
positions a client reports (with their cross-margin liquidation prices).

Formulas in :mod:`.margin`; these functions only add them up over the account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from exchange_clients.paper.margin import liquidation_price
from exchange_clients.paper.symbol_state import SymbolState
from exchange_clients.types import Position

_ZERO = Decimal(0)


@dataclass(slots=True)
class Totals:
    """Read-only by convention; not frozen because it is built on every order placement and
    a frozen dataclass costs three times as much to build."""

    unrealized_pnl: Decimal
    margin_used: Decimal  # positions' initial margin + resting orders' reserved margin
    maintenance: Decimal


def account_totals(symbols: Iterable[SymbolState]) -> Totals:
    upnl = margin_used = maintenance = _ZERO
    for sym in symbols:
        if sym.size:
            mark = sym.mark_price()
            notional = abs(sym.size) * mark
            upnl += sym.unrealized_pnl(mark)
            margin_used += notional / sym.leverage
            maintenance += notional * sym.mmr
        if sym.buy_size or sym.sell_size:
            margin_used += sym.orders_margin()
    return Totals(upnl, margin_used, maintenance)


Term = tuple[SymbolState, Decimal, Decimal, Decimal, Decimal]
"""One held symbol's (symbol, mark, notional, unrealised PnL, maintenance)."""


def position_terms(held: Iterable[SymbolState]) -> tuple[list[Term], Decimal, Decimal]:
    """Each held symbol's terms and their unrealised PnL and maintenance totals, worked out
    with the expressions and in the order of :func:`account_totals` (the same numbers, to the
    digit). The liquidation check computes them after every book change; the balance and the
    positions read next reuse them (:func:`totals_of`, :func:`positions_of`)."""
    terms = []
    total_upnl = total_maintenance = _ZERO
    for sym in held:
        if sym.size:
            mark = sym.mark_price()
            notional = abs(sym.size) * mark
            upnl = sym.unrealized_pnl(mark)
            maintenance = notional * sym.mmr
            total_upnl += upnl
            total_maintenance += maintenance
            terms.append((sym, mark, notional, upnl, maintenance))
    return terms, total_upnl, total_maintenance


def totals_of(
    symbols: Iterable[SymbolState], terms: list[Term], upnl: Decimal, maintenance: Decimal
) -> Totals:
    """:func:`account_totals` from the held symbols' :func:`position_terms` (``symbols`` all
    of the account's, in the order the terms were taken): only the margin is added up, in
    the same order, position and orders symbol by symbol."""
    margin_used = _ZERO
    notionals = iter(terms)
    for sym in symbols:
        if sym.size:
            margin_used += next(notionals)[2] / sym.leverage
        if sym.buy_size or sym.sell_size:
            margin_used += sym.orders_margin()
    return Totals(upnl, margin_used, maintenance)


def open_positions(symbols: Iterable[SymbolState], wallet: Decimal) -> list[Position]:
    """Every open position, valued at its mark; the others held at theirs for its
    liquidation price (cross margin)."""
    return positions_of(*position_terms(symbols), wallet)


def positions_of(
    terms: list[Term], total_upnl: Decimal, total_maintenance: Decimal, wallet: Decimal
) -> list[Position]:
    """The positions of :func:`position_terms`' terms and totals, at ``wallet``.

    Each held symbol's terms are worked out once (a position read on every strategy step
    was three passes over them)."""
    # Position's fields in order (symbol, size, entry price, mark, liquidation price,
    # unrealised PnL, accrued funding, leverage, margin): by position, as keywords cost a
    # microsecond a position more on every rebuild.
    return [
        Position(
            sym.symbol,
            sym.size,
            sym.entry_notional / abs(sym.size),
            mark,
            liquidation_price(
                size=sym.size,
                entry_notional=sym.entry_notional,
                mmr=sym.mmr,
                wallet=wallet,
                other_unrealized_pnl=total_upnl - upnl,
                other_maintenance=total_maintenance - maintenance,
            ),
            upnl,
            sym.accrued_funding,
            sym.leverage,
            notional / sym.leverage,
        )
        for sym, mark, notional, upnl, maintenance in terms
    ]
