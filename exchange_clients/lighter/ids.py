"""Our string client order ids <-> Lighter's integer ``client_order_index``.

Lighter identifies an order by a client-chosen integer (``ClientOrderIndex``, 48 bits). Ours are
strings (<= 32 chars of ``[a-z0-9-]``, execution/client_ids.py), so the index is derived, not
stored: ``1 + (first 8 bytes of sha256(id) as an int) mod (2**48 - 1)``. Deterministic, so a
restarted process finds its orders by the same id; within the 48-bit range the venue allows.
Collisions are astronomically rare (birthday bound ~2**24 ids), but among the ids this process
knows one is refused loudly rather than letting two orders share an index.
"""

from __future__ import annotations

import hashlib

from core.errors import InvalidOrder
from exchange_clients.lighter.wire import MAX_CLIENT_ORDER_INDEX, VENUE


def client_order_index(client_order_id: str) -> int:
    digest = hashlib.sha256(client_order_id.encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % MAX_CLIENT_ORDER_INDEX


class ClientIdMap:
    """The ids this process has seen, both ways."""

    def __init__(self) -> None:
        self._by_index: dict[int, str] = {}

    def index(self, client_order_id: str) -> int:
        """The index for ``client_order_id``, remembered; ``InvalidOrder`` on a collision."""
        index = client_order_index(client_order_id)
        known = self._by_index.setdefault(index, client_order_id)
        if known != client_order_id:
            raise InvalidOrder(
                f"client order ids {known!r} and {client_order_id!r} map to the same "
                f"client_order_index {index}; use another id",
                venue=VENUE,
            )
        return index

    def client_id(self, index: int) -> str | None:
        return self._by_index.get(index)

    @property
    def by_index(self) -> dict[int, str]:
        return self._by_index
