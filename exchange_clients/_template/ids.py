"""Our client order ids on the venue: sent as they are when the venue's rule allows them.

A venue that takes only integers (Backpack's uint32, Lighter's 48-bit index) or fixed-length
hex (Hyperliquid's cloid) maps ours here, deterministically, so an id can be found again by a
process that did not send it.
"""

from __future__ import annotations

import re

from core.errors import InvalidOrder

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def to_wire(client_order_id: str, *, venue: str) -> str:
    """The id the venue stores for ``client_order_id``; ``InvalidOrder`` if it cannot take it."""
    if not CLIENT_ID.match(client_order_id):
        raise InvalidOrder(
            f"client order id {client_order_id!r} must be 1-32 characters of [A-Za-z0-9_-]",
            venue=venue,
        )
    return client_order_id
