"""JSON in and out of venues with money kept exact.

Venues send prices as strings (parsed by the client into ``Decimal``) or, sometimes, as
JSON numbers; a JSON number with a fraction or exponent is parsed straight into ``Decimal``
here, never through ``float``. Integers stay ``int`` (order ids, timestamps, sequences).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def loads(text: str | bytes) -> Any:
    """Parse ``text``; fractional numbers become ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Compact JSON; ``Decimal`` travels as its exact string."""
    return json.dumps(value, separators=(",", ":"), default=_default)
