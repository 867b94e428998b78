"""Column types that keep money exact and time unambiguous on both backends.

* :class:`ExactDecimal` — SQLite's ``NUMERIC`` affinity converts to a binary
  float and silently loses digits (cents, satoshis, 1e-18 token units), so on
  SQLite the value is stored as TEXT; PostgreSQL gets an unconstrained
  ``NUMERIC`` (arbitrary precision). Reads always return :class:`~decimal.Decimal`.
  Floats are refused on the way in: a float already lost the exact value.
  Caveat: on SQLite, ordering or comparing such a column *in SQL* is textual,
  so numeric filters belong in Python (or on PostgreSQL).
* :class:`UTCDateTime` — timezone-aware UTC in and out. Naive datetimes are
  refused (their meaning depends on the machine); SQLite stores no zone, so
  values are normalised to UTC before storing and tagged UTC when read.
* :data:`JSONDocument` — JSON, as JSONB on PostgreSQL (indexable, compact).
  The engine's ``json_serializer`` (:func:`json_dumps`) writes Decimal as
  strings so prices inside raw venue payloads or bot configs stay exact.

Each type's dialect-level DDL is a plain built-in type, so Alembic autogenerate
compares them as ``TEXT``/``NUMERIC``/``TIMESTAMP`` and reports no false diffs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored without loss: TEXT on SQLite, unconstrained NUMERIC elsewhere."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(
                f"ExactDecimal columns take Decimal or int, not {type(value).__name__}"
                " (floats have already lost the exact value)"
            )
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"ExactDecimal columns take finite numbers, not {number}")
        if dialect.name == "sqlite":
            # Positional notation (no exponent) keeps the file readable with any SQLite tool.
            return format(number, "f")
        return number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored and returned in UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime columns take datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                "naive datetime refused: use a timezone-aware UTC datetime (datetime.now(UTC))"
            )
        utc = value.astimezone(UTC)
        # SQLite's DATETIME storage ignores tzinfo; storing the UTC wall time keeps it correct.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")

# 64-bit ids for high-volume tables. SQLite only auto-increments a column declared
# exactly INTEGER PRIMARY KEY (which is 64-bit there anyway), hence the variant.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_dumps(value: Any) -> str:
    """Serialise for JSON columns: Decimal becomes its exact string, never a float."""
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the default for timestamp columns)."""
    return datetime.now(UTC)
