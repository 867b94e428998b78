"""Keeping Telegram traffic out of the logs.

At DEBUG, python-telegram-bot logs every Bot API call with its parameters and result — the
text of every incoming message included, so a secret typed during /add_account would be
written out before the service has even read (and registered) it. httpx logs each request URL,
which holds the bot token. Those loggers are therefore held at INFO/WARNING whatever the
process's level; the token itself is registered as a secret as well (see
:mod:`telegram_bot_service.settings`), so any line that still carries it is scrubbed.
"""

from __future__ import annotations

import logging

QUIET_LOGGERS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
}


def protect_logs() -> None:
    for name, floor in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor or logger.level < floor:
            logger.setLevel(floor)
