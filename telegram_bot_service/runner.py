"""Running the service: start polling, the fleet watcher, and stop it all cleanly.

:func:`running` is what both ``python -m telegram_bot_service run`` and the tests use: the
Application polls in the caller's event loop, so tests drive the real stack in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from telegram_bot_service.app import TelegramApp
from telegram_bot_service.watcher import FleetWatcher, watching

DEFAULT_POLL_TIMEOUT_SECONDS = 10


@contextlib.asynccontextmanager
async def running(
    application: TelegramApp,
    *,
    watcher: FleetWatcher | None = None,
    poll_timeout_seconds: int = DEFAULT_POLL_TIMEOUT_SECONDS,
) -> AsyncIterator[TelegramApp]:
    """The Application polling for updates (and ``watcher`` running) inside the block."""
    await application.initialize()
    updater = application.updater
    assert updater is not None
    try:
        if application.post_init is not None:  # run_polling() would call it; we start by hand
            await application.post_init(application)
        await updater.start_polling(timeout=poll_timeout_seconds)
        await application.start()
        try:
            if watcher is None:
                yield application
            else:
                async with watching(watcher):
                    yield application
        finally:
            if updater.running:
                await updater.stop()
            if application.running:
                await application.stop()
    finally:
        await application.shutdown()


async def until_signalled() -> None:
    """Wait for SIGINT or SIGTERM (supervisord stops programs with SIGTERM)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
