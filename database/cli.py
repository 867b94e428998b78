"""``python -m database``: set up the database and manage accounts, proxies and the master key.

Output goes to stdout; logs and errors to stderr. A user mistake (unknown
venue or account, bad URL, missing field, wrong key, database not initialised)
prints one ``error: ...`` line and exits 2; other deliberate failures (e.g.
tampered ciphertext) exit 1. No secret is ever printed: lists show the names of
stored secret fields and whether a proxy has a login, never values.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConfigError, TradingError
from core.logging_setup import LEVELS, configure_logging
from core.redaction import scrub
from core.venues import get_venue, known_venue_names
from database.credential_formats import FORMAT_HELP
from database.credential_input import collect_credentials
from database.crypto.rotation import rotate_master_key
from database.engine import create_engine, database_url, display_url, session_maker
from database.errors import InvalidInput
from database.migrate import downgrade, ensure_database_exists, upgrade
from database.models import MAIN_ACCOUNT
from database.models.proxies import ASSIGNMENT_STATUSES
from database.proxy_url import ProxyUrl, parse_proxy_url
from database.repositories import accounts, proxies
from database.repositories.audit import record_audit
from database.schema_version import head_revision, require_current_schema

EXIT_USER_ERROR = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130

T = TypeVar("T")
Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, None]]

# A lazy proxy: binding happens per call, after the CLI/runtime has configured logging.
log = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, stream=sys.stderr)
    # aiosqlite logs every driver call at DEBUG, drowning perpfleet's own debug lines.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    handler: Handler = args.handler
    try:
        asyncio.run(handler(args))
    except ConfigError as exc:
        return _fail(exc.problems, EXIT_USER_ERROR)
    except _PartialImport as exc:
        return _fail(exc.problems, EXIT_FAILURE)
    except TradingError as exc:
        return _fail([str(exc)], EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail(["interrupted"], EXIT_INTERRUPTED)
    except Exception as exc:
        log.debug("unexpected failure", exc_info=True)
        first_line = (str(exc).splitlines() or [""])[0]
        return _fail(
            [f"unexpected {type(exc).__name__}: {first_line} (details with --log-level DEBUG)"],
            EXIT_FAILURE,
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m database",
        description="Set up perpfleet's database; manage accounts, proxies and the master key. "
        "The database is $DATABASE_URL or var/perpfleet.db.",
    )
    parser.add_argument(
        "--log-level", default="WARNING", type=str.upper, choices=LEVELS, help="default WARNING"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create the database if needed and migrate to head")
    init.set_defaults(handler=_init)

    migrate = commands.add_parser("migrate", help="upgrade the schema")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.set_defaults(handler=_migrate)

    down = commands.add_parser("downgrade", help="downgrade the schema (base drops everything)")
    down.add_argument("revision")
    down.set_defaults(handler=_downgrade)

    account_commands = commands.add_parser("accounts", help="trading accounts and credentials")
    account_sub = account_commands.add_subparsers(dest="accounts_command", required=True)
    add = account_sub.add_parser(
        "add",
        help="add an account's credentials on a venue (secrets are prompted for, hidden)",
        description="Store an account's credentials on a venue. Public fields are given with "
        "--set FIELD=VALUE; secret fields are prompted for (hidden) or read from "
        "PERPFLEET_<VENUE>_<FIELD> with --from-env.",
        epilog=venue_fields_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("--name", required=True)
    add.add_argument("--venue", required=True, help=", ".join(known_venue_names()))
    add.add_argument("--sub-account", default=MAIN_ACCOUNT)
    add.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a non-secret field (e.g. account_index=3); repeatable",
    )
    add.add_argument(
        "--from-env",
        action="store_true",
        help="read every field from PERPFLEET_<VENUE>_<FIELD> instead of prompting",
    )
    add.set_defaults(handler=_accounts_add)
    listing = account_sub.add_parser("list", help="accounts, venues and stored field names")
    listing.set_defaults(handler=_accounts_list)
    remove = account_sub.add_parser("remove", help="remove an account, or its venue credentials")
    remove.add_argument("--name", required=True)
    remove.add_argument("--venue")
    remove.add_argument("--sub-account")
    remove.set_defaults(handler=_accounts_remove)

    proxy_commands = commands.add_parser("proxies", help="outbound proxies")
    proxy_sub = proxy_commands.add_subparsers(dest="proxies_command", required=True)
    padd = proxy_sub.add_parser(
        "add",
        help="add a proxy (login stored encrypted), or import a file of them, checked first",
        description="Add one proxy with --url, or import many with --file: one URL per line "
        "(blank lines and # comments ignored). Every imported proxy is checked through itself "
        "first - reachable, login accepted, egress IP read from $PERPFLEET_PROXY_CHECK_URL "
        "(default https://api.ipify.org) - and is stored with that IP. One bad line (with its "
        "line number) stores nothing, unless --skip-bad.",
    )
    source = padd.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="socks5://user:pass@host:port or http://...")
    source.add_argument("--file", metavar="FILE", help="one proxy URL per line, each checked")
    padd.add_argument("--label", help="a name for the proxy (with --url)")
    padd.add_argument(
        "--skip-bad",
        action="store_true",
        help="with --file: store the proxies that pass, report the bad lines, exit 1",
    )
    padd.set_defaults(handler=_proxies_add)
    plist = proxy_sub.add_parser(
        "list", help="proxies, their accounts, egress IP and last check (no logins)"
    )
    plist.set_defaults(handler=_proxies_list)
    premove = proxy_sub.add_parser("remove", help="remove a proxy by id or label")
    premove.add_argument("proxy", metavar="ID|LABEL")
    premove.set_defaults(handler=_proxies_remove)

    assign = commands.add_parser("assign-proxy", help="assign a proxy to an account")
    assign.add_argument("--account", required=True)
    assign.add_argument("--proxy", required=True, metavar="ID|LABEL")
    assign.add_argument("--priority", type=int, default=0, help="lower is tried first")
    assign.add_argument("--status", choices=ASSIGNMENT_STATUSES, default="active")
    assign.set_defaults(handler=_assign_proxy)

    rotate = commands.add_parser(
        "rotate-key", help="re-encrypt every secret under a new master key, in one transaction"
    )
    rotate.set_defaults(handler=_rotate_key)
    return parser


# -- schema --------------------------------------------------------------------------------


async def _init(_args: argparse.Namespace) -> None:
    url = database_url()
    if await ensure_database_exists(url):
        _out(f"created database {display_url(url)}")
    await upgrade(url)
    await _audit_schema_change(url, "database.init", {"revision": head_revision()})
    _out(f"database at {display_url(url)} is ready (schema revision {head_revision()})")


async def _migrate(args: argparse.Namespace) -> None:
    url = database_url()
    await upgrade(url, args.revision)
    await _audit_schema_change(url, "database.migrate", {"revision": args.revision})
    _out(f"database at {display_url(url)} migrated to {args.revision}")


async def _downgrade(args: argparse.Namespace) -> None:
    url = database_url()
    await downgrade(args.revision, url)
    await _audit_schema_change(url, "database.downgrade", {"revision": args.revision})
    _out(f"database at {display_url(url)} downgraded to {args.revision}")


async def _audit_schema_change(url: str, action: str, details: dict[str, Any]) -> None:
    """Audit a schema change, unless it removed the audit table itself (downgrade to base)."""

    async def record(session: AsyncSession) -> None:
        connection = await session.connection()
        if await connection.run_sync(lambda sync: inspect(sync).has_table("audit_log")):
            await record_audit(session, action, display_url(url), details)

    await _in_transaction(record, url)


# -- accounts ------------------------------------------------------------------------------


def venue_fields_help() -> str:
    """Each venue's credential fields for ``accounts add --help``: what to pass and how."""
    lines = ["credential fields per venue (secret: prompted; public: --set FIELD=VALUE):"]
    for name in known_venue_names():
        venue = get_venue(name)
        if not venue.credential_fields:
            lines.append(f"  {name}: none (simulated venue)")
            continue
        lines.append(f"  {name}:")
        for field in venue.credential_fields:
            kind = "secret" if field.secret else "public"
            need = "required" if field.required else "optional"
            lines.append(
                f"    {field.name:<20} {kind}, {need}: {field.description} "
                f"({FORMAT_HELP[field.format]})"
            )
    return "\n".join(lines)


