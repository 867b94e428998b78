"""Finding a journaled order on its venue: by client order id, else by the venue's own id.

The client order id is how the bot names its orders, and for the orders it sends the venue
looks them up by it. An order the bot *adopted* (:mod:`execution.reconciliation`: placed by
hand or by another program) carries a client id the venue client made up from what the
venue showed - Hyperliquid's is the other program's cloid, or ``hl-<oid>`` when there was
none - and several venues cannot look that up as a client id (Hyperliquid hashes every
client id into a cloid; Lighter, GRVT and Backpack map ids one way). Asked only by client
id, such an order was marked failed at the next start and lost by the tracker's poll, and
could not be cancelled. The venue order id, which every acknowledged order has, names it on
every venue: when the client id is not found and the venue id is known, these ask by it.
The answer keeps the journal's client id (one order, one name in the journal).
"""

from __future__ import annotations

from dataclasses import replace

from core.errors import OrderNotFound
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import Order


async def order_on_venue(
    client: BaseExchangeClient,
    symbol: str,
    client_order_id: str,
    venue_order_id: str | None,
    *,
    by_venue_id: set[str] | None = None,
) -> Order:
    """The venue's state of the order; ``OrderNotFound`` when it knows neither id.

    ``by_venue_id``, the client ids a caller that asks repeatedly (the tracker's poll) has
    seen found only by venue id: those are asked by venue id at once, and an id found that
    way is added - one request a poll instead of two, against the venue's rate limit."""
    if venue_order_id is None or by_venue_id is None or client_order_id not in by_venue_id:
        try:
            return await client.order_status(symbol, client_order_id=client_order_id)
        except OrderNotFound:
            if venue_order_id is None:
                raise
    order = await client.order_status(symbol, venue_order_id=venue_order_id)
    if by_venue_id is not None:
        by_venue_id.add(client_order_id)
    return _named(order, client_order_id)


async def cancel_on_venue(
    client: BaseExchangeClient, symbol: str, client_order_id: str, venue_order_id: str | None
) -> Order:
    """Cancel the order and return its final state; ``OrderNotFound`` as :func:`order_on_venue`."""
    try:
        return await client.cancel_by_client_id(symbol, client_order_id)
    except OrderNotFound:
        if venue_order_id is None:
            raise
    order = await client.cancel_order(symbol, venue_order_id)
    return _named(order, client_order_id)


def _named(order: Order, client_order_id: str) -> Order:
    if order.client_order_id == client_order_id:
        return order
    return replace(order, client_order_id=client_order_id)


__all__ = ["cancel_on_venue", "order_on_venue"]
