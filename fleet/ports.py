"""Control-API ports: unique per bot in the database, and free on this machine when handed out."""

from __future__ import annotations

import socket

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.models import Bot
from fleet.api import FleetError

FIRST_PORT = 18100
LAST_PORT = 18999


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def allocate_port(session: AsyncSession, bot: str) -> int:
    """The bot's port if it has one (and it is free), else the first port no bot holds."""
    existing = await session.scalar(select(Bot.control_port).where(Bot.name == bot))
    if existing is not None and port_is_free(existing):
        return existing
    taken = set(
        await session.scalars(select(Bot.control_port).where(Bot.control_port.is_not(None)))
    )
    for port in range(FIRST_PORT, LAST_PORT + 1):
        if port not in taken and port_is_free(port):
            return port
    raise FleetError(f"no free control-API port in {FIRST_PORT}-{LAST_PORT}")