async def _accounts_add(args: argparse.Namespace) -> None:
    venue = get_venue(args.venue)
    await require_current_schema()
    # Before any prompt: the operator must not type secrets for an entry that cannot be stored.
    await _in_transaction(
        lambda session: accounts.require_no_credentials(
            session, args.name, venue.name, args.sub_account
        )
    )
    public, secrets = collect_credentials(
        venue,
        assignments=args.assignments,
        from_env=args.from_env,
        environ=os.environ,
        prompt=_hidden_prompt,
    )

    async def store(session: AsyncSession) -> None:
        await accounts.add_credentials(
            session,
            account_name=args.name,
            venue=venue.name,
            sub_account=args.sub_account,
            public=public,
            secrets=secrets,
        )
        await record_audit(
            session,
            "account.credentials.add",
            args.name,
            {
                "venue": venue.name,
                "sub_account": args.sub_account,
                "public_fields": sorted(public),
                "encrypted_fields": sorted(secrets),
            },
        )

    await _in_transaction(store)
    stored = ", ".join(sorted(secrets)) or "none"
    _out(
        f"stored {venue.name} credentials for account {args.name!r}"
        f"{_sub_account_suffix(args.sub_account)} (encrypted fields: {stored})"
    )


async def _accounts_list(_args: argparse.Namespace) -> None:
    await require_current_schema()
    summaries = await _in_transaction(accounts.list_accounts)
    if not summaries:
        _out("no accounts")
        return
    rows: list[list[str]] = []
    for summary in summaries:
        if not summary.credentials:
            rows.append([summary.name, "-", "-", "-", "-"])
        for cred in summary.credentials:
            public = ", ".join(f"{k}={v}" for k, v in cred.public_fields.items())
            rows.append(
                [
                    summary.name,
                    cred.venue,
                    cred.sub_account or "-",
                    public or "-",
                    ", ".join(cred.secret_fields) or "-",
                ]
            )
    _table(["ACCOUNT", "VENUE", "SUB-ACCOUNT", "PUBLIC FIELDS", "SECRET FIELDS STORED"], rows)


