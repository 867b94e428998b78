"""Our string client order ids <-> Backpack's ``clientId`` (a uint32).

Backpack's ``clientId`` is an unsigned 32-bit integer ("Execute order": ``clientId integer
<uint32>``), while ours are up to 32 characters of ``[a-z0-9-]``. The mapping is deterministic,
so any process (or a restart) computes the same venue id for the same order and can find the
order again by it: the first 4 bytes of ``sha256(our id)``, big-endian.

Different ids can map to the same uint32. Two orders sharing a ``clientId`` could not be told
apart (queries and cancels by client id would hit either), so this process never sends a
``clientId`` that an order it knows about already uses: :meth:`ClientIdMap.reserve` raises
:class:`ClientIdCollision` instead, and the execution layer simply generates a new id.

Collision probability: a new id collides with one of ``n`` ids already known with probability
``n / 2**32`` (2.3e-6 at n = 10,000); over a process lifetime of ``n`` ids the chance that any
collision happens at all is about ``n**2 / 2**33`` (1.2 % at 10,000 ids, 0.01 % at 1,000).
Every collision is caught by the guard; none is ever sent.
"""

from __future__ import annotations

import hashlib

from core.errors import InvalidOrder

U32_MAX = 2**32 - 1


class ClientIdCollision(InvalidOrder):
    """Our id maps to a Backpack ``clientId`` already used by another order of this process."""

    def __init__(self, client_order_id: str, other: str, value: int, *, venue: str) -> None:
        self.client_order_id = client_order_id
        self.other = other
        self.value = value
        super().__init__(
            f"client order id {client_order_id!r} maps to Backpack clientId {value}, already "
            f"used by {other!r}; generate a new client order id",
            venue=venue,
        )


def to_u32(client_order_id: str) -> int:
    """Backpack ``clientId`` of one of our ids: first 4 bytes of its SHA-256, big-endian."""
    return int.from_bytes(hashlib.sha256(client_order_id.encode()).digest()[:4], "big")


class ClientIdMap:
    """The ids this process knows, both ways."""

    def __init__(self, venue: str = "backpack") -> None:
        self.venue = venue
        self._by_u32: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._by_u32)

    def reserve(self, client_order_id: str) -> int:
        """The ``clientId`` to send for ``client_order_id``; raises on a collision."""
        value = to_u32(client_order_id)
        known = self._by_u32.get(value)
        if known is not None and known != client_order_id:
            raise ClientIdCollision(client_order_id, known, value, venue=self.venue)
        self._by_u32[value] = client_order_id
        return value

    def ours(self, value: object) -> str | None:
        """Our id for a venue ``clientId`` (int or numeric string), if this process knows it."""
        try:
            number = int(str(value))
        except ValueError:
            return None
        return self._by_u32.get(number)

    def lookup(self, client_order_id: str) -> int:
        """The ``clientId`` of an id (sent by us or not): for queries and cancels."""
        return to_u32(client_order_id)
