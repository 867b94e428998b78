"""Our client order ids on EdgeX: sent as they are.

EdgeX's ``clientOrderId`` is a free string (the SDK sends ``time.time_ns()`` as text; the docs'
samples are digits), stored with the order and searchable (``getOrderByClientOrderId``,
``cancelOrderByClientOrderId``), so ours travel unchanged. It also fixes the order's signed
``l2Nonce`` (SHA-256 of the id), so one id can only ever sign one order.
"""

from __future__ import annotations

from core.errors import InvalidOrder

MAX_LENGTH = 64


def to_wire(client_order_id: str, *, venue: str) -> str:
    """The ``clientOrderId`` for ``client_order_id``; ``InvalidOrder`` if it cannot take it."""
    if 0 < len(client_order_id) <= MAX_LENGTH and client_order_id.isascii():
        return client_order_id
    raise InvalidOrder(
        f"client order id {client_order_id!r} is not 1-{MAX_LENGTH} ASCII characters",
        venue=venue,
    )
