"""/bots (a paginated table), /status BOT and /logs BOT [N]: what the fleet is doing."""

from __future__ import annotations

import asyncio
import math
import re
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from fleet.api import BotInfo, FleetError
from telegram_bot_service.commands.common import (
    args_of,
    ask_bot,
    bot_name,
    edit,
    need_bot_argument,
    reply,
    reply_pages,
)
from telegram_bot_service.formatting import duration, escape, pre, pre_pages, table, usd
from telegram_bot_service.services import Services, services_of

PAGE_CALLBACK = "bots:page:"
PAGE_PATTERN = r"^bots:page:\d+$"
DEFAULT_LOG_LINES = 30
MAX_LOG_LINES = 1000


async def _net_pnl(services: Services, bot: BotInfo) -> Decimal | None:
    if not bot.running:
        return None
    try:
        return (await ask_bot(services, bot.name, "pnl", lambda control: control.pnl())).net
    except (FleetError, OSError):
        return None


async def render_bots_page(
    services: Services, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    bots = sorted(await services.fleet.list_bots(), key=lambda bot: bot.name)
    if not bots:
        return "No bots yet. Launch one with /launch.", None
    size = services.bots_page_size
    pages = math.ceil(len(bots) / size)
    page = min(max(page, 0), pages - 1)
    shown = bots[page * size : (page + 1) * size]
    pnls = await asyncio.gather(*(_net_pnl(services, bot) for bot in shown))
    rows = [
        [bot.name, bot.state, duration(bot.uptime_seconds), usd(pnl, signed=True)]
        for bot, pnl in zip(shown, pnls, strict=True)
    ]
    running = sum(1 for bot in bots if bot.running)
    header = f"<b>Bots</b>: {len(bots)}, {running} running"
    if pages > 1:
        header += f" — page {page + 1}/{pages}"
    text = header + "\n" + pre(table(["BOT", "STATE", "UPTIME", "PNL USD"], rows, right=[3]))
    if pages == 1:
        return text, None
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ Prev", callback_data=f"{PAGE_CALLBACK}{page - 1}"))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton("Next ▶", callback_data=f"{PAGE_CALLBACK}{page + 1}"))
    return text, InlineKeyboardMarkup([buttons])


async def bots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text, markup = await render_bots_page(services_of(context), 0)
    await reply(update, text, markup)


async def bots_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    page = int(query.data.removeprefix(PAGE_CALLBACK))
    text, markup = await render_bots_page(services_of(context), page)
    await query.answer()
    await edit(update, text, markup)


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/status BOT")
        return
    info = await services.fleet.status(bot_name(args[0]))
    lines = [
        f"<b>{escape(info.name)}</b>: {escape(info.state)}",
        f"strategy: {escape(info.strategy or '-')}",
        f"config: {escape(info.config_path or '-')}",
        f"account: {escape(info.account or 'none (paper)')}",
        f"pid: {info.pid or '-'}, uptime: {duration(info.uptime_seconds)}",
    ]
    if info.running:
        try:
            state = await ask_bot(services, info.name, "status", lambda control: control.status())
            totals = await ask_bot(services, info.name, "pnl", lambda control: control.pnl())
        except FleetError as exc:
            lines.append(f"control API: {escape(exc)}")
        else:
            lines += [
                f"trading: {escape(state.state)}",
                f"equity: {usd(state.equity)} USD",
                f"venues: {escape(', '.join(state.venues) or '-')}",
                f"PnL net: {usd(totals.net, signed=True)} USD "
                f"(realized {usd(totals.realized, signed=True)}, "
                f"unrealized {usd(totals.unrealized, signed=True)}, "
                f"funding {usd(totals.funding, signed=True)}, fees {usd(totals.fees)})",
            ]
            if state.risk.killed:
                why = f" ({escape(state.risk.kill_reason)})" if state.risk.kill_reason else ""
                lines.append(
                    f"⚠️ kill switch tripped{why}: no new entries; an admin clears it with "
                    f"/reset_kill {escape(info.name)} REASON"
                )
    await reply(update, "\n".join(lines))


async def logs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/logs BOT [N]")
        return
    count = DEFAULT_LOG_LINES
    if len(args) > 1:
        if not re.fullmatch(r"\d{1,6}", args[1]):
            await reply(update, "Usage: /logs BOT [N] (N: a number of lines)")
            return
        count = min(max(int(args[1]), 1), MAX_LOG_LINES)
    text = await services.fleet.logs(bot_name(args[0]), count)
    if not text.strip():
        await reply(update, f"The log of {escape(args[0])} is empty.")
        return
    await reply_pages(update, pre_pages(f"<b>Log of {escape(args[0])}</b>", text))