async def _accounts_remove(args: argparse.Namespace) -> None:
    await require_current_schema()
    if args.sub_account is not None and args.venue is None:
        raise ConfigError("--sub-account needs --venue")

    async def remove(session: AsyncSession) -> str:
        if args.venue is None:
            await accounts.remove_account(session, args.name)
            message = f"removed account {args.name!r} with its credentials and proxy assignments"
        else:
            count = await accounts.remove_credentials(
                session, args.name, args.venue, args.sub_account
            )
            message = f"removed {count} {args.venue} credential set(s) of account {args.name!r}"
        await record_audit(
            session,
            "account.remove" if args.venue is None else "account.credentials.remove",
            args.name,
            {"venue": args.venue, "sub_account": args.sub_account},
        )
        return message

    _out(await _in_transaction(remove))


# -- proxies -------------------------------------------------------------------------------


async def _proxies_add(args: argparse.Namespace) -> None:
    if args.file is not None:
        if args.label is not None:
            raise ConfigError("--label names one proxy: use it with --url, not --file")
        await _proxies_import(args.file, skip_bad=args.skip_bad)
        return
    if args.skip_bad:
        raise ConfigError("--skip-bad applies to --file imports only")
    url = parse_proxy_url(args.url)
    await require_current_schema()

    async def store(session: AsyncSession) -> int:
        proxy = await proxies.add_proxy(session, url, label=args.label)
        await record_audit(
            session,
            "proxy.add",
            f"proxy {proxy.id}",
            {"label": args.label, "endpoint": url.endpoint, "auth": url.username is not None},
        )
        return proxy.id

    proxy_id = await _in_transaction(store)
    _out(f"added proxy {proxy_id}: {url.endpoint} (auth: {_yes_no(url.username is not None)})")


