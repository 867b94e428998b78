"""What a client has published, so every fill and every order state reaches consumers once.

Venues repeat themselves: a stream replays after a reconnect, the REST catch-up returns fills
the stream already delivered, and order events can arrive out of order. The rules, shared by
every native venue:

* a fill is published once per ``(symbol, fill id)``;
* an order state is published unless it is no news: the order already reached a final state, its
  filled size went backwards (a stale event), or status and filled size equal the last
  published ones (a duplicate).

The ledger also sums each order's fills (size, notional, fees), which venues that do not report
fees or an average price on the order itself attach to it.
"""

from __future__ import annotations

from decimal import Decimal

from exchange_clients.types import ZERO, Fill, Order


class PublishLedger:
    def __init__(self) -> None:
        self._fills: set[str] = set()
        self._orders: dict[str, Order] = {}
        self._totals: dict[str, tuple[Decimal, Decimal, Decimal]] = {}

    @staticmethod
    def fill_key(symbol: str, fill_id: str) -> str:
        return f"{symbol}:{fill_id}"

    def claim_fill(self, key: str) -> bool:
        """Mark a fill seen; False when it already was (then it must not be published)."""
        if key in self._fills:
            return False
        self._fills.add(key)
        return True

    def take_fill(self, fill: Fill) -> bool:
        """Claim ``fill`` and add it to its order's totals; False for a duplicate."""
        if not self.claim_fill(self.fill_key(fill.symbol, fill.fill_id)):
            return False
        if fill.venue_order_id is not None:
            notional, size, fees = self._totals.get(fill.venue_order_id, (ZERO, ZERO, ZERO))
            self._totals[fill.venue_order_id] = (
                notional + fill.price * fill.size,
                size + fill.size,
                fees + fill.fee,
            )
        return True

    def fees(self, venue_order_id: str | None) -> Decimal:
        """Fees of the fills published for this order so far."""
        return self._totals.get(venue_order_id or "", (ZERO, ZERO, ZERO))[2]

    def average_price(self, venue_order_id: str) -> Decimal | None:
        notional, size, _ = self._totals.get(venue_order_id, (ZERO, ZERO, ZERO))
        return notional / size if size > 0 else None

    def take_order(self, order: Order) -> bool:
        """Record ``order`` as published unless it is no news (see the module's rules)."""
        key = order.venue_order_id or ""
        previous = self._orders.get(key)
        if previous is not None and (
            previous.status.is_final
            or order.filled_size < previous.filled_size
            or (previous.status, previous.filled_size) == (order.status, order.filled_size)
        ):
            return False
        self._orders[key] = order
        return True
