"""Cross-margin formulas of the paper venue, kept apart from the matching so they can be read
(and checked by hand) in one place.

One account holds USD collateral shared by all of its positions (cross margin):

* ``wallet`` = deposits + realised PnL + funding - fees;
* ``unrealised PnL`` of a position = size x (mark - entry);
* ``equity`` = wallet + the sum of unrealised PnL;
* ``initial margin`` of a position = |size| x mark / leverage, of a resting order the
  notional of the part that would open exposure / leverage;
* ``maintenance`` of a position = |size| x mark x mmr, where mmr is the market's
  maintenance margin rate (:func:`~exchange_clients.paper.profiles.maintenance_margin_rate`).

The account is liquidated when equity < total maintenance.
"""

from __future__ import annotations

from decimal import Decimal

_ZERO = Decimal(0)


def liquidation_price(
    *,
    size: Decimal,
    entry_notional: Decimal,
    mmr: Decimal,
    wallet: Decimal,
    other_unrealized_pnl: Decimal,
    other_maintenance: Decimal,
) -> Decimal | None:
    """The mark at which this position triggers liquidation, the others held at their marks.

    Solving equity(P) = maintenance(P) for the position's mark P, with W the wallet,
    U the other positions' unrealised PnL, M their maintenance and s·e the position's entry
    notional (``entry_notional``, |size| x entry price, kept exact by the engine):

    * long (size s > 0):  W + U + s(P - e) = sP·mmr + M  =>  P = (s·e - W - U + M) / (s(1 - mmr))
    * short (s = |size|): W + U - s(P - e) = sP·mmr + M  =>  P = (W + U - M + s·e) / (s(1 + mmr))

    ``None`` when no positive price reaches it (a long backed by more collateral than its
    notional cannot be liquidated) or when flat.
    """
    if size > 0:
        price = (entry_notional - wallet - other_unrealized_pnl + other_maintenance) / (
            size * (1 - mmr)
        )
    elif size < 0:
        held = -size
        price = (wallet + other_unrealized_pnl - other_maintenance + entry_notional) / (
            held * (1 + mmr)
        )
    else:
        return None
    return price if price > _ZERO else None


def opening_orders_margin(
    position: Decimal,
    buy_size: Decimal,
    buy_notional: Decimal,
    sell_size: Decimal,
    sell_notional: Decimal,
    leverage: Decimal,
) -> Decimal:
    """Initial margin reserved by one symbol's resting orders.

    Buys first close a short and sells first close a long; only the part beyond that opens
    exposure and reserves margin, valued at the side's average order price. Both sides are
    reserved (a grid's buys below and sells above may both fill): conservative, like most
    venues' open-order margin.
    """
    margin = _ZERO
    if buy_size:
        closing = -position if position < 0 else _ZERO
        if buy_size > closing:
            margin += (
                buy_notional if not closing else buy_notional * (buy_size - closing) / buy_size
            )
    if sell_size:
        closing = position if position > 0 else _ZERO
        if sell_size > closing:
            margin += (
                sell_notional if not closing else sell_notional * (sell_size - closing) / sell_size
            )
    return margin / leverage