class _PartialImport(TradingError):
    """``--skip-bad``: the good proxies are stored; these lines were not (exit 1)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


IMPORT_CHECKS_AT_ONCE = 8


async def _proxies_import(file: str, *, skip_bad: bool) -> None:
    """``proxies add --file``: parse every line, check every proxy, then store in one go."""
    from core.proxy_check import ProxyCheckFailed, check_proxy, configured_check_url

    entries, problems = _read_proxy_file(file)
    await require_current_schema()
    stored = await _in_transaction(
        lambda session: _already_stored(session, [url for _, url in entries])
    )
    check_url = configured_check_url()
    gate = asyncio.Semaphore(IMPORT_CHECKS_AT_ONCE)

    async def check(number: int, url: ProxyUrl) -> str | None:
        """The egress IP, or None with the line's problem recorded."""
        where = f"{file}:{number}: {url.endpoint}"
        if url.endpoint in stored:
            problems.append(f"{where}: already stored as proxy {stored[url.endpoint]}")
            return None
        async with gate:
            try:
                return await check_proxy(url.secret_url(), check_url=check_url)
            except ProxyCheckFailed as exc:
                problems.append(f"{where}: check failed: {exc}")
                return None

    seen: set[str] = set()
    unique = []
    for number, url in entries:
        if url.endpoint in seen:
            problems.append(f"{file}:{number}: {url.endpoint}: listed twice")
        else:
            seen.add(url.endpoint)
            unique.append((number, url))
    ips = await asyncio.gather(*(check(number, url) for number, url in unique))
    good = [(url, ip) for (_, url), ip in zip(unique, ips, strict=True) if ip is not None]
    problems.sort(key=_line_number)
    if problems and not skip_bad:
        raise ConfigError(
            [
                *problems,
                f"{file}: nothing imported: fix the line(s) above, or pass --skip-bad to "
                f"import the {len(good)} proxy(ies) that passed",
            ]
        )

    async def store(session: AsyncSession) -> list[int]:
        now = datetime.now(UTC)
        ids = []
        for url, ip in good:
            proxy = await proxies.add_proxy(session, url)
            await proxies.record_proxy_check(session, proxy.id, egress_ip=ip, error=None, at=now)
            ids.append(proxy.id)
        await record_audit(
            session,
            "proxy.import",
            file,
            {"added": [[i, url.endpoint] for i, (url, _) in zip(ids, good, strict=True)]},
        )
        return ids

    ids = await _in_transaction(store) if good else []
    for proxy_id, (url, ip) in zip(ids, good, strict=True):
        _out(
            f"added proxy {proxy_id}: {url.endpoint} "
            f"(auth: {_yes_no(url.username is not None)}, egress IP {ip})"
        )
    _out(f"imported {len(ids)} proxy(ies) from {file}")
    if problems:
        raise _PartialImport([*problems, f"{file}: {len(problems)} line(s) not imported"])


