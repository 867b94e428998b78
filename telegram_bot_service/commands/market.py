"""/funding, /opportunities and /funding_chart: funding spreads, ranked as the arbitrage strategy
ranks them.

Two sources, one reading each: the paper venues are scanned live through the service's
:class:`~strategies.funding_arbitrage.quotes.FundingProvider` (as before), and the real venues
are read from the funding-rate service (``python -m funding_rate_service``, at
``$PERPFLEET_FUNDING_URL``, default http://127.0.0.1:8710) through
:class:`~strategies.funding_arbitrage.service_client.FundingServiceClient` - the client the
strategy's ``opportunities: service`` uses too. A service that is down or answers nonsense is
one readable line (its URL and what went wrong) in place of its section; the paper section
still shows.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from core.venues import VENUES
from strategies.funding_arbitrage.opportunities import Opportunity
from strategies.funding_arbitrage.quotes import top_opportunities
from strategies.funding_arbitrage.service_client import (
    FundingServiceClient,
    FundingServiceUnavailable,
    OpportunityFilters,
)
from telegram_bot_service.commands.common import args_of, reply
from telegram_bot_service.formatting import clip, escape, percent, pre, table
from telegram_bot_service.services import services_of

TOP = 5
OPPORTUNITIES_LIMIT = 10
HUNDRED = 100
HOURS_PER_YEAR = 8760
SYMBOL = re.compile(r"[A-Za-z0-9]{1,20}")
NOT_PAPER = tuple(name for name in sorted(VENUES) if not name.startswith("paper"))
OPPORTUNITIES_USAGE = "/opportunities [SYMBOL] [MIN_NET_APR_%]"
CHART_USAGE = "/funding_chart SYMBOL LONG_VENUE SHORT_VENUE [DAYS]"


def funding_service() -> FundingServiceClient:
    """The funding-rate service this Telegram service reads (``$PERPFLEET_FUNDING_URL``)."""
    return FundingServiceClient.from_env()


def _row(rank: int, o: Opportunity) -> list[str]:
    return [
        str(rank),
        o.symbol,
        f"{o.long_venue}/{o.short_venue}",
        percent(o.gross_hourly * HOURS_PER_YEAR * HUNDRED),
        percent(o.net_apr_pct),
    ]


def _table(found: list[Opportunity]) -> str:
    rows = [_row(rank, o) for rank, o in enumerate(found, start=1)]
    return pre(table(["#", "SYMBOL", "LONG/SHORT", "GROSS APR", "NET APR"], rows, right=[3, 4]))


def _down(exc: FundingServiceUnavailable) -> str:
    return f"Real venues: {escape(exc)}"


async def funding(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The best pairs on the paper venues (scanned now) and on the real venues (the service)."""
    provider = services_of(context).funding
    found = await top_opportunities(provider, TOP)
    venues = ", ".join(provider.venues)
    if found:
        paper = f"<b>Top {len(found)} funding opportunities</b> on {escape(venues)}\n" + _table(
            found
        )
    else:
        paper = f"No funding spread pays after fees right now on {escape(venues)}."
    real = await _service_section()
    await reply(
        update,
        f"{paper}\n\n{real}\n\nLong the first venue, short the second; net of round-trip "
        "taker fees amortised over a 72 h hold.",
    )


async def _service_section() -> str:
    service = funding_service()
    try:
        answer = await service.opportunities(
            OpportunityFilters(venues=NOT_PAPER, limit=TOP, hold_hours=Decimal(72))
        )
    except FundingServiceUnavailable as exc:
        return _down(exc)
    venues = ", ".join(answer.venues) or "none collected yet"
    if not answer.opportunities:
        return f"No funding spread pays after fees right now on the real venues ({escape(venues)})."
    return (
        f"<b>Top {len(answer.opportunities)} on the real venues</b> ({escape(venues)}; "
        f"{_as_of(answer.as_of)})\n" + _table(answer.opportunities)
    )


