"""Our client order ids <-> Hyperliquid cloids.

Hyperliquid's client order id (``cloid``) is 16 bytes written as ``0x`` + 32 lowercase hex
characters; ours are free text (``<tag>-<ms>-<seq>``, see execution/client_ids.py). The mapping
is the first 16 bytes of keccak-256 of the UTF-8 id: deterministic, so a process that restarts
can find an order placed by its predecessor from the client id alone (``orderStatus`` accepts a
cloid). It cannot be inverted, so :class:`CloidBook` remembers every pair this process has seen:
ids it placed, and ids a caller named (order_status / cancel_by_client_id), which is how fills
of orders placed by an earlier process resolve once the runtime reconciles them.
"""

from __future__ import annotations

from eth_utils.crypto import keccak

CLOID_BYTES = 16


def to_cloid(client_order_id: str) -> str:
    """The cloid we send for ``client_order_id`` (``0x`` + 32 hex characters)."""
    if not client_order_id:
        raise ValueError("a client order id cannot be empty")
    return "0x" + bytes(keccak(client_order_id.encode()))[:CLOID_BYTES].hex()


class CloidBook:
    """Known cloid -> client order id pairs (and venue order id -> client order id)."""

    def __init__(self) -> None:
        self._by_cloid: dict[str, str] = {}
        self._by_oid: dict[int, str] = {}

    def remember(self, client_order_id: str) -> str:
        cloid = to_cloid(client_order_id)
        self._by_cloid[cloid] = client_order_id
        return cloid

    def remember_oid(self, oid: int, client_order_id: str) -> None:
        self._by_oid[oid] = client_order_id

    def client_id(self, cloid: str | None, oid: int | None = None) -> str | None:
        """The client id behind ``cloid`` (or ``oid``), or ``None`` if this process never saw it."""
        if cloid is not None:
            found = self._by_cloid.get(cloid.lower())
            if found is not None:
                return found
        return self._by_oid.get(oid) if oid is not None else None
