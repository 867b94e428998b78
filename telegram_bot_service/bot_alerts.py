"""Telegram as a bot process's alert sink (:class:`bot_runtime.notifications.AlertSink`).

``runbot.py`` hands :func:`telegram_alerts` to the runtime when ``TELEGRAM_BOT_TOKEN`` is set
(the fleet's supervisord passes its environment on); the runtime never imports Telegram.
"""

from __future__ import annotations

import contextlib

from bot_runtime.notifications import AlertSink
from telegram_bot_service.notifications import standalone_notifier


async def telegram_alerts(stack: contextlib.AsyncExitStack) -> AlertSink:
    """A Notifier open for the bot's lifetime (closed with ``stack``)."""
    return await stack.enter_async_context(standalone_notifier())
