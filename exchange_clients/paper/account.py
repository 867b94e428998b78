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


def open_positions(symbols: Iterable[SymbolState], wallet: Decimal) -> list[Position]:
    """Every open position, valued at its mark; the others held at theirs for its
    liquidation price (cross margin).

    Each held symbol's terms are worked out once and added up in the order and with the
    expressions of :func:`account_totals` (so the totals are the same numbers, to the digit):
    a position read on every strategy step was three passes over them."""
    terms = []
    total_upnl = total_maintenance = _ZERO
    for sym in symbols:
        if sym.size:
            mark = sym.mark_price()
            notional = abs(sym.size) * mark
            upnl = sym.unrealized_pnl(mark)
            maintenance = notional * sym.mmr
            total_upnl += upnl
            total_maintenance += maintenance
            terms.append((sym, mark, notional, upnl, maintenance))
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
