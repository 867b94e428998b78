"""How a bot has done, as traders judge it: /stats, /trades and /daily.

The numbers are the bot's own (``GET /api/v1/stats`` and ``/trades``, computed from its journal
by :mod:`analytics`); this module only lays them out. A statistic the bot could not compute
arrives as null with its reason, shown next to the dash.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update
from telegram.ext import ContextTypes

from bot_runtime.control_models import BotStats, StatsGroup
from fleet.api import FleetError
from telegram_bot_service.commands.common import (
    args_of,
    ask_bot,
    need_bot_argument,
    reply,
    reply_pages,
    require_running,
)
from telegram_bot_service.formatting import DASH, amount, clip, duration, escape, pre_pages, table
from telegram_bot_service.formatting import usd as money
from telegram_bot_service.services import services_of

TRADES_PER_PAGE = 10
DAYS_SHOWN = 31


def ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:,.2f}"


def share(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:,.2f}%"


def _why(text: str, notes: dict[str, str], name: str) -> str:
    reason = notes.get(name)
    return f"{text}  ({reason})" if text == DASH and reason else text


def stats_lines(stats: BotStats) -> list[tuple[str, str]]:
    """(label, value) rows of the /stats summary; a missing value says why."""
    notes = {**stats.trades.notes, **stats.notes}
    pnl, trades = stats.pnl, stats.trades
    drawdown = f"{money(stats.max_drawdown)} ({share(stats.max_drawdown_pct)})"
    longest = duration(stats.max_drawdown_seconds)
    if not stats.drawdown_recovered:
        longest += ", not recovered"
    turnover = money(stats.turnover)
    if stats.turnover_ratio is not None:
        turnover += f" ({stats.turnover_ratio:,.2f}x equity)"
    return [
        ("Net PnL", money(pnl.net, signed=True)),
        ("  trading", money(pnl.trading, signed=True)),
        ("  unrealized", money(pnl.unrealized, signed=True)),
        ("  fees paid", money(pnl.fees)),
        ("  funding", money(pnl.funding, signed=True)),
        ("Equity", f"{money(stats.starting_equity)} -> {money(stats.ending_equity)}"),
        ("Return", _why(share(stats.total_return), notes, "total_return")),
        ("Sharpe", _why(ratio(stats.sharpe), notes, "sharpe")),
        ("Sortino", _why(ratio(stats.sortino), notes, "sortino")),
        ("Max drawdown", drawdown),
        ("Longest drawdown", longest),
        ("Trades", f"{trades.trades} ({trades.wins} won, {trades.losses} lost)"),
        ("Win rate", _why(share(trades.win_rate), notes, "win_rate")),
        ("Profit factor", _why(ratio(trades.profit_factor), notes, "profit_factor")),
        ("Expectancy", _why(money(trades.expectancy, signed=True), notes, "expectancy")),
        ("Average hold", _why(duration(trades.average_hold_seconds), notes, "average_hold")),
        ("Exposure", _why(share(stats.exposure), notes, "exposure")),
        ("Turnover", turnover),
        ("Fills", str(stats.fills)),
    ]


def _groups(title: str, groups: dict[str, StatsGroup]) -> str:
    rows = [
        [
            name,
            money(g.pnl.net, signed=True),
            money(g.pnl.fees),
            money(g.pnl.funding, signed=True),
            str(g.trades.trades),
            share(g.trades.win_rate),
            share(g.exposure),
        ]
        for name, g in groups.items()
    ]
    head = [title, "NET", "FEES", "FUNDING", "TRADES", "WIN", "EXPOSURE"]
    return table(head, rows, right=[1, 2, 3, 4, 5, 6])


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/stats BOT")
        return
    name = args[0]
    await require_running(services, name)
    found = await ask_bot(services, name, "stats", lambda bot: bot.stats())
    width = max(len(label) for label, _ in stats_lines(found))
    summary = "\n".join(f"{label.ljust(width)}  {value}" for label, value in stats_lines(found))
    parts = [summary]
    if found.per_venue:
        parts.append(_groups("VENUE", found.per_venue))
    if found.per_symbol:
        parts.append(_groups("SYMBOL", found.per_symbol))
    parts.append(f"Sharpe/Sortino: {found.sampling}")
    since = f" since {found.since:%Y-%m-%d %H:%M} UTC" if found.since else ""
    title = f"<b>Stats of {escape(name)}</b>{since}"
    await reply_pages(update, pre_pages(title, "\n\n".join(parts)))


def _page(args: Sequence[str]) -> int:
    if len(args) < 2:
        return 1
    text = args[1]
    if not text.isdigit() or int(text) < 1 or len(text) > 6:
        raise FleetError(f"page {clip(text, 20)!r}: expected a whole number from 1 (/trades BOT 2)")
    return int(text)


async def trades(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/trades BOT [PAGE]")
        return
    name, page = args[0], _page(args)
    await require_running(services, name)
    found = await ask_bot(
        services, name, "trades", lambda bot: bot.trades(page=page, per_page=TRADES_PER_PAGE)
    )
    if found.total == 0:
        await reply(update, f"{escape(name)} has no closed trades yet.")
        return
    if not found.trades:
        await reply(
            update,
            f"{escape(name)} has {found.total} closed trades on {found.pages} pages: "
            f"there is no page {page}.",
        )
        return
    rows = [
        [
            f"{t.closed_at:%m-%d %H:%M}",
            t.venue,
            t.symbol,
            t.direction,
            amount(t.size),
            amount(t.entry_price),
            amount(t.exit_price),
            money(t.net_pnl, signed=True),
            duration(t.hold_seconds),
        ]
        for t in found.trades
    ]
    head = ["CLOSED", "VENUE", "SYMBOL", "SIDE", "SIZE", "ENTRY", "EXIT", "NET", "HELD"]
    text = table(head, rows, right=[4, 5, 6, 7])
    more = f"\nnext: /trades {name} {page + 1}" if page < found.pages else ""
    title = (
        f"<b>Trades of {escape(name)}</b>, newest first: page {found.page}/{found.pages} "
        f"({found.total} closed)"
    )
    await reply_pages(update, pre_pages(title, text + more))


async def daily(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    args = args_of(context)
    if not args:
        await need_bot_argument(update, services, "/daily BOT")
        return
    name = args[0]
    await require_running(services, name)
    found = await ask_bot(services, name, "stats", lambda bot: bot.stats())
    if not found.daily:
        await reply(update, f"{escape(name)} has no fills or funding yet: no daily PnL.")
        return
    days = found.daily[-DAYS_SHOWN:]
    rows = [
        [
            d.day.isoformat(),
            money(d.net, signed=True),
            money(d.trading, signed=True),
            money(d.fees),
            money(d.funding, signed=True),
            str(d.trades),
            str(d.fills),
        ]
        for d in days
    ]
    head = ["DAY (UTC)", "NET", "TRADING", "FEES", "FUNDING", "TRADES", "FILLS"]
    text = table(head, rows, right=[1, 2, 3, 4, 5, 6])
    shown = f"last {len(days)} of {len(found.daily)} days" if len(days) < len(found.daily) else ""
    title = f"<b>Daily PnL of {escape(name)}</b> (USD){' ' + shown if shown else ''}"
    await reply_pages(update, pre_pages(title, text))
