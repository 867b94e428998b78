"""Our string client order ids <-> GRVT's ``client_order_id`` (a uint64).

GRVT's ``metadata.client_order_id`` is a uint64, unique among a sub-account's active orders;
its docs ask API clients to use the upper half, ``[2**63, 2**64 - 1]``, since its own UI draws
from the lower half. Our ids (up to 32 characters) map deterministically, so a restarted
process finds its orders again: the top bit set over the first 63 bits of ``sha256(our id)``.

Two of our ids can map to the same uint64 (chance about n**2 / 2**64: nil in practice); the
map still refuses to send an id whose number another known order uses
(:class:`ClientIdCollision`), so queries and cancels by client id can never hit the wrong order.
"""

from __future__ import annotations

import hashlib

from core.errors import InvalidOrder

TOP_BIT = 1 << 63


class ClientIdCollision(InvalidOrder):
    """Our id maps to a GRVT client_order_id already used by another order of this process."""


def to_u64(client_order_id: str) -> int:
    """The GRVT ``client_order_id`` of one of our ids (always >= 2**63)."""
    digest = hashlib.sha256(client_order_id.encode()).digest()
    return TOP_BIT | (int.from_bytes(digest[:8], "big") & (TOP_BIT - 1))


class ClientIdMap:
    """The ids this process knows, both ways."""

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self._ours: dict[int, str] = {}

    def reserve(self, client_order_id: str) -> int:
        value = to_u64(client_order_id)
        known = self._ours.get(value)
        if known is not None and known != client_order_id:
            raise ClientIdCollision(
                f"client order id {client_order_id!r} maps to GRVT client_order_id {value}, "
                f"already used by {known!r}; generate a new client order id",
                venue=self.venue,
            )
        self._ours[value] = client_order_id
        return value

    def ours(self, wire_id: object) -> str | None:
        """Our id for a wire ``client_order_id`` this process knows."""
        try:
            return self._ours.get(int(str(wire_id)))
        except ValueError:
            return None
