#!/usr/bin/env python3
"""Run one perpfleet bot: ``python runbot.py --config configs/x.yml [--check] ...``.

Thin on purpose: everything lives in :mod:`bot_runtime`. This file is the composition root:
it picks the bot's alert channel (Telegram when ``TELEGRAM_BOT_TOKEN`` is set), which the
runtime receives instead of importing an application above it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot_runtime.notifications import AlertSink


async def telegram_when_configured(stack: contextlib.AsyncExitStack) -> AlertSink | None:
    """Telegram alerts if a token is configured; imported only then (it is a heavy stack)."""
    if not os.environ.get("TELEGRAM_BOT_TOKEN"):
        return None
    from telegram_bot_service.bot_alerts import telegram_alerts

    return await telegram_alerts(stack)


def without_unneeded_optional_modules() -> None:
    """Mark absent, before anything imports them, two modules libraries load only because they
    are installed:

    * ``rich``: structlog's dev module imports it (and pygments) whenever the dev tools bring it,
      then formats exceptions with it - 4 MB and ~70 modules a bot never needs, and log output
      that would differ between a developer's machine and production;
    * ``pydantic.v1``: FastAPI imports pydantic's legacy v1 package while it builds the control
      API's routes, only to check that no route uses a v1 model (none does: ~15 ms, 3 MB).
    """
    for name in ("rich", "pydantic.v1"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


if __name__ == "__main__":
    without_unneeded_optional_modules()
    from core import startup_gc

    startup_gc.hold()  # released by the runtime once the bot runs (core/startup_gc.py)
    # Importing the bot takes a moment: Ctrl-C then is one line, not a traceback. The
    # KeyboardInterrupt can land inside the import machinery's own callbacks, which swallow
    # it ("Exception ignored in ..."): the interrupt is also noted, so it is never lost.
    interrupts: list[int] = []

    def interrupt(signum: int, frame: object) -> None:
        interrupts.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    try:
        from bot_runtime.cli import main

        if interrupts:  # raised where nobody could catch it
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        sys.stderr.write("runbot.py: interrupted while starting; the bot did not start\n")
        sys.exit(130)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main(alerts=telegram_when_configured))
