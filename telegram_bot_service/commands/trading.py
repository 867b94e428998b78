"""What the bots hold and how they do: /positions, /balances, /orders, /pnl (with a chart),
and the trader's levers on a running bot: /pause, /resume, /close (confirmed with buttons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot_runtime.control_models import ErrorKind
from fleet.api import ControlRefused, FleetError
from telegram_bot_service import pnl_history
from telegram_bot_service.actions import Pending
from telegram_bot_service.caller import caller_of
from telegram_bot_service.charts import render_equity_chart
from telegram_bot_service.commands.common import (
    args_of,
    ask_bot,
    bot_name,
    edit,
    need_bot_argument,
    reply,
    reply_pages,
    require_running,
    running_bots,
)
from telegram_bot_service.formatting import amount, clip, escape, pre_pages, table, usd
from telegram_bot_service.roles import Role
from telegram_bot_service.services import Services, services_of

CLOSE_KIND = "close"


async def _targets(update: Update, services: Services, args: Sequence[str]) -> list[str]:
    """The bot named in ``args`` (it must run), else every running bot."""
    if args:
        await require_running(services, args[0])
        return [args[0]]
    return [bot.name for bot in await running_bots(services)]


# -- reading ---------------------------------------------------------------------------------


async def positions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    names = await _targets(update, services, args_of(context))
    if not names:
        await reply(update, "No bot is running.")
        return
    rows = []
    for name in names:
        for p in await ask_bot(services, name, "positions", lambda bot: bot.positions()):
            rows.append(
                [
                    name,
                    p.id,
                    p.side,
                    amount(p.size),
                    amount(p.entry_price),
                    amount(p.mark_price),
                    usd(p.unrealized_pnl, signed=True),
                ]
            )
    if not rows:
        await reply(update, f"No open positions on {escape(', '.join(names))}.")
        return
    text = table(
        ["BOT", "POSITION", "SIDE", "SIZE", "ENTRY", "MARK", "UPNL USD"], rows, right=[3, 4, 5, 6]
    )
    await reply_pages(update, pre_pages("<b>Open positions</b>", text))


async def balances(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    names = await _targets(update, services, args_of(context))
    if not names:
        await reply(update, "No bot is running.")
        return
    rows = []
    for name in names:
        for b in await ask_bot(services, name, "balances", lambda bot: bot.balances()):
            rows.append(
                [
                    name,
                    b.venue,
                    usd(b.wallet),
                    usd(b.equity),
                    usd(b.available),
                    usd(b.margin_used),
                    usd(b.unrealized_pnl, signed=True),
                ]
            )
    text = table(
        ["BOT", "VENUE", "WALLET", "EQUITY", "AVAILABLE", "MARGIN", "UPNL"],
        rows,
        right=[2, 3, 4, 5, 6],
    )
    await reply_pages(update, pre_pages("<b>Balances</b> (USD)", text))


async def orders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/orders BOT")
        return
    await require_running(services, args[0])
    found = await ask_bot(services, args[0], "orders", lambda bot: bot.orders())
    if not found:
        await reply(update, f"{escape(args[0])} has no resting orders.")
        return
    rows = [
        [o.client_order_id, o.venue, o.symbol, o.side, amount(o.size), amount(o.price), o.status]
        for o in found
    ]
    text = table(
        ["ORDER", "VENUE", "SYMBOL", "SIDE", "SIZE", "PRICE", "STATUS"], rows, right=[4, 5]
    )
    await reply_pages(update, pre_pages(f"<b>Resting orders of {escape(args[0])}</b>", text))


# -- PnL -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Totals:
    realized: Decimal
    unrealized: Decimal
    funding: Decimal
    net: Decimal


async def _current_totals(services: Services, name: str, running: bool) -> _Totals | None:
    if running:
        try:
            pnl = await ask_bot(services, name, "pnl", lambda bot: bot.pnl())
        except FleetError:
            return None
        return _Totals(pnl.realized, pnl.unrealized, pnl.funding, pnl.net)
    return None


async def pnl(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if args:
        bot_name(args[0])
    fleet_bots = {bot.name: bot for bot in await services.fleet.list_bots()}

    async def read(
        session: AsyncSession,
    ) -> tuple[list[str], dict[str, list[pnl_history.PnlPoint]]]:
        names = (
            [args[0]]
            if args
            else sorted(set(fleet_bots) | set(await pnl_history.bots_with_history(session)))
        )
        return names, {name: await pnl_history.history(session, name) for name in names}

    names, histories = await services.transaction(read)
    if args and args[0] not in fleet_bots and not histories[args[0]]:
        raise FleetError(f"unknown bot {args[0]!r}: see /bots")
    if not names:
        await reply(update, "No bots yet: nothing to report.")
        return
    rows = []
    for name in names:
        bot = fleet_bots.get(name)
        totals = await _current_totals(services, name, bot is not None and bot.running)
        source = "live"
        if totals is None and histories[name]:
            last = histories[name][-1]
            # Samples keep no fees: this net is before fees.
            totals = _Totals(
                last.realized,
                last.unrealized,
                last.funding,
                last.realized + last.unrealized + last.funding,
            )
            source = f"as of {last.ts:%Y-%m-%d %H:%M} UTC"
        if totals is None:
            rows.append([name, "-", "-", "-", "-", "no data"])
            continue
        rows.append(
            [
                name,
                usd(totals.realized, signed=True),
                usd(totals.unrealized, signed=True),
                usd(totals.funding, signed=True),
                usd(totals.net, signed=True),
                source,
            ]
        )
    text = table(
        ["BOT", "REALIZED", "UNREALIZED", "FUNDING", "NET", "SOURCE"], rows, right=[1, 2, 3, 4]
    )
    await reply_pages(update, pre_pages("<b>PnL</b> (USD)", text))
    series = {
        name: [(point.ts, point.equity) for point in points]
        for name, points in histories.items()
        if points
    }
    if not series:
        which = escape(args[0]) if args else "any bot"
        await reply(
            update,
            f"No equity history for {which} yet: samples are recorded while bots run "
            "(every few minutes), then a chart appears here.",
        )
        return
    await _send_chart(update, series, args[0] if args else None)


async def _send_chart(
    update: Update, series: dict[str, list[tuple[datetime, Decimal]]], name: str | None
) -> None:
    title = f"Equity of {name}" if name else "Equity per bot"
    png = await render_equity_chart(series, title)
    points = sum(len(points) for points in series.values())
    message = update.effective_message
    if message is not None:
        await message.reply_photo(
            InputFile(png, filename="equity.png"),
            caption=f"{title} ({points} samples, UTC)",
        )


# -- acting ----------------------------------------------------------------------------------


async def pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _toggle(update, context, "pause")


async def resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _toggle(update, context, "resume")


async def _toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> None:
    services = services_of(context)
    caller = caller_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, f"/{action} BOT")
        return
    name = args[0]
    await require_running(services, name)
    result = await ask_bot(
        services, name, action, lambda bot: bot.pause() if action == "pause" else bot.resume()
    )
    await services.audit(caller.actor, f"telegram.bot.{action}", name)
    state = result.state
    what = (
        "no new positions; open ones are still managed"
        if action == "pause"
        else "opening positions again"
    )
    await reply(update, f"{escape(name)} is {escape(state)}: {what}.")


async def close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    caller = caller_of(context)
    args = args_of(context)
    if len(args) < 2:
        await reply(
            update,
            "Usage: /close BOT POSITION — the POSITION ids are in /positions BOT (e.g. paper:BTC).",
        )
        return
    name, position_id = args[0], args[1]
    await require_running(services, name)
    held = await ask_bot(services, name, "positions", lambda bot: bot.positions())
    position = next((p for p in held if p.id == position_id), None)
    if position is None:
        ids = ", ".join(p.id for p in held) or "none"
        await reply(
            update,
            f"{escape(name)} has no open position {escape(clip(position_id, 40))} "
            f"(open: {escape(clip(ids, 400))}).",
        )
        return
    pending = services.actions.open(
        caller.telegram_id, CLOSE_KIND, Role.TRADER, bot=name, position=position_id
    )
    markup = services.actions.keyboard(
        pending, [[("Close at market", "market"), ("Close with limit orders", "limit")]]
    )
    await reply(
        update,
        f"Close {escape(position.side)} {amount(position.size)} "
        f"{escape(position_id)} on <b>{escape(name)}</b> "
        f"(unrealized {usd(position.unrealized_pnl, signed=True)} USD)?",
        markup,
    )


async def on_close(
    update: Update, context: ContextTypes.DEFAULT_TYPE, pending: Pending, choice: str
) -> None:
    """The buttons of /close: a mode, then (on a wide spread) a second confirmation."""
    services = services_of(context)
    query = update.callback_query
    assert query is not None
    name, position_id = pending.data["bot"], pending.data["position"]
    if choice in ("market", "limit"):
        pending.data["mode"] = choice
        confirm = False
    elif choice == "force" and "mode" in pending.data:
        confirm = True
    else:
        await query.answer("Unknown choice")
        return
    if not services.actions.close(pending):
        await query.answer("Already done")
        return
    await query.answer("Closing…")
    mode = pending.data["mode"]
    try:
        result = await ask_bot(
            services,
            name,
            f"close {position_id}",
            lambda bot: bot.close_position(position_id, mode, confirm),
        )
    except ControlRefused as exc:
        if confirm or exc.kind is not ErrorKind.NEEDS_CONFIRMATION:
            raise
        again = services.actions.open(
            pending.user_id, CLOSE_KIND, Role.TRADER, bot=name, position=position_id, mode=mode
        )
        markup = services.actions.keyboard(again, [[("Close anyway", "force")]])
        await edit(update, f"{escape(exc)}\nClose {escape(position_id)} anyway?", markup)
        return
    await services.audit(
        caller_of(context).actor,
        "telegram.position.close",
        f"{name}/{position_id}",
        {"mode": mode, "confirmed_wide_spread": confirm},
    )
    detail = f": {amount(result.closed)} at {amount(result.average_price)}"
    await edit(update, f"Closed {escape(position_id)} on {escape(name)} ({mode}){detail}.")
