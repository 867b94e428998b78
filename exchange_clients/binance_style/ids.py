"""Client order ids on Binance-style venues: ours travel as they are, if the venue allows them.

The venue takes our string id as ``newClientOrderId`` (and answers with it as
``clientOrderId``), so no mapping is needed, only its rule from "New Order (TRADE)": 1 to 36
characters of ``[.A-Z:/a-z0-9_-]``. An id outside it is refused here, before anything is sent.
"""

from __future__ import annotations

import re

from core.errors import InvalidOrder

CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


def check_client_id(client_order_id: str, *, venue: str) -> None:
    """``InvalidOrder`` unless the venue accepts ``client_order_id`` as it is."""
    if not CLIENT_ID.match(client_order_id):
        raise InvalidOrder(
            f"client order id {client_order_id!r} must be 1-36 characters of [.A-Z:/a-z0-9_-]",
            venue=venue,
        )