def _read_proxy_file(file: str) -> tuple[list[tuple[int, ProxyUrl]], list[str]]:
    """(line number, URL) of every proxy line, and a located problem for each bad one."""
    try:
        with open(file, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not a UTF-8 text file") from None
    entries: list[tuple[int, ProxyUrl]] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            entries.append((number, parse_proxy_url(text)))
        except InvalidInput as exc:  # its message never repeats the URL
            problems.append(f"{file}:{number}: {exc}")
    if not entries and not problems:
        raise ConfigError(f"{file}: no proxy URLs (expected one URL per line, # for comments)")
    return entries, problems


async def _already_stored(session: AsyncSession, urls: list[ProxyUrl]) -> dict[str, int]:
    """Endpoint -> id of the proxies in ``urls`` that are stored already."""
    found = {}
    for url in urls:
        proxy = await proxies.find_proxy_at(session, url)
        if proxy is not None:
            found[url.endpoint] = proxy.id
    return found


def _line_number(problem: str) -> int:
    _, number, _ = problem.split(":", 2)
    return int(number) if number.isdigit() else 0


async def _proxies_list(_args: argparse.Namespace) -> None:
    await require_current_schema()
    summaries = await _in_transaction(proxies.list_proxies)
    if not summaries:
        _out("no proxies")
        return
    _table(
        ["ID", "LABEL", "ENDPOINT", "AUTH", "ACCOUNTS", "EGRESS IP", "LAST CHECK"],
        [
            [
                str(p.id),
                p.label or "-",
                p.endpoint,
                _yes_no(p.has_auth),
                ", ".join(p.accounts) or "-",
                p.egress_ip or "-",
                _last_check(p.last_checked_at, p.last_check_error),
            ]
            for p in summaries
        ],
    )


def _last_check(at: datetime | None, error: str | None) -> str:
    if at is None:
        return "never"
    when = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{when} failed: {error}" if error else f"{when} ok"


async def _proxies_remove(args: argparse.Namespace) -> None:
    await require_current_schema()

    async def remove(session: AsyncSession) -> int:
        proxy = await proxies.remove_proxy(session, args.proxy)
        await record_audit(session, "proxy.remove", f"proxy {proxy.id}", {"label": proxy.label})
        return proxy.id

    _out(f"removed proxy {await _in_transaction(remove)}")


async def _assign_proxy(args: argparse.Namespace) -> None:
    await require_current_schema()

    async def assign(session: AsyncSession) -> None:
        assignment = await proxies.assign_proxy(
            session, args.account, args.proxy, priority=args.priority, status=args.status
        )
        await record_audit(
            session,
            "proxy.assign",
            args.account,
            {"proxy_id": assignment.proxy_id, "priority": args.priority, "status": args.status},
        )

    await _in_transaction(assign)
    _out(
        f"proxy {args.proxy} assigned to account {args.account!r} "
        f"(priority {args.priority}, {args.status})"
    )


# -- master key ----------------------------------------------------------------------------


async def _rotate_key(_args: argparse.Namespace) -> None:
    url = database_url()
    await require_current_schema(url)
    engine = create_engine(url)
    try:
        result = await rotate_master_key(session_maker(engine))
    finally:
        await engine.dispose()
    _out(
        f"master key rotated {result.old_fingerprint} -> {result.new_fingerprint}: re-encrypted "
        f"{result.credentials} credential set(s) and {result.proxies} proxy login(s)"
    )
    if result.from_environment:
        _out(
            "now set PERPFLEET_MASTER_KEY to the value of PERPFLEET_NEW_MASTER_KEY (and unset "
            "PERPFLEET_NEW_MASTER_KEY) wherever perpfleet runs, then restart running bots"
        )
    else:
        _out("the new key is in the key file; back it up, then restart running bots")


# -- helpers -------------------------------------------------------------------------------


async def _in_transaction(
    work: Callable[[AsyncSession], Awaitable[T]], url: str | None = None
) -> T:
    """Run ``work`` in one transaction on a short-lived engine (a CLI run is one operation)."""
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def _hidden_prompt(prompt: str) -> str:
    """Read a secret without echo from the terminal."""
    with warnings.catch_warnings():
        # Without a terminal getpass reads stdin (a pipe: nothing to echo) and warns about it.
        warnings.simplefilter("ignore", getpass.GetPassWarning)
        return getpass.getpass(prompt)


def _sub_account_suffix(sub_account: str) -> str:
    return f" (sub-account {sub_account})" if sub_account else ""


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        _out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _out(line: str) -> None:
    sys.stdout.write(scrub(line) + "\n")


def _fail(problems: Sequence[str], code: int) -> int:
    for problem in problems:
        sys.stderr.write(f"error: {scrub(problem)}\n")
    return code
