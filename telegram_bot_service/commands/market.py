"""/funding: the best funding-rate spreads right now, ranked as the arbitrage strategy would."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from strategies.funding_arbitrage.opportunities import Opportunity
from strategies.funding_arbitrage.quotes import top_opportunities
from telegram_bot_service.commands.common import reply
from telegram_bot_service.formatting import escape, percent, pre, table
from telegram_bot_service.services import services_of

TOP = 5
HUNDRED = 100


def _row(rank: int, o: Opportunity) -> list[str]:
    return [
        str(rank),
        o.symbol,
        f"{o.long_venue}/{o.short_venue}",
        percent(o.gross_hourly * 8760 * HUNDRED),
        percent(o.net_apr_pct),
    ]


async def funding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    provider = services_of(context).funding
    found = await top_opportunities(provider, TOP)
    venues = ", ".join(provider.venues)
    if not found:
        await reply(
            update,
            f"No funding spread pays after fees right now on {escape(venues)}.",
        )
        return
    rows = [_row(rank, o) for rank, o in enumerate(found, start=1)]
    text = table(["#", "SYMBOL", "LONG/SHORT", "GROSS APR", "NET APR"], rows, right=[3, 4])
    await reply(
        update,
        f"<b>Top {len(found)} funding opportunities</b> on {escape(venues)}\n"
        f"{pre(text)}\nLong the first venue, short the second; net of round-trip taker fees "
        "amortised over a 72 h hold.",
    )
