"""Command line of one bot (``runbot.py``): parse flags, load the config, act.

User mistakes (bad flags, bad config, missing account) print one clear line per
problem on stderr and exit 2 — never a traceback. Everything printed passes
through the secret scrubber.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

import structlog

from bot_runtime.check import (
    summarize,
    verify_accounts,
    verify_live_trading,
    verify_markets,
    verify_proxies,
)
from bot_runtime.notifications import AlertSinkFactory
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from core.errors import ConfigError
from core.logging_setup import LEVELS, configure_logging, install_excepthook
from core.redaction import scrub
from trading_config.cli_parser import OneLineParser
from trading_config.loader import CliOverrides, load_config_with_source

log = structlog.get_logger(__name__)

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
# The control API's bearer token, never on the command line: in a file only its owner can read
# (what the fleet does: the path is all its program file and environment hold), or directly in
# the environment (a person starting one bot). Either variable is removed once read, so the
# bot's children never inherit it.
CONTROL_TOKEN_ENV = "PERPFLEET_CONTROL_TOKEN"  # noqa: S105 - a variable name, not a secret
CONTROL_TOKEN_FILE_ENV = "PERPFLEET_CONTROL_TOKEN_FILE"  # noqa: S105 - a variable name


def control_token() -> str | None:
    """The token from ``$PERPFLEET_CONTROL_TOKEN_FILE`` or ``$PERPFLEET_CONTROL_TOKEN``.

    The file must be readable by its owner only (a token others can read is not a secret any
    more): a looser mode is refused with one line saying how to fix it.
    """
    path = os.environ.pop(CONTROL_TOKEN_FILE_ENV, None)
    direct = os.environ.pop(CONTROL_TOKEN_ENV, None)
    if not path:
        return direct or None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            raise ConfigError(
                [
                    f"{path}: control token file is readable by others (mode {mode:04o}): "
                    f"chmod 600 {path}"
                ]
            )
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the control token: {exc.strerror}"]) from None
    if not token:
        raise ConfigError([f"{path}: the control token file is empty"])
    return token


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, found {text!r}") from None
    if not 1024 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1024 to 65535, found {port}")
    return port


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in LEVELS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(LEVELS)}, found {text!r}")
    return level


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="runbot.py",
        description="Run one perpfleet trading bot from its YAML config.",
    )
    parser.add_argument("--config", required=True, metavar="FILE", help="bot config (YAML)")
    parser.add_argument(
        "--check", action="store_true", help="validate the config, print a summary and exit"
    )
    parser.add_argument(
        "--account", metavar="NAME", help="database account to use on every venue of the config"
    )
    parser.add_argument(
        "--enable-control-api", action="store_true", help="serve the per-bot REST control API"
    )
    parser.add_argument(
        "--control-api-port", type=_port, metavar="PORT", help="port of the control API"
    )
    parser.add_argument(
        "--control-api-port-fallback",
        action="store_true",
        help="if PORT is taken, listen on any free port (recorded in the database for the fleet)",
    )
    parser.add_argument(
        "--enable-proxy", action="store_true", help="route venue traffic through account proxies"
    )
    parser.add_argument("--log-level", type=_log_level, metavar="LEVEL", help="DEBUG ... CRITICAL")
    parser.add_argument("--log-json", action="store_true", help="JSON log lines even on a terminal")
    parser.add_argument(
        "--debug-libs",
        action="store_true",
        help="let third-party libraries (database drivers, HTTP) log below WARNING too",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, alerts: AlertSinkFactory | None = None) -> int:
    """Run ``runbot.py``; ``alerts`` is the alert channel the composition root chose.

    Every start-up failure is one line and a non-zero exit: a user mistake exits 2, a venue
    or a port that refuses exits 1 (:class:`~bot_runtime.runtime.BotRuntime`), Ctrl-C before
    the bot runs exits 130. Only a bug shows a traceback, logged, then a line saying so.
    """
    try:
        return _main(argv, alerts)
    except KeyboardInterrupt:
        # Before the runtime's own handlers: nothing traded yet, the row says "stopped".
        sys.stderr.write("runbot.py: interrupted while starting; the bot did not start\n")
        return EXIT_INTERRUPTED
    except Exception as exc:
        log.exception("unexpected error: a bug")
        sys.stderr.write(
            f"runbot.py: unexpected error (a bug): {scrub(f'{type(exc).__name__}: {exc}')}; "
            "its traceback is in the log above\n"
        )
        return EXIT_BUG


def _main(argv: Sequence[str] | None, alerts: AlertSinkFactory | None) -> int:
    args = build_parser().parse_args(argv)
    install_excepthook()
    configure_logging(
        level=args.log_level or "INFO",
        json=True if args.log_json else None,
        debug_libs=args.debug_libs,
    )
    overrides = CliOverrides(
        account=args.account,
        enable_control_api=args.enable_control_api,
        control_api_port=args.control_api_port,
        log_level=args.log_level,
        enable_proxy=args.enable_proxy,
    )
    try:
        loaded = load_config_with_source(args.config, cli=overrides)
        refused = verify_live_trading(loaded.config, loaded.source)
        if refused:  # before anything starts, --check or not
            raise ConfigError(refused)
        if args.check:
            problems = verify_markets(loaded.config, loaded.source)
            problems += asyncio.run(verify_accounts(loaded.config, loaded.source))
            proxy_problems, routes = asyncio.run(verify_proxies(loaded.config, loaded.source))
            problems += proxy_problems
            if problems:
                raise ConfigError(problems)
            sys.stdout.write(
                "\n".join(summarize(args.config, loaded.config, proxies=routes)) + "\n"
            )
            return EXIT_OK
        configure_logging(
            level=args.log_level or loaded.config.logging.level,
            json=True if args.log_json else loaded.config.logging.json_output,
            debug_libs=args.debug_libs,
        )
        options = RuntimeOptions(
            config_path=args.config,
            control_api=loaded.config.control_api.enabled,
            control_api_port=loaded.config.control_api.port,
            control_token=control_token(),
            control_api_port_fallback=args.control_api_port_fallback,
            alerts=alerts,
        )
        return asyncio.run(BotRuntime(loaded.config, options).run())
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(scrub(problem) + "\n")
        return EXIT_USER_ERROR
