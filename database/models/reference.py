"""Reference data and process-wide settings: venues and app_settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, one_of
from database.types import UTCDateTime, utcnow

VENUE_KINDS = ("paper", "cex", "dex")


class Venue(Base):
    """One row per venue of :data:`core.venues.VENUES`, seeded by migrations.

    The name is the primary key so every table that mentions a venue stores the
    readable name (``binance``), and a foreign key still refuses typos.
    """

    __tablename__ = "venues"
    __table_args__ = (one_of("kind", VENUE_KINDS),)

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    funding_interval_hours: Mapped[int] = mapped_column(Integer)


class AppSetting(Base):
    """Key/value settings the application itself must remember (e.g. the master key fingerprint)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
