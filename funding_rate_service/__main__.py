"""``python -m funding_rate_service``: the collector and the read-only API in one process.

The collector (and its housekeeping) run as background tasks of the event loop uvicorn serves
the API on, so /health reads the collector's live state. SIGINT/SIGTERM stop uvicorn, then the
background work, then the venue clients and the database engine - in that order.

Where it listens decides what it requires: on loopback (127.0.0.1, ::1, localhost) the API is
open - it shows public market data to programs on this machine. Bound anywhere else it would
be open to the network, so a token is then required (``$PERPFLEET_FUNDING_TOKEN_FILE``, a file
only its owner may read, or ``$PERPFLEET_FUNDING_TOKEN``), and the service refuses to start
without one in a single line. A token given on loopback is required there too.

Every mistake (a flag, a setting, the token file, the database) is one line on stderr and
exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import ipaddress
import os
import signal
import stat
import sys
from collections.abc import Generator, Mapping, MutableMapping, Sequence
from pathlib import Path

import structlog
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.control_auth import hash_token
from core.errors import ConfigError
from core.logging_setup import LEVELS, configure_logging
from database.engine import create_engine, database_url, session_maker
from database.schema_version import require_current_schema
from funding_rate_service import settings as collection_settings
from funding_rate_service.api import ServiceContext, create_app
from funding_rate_service.backfill import backfill_configured
from funding_rate_service.collector import Collector
from funding_rate_service.jobs import Housekeeping
from funding_rate_service.queries import DatabaseReader
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.status import CollectorStatus
from trading_config.cli_parser import OneLineParser

log = structlog.get_logger(__name__)

EXIT_USER_ERROR = 2
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8710
# The API token, never on the command line (it would show in `ps`): a 0600 file (what a
# supervisord program file points at) or the environment. Both are removed once read.
TOKEN_ENV = "PERPFLEET_FUNDING_TOKEN"  # noqa: S105 - a variable name, not a secret
TOKEN_FILE_ENV = "PERPFLEET_FUNDING_TOKEN_FILE"  # noqa: S105 - a variable name


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, found {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, found {port}")
    return port


def _log_level(text: str) -> str:
    if text.upper() not in LEVELS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(LEVELS)}, found {text!r}")
    return text.upper()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m funding_rate_service",
        description="Collect every venue's funding rates and serve them over HTTP (/api/v1).",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}; any other needs ${TOKEN_FILE_ENV} "
        f"or ${TOKEN_ENV})",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument("--log-level", type=_log_level, default="INFO", metavar="LEVEL")
    parser.add_argument("--log-json", action="store_true", help="JSON log lines")
    collection_settings.add_arguments(parser)
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def read_token(environ: MutableMapping[str, str]) -> str | None:
    """The token from ``$PERPFLEET_FUNDING_TOKEN_FILE`` (owner-only) or
    ``$PERPFLEET_FUNDING_TOKEN``; both variables are removed so children never inherit them."""
    path = environ.pop(TOKEN_FILE_ENV, None)
    direct = environ.pop(TOKEN_ENV, None)
    if not path:
        return direct.strip() if direct and direct.strip() else None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{path}: the API token file is readable by others (mode {mode:04o}): "
                f"chmod 600 {path}"
            )
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the API token: {exc.strerror}") from None
    if not token:
        raise ConfigError(f"{path}: the API token file is empty")
    return token


def check_binding(host: str, token: str | None) -> None:
    """Refuse an API open to the network: off loopback, a token is required."""
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"--host {host} is not a loopback address: the API would be open to the network; "
            f"set {TOKEN_FILE_ENV} (a chmod 600 file) or {TOKEN_ENV}, or listen on 127.0.0.1"
        )


def start_background(
    settings: CollectionSettings,
    sessions: async_sessionmaker[AsyncSession],
    collector: Collector,
    housekeeping: Housekeeping,
    status: CollectorStatus,
    stop: asyncio.Event,
) -> list[asyncio.Task[None]]:
    """The collector's work, stopped by ``stop``: collection, housekeeping and, once at start
    when ``backfill_days`` > 0, the backfill of the venues that publish their history."""
    tasks = [
        asyncio.create_task(collector.run(stop), name="funding-collector"),
        asyncio.create_task(housekeeping.run(stop), name="funding-housekeeping"),
    ]
    if settings.backfill_days > 0:

        async def run_backfill() -> None:
            status.backfill_results = await backfill_configured(sessions, settings)

        tasks.append(asyncio.create_task(run_backfill(), name="funding-backfill"))
    return tasks


class _Server(uvicorn.Server):
    """uvicorn, with two changes for a process that owns more than the server.

    * A failed bind is answered by uvicorn with ``sys.exit``; here it is one line and exit 2.
    * uvicorn's ``capture_signals`` re-raises the SIGTERM/SIGINT it caught once the server has
      stopped, which would kill the process before the collector is stopped and the venue
      clients closed. It is a no-op here; :func:`serve` installs handlers that ask the server
      to exit, and the clean-up then runs.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        try:
            await super().startup(sockets=sockets)  # type: ignore[arg-type]
        except SystemExit:
            raise ConfigError(
                f"cannot listen on {self.config.host}:{self.config.port} "
                "(address in use, or not an address of this machine?)"
            ) from None


async def serve(args: argparse.Namespace, settings: CollectionSettings, token: str | None) -> None:
    url = database_url()
    await require_current_schema(url)
    engine = create_engine(url)
    sessions = session_maker(engine)
    # The collector's default reaches Hyperliquid through its public reader (no key needed).
    collector = Collector(settings, sessions)
    housekeeping = Housekeeping(settings, sessions)
    status = CollectorStatus(collector, housekeeping)
    context = ServiceContext(DatabaseReader(sessions), status)
    app = create_app(context, token_hash=hash_token(token) if token else None)
    # The opportunity book is rebuilt right after each collection, not by the first request.
    collector.after_cycle = context.warm
    # Everything imported so far lives as long as the process: keep it out of the collector's
    # generations, or each full collection walks it (it was the whole p99 of history queries).
    gc.collect()
    gc.freeze()
    server = _Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.handle_exit, signum, None)
    stop = asyncio.Event()
    tasks = start_background(settings, sessions, collector, housekeeping, status, stop)
    log.info(
        "funding-rate service starting",
        host=args.host,
        port=args.port,
        venues=list(settings.venues),
        token_required=token is not None,
    )
    try:
        await server.serve()
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await collector.aclose()
        await engine.dispose()
    if server.started:
        log.info("funding-rate service stopped")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, json=True if args.log_json else None)
    env = dict(os.environ if environ is None else environ)
    try:
        settings = collection_settings.load(args, env)
        token = read_token(os.environ if environ is None else env)
        check_binding(args.host, token)
        asyncio.run(serve(args, settings, token))
    except ConfigError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"python -m funding_rate_service: {problem}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
