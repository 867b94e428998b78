"""The admin CLI, run as the operator runs it: real subprocesses, real terminals."""

from __future__ import annotations

import asyncio
import base64
import getpass
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from core.paths import PROJECT_ROOT
from core.redaction import Secret
from core.venues import known_venue_names
from database.engine import create_engine, display_url, session_maker
from database.repositories.accounts import get_account_credentials
from database.repositories.proxies import get_account_proxies
from database.schema_version import head_revision
from tests.database.conftest import new_encoded_key

API_KEY = "cli-api-key-0123456789"
API_SECRET = "cli-api-secret-9876543210-abcdef"
PROXY_PASSWORD = "proxy-pass-55555"


@dataclass
class Run:
    code: int
    out: str
    err: str


def _env(db_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)  # PERPFLEET_VAR_DIR points at the test's var/ (tests/conftest.py)
    env["DATABASE_URL"] = db_url
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra or {})
    return env


def cli(db_url: str, *args: str, env: Mapping[str, str] | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "database", *args],
        cwd=PROJECT_ROOT,
        env=_env(db_url, env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), raw.hex().encode()]


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


async def _query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql))]
    finally:
        await engine.dispose()


async def _stored_credentials(
    db_url: str, account: str
) -> tuple[dict[str, str], dict[str, Secret]]:
    engine = create_engine(db_url)
    try:
        async with session_maker(engine)() as session:
            return await get_account_credentials(session, account, "binance")
    finally:
        await engine.dispose()


async def test_init_then_list(db_url: str) -> None:
    missing = cli(db_url, "accounts", "list")
    assert missing.code == 2
    assert missing.err == (
        f"error: database at {display_url(db_url)} is not initialised; "
        "run `python -m database init`\n"
    )

    init = cli(db_url, "init")
    assert init.code == 0, init.err
    assert init.out == (
        f"database at {display_url(db_url)} is ready (schema revision {head_revision()})\n"
    )
    listing = cli(db_url, "accounts", "list")
    assert (listing.code, listing.out) == (0, "no accounts\n")


