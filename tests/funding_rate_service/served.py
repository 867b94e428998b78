"""The funding-rate service's real app served by uvicorn on a local port, in the test's event
loop: for readers that speak HTTP to it (the strategy, Telegram)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, SystemClock
from funding_rate_service.api import ServiceContext, create_app
from funding_rate_service.queries import DatabaseReader


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (pytest keeps Ctrl-C)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def funding_service(
    sessions: async_sessionmaker[AsyncSession], port: int, clock: Clock | None = None
) -> AsyncIterator[str]:
    """The service's API on 127.0.0.1:``port`` over ``sessions``' database; its base URL."""
    context = ServiceContext(DatabaseReader(sessions), None, clock=clock or SystemClock())
    server = _Server(
        uvicorn.Config(
            create_app(context),
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="off",
            access_log=False,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            assert not task.done(), "the service did not start"
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
