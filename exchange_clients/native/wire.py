"""Wire scalars every native venue reads the same way: exact decimals, millisecond times.

Venues send numbers as decimal strings (or, through ``networking.json_codec``, as ``Decimal``)
and times as integer milliseconds. Parsing them lives here once, so every venue refuses a float
or a non-number with the same ``ValueError`` and no venue re-implements the rounding of a time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation


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


def datetime_to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def now_ms() -> int:
    """Our clock in epoch milliseconds (venues with a clock offset add theirs)."""
    return time.time_ns() // 1_000_000
