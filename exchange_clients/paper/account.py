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
    liquidation price (cross margin)."""
    held = [sym for sym in symbols if sym.size]
    account = account_totals(held)
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
                    wallet=wallet,
                    other_unrealized_pnl=account.unrealized_pnl - upnl,
                    other_maintenance=account.maintenance - maintenance,
                ),
                unrealized_pnl=upnl,
                accrued_funding=sym.accrued_funding,
                leverage=sym.leverage,
                margin=notional / sym.leverage,
            )
        )
    return result
