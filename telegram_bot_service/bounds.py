"""Numbers typed into a chat, parsed as Decimal and held to bounds before anything uses them.

``Decimal("1e999999")`` is finite and positive, and ``Decimal("1E-22")`` too: "a positive
number" lets both through to arithmetic that overflows (the user read "Something went wrong")
or to a config that trades dust. Every number a user types is read here, as text: at most
``places`` decimals, inside ``[low, high]``, or None. The bounds of a /new_config question are
the field's schema bounds held inside what a chat may set (:func:`number_rule`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import annotated_types
from pydantic.fields import FieldInfo

from trading_config.questions import constraints

MAX_AMOUNT = Decimal(1_000_000)  # the most any number typed into /new_config may be
MAX_LEVERAGE = Decimal(50)
PLACES = 4  # decimals of a non-USD number (percentages, prices)

# Plain notation only (no exponent, no NaN/Infinity, no underscores): what a person types.
_NUMBER = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")


def parse_bounded(text: str, low: Decimal, high: Decimal, *, places: int) -> Decimal | None:
    """``text`` as a Decimal in ``[low, high]`` with at most ``places`` decimals, else None.

    Thousands separators (``1,000``) and a trailing ``x`` (``10x`` leverage) are accepted.
    """
    cleaned = text.replace(",", "").strip().removesuffix("x").strip()
    if not _NUMBER.fullmatch(cleaned):
        return None
    try:
        value = Decimal(cleaned)
        if not low <= value <= high:
            return None
        return value if value == value.quantize(Decimal(1).scaleb(-places)) else None
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class NumberRule:
    """What a chat answer for one numeric field may be: ``[low, high]``, ``places`` decimals."""

    low: Decimal
    high: Decimal
    places: int
    usd: bool  # an amount of USD: said so, and in cents

    def read(self, text: str) -> Decimal | None:
        return parse_bounded(text, self.low, self.high, places=self.places)

    def explain(self) -> str:
        if self.usd:
            return (
                f"Send a number of USD from {self.low:,.2f} to {self.high:,.2f}, in cents at "
                "most, e.g. 100."
            )
        whole = "a whole number" if self.places == 0 else "a number"
        return f"{whole.capitalize()} from {self.low:f} to {self.high:f}" + (
            f" (at most {self.places} decimals)." if self.places else "."
        )


def number_rule(info: FieldInfo, field: str, *, integer: bool) -> NumberRule:
    """The schema's bounds for ``field``, held inside what a chat may set (see the module doc):
    USD amounts (``*_usd``) from 1 to 1,000,000 in cents, leverage from 1 to 50, other
    numbers up to 1,000,000 with at most 4 decimals (whole numbers: none)."""
    usd = field.endswith("_usd")
    places = 0 if integer else 2 if usd else PLACES
    quantum = Decimal(1).scaleb(-places)
    low, high = Decimal(0), MAX_AMOUNT
    if usd:
        low = Decimal(1)
    elif "leverage" in field:
        low, high = Decimal(1), MAX_LEVERAGE
    for item in constraints(info):
        if isinstance(item, annotated_types.Gt):
            low = max(low, Decimal(str(item.gt)) + quantum)
        elif isinstance(item, annotated_types.Ge):
            low = max(low, Decimal(str(item.ge)))
        elif isinstance(item, annotated_types.Lt):
            high = min(high, Decimal(str(item.lt)) - quantum)
        elif isinstance(item, annotated_types.Le):
            high = min(high, Decimal(str(item.le)))
    return NumberRule(low, high, places, usd)
