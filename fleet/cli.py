"""``python -m fleet``: run the fleet from a shell (``make fleet-up`` / ``make fleet-down``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from fleet.api import BotInfo, FleetError
from fleet.manager import FleetManager
from trading_config.cli_parser import OneLineParser
from trading_config.errors import ConfigError
from trading_config.loader import load_config
from trading_config.logging_setup import configure_logging
from trading_config.redaction import scrub

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m fleet", description="Run perpfleet bots under supervisord."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start supervisord (if needed) and load every bot program")
    commands.add_parser("down", help="stop every bot gracefully, then supervisord")
    launch = commands.add_parser("launch", help="start a bot from its config")
    launch.add_argument("config")
    launch.add_argument("--account", help="database account for every venue of the config")
    launch.add_argument(
        "--ok-if-running", action="store_true", help="a bot already running is not an error"
    )
    stop = commands.add_parser("stop", help="stop a bot (it cancels its orders)")
    stop.add_argument("bot")
    stop.add_argument("--close", action="store_true", help="close its positions first")
    restart = commands.add_parser("restart", help="stop and start a bot")
    restart.add_argument("bot")
    commands.add_parser("list", help="every bot with its state")
    commands.add_parser(
        "telegram", help="run the Telegram service under supervisord (TELEGRAM_BOT_TOKEN)"
    )
    logs = commands.add_parser("logs", help="the last lines of a bot's log")
    logs.add_argument("bot")
    logs.add_argument("-n", "--lines", type=int, default=50)
    return parser


def format_table(bots: Sequence[BotInfo]) -> str:
    if not bots:
        return "no bots (launch one: python -m fleet launch configs/paper_grid.yml)"
    header = ("BOT", "STATE", "PID", "UPTIME", "STRATEGY", "PORT")
    rows = [
        (
            bot.name,
            bot.state,
            str(bot.pid or "-"),
            _uptime(bot.uptime_seconds),
            bot.strategy or "-",
            str(bot.control_port or "-"),
        )
        for bot in bots
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


async def run(args: argparse.Namespace) -> str:
    fleet = FleetManager()
    if args.command == "up":
        await fleet.up()
        return format_table(await fleet.list_bots())
    if args.command == "down":
        await fleet.down()
        return "fleet stopped"
    await fleet.up()
    if args.command == "launch":
        if args.ok_if_running:
            running = {bot.name: bot for bot in await fleet.list_bots() if bot.running}
            name = load_config(args.config).name
            if name in running:
                port = running[name].control_port
                return f"{name} already RUNNING (control API on 127.0.0.1:{port})"
        info = await fleet.launch(args.config, args.account)
        return f"{info.name} {info.state} (control API on 127.0.0.1:{info.control_port})"
    if args.command == "stop":
        info = await fleet.stop(args.bot, close_positions=args.close)
        return f"{info.name} {info.state}"
    if args.command == "restart":
        info = await fleet.restart(args.bot)
        return f"{info.name} {info.state}"
    if args.command == "list":
        return format_table(await fleet.list_bots())
    if args.command == "telegram":
        state = await fleet.start_telegram(
            os.environ.get("TELEGRAM_BOT_TOKEN", ""), os.environ.get("TELEGRAM_API_BASE_URL")
        )
        return f"telegram service {state}"
    return await fleet.logs(args.bot, args.lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(level="WARNING", stream=sys.stderr)
    try:
        output = asyncio.run(run(args))
    except FleetError as exc:
        sys.stderr.write(scrub(str(exc)) + "\n")
        return EXIT_FAILED
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(scrub(problem) + "\n")
        return EXIT_USER_ERROR
    sys.stdout.write(output + "\n")
    return EXIT_OK
