"""/signals [BOT] [N]: the latest signals, acted on or not (and why), and each strategy's record.

Read from the ``signals`` and ``signal_trades`` tables the signal-portfolio bots write (the
service has the fleet's database): a stopped bot's signals still show. Passes (evaluations
with no signal) are recorded too but not listed - they would drown the signals. With a bot
named, a table per signal strategy follows: signals given, acted on, trades, win rate,
realised and open PnL.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update
from telegram.ext import ContextTypes

from database.repositories.signals import StrategyStats, latest_signals, strategy_stats
from fleet.api import FleetError
from telegram_bot_service.commands.common import args_of, reply, reply_pages
from telegram_bot_service.formatting import DASH, clip, escape, pre_pages, table
from telegram_bot_service.formatting import usd as money
from telegram_bot_service.services import services_of

DEFAULT_SHOWN = 15
MAX_SHOWN = 50
REASON_WIDTH = 48


def _arguments(args: Sequence[str]) -> tuple[str | None, int]:
    """(bot or None, how many): ``/signals``, ``/signals 20``, ``/signals BOT [20]``."""
    bot: str | None = None
    count = DEFAULT_SHOWN
    rest = list(args)
    if rest and not rest[0].isdigit():
        bot = rest.pop(0)
    if rest:
        text = rest.pop(0)
        if not text.isdigit() or not 1 <= int(text) <= MAX_SHOWN or len(text) > 3:
            raise FleetError(
                f"{clip(text, 20)!r}: expected how many signals, 1 to {MAX_SHOWN} (/signals BOT 20)"
            )
        count = int(text)
    if rest:
        raise FleetError("usage: /signals [BOT] [N]")
    return bot, count


def _share(stats: StrategyStats) -> str:
    rate = stats.win_rate
    return DASH if rate is None else f"{rate * 100:.0f}%"


async def signals(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    bot, count = _arguments(args_of(context))
    async with services.sessions() as session:
        rows = await latest_signals(session, bot=bot, limit=count)
        stats = await strategy_stats(session, bot) if bot is not None else []
    where = f" of {escape(clip(bot))}" if bot is not None else ""
    if not rows and not stats:
        await reply(update, f"No signals{where} recorded yet.")
        return
    listed = table(
        ["TIME", *([] if bot else ["BOT"]), "STRATEGY", "ASSET", "DIR", "CONF", "ACTED"],
        [
            [
                f"{row.ts:%m-%d %H:%M}",
                *([] if bot else [clip(row.bot, 20)]),
                row.strategy,
                row.asset,
                row.direction or DASH,
                f"{row.confidence:.2f}" if row.confidence is not None else DASH,
                "yes" if row.acted_on else f"no: {clip(row.reason or '', REASON_WIDTH)}",
            ]
            for row in rows
        ],
    )
    parts = [listed]
    if stats:
        parts.append(
            table(
                ["STRATEGY", "SIGNALS", "ACTED", "TRADES", "WIN", "REALIZED", "OPEN PNL"],
                [
                    [
                        s.name,
                        str(s.signals),
                        str(s.acted),
                        str(s.trades),
                        _share(s),
                        money(s.realized_pnl, signed=True),
                        money(s.unrealized_pnl, signed=True),
                    ]
                    for s in stats
                ],
                right=[1, 2, 3, 4, 5, 6],
            )
        )
    title = f"<b>Latest signals{where}</b>, newest first"
    await reply_pages(update, pre_pages(title, "\n\n".join(parts)))
