"""``python -m dashboard``: serve the web dashboard; manage who may log in.

* with no command: serve (loopback, port 8720, by default; options --host, --port,
  --funding-url, --secure-cookies, --configs-dir, --session-hours, --sample-seconds).
* ``users add NAME --role viewer|trader|admin [--password-stdin]``, ``users password NAME``,
  ``users list``, ``users remove NAME`` - each change audit-logged. Passwords are asked twice
  on a terminal (never an argument: it would sit in the shell history and ``ps``).

Output on stdout; a user mistake is one ``error: ...`` line and exit 2, nothing secret printed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConfigError, TradingError
from core.logging_setup import LEVELS, configure_logging, install_excepthook
from core.redaction import scrub
from dashboard.funding import DEFAULT_FUNDING_URL
from dashboard.passwords import PasswordError, check_strength, hash_password
from dashboard.roles import Role
from dashboard.sampler import DEFAULT_SAMPLE_SECONDS
from dashboard.server import (
    CONFIGS_DIR_ENV,
    DEFAULT_CONFIGS_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    ServeSettings,
    serve,
)
from database.engine import create_engine, session_maker
from database.repositories import dashboard_users as repo
from database.repositories.audit import record_audit
from database.schema_version import require_current_schema

EXIT_USER_ERROR = 2
EXIT_FAILURE = 1
FUNDING_TOKEN_ENV = "PERPFLEET_FUNDING_TOKEN"  # noqa: S105 - a variable name (the service's own)
T = TypeVar("T")
Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, None]]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, stream=sys.stderr)
    install_excepthook()
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    handler: Handler = args.handler
    try:
        asyncio.run(handler(args))
    except (ConfigError, PasswordError, repo.DashboardUserError) as exc:
        problems = exc.problems if isinstance(exc, ConfigError) else [str(exc)]
        return _fail(problems, EXIT_USER_ERROR)
    except TradingError as exc:
        return _fail([str(exc)], EXIT_FAILURE)
    except KeyboardInterrupt:
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="perpfleet's web dashboard: serve it (the default), manage its users.",
    )
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper, choices=LEVELS, help="default INFO"
    )
    parser.add_argument("--host", default=None, help=f"default ${ENV_PREFIX}HOST or {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--funding-url",
        default=None,
        help=f"the funding-rate service (default ${ENV_PREFIX}FUNDING_URL or "
        f"{DEFAULT_FUNDING_URL}; its token, if it has one, from ${FUNDING_TOKEN_ENV})",
    )
    parser.add_argument(
        "--secure-cookies",
        action="store_true",
        default=None,
        help="mark session cookies Secure: for serving behind a TLS proxy (required with a "
        f"non-loopback --host; or ${ENV_PREFIX}SECURE_COOKIES=1)",
    )
    parser.add_argument(
        "--configs-dir",
        type=Path,
        default=None,
        help=f"configs offered by Launch (default ${CONFIGS_DIR_ENV} or {DEFAULT_CONFIGS_DIR})",
    )
    parser.add_argument(
        "--session-hours",
        type=float,
        default=None,
        help=f"a login lasts this long (default ${ENV_PREFIX}SESSION_HOURS or 12)",
    )
    parser.add_argument(
        "--sample-seconds",
        type=float,
        default=None,
        help="sample each running bot's equity into pnl_snapshots this often, unless sampled "
        f"already (the equity curves; default ${ENV_PREFIX}SAMPLE_SECONDS or 300; 0: off)",
    )
    parser.set_defaults(handler=_serve)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    users = commands.add_parser("users", help="who may log in to the dashboard")
    sub = users.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="add a user (the password is asked twice)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[role.label for role in Role])
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin (scripts)",
    )
    add.set_defaults(handler=_users_add)
    password = sub.add_parser("password", help="set a new password (ends the user's sessions)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(handler=_users_password)
    listing = sub.add_parser("list", help="users and roles")
    listing.set_defaults(handler=_users_list)
    remove = sub.add_parser("remove", help="remove a user (and end their sessions)")
    remove.add_argument("name")
    remove.set_defaults(handler=_users_remove)
    return parser


ENV_PREFIX = "PERPFLEET_DASHBOARD_"
ENV_SETTINGS = ("HOST", "FUNDING_URL", "SECURE_COOKIES", "SESSION_HOURS", "SAMPLE_SECONDS")
"""Settings also read from ``PERPFLEET_DASHBOARD_<NAME>`` (how the fleet's service program
passes them: ``python -m fleet service start dashboard`` copies that prefix); a flag wins."""


def environment_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``PERPFLEET_DASHBOARD_*`` settings, checked; an unknown name or value is refused."""
    problems = []
    found: dict[str, Any] = {}
    for key in sorted(k for k in environ if k.startswith(ENV_PREFIX)):
        name, value = key.removeprefix(ENV_PREFIX), environ[key].strip()
        if name == "HOST":
            found["host"] = value
        elif name == "FUNDING_URL":
            found["funding_url"] = value
        elif name == "SECURE_COOKIES":
            if value not in ("0", "1", "true", "false"):
                problems.append(f"${key}: expected 1/true or 0/false, found {value!r}")
            found["secure_cookies"] = value in ("1", "true")
        elif name in ("SESSION_HOURS", "SAMPLE_SECONDS"):
            try:
                found[name.lower()] = float(value)
            except ValueError:
                unit = "hours" if name == "SESSION_HOURS" else "seconds"
                problems.append(f"${key}: expected a number of {unit}, found {value!r}")
        else:
            known = ", ".join(ENV_PREFIX + n for n in ENV_SETTINGS)
            problems.append(f"${key}: not a dashboard setting (known: {known})")
    if problems:
        raise ConfigError(problems)
    return found