def _as_of(when: datetime | None) -> str:
    if when is None:
        return "no data yet"
    return f"as of {when:%Y-%m-%d %H:%M} UTC"


async def opportunities(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The funding-rate service's opportunities on the real venues, optionally for one symbol
    and above a net APR."""
    args = args_of(context)
    symbol: str | None = None
    minimum = Decimal(0)
    for arg in args:
        number = _number(arg)
        if number is not None:
            minimum = number
        elif SYMBOL.fullmatch(arg) and symbol is None:
            symbol = arg.upper()
        else:
            await reply(
                update, f"Usage: {escape(OPPORTUNITIES_USAGE)} (not {escape(clip(arg, 30))!r})"
            )
            return
    service = funding_service()
    try:
        answer = await service.opportunities(
            OpportunityFilters(
                venues=NOT_PAPER,
                symbols=[symbol] if symbol else None,
                min_net_apr_pct=minimum,
                limit=OPPORTUNITIES_LIMIT,
            )
        )
    except FundingServiceUnavailable as exc:
        await reply(update, escape(exc))
        return
    what = f"{symbol} " if symbol else ""
    above = f" above {percent(minimum)} net APR" if minimum else ""
    if not answer.opportunities:
        await reply(
            update,
            f"No {escape(what)}funding spread pays{escape(above)} on the real venues "
            f"({escape(', '.join(answer.venues) or 'none collected yet')}).",
        )
        return
    rows = [
        [
            o.symbol,
            f"{o.long_venue}/{o.short_venue}",
            percent(o.net_apr_pct),
            percent(o.price_divergence_pct, 3),
        ]
        for o in answer.opportunities
    ]
    text = table(["SYMBOL", "LONG/SHORT", "NET APR", "PRICE GAP"], rows, right=[2, 3])
    first = answer.opportunities[0]
    await reply(
        update,
        f"<b>{answer.matched} {escape(what)}opportunit{'y' if answer.matched == 1 else 'ies'}"
        f"{escape(above)}</b> on the real venues ({_as_of(answer.as_of)}), best first:\n"
        f"{pre(text)}\nChart of a pair: "
        f"/funding_chart {escape(first.symbol)} {escape(first.long_venue)} "
        f"{escape(first.short_venue)}",
    )


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.rstrip("%"))
    except ArithmeticError:
        return None
    return value if value.is_finite() and 0 <= value <= 1_000_000 else None


async def funding_chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pair's funding spread and cumulative carry (PNG) from the service's history."""
    args = args_of(context)
    if len(args) not in (3, 4):
        await reply(update, f"Usage: {escape(CHART_USAGE)}")
        return
    symbol, long_venue, short_venue = args[0], args[1].lower(), args[2].lower()
    problems = []
    if not SYMBOL.fullmatch(symbol):
        problems.append(f"{clip(symbol, 30)!r} is not a symbol (letters and digits, like BTC)")
    for venue in (long_venue, short_venue):
        if venue not in VENUES:
            problems.append(f"{clip(venue, 30)!r} is not a venue ({', '.join(sorted(VENUES))})")
    if long_venue == short_venue and not problems:
        problems.append("the long and short venues must differ")
    days = 30
    if len(args) == 4:
        if not args[3].isdigit() or not 1 <= int(args[3]) <= 365:
            problems.append(f"DAYS must be 1 to 365, not {clip(args[3], 10)!r}")
        else:
            days = int(args[3])
    if problems:
        await reply(update, escape("; ".join(problems)) + f"\nUsage: {escape(CHART_USAGE)}")
        return
    try:
        png = await funding_service().spread_chart_png(
            symbol.upper(), long_venue, short_venue, days=days
        )
    except FundingServiceUnavailable as exc:
        await reply(update, escape(exc))
        return
    message = update.effective_message
    if message is not None:
        await message.reply_photo(
            InputFile(png, filename="funding_spread.png"),
            caption=(
                f"{symbol.upper()}: long {long_venue}, short {short_venue} - funding spread "
                f"and cumulative carry, last {days} days (UTC)"
            ),
        )
