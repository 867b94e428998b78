"""/new_config: a paper grid config in five answers (name, ticker, direction, notional,
leverage), written to ``configs/<name>.yml`` only once it validates.

The file is built as a :class:`~trading_config.schema.BotConfig` (so every rule of the schema
and of the grid's parameters applies), written atomically by
:func:`~trading_config.loader.save_config`, then loaded back with
:func:`~trading_config.loader.load_config` — what /launch will do with it. The other grid
parameters get the defaults of ``configs/paper_grid.yml``; edit the file to tune them.
"""

from __future__ import annotations

import re
from decimal import ROUND_UP, Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from telegram import Update
from telegram.ext import (
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.errors import ConfigError
from strategies.grid.params import GridParams
from telegram_bot_service.bounds import parse_bounded, schema_upper_bound
from telegram_bot_service.caller import Caller, caller_of
from telegram_bot_service.commands.common import reply
from telegram_bot_service.formatting import escape, usd
from telegram_bot_service.guard import Callback, Guarded, command
from telegram_bot_service.roles import Role
from telegram_bot_service.services import services_of
from trading_config.loader import load_config, save_config
from trading_config.schema import NAME_PATTERN, BotConfig

NAME, TICKER, DIRECTION, NOTIONAL, LEVERAGE = range(5)
DATA_KEY = "perpfleet.new_config"
MAX_ORDERS = 8
CENT = Decimal("0.01")
# The grid schema only says "positive" for the notional (and 0 < leverage <= 200): a chat
# answer must be a sensible order, not 1E-22 USD nor 1e999999 USD, and stay in cents.
MIN_NOTIONAL = Decimal(1)
MAX_NOTIONAL = Decimal(1_000_000)
MIN_LEVERAGE = Decimal(1)
MAX_LEVERAGE = min(Decimal(50), schema_upper_bound(GridParams, "target_leverage"))


def _state(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    data: dict[str, Any] = context.user_data.setdefault(DATA_KEY, {})
    return data


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message is not None else ""


def grid_document(
    name: str, ticker: str, direction: str, notional: Decimal, leverage: Decimal
) -> dict[str, Any]:
    """The config as data: a grid on the paper venue, with conservative defaults."""
    return {
        "name": name,
        "strategy": {
            "type": "grid",
            "params": {
                "exchange": "paper",
                "ticker": ticker,
                "direction": direction,
                "order_notional_usd": notional,
                "target_leverage": leverage,
                "take_profit": Decimal("0.6"),
                "grid_step": Decimal("0.02"),
                "max_orders": MAX_ORDERS,
                "max_margin_usd": (notional / leverage * MAX_ORDERS).quantize(
                    CENT, rounding=ROUND_UP
                ),
                "wait_time": Decimal(2),
                "stop_loss_enabled": False,
                "recovery_mode": "none",
            },
        },
        "exchanges": {"paper": {}},
        "risk": {"max_position_notional_usd": notional * MAX_ORDERS * 2},
    }


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if context.user_data is not None:
        context.user_data.pop(DATA_KEY, None)
    await reply(
        update,
        "A new paper grid config (send /cancel at any time).\n"
        "Bot name? (lowercase letters, digits, _ and -; it is also the file name)",
    )
    return NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    name = _text(update)
    if not re.fullmatch(NAME_PATTERN, name):
        await reply(
            update, "Use lowercase letters, digits, _ and - (starting with a letter or digit)."
        )
        return NAME
    if (services_of(context).configs_dir / f"{name}.yml").exists():
        await reply(update, f"configs/{escape(name)}.yml already exists; pick another name.")
        return NAME
    _state(context)["name"] = name
    await reply(update, "Ticker? (the base asset, e.g. BTC, ETH, SOL)")
    return TICKER


async def got_ticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ticker = _text(update).upper()
    if not re.fullmatch(r"[A-Z0-9]{1,20}", ticker):
        await reply(update, "A ticker is 1-20 letters or digits, e.g. BTC.")
        return TICKER
    _state(context)["ticker"] = ticker
    await reply(update, "Direction? buy (a long grid) or sell (a short grid)")
    return DIRECTION


async def got_direction(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    direction = {"buy": "buy", "long": "buy", "sell": "sell", "short": "sell"}.get(
        _text(update).lower()
    )
    if direction is None:
        await reply(update, "Answer buy or sell.")
        return DIRECTION
    _state(context)["direction"] = direction
    await reply(update, "Notional per order, in USD? (e.g. 100)")
    return NOTIONAL


async def got_notional(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    notional = parse_bounded(_text(update), MIN_NOTIONAL, MAX_NOTIONAL, places=2)
    if notional is None:
        await reply(
            update,
            f"Send a number of USD from {usd(MIN_NOTIONAL)} to {usd(MAX_NOTIONAL)}, in cents "
            "at most, e.g. 100.",
        )
        return NOTIONAL
    _state(context)["notional"] = notional
    await reply(update, f"Leverage? (e.g. 10; at most {MAX_LEVERAGE})")
    return LEVERAGE


async def got_leverage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    leverage = parse_bounded(_text(update), MIN_LEVERAGE, MAX_LEVERAGE, places=2)
    if leverage is None:
        await reply(update, f"A number from {MIN_LEVERAGE} to {MAX_LEVERAGE}, e.g. 10.")
        return LEVERAGE
    state = _state(context)
    services = services_of(context)
    name: str = state["name"]
    path = services.configs_dir / f"{name}.yml"
    document = grid_document(name, state["ticker"], state["direction"], state["notional"], leverage)
    try:
        config = BotConfig.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors())
        await reply(update, f"That config does not validate: {escape(problems)}")
        return ConversationHandler.END
    if path.exists():
        await reply(update, f"configs/{escape(name)}.yml appeared meanwhile; nothing written.")
        return ConversationHandler.END
    save_config(config, path)
    try:
        load_config(path)
    except ConfigError as exc:
        path.unlink(missing_ok=True)
        await reply(update, f"Not written: {escape('; '.join(exc.problems))}")
        return ConversationHandler.END
    await services.audit(
        caller_of(context).actor,
        "telegram.config.create",
        str(path),
        {"strategy": "grid", "ticker": state["ticker"], "direction": state["direction"]},
    )
    if context.user_data is not None:
        context.user_data.pop(DATA_KEY, None)
    await reply(
        update,
        f"Wrote <code>{escape(Path(path).name)}</code>: {escape(config.strategy.params.summary())}"
        f" ({usd(state['notional'])} USD per order). Launch it with /launch.",
    )
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if context.user_data is not None:
        context.user_data.pop(DATA_KEY, None)
    await reply(update, "Cancelled: no config written.")
    return ConversationHandler.END


async def _refused(
    update: Update, context: ContextTypes.DEFAULT_TYPE, caller: Caller | None
) -> int:
    """A step by someone who is no longer a trader: the dialogue ends."""
    if context.user_data is not None:
        context.user_data.pop(DATA_KEY, None)
    return ConversationHandler.END


def _step(callback: Callback) -> Guarded:
    """A step of the dialogue, with the trader role checked again."""
    return Guarded(callback, Role.TRADER, "new_config", on_refused=_refused)


def new_config_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    new_only = filters.UpdateType.MESSAGE
    return ConversationHandler(
        entry_points=[CommandHandler("new_config", command("new_config", begin), new_only)],
        states={
            NAME: [MessageHandler(text, _step(got_name))],
            TICKER: [MessageHandler(text, _step(got_ticker))],
            DIRECTION: [MessageHandler(text, _step(got_direction))],
            NOTIONAL: [MessageHandler(text, _step(got_notional))],
            LEVERAGE: [MessageHandler(text, _step(got_leverage))],
        },
        fallbacks=[
            CommandHandler("cancel", command("cancel", cancel, on_refused=_refused), new_only)
        ],
        name="new_config",
        allow_reentry=True,
    )
