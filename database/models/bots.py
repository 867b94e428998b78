"""Bots known to the fleet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database.models.base import Base, Timestamps, one_of
from database.types import JSONDocument, UTCDateTime

BOT_STATUSES = ("created", "starting", "running", "stopping", "stopped", "crashed")
# What the operator asked of a fleet bot; ``fleet up`` starts only the ``running`` ones.
DESIRED_STATES = ("running", "stopped")


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
    # Why the bot is in that status when it is not obvious ("start failed: ...", "gave up: ...").
    status_detail: Mapped[str | None] = mapped_column(Text)
    # Set by the fleet (launch/restart: running; stop: stopped); NULL for bots it does not run.
    desired_state: Mapped[str | None] = mapped_column(String(16))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BotLease(Base):
    """Who runs bot ``bot_name`` right now: one process per bot name, on any host.

    Two processes with one name share orders and wallets and undo each other's work, so a bot
    takes this lease before it touches anything and renews it with a heartbeat. The fencing
    token grows with every acquisition: a process whose renewal finds another token knows it
    was replaced and stops without touching orders. Kept apart from ``bots`` so the fleet's
    registry writes and the lease's heartbeat never update the same row.
    """

    __tablename__ = "bot_leases"

    bot_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    fencing_token: Mapped[int] = mapped_column(Integer, default=0)
    holder_host: Mapped[str | None] = mapped_column(String(255))
    holder_pid: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
