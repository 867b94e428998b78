"""Bots known to the fleet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, Timestamps, one_of
from database.types import JSONDocument, UTCDateTime

BOT_STATUSES = ("created", "starting", "running", "stopping", "stopped", "crashed")


class Bot(Timestamps, Base):
    """One bot: its validated config, where the config file is, and how to reach/control it.

    Only a hash of the control-API bearer token is kept: the database can
    verify a token but never reveals one.
    """

    __tablename__ = "bots"
    __table_args__ = (one_of("status", BOT_STATUSES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    config_path: Mapped[str | None] = mapped_column(Text)
    supervisor_program: Mapped[str | None] = mapped_column(String(128), unique=True)
    control_port: Mapped[int | None] = mapped_column(Integer, unique=True)
    control_token_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="created")
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