async def _serve(args: argparse.Namespace) -> None:
    env = environment_settings(os.environ)
    configs = args.configs_dir or Path(os.environ.get(CONFIGS_DIR_ENV) or DEFAULT_CONFIGS_DIR)

    def pick(flag: Any, name: str, default: Any) -> Any:
        return flag if flag is not None else env.get(name, default)

    settings = ServeSettings(
        host=pick(args.host, "host", DEFAULT_HOST),
        port=args.port,
        funding_url=pick(args.funding_url, "funding_url", DEFAULT_FUNDING_URL),
        funding_token=os.environ.get(FUNDING_TOKEN_ENV) or None,
        secure_cookies=pick(args.secure_cookies, "secure_cookies", False),
        configs_dir=configs.expanduser(),
        session_hours=pick(args.session_hours, "session_hours", 12.0),
        sample_seconds=pick(args.sample_seconds, "sample_seconds", DEFAULT_SAMPLE_SECONDS),
    )
    await serve(settings)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        if not sys.stdin.isatty():
            raise ConfigError(
                "no terminal to ask the password on: pass --password-stdin and pipe it in"
            )
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigError("the two passwords differ")
    check_strength(password)
    return password


async def _users_add(args: argparse.Namespace) -> None:
    role = Role.parse(args.role)
    password = read_password(args.password_stdin)
    hashed = await asyncio.to_thread(hash_password, password)

    async def add(session: AsyncSession) -> None:
        await repo.add_user(session, args.name, role.label, hashed)
        await record_audit(session, "dashboard.user.add", args.name, {"role": role.label})

    await _in_transaction(add)
    _out(f"added dashboard user {args.name} as {role.label}")


async def _users_password(args: argparse.Namespace) -> None:
    password = read_password(args.password_stdin)
    hashed = await asyncio.to_thread(hash_password, password)

    async def change(session: AsyncSession) -> None:
        await repo.set_password(session, args.name, hashed)
        await record_audit(session, "dashboard.user.password", args.name, {})

    await _in_transaction(change)
    _out(f"new password for dashboard user {args.name} (their sessions ended)")


async def _users_list(_args: argparse.Namespace) -> None:
    users = await _in_transaction(repo.list_users)
    if not users:
        _out("no dashboard users: add one with `python -m dashboard users add NAME --role admin`")
        return
    width = max(len(u.name) for u in users)
    _out(f"{'NAME'.ljust(width)}  ROLE")
    for user in users:
        _out(f"{user.name.ljust(width)}  {user.role}")


async def _users_remove(args: argparse.Namespace) -> None:
    async def remove(session: AsyncSession) -> None:
        await repo.remove_user(session, args.name)
        await record_audit(session, "dashboard.user.remove", args.name, {})

    await _in_transaction(remove)
    _out(f"removed dashboard user {args.name}")


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
