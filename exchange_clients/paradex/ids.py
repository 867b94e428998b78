"""Our client order ids <-> Paradex's ``client_id``.

Paradex takes a free-form ``client_id`` string on ``POST /v1/orders`` and finds orders by it
(``GET``/``DELETE /v1/orders/by_client_id/{client_id}``), so ours (at most 32 characters of
``[A-Za-z0-9_-]``, as the execution layer makes them) travel unchanged: any process finds the
order again by the id it recorded before sending.
"""

from __future__ import annotations

import re

from core.errors import InvalidOrder

MAX_CLIENT_ID = 64
_SAFE = re.compile(r"[A-Za-z0-9_.:-]+")
"""Characters that need no escaping in the ``by_client_id`` path."""


def to_wire(client_order_id: str, *, venue: str) -> str:
    """The ``client_id`` to send; refuses one the venue's path could not carry."""
    if not client_order_id or len(client_order_id) > MAX_CLIENT_ID:
        raise InvalidOrder(
            f"client order id must be 1..{MAX_CLIENT_ID} characters, not {len(client_order_id)}",
            venue=venue,
        )
    if _SAFE.fullmatch(client_order_id) is None:
        raise InvalidOrder(
            f"client order id {client_order_id!r} has characters other than letters, digits "
            "and _ . : -",
            venue=venue,
        )
    return client_order_id
