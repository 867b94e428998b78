"""Wire scalars every native venue reads the same way: exact decimals, millisecond times.

Venues send numbers as decimal strings (or, through ``networking.json_codec``, as ``Decimal``)
and times as integer milliseconds. Parsing them lives here once, so every venue refuses a float
or a non-number with the same ``ValueError`` and no venue re-implements the rounding of a time.

A fill record is read the same way too: an id, an order id, a side, a price and a size in venue
units, a fee and its asset, a maker (or taker) flag and a time, under keys that differ by venue.
A :class:`FillFormat` names those keys once per message type, and :meth:`FillFormat.read`
converts to internal units in one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from exchange_clients.types import Fill, Market, Side


def to_decimal(value: object) -> Decimal:
    """A wire number (string, int or the codec's ``Decimal``) as ``Decimal``; never via float."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise ValueError(f"refusing to read {value!r} as an exact number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def optional_decimal(value: object) -> Decimal | None:
    """``None`` for an absent or empty field, else :func:`to_decimal`."""
    return None if value is None or value == "" else to_decimal(value)


def wire_decimal(value: Decimal) -> str:
    """``value`` as a plain decimal string (no exponent, no trailing zeros)."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def ms_to_datetime(ms: int | str | Decimal) -> datetime:
    """Epoch milliseconds (as the venue sent them) as an aware UTC ``datetime``."""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def ms_field(key: str) -> Callable[[Mapping[str, Any]], datetime]:
    """The time a record keeps in epoch milliseconds under ``key`` (a :class:`FillFormat` time)."""
    return lambda record: ms_to_datetime(int(record[key]))


def datetime_to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def now_ms() -> int:
    """Our clock in epoch milliseconds (venues with a clock offset add theirs)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class FillFormat:
    """Where one venue message type keeps a fill's fields.

    ``keys`` are those of the fill id, order id, side, price, size, fee and fee asset, in that
    order; ``maker`` names the flag set on a maker fill, or ``taker`` the one set on a taker
    fill; ``fee_asset`` stands for a record naming none (empty: the market's quote currency).
    """

    keys: tuple[str, str, str, str, str, str, str]
    side: Callable[[str], Side]
    time: Callable[[Mapping[str, Any]], datetime]
    maker: str = ""
    taker: str = ""
    fee_asset: str = ""

    def read(
        self, venue: str, record: Mapping[str, Any], market: Market, client_order_id: str | None
    ) -> Fill:
        """The fill ``record`` carries, in internal units."""
        fill_id, order_id, side, price, size, fee, fee_asset = self.keys
        maker = bool(record.get(self.maker)) if self.maker else not record.get(self.taker)
        return Fill(
            venue=venue,
            fill_id=str(record[fill_id]),
            client_order_id=client_order_id,
            venue_order_id=str(record[order_id]),
            symbol=market.symbol,
            side=self.side(str(record[side])),
            price=market.from_venue_price(to_decimal(record[price])),
            size=market.from_venue_size(to_decimal(record[size])),
            fee=to_decimal(record.get(fee, "0")),
            liquidity="maker" if maker else "taker",
            ts=self.time(record),
            fee_asset=str(record.get(fee_asset) or self.fee_asset or market.quote),
        )