async def test_add_from_env_stores_only_ciphertext(
    migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_encoded_key()
    env = {
        "PERPFLEET_MASTER_KEY": key,
        "PERPFLEET_BINANCE_API_KEY": API_KEY,
        "PERPFLEET_BINANCE_API_SECRET": API_SECRET,
    }
    add = cli(
        migrated_db_url,
        "--log-level",
        "DEBUG",
        "accounts",
        "add",
        "--name",
        "alice",
        "--venue",
        "binance",
        "--set",
        "sub_account_email=alice@example.com",
        "--from-env",
        env=env,
    )
    assert add.code == 0, add.err
    assert add.out == (
        "stored binance credentials for account 'alice' (encrypted fields: api_key, api_secret)\n"
    )
    assert "master key recorded" in add.err  # the DEBUG run did log
    for secret in (API_KEY, API_SECRET, key):
        assert secret not in add.out + add.err

    rows = await _query(migrated_db_url, "SELECT * FROM account_credentials")
    rows += await _query(migrated_db_url, "SELECT * FROM audit_log")
    assert len(rows) == 2
    cells = [_as_bytes(cell) for row in rows for cell in row]
    for secret in (API_KEY, API_SECRET):
        for form in _forms(secret):
            assert not any(form in cell for cell in cells), f"{secret!r} stored as {form!r}"

    listing = cli(migrated_db_url, "accounts", "list")
    assert listing.code == 0
    assert listing.out.splitlines() == [
        "ACCOUNT  VENUE    SUB-ACCOUNT  PUBLIC FIELDS                        SECRET FIELDS STORED",
        "alice    binance  -            sub_account_email=alice@example.com  api_key, api_secret",
    ]

    wrong = cli(
        migrated_db_url,
        "accounts",
        "add",
        "--name",
        "bob",
        "--venue",
        "binance",
        "--from-env",
        env={**env, "PERPFLEET_MASTER_KEY": new_encoded_key()},
    )
    assert wrong.code == 2
    assert wrong.err.startswith("error: the active master key (PERPFLEET_MASTER_KEY, fingerprint ")
    assert wrong.err.count("\n") == 1
    assert "Traceback" not in wrong.err

    monkeypatch.setenv("PERPFLEET_MASTER_KEY", key)
    public, secrets = await _stored_credentials(migrated_db_url, "alice")
    assert public == {"sub_account_email": "alice@example.com"}
    assert secrets["api_secret"].reveal() == API_SECRET
    audit = await _query(migrated_db_url, "SELECT actor, action FROM audit_log")
    assert audit == [(getpass.getuser(), "account.credentials.add")]


def _read_until(fd: int, marker: bytes, transcript: bytearray, deadline: float) -> None:
    while marker not in transcript:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out waiting for {marker!r}; got {bytes(transcript)!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            assert chunk, f"terminal closed before {marker!r}; got {bytes(transcript)!r}"
            transcript += chunk


def test_secrets_are_read_from_a_terminal_without_echo(migrated_db_url: str) -> None:
    typed_key, typed_secret = "typed-key-000111222", "typed-secret-333444555666"
    argv = [
        sys.executable,
        "-m",
        "database",
        "accounts",
        "add",
        "--name",
        "carol",
        "--venue",
        "binance",
    ]
    env = _env(migrated_db_url)
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal, so getpass uses /dev/tty
        try:
            os.chdir(PROJECT_ROOT)
            os.execve(sys.executable, argv, env)  # noqa: S606 - exact argv, no shell
        finally:
            os._exit(127)  # never run the rest of pytest in the forked child
    transcript = bytearray()
    try:
        deadline = time.monotonic() + 60
        _read_until(fd, b"(api_key): ", transcript, deadline)
        os.write(fd, typed_key.encode() + b"\n")
        _read_until(fd, b"(api_secret): ", transcript, deadline)
        os.write(fd, typed_secret.encode() + b"\n")
        _read_until(fd, b"encrypted fields: api_key, api_secret)", transcript, deadline)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, bytes(transcript)
    shown = transcript.decode(errors="replace")
    assert typed_key not in shown
    assert typed_secret not in shown

    _public, secrets = asyncio.run(_stored_credentials(migrated_db_url, "carol"))
    assert secrets["api_key"].reveal() == typed_key
    assert secrets["api_secret"].reveal() == typed_secret


MISTAKES: dict[str, tuple[list[str], dict[str, str], str]] = {
    "unknown venue": (
        ["accounts", "add", "--name", "a", "--venue", "nope"],
        {},
        f"unknown venue 'nope': expected one of {', '.join(known_venue_names())}",
    ),
    "unknown account": (
        ["accounts", "remove", "--name", "ghost"],
        {},
        "unknown account 'ghost'; add it with "
        "`python -m database accounts add --name ghost --venue VENUE`",
    ),
    "missing field": (
        ["accounts", "add", "--name", "a", "--venue", "lighter", "--set", "account_index=1"],
        {},
        "missing required lighter field 'api_key_index' (API key index): "
        "pass --set api_key_index=VALUE",
    ),
    "missing env field": (
        ["accounts", "add", "--name", "a", "--venue", "binance", "--from-env"],
        {},
        "missing required binance field 'api_key' (API key): set PERPFLEET_BINANCE_API_KEY",
    ),
    "malformed key": (
        ["accounts", "add", "--name", "a", "--venue", "binance", "--from-env"],
        {
            "PERPFLEET_MASTER_KEY": "too-short",
            "PERPFLEET_BINANCE_API_KEY": API_KEY,
            "PERPFLEET_BINANCE_API_SECRET": API_SECRET,
        },
        "PERPFLEET_MASTER_KEY is not a valid master key: expected urlsafe base64 of 32 random "
        "bytes (44 characters)",
    ),
    "bad proxy url": (
        ["proxies", "add", "--url", f"socks5://u:{PROXY_PASSWORD}@10.0.0.1"],
        {},
        "invalid proxy URL: no port; expected scheme://[user:password@]host:port with scheme one "
        "of http, https, socks4, socks5, socks5h",
    ),
    "unknown proxy": (
        ["proxies", "remove", "nope"],
        {},
        "unknown proxy 'nope': give its id or label (see `proxies list`)",
    ),
}


def test_user_mistakes_are_one_line_and_exit_2(migrated_db_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:  # independent runs: overlap their startup
        futures = {
            case: pool.submit(cli, migrated_db_url, *args, env=env)
            for case, (args, env, _error) in MISTAKES.items()
        }
        results = {case: future.result() for case, future in futures.items()}
    for case, (_args, _env, error) in MISTAKES.items():
        run = results[case]
        assert (run.code, run.err, run.out) == (2, f"error: {error}\n", ""), case
        for secret in (PROXY_PASSWORD, API_SECRET):
            assert secret not in run.err


async def test_proxies_and_key_rotation(migrated_db_url: str) -> None:
    env = {"PERPFLEET_BINANCE_API_KEY": API_KEY, "PERPFLEET_BINANCE_API_SECRET": API_SECRET}
    steps = [
        ["accounts", "add", "--name", "alice", "--venue", "binance", "--from-env"],
        [
            "proxies",
            "add",
            "--url",
            f"socks5://puser:{PROXY_PASSWORD}@10.0.0.1:1080",
            "--label",
            "eu",
        ],
        ["assign-proxy", "--account", "alice", "--proxy", "eu", "--priority", "2"],
        ["rotate-key"],
        ["proxies", "list"],
    ]
    runs = [cli(migrated_db_url, *step, env=env) for step in steps]
    for step, run in zip(steps, runs, strict=True):
        assert run.code == 0, (step, run.err)
        assert PROXY_PASSWORD not in run.out + run.err
        assert API_SECRET not in run.out + run.err
    assert runs[1].out == "added proxy 1: socks5://10.0.0.1:1080 (auth: yes)\n"
    assert runs[3].out.endswith(
        "re-encrypted 1 credential set(s) and 1 proxy login(s)\n"
        "the new key is in the key file; back it up, then restart running bots\n"
    )
    assert runs[4].out.splitlines() == [
        "ID  LABEL  ENDPOINT                AUTH  ACCOUNTS  EGRESS IP  LAST CHECK",
        "1   eu     socks5://10.0.0.1:1080  yes   alice     -          never",
    ]

    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            [proxy] = await get_account_proxies(session, "alice")
            actions = (
                await session.scalars(text("SELECT action FROM audit_log ORDER BY id"))
            ).all()
    finally:
        await engine.dispose()
    assert proxy.url.password is not None
    assert proxy.url.password.reveal() == PROXY_PASSWORD
    assert proxy.priority == 2
    assert actions == ["account.credentials.add", "proxy.add", "proxy.assign", "master_key.rotate"]

    removed = cli(migrated_db_url, "proxies", "remove", "eu")
    assert (removed.code, removed.out) == (0, "removed proxy 1\n")
    gone = cli(migrated_db_url, "accounts", "remove", "--name", "alice")
    assert gone.code == 0
    assert gone.out == "removed account 'alice' with its credentials and proxy assignments\n"
