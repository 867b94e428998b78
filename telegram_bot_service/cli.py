"""``python -m telegram_bot_service``: run the Telegram service; manage who may use it.

* ``run`` — poll Telegram and serve commands against the fleet (supervisord under ``var/``),
  with the fleet watcher sending alerts. Needs ``TELEGRAM_BOT_TOKEN``.
* ``users add <telegram_id> --role admin|trader|viewer [--name N] [--subscribe KIND ...]``,
  ``users list``, ``users remove <telegram_id>`` — the allowlist, each change audit-logged.

Like ``python -m database``: output on stdout, one ``error: ...`` line and exit 2 for a user
mistake, nothing secret ever printed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import InvalidToken, NetworkError

from core.errors import ConfigError, TradingError
from core.logging_setup import LEVELS, configure_logging, install_excepthook
from core.redaction import scrub
from database.engine import create_engine, session_maker
from database.models.telegram import EVENT_KINDS
from database.repositories.audit import record_audit
from database.schema_version import require_current_schema
from fleet.api import Fleet
from strategies.funding_arbitrage.quotes import ClientFundingProvider
from telegram_bot_service import users
from telegram_bot_service.app import build_application
from telegram_bot_service.notifications import Notifier
from telegram_bot_service.roles import Role
from telegram_bot_service.runner import running, until_signalled
from telegram_bot_service.services import Services
from telegram_bot_service.settings import TelegramSettings, configs_dir
from telegram_bot_service.watcher import FleetWatcher

EXIT_USER_ERROR = 2
EXIT_FAILURE = 1
T = TypeVar("T")
Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, None]]

log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, stream=sys.stderr)
    install_excepthook()
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    handler: Handler = args.handler
    try:
        asyncio.run(handler(args))
    except ConfigError as exc:
        return _fail(exc.problems, EXIT_USER_ERROR)
    except TradingError as exc:
        return _fail([str(exc)], EXIT_FAILURE)
    except KeyboardInterrupt:
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m telegram_bot_service",
        description="perpfleet's Telegram service: run it, and manage who may use it.",
    )
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper, choices=LEVELS, help="default INFO"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="serve Telegram commands (needs TELEGRAM_BOT_TOKEN)")
    run.add_argument("--poll-seconds", type=float, default=10.0, help="fleet watch interval")
    run.add_argument(
        "--snapshot-seconds", type=float, default=300.0, help="PnL sample interval per bot"
    )
    run.set_defaults(handler=_run)

    user_commands = commands.add_parser("users", help="the allowlist of Telegram users")
    sub = user_commands.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="allow a Telegram user (or change their role)")
    add.add_argument("telegram_id", type=int)
    add.add_argument("--role", required=True, choices=[role.label for role in Role])
    add.add_argument("--name", help="a display name")
    add.add_argument(
        "--subscribe",
        nargs="+",
        default=[],
        metavar="KIND",
        help=f"alerts to receive: {', '.join(EVENT_KINDS)} or all",
    )
    add.set_defaults(handler=_users_add)
    listing = sub.add_parser("list", help="allowed users, roles and alerts")
    listing.set_defaults(handler=_users_list)
    remove = sub.add_parser("remove", help="remove a Telegram user")
    remove.add_argument("telegram_id", type=int)
    remove.set_defaults(handler=_users_remove)
    return parser


# -- run ---------------------------------------------------------------------------------------


def _fleet_manager() -> Fleet:
    try:
        module = importlib.import_module("fleet.manager")
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the fleet manager is not available ({exc}): this checkout has no fleet/manager.py"
        ) from None
    fleet: Fleet = module.FleetManager()
    return fleet


async def _run(args: argparse.Namespace) -> None:
    settings = TelegramSettings.from_env()
    await require_current_schema()
    engine = create_engine()
    try:
        sessions = session_maker(engine)
        # Starts nothing: the service reads and drives the fleet as it is; each fleet action
        # that needs supervisord starts it itself (issue 14: a crashed service once left the
        # whole fleet it had started running).
        fleet = _fleet_manager()
        services = Services(fleet, sessions, configs_dir(), ClientFundingProvider())
        application = build_application(settings, services)
        watcher = FleetWatcher(
            fleet,
            Notifier(application.bot, sessions),
            sessions,
            services.expected,
            interval_seconds=args.poll_seconds,
            snapshot_interval_seconds=args.snapshot_seconds,
        )
        try:
            async with running(application, watcher=watcher):
                log.info("telegram service running")
                await until_signalled()
        except InvalidToken:
            raise ConfigError(
                "Telegram refused TELEGRAM_BOT_TOKEN: copy the token @BotFather gave again"
            ) from None
        except NetworkError as exc:  # TimedOut too: the service cannot start without Telegram
            raise TradingError(
                f"cannot reach the Telegram Bot API at {settings.api_base_url} "
                f"({exc.message}): check the network, or TELEGRAM_API_BASE_URL"
            ) from None
        log.info("telegram service stopped")
    finally:
        await engine.dispose()


# -- users -------------------------------------------------------------------------------------


async def _users_add(args: argparse.Namespace) -> None:
    role = Role.parse(args.role)
    kinds = users.check_kinds(args.subscribe)

    async def add(session: AsyncSession) -> bool:
        _, created = await users.add_user(session, args.telegram_id, role, args.name)
        if kinds:
            await users.subscribe(session, args.telegram_id, kinds)
        await record_audit(
            session,
            "telegram.user.add" if created else "telegram.user.update",
            f"telegram:{args.telegram_id}",
            {"role": role.label, "name": args.name, "subscriptions": kinds},
        )
        return created

    created = await _in_transaction(add)
    verb = "added" if created else "updated"
    _out(f"{verb} Telegram user {args.telegram_id} as {role.label}")


async def _users_list(_args: argparse.Namespace) -> None:
    listed = await _in_transaction(users.list_users)
    if not listed:
        _out("no Telegram users")
        return
    rows = [
        [str(u.telegram_id), u.role.label, u.display_name or "-", ", ".join(u.subscriptions) or "-"]
        for u in listed
    ]
    headers = ["TELEGRAM ID", "ROLE", "NAME", "ALERTS"]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        _out("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


async def _users_remove(args: argparse.Namespace) -> None:
    async def remove(session: AsyncSession) -> None:
        removed = await users.remove_user(session, args.telegram_id)
        await record_audit(
            session,
            "telegram.user.remove",
            f"telegram:{args.telegram_id}",
            {"role": removed.role.label},
        )

    await _in_transaction(remove)
    _out(f"removed Telegram user {args.telegram_id}")


async def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    await require_current_schema()
    engine = create_engine()
    try:
        async with session_maker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def _out(line: str) -> None:
    sys.stdout.write(scrub(line) + "\n")


def _fail(problems: Sequence[str], code: int) -> int:
    for problem in problems:
        sys.stderr.write(f"error: {scrub(problem)}\n")
    return code
