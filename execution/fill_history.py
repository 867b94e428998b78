"""A venue's fill history per order, for fills our streams never delivered.

After a crash (or while a private stream was silent) an order's final state says how much
filled, but its executions - the rows realised PnL and fee analytics are built from - were
never received. Venues that report an order's fills implement :class:`FillHistory`; the
journal then stores them under the venue's own fill ids, so each execution is recorded once
however many times (stream, history, a second recovery) it is reported.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from exchange_clients.types import Fill


@runtime_checkable
class FillHistory(Protocol):
    """A client that can list the executions of one of its orders."""

    async def order_fills(self, symbol: str, client_order_id: str) -> list[Fill]: ...


async def venue_fills(client: object, symbol: str, client_order_id: str) -> list[Fill] | None:
    """The order's fills as the venue reports them; None when the venue cannot say."""
    if isinstance(client, FillHistory):
        return await client.order_fills(symbol, client_order_id)
    return None
