"""Numbers typed into a chat, parsed as Decimal and held to bounds before anything uses them.

``Decimal("1e999999")`` is finite and positive, and ``Decimal("1E-22")`` too: "a positive
number" lets both through to arithmetic that overflows (the user read "Something went wrong")
or to a config that trades dust. Every number a user types is read here, as text: at most
``places`` decimals, inside ``[low, high]``, or None.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

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


def schema_upper_bound(model: type[BaseModel], field: str) -> Decimal:
    """The ``le``/``lt`` bound pydantic declares on ``model.field`` (one source for limits)."""
    for constraint in model.model_fields[field].metadata:
        for name in ("le", "lt"):
            bound = getattr(constraint, name, None)
            if bound is not None:
                return Decimal(str(bound))
    raise LookupError(f"{model.__name__}.{field} declares no upper bound")
