"""/configs: the bot configs in the configs folder, what each runs, and whether it validates."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from core.errors import ConfigError
from telegram_bot_service.commands.common import reply, reply_pages
from telegram_bot_service.commands.lifecycle import config_files
from telegram_bot_service.formatting import escape, pre_pages, table
from telegram_bot_service.services import services_of
from trading_config.loader import load_config


async def configs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    directory = services_of(context).configs_dir
    files = config_files(directory)
    if not files:
        await reply(update, f"No configs in {escape(directory)}. Write one with /new_config.")
        return
    rows = []
    for path in files:
        try:
            config = load_config(path)
        except ConfigError as exc:
            first = exc.problems[0] if exc.problems else "invalid"
            rows.append([path.name, "-", "-", f"invalid: {first}"[:80]])
            continue
        rows.append(
            [path.name, config.name, config.strategy.type, ", ".join(sorted(config.exchanges))]
        )
    text = table(["FILE", "BOT", "STRATEGY", "VENUES"], rows)
    await reply_pages(update, pre_pages("<b>Configs</b> (launch with /launch)", text))
