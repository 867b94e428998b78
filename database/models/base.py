"""Declarative base shared by every model, with deterministic constraint names.

Explicit names (the naming convention) make Alembic migrations reproducible on
both backends: an unnamed constraint gets a server-chosen name on PostgreSQL and
none on SQLite, and then a later migration cannot drop or alter it portably.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CheckConstraint, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from database.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CreatedAt:
    """``created_at``: when the row was inserted (aware UTC)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Timestamps(CreatedAt):
    """``created_at`` and ``updated_at`` (refreshed by every ORM update)."""

    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def one_of(column: str, values: Sequence[str]) -> CheckConstraint:
    """A CHECK that ``column`` holds one of ``values``, named ``<column>``.

    Plain strings plus a CHECK (rather than a native ENUM type) keep both
    backends identical and let a later migration extend the set with one
    constraint swap instead of an ``ALTER TYPE``.
    """
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=column)
