"""``python -m bot_runtime.report BOT --out DIR``: a bot's HTML report and PNG chart from its
journal, whether the bot runs or not.

It reads what ``/stats`` reads (:mod:`bot_runtime.trade_records`: fills, funding payments,
equity samples) from ``$DATABASE_URL`` (default: the SQLite file under ``var/``) and writes
``DIR/<bot>.html`` (self-contained: open it by path) and ``DIR/<bot>-equity.png``. No venue is
asked, so open lots are not marked: their unrealized PnL is left out, and the report says so.
Exit 0 with the two paths printed; 2 for a bot the database does not know; 1 when the database
cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from analytics.charts import write_equity_png
from analytics.performance import analyse
from analytics.report import write_html
from bot_runtime.trade_records import JournalRecords, load_records
from core.paths import var_dir
from core.redaction import scrub
from database.engine import create_engine, database_url, display_url, session_maker
from database.models import Bot, Order
from trading_config.schema import NAME_PATTERN

EXIT_OK, EXIT_FAILED, EXIT_USER_ERROR = 0, 1, 2


class UnknownBot(Exception):
    """The database has no bot of that name: a user mistake (exit 2)."""


async def read_journal(url: str, name: str) -> JournalRecords:
    engine = create_engine(url)
    try:
        sessions = session_maker(engine)
        async with sessions() as session:
            bot_id = await session.scalar(select(Bot.id).where(Bot.name == name))
            if bot_id is None:
                raise UnknownBot(f"no bot named {name!r} in the database {display_url(url)}")
            used = await session.execute(
                select(Order.venue, Order.account_id).where(Order.bot_id == bot_id).distinct()
            )
            accounts = {venue: account for venue, account in used}
        return await load_records(sessions, bot_id, accounts)
    finally:
        await engine.dispose()


async def write_report(url: str, name: str, out: Path) -> tuple[Path, Path]:
    records = await read_journal(url, name)
    perf = analyse(records.fills, records.funding, records.equity)
    if perf.open_lots:
        perf.notes["unrealized"] = "open lots not marked: the report reads the journal only"
    title = f"perpfleet bot {name}"
    html = write_html(out / f"{name}.html", perf, records.equity, title)
    png = await asyncio.to_thread(
        write_equity_png, out / f"{name}-equity.png", records.equity, title
    )
    return html, png


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot_runtime.report",
        description="Write a bot's performance report (HTML) and equity chart (PNG) from its "
        "journal in $DATABASE_URL.",
    )
    parser.add_argument("bot", help="the bot's name")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the files (default: var/reports)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not re.fullmatch(NAME_PATTERN, args.bot):
        sys.stderr.write(f"bot {args.bot[:40]!r}: names are lowercase letters, digits, _ and -\n")
        return EXIT_USER_ERROR
    out = args.out if args.out is not None else var_dir() / "reports"
    try:
        html, png = asyncio.run(write_report(database_url(), args.bot, out))
    except UnknownBot as exc:
        sys.stderr.write(scrub(str(exc)) + "\n")
        return EXIT_USER_ERROR
    except (SQLAlchemyError, OSError) as exc:
        sys.stderr.write(scrub(f"cannot write the report of {args.bot}: {exc}") + "\n")
        return EXIT_FAILED
    sys.stdout.write(f"{html}\n{png}\n")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
