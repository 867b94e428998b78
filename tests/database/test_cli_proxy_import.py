"""``python -m database proxies add --file``: every proxy checked through itself before storing.

Run as the operator runs it (a subprocess) against real proxies on loopback; the check target
is a local "what is my IP" service (``PERPFLEET_PROXY_CHECK_URL``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT
from database.engine import create_engine, session_maker
from database.repositories.proxies import list_proxies
from testing.proxies import LocalProxy, serve_ip_echo

PASSWORD = "imp0rt-pass-never-shown"


@dataclass
class Run:
    code: int
    out: str
    err: str


async def cli(db_url: str, check_url: str, *args: str) -> Run:
    """The CLI in a subprocess, awaited: the proxies it checks run in this test's loop."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PERPFLEET_PROXY_CHECK_URL": check_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "database",
        *args,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


@pytest.fixture
async def check_url() -> AsyncIterator[str]:
    async with serve_ip_echo() as url:
        yield url


@pytest.fixture
async def running() -> AsyncIterator[list[LocalProxy]]:
    started = [
        await LocalProxy("socks5", "bob", PASSWORD).start(),
        await LocalProxy("http", "bob", PASSWORD).start(),
    ]
    yield started
    for proxy in started:
        await proxy.stop()


async def stored(db_url: str) -> list[tuple[str, str | None, bool]]:
    engine = create_engine(db_url)
    try:
        async with session_maker(engine)() as session:
            return [(p.endpoint, p.egress_ip, p.has_auth) for p in await list_proxies(session)]
    finally:
        await engine.dispose()


def write(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "proxies.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


async def test_a_file_of_good_proxies_is_checked_then_stored_with_egress_ips(
    migrated_db_url: str, check_url: str, running: list[LocalProxy], tmp_path: Path
) -> None:
    socks, http = running
    file = write(tmp_path, "# the EU pair", "", f"  {socks.url}  ", http.url)
    run = await cli(migrated_db_url, check_url, "proxies", "add", "--file", file)
    assert (run.code, run.err) == (0, "")
    assert run.out.splitlines() == [
        f"added proxy 1: socks5://127.0.0.1:{socks.port} (auth: yes, egress IP 127.0.0.1)",
        f"added proxy 2: http://127.0.0.1:{http.port} (auth: yes, egress IP 127.0.0.1)",
        f"imported 2 proxy(ies) from {file}",
    ]
    assert (socks.connections, http.connections) == (1, 1)  # each checked through itself
    assert await stored(migrated_db_url) == [
        (f"socks5://127.0.0.1:{socks.port}", "127.0.0.1", True),
        (f"http://127.0.0.1:{http.port}", "127.0.0.1", True),
    ]
    listing = await cli(migrated_db_url, check_url, "proxies", "list")
    assert "127.0.0.1  " in listing.out
    assert " ok" in listing.out
    assert PASSWORD not in run.out + listing.out

    again = await cli(migrated_db_url, check_url, "proxies", "add", "--file", file)
    assert again.code == 2
    assert f"{file}:3: socks5://127.0.0.1:{socks.port}: already stored as proxy 1" in again.err


async def test_one_bad_line_stores_nothing_and_every_bad_line_is_named(
    migrated_db_url: str, check_url: str, running: list[LocalProxy], tmp_path: Path
) -> None:
    socks, http = running
    dead = await LocalProxy("socks5").start()
    await dead.stop()
    file = write(
        tmp_path,
        socks.url,
        f"ftp://bob:{PASSWORD}@127.0.0.1:21",
        dead.url,
        f"http://bob:wrong-{PASSWORD}@127.0.0.1:{http.port}",
        socks.url,
    )
    run = await cli(migrated_db_url, check_url, "proxies", "add", "--file", file)
    assert run.code == 2
    assert run.out == ""
    lines = run.err.splitlines()
    assert lines[0].startswith(f"error: {file}:2: invalid proxy URL: missing or unsupported scheme")
    assert lines[1] == (
        f"error: {file}:3: socks5://127.0.0.1:{dead.port}: check failed: "
        "proxy refused the connection (is it running?)"
    )
    assert lines[2].startswith(f"error: {file}:4: http://127.0.0.1:{http.port}: check failed:")
    assert "407" in lines[2]
    assert lines[3] == f"error: {file}:5: socks5://127.0.0.1:{socks.port}: listed twice"
    assert lines[4] == (
        f"error: {file}: nothing imported: fix the line(s) above, or pass --skip-bad to import "
        "the 1 proxy(ies) that passed"
    )
    assert PASSWORD not in run.err
    assert await stored(migrated_db_url) == []


async def test_skip_bad_stores_the_good_ones_and_exits_1(
    migrated_db_url: str, check_url: str, running: list[LocalProxy], tmp_path: Path
) -> None:
    socks, _ = running
    file = write(tmp_path, "not a url", socks.url)
    run = await cli(migrated_db_url, check_url, "proxies", "add", "--file", file, "--skip-bad")
    assert run.code == 1
    assert run.out.splitlines()[-1] == f"imported 1 proxy(ies) from {file}"
    assert run.err.splitlines() == [
        f"error: {file}:1: invalid proxy URL: missing or unsupported scheme; expected "
        "scheme://[user:password@]host:port with scheme one of http, https, socks4, socks5, "
        "socks5h",
        f"error: {file}: 1 line(s) not imported",
    ]
    assert [endpoint for endpoint, *_ in await stored(migrated_db_url)] == [
        f"socks5://127.0.0.1:{socks.port}"
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--file", "FILE", "--label", "x"],
            "--label names one proxy: use it with --url, not --file",
        ),
        (["--url", "socks5://h:1", "--skip-bad"], "--skip-bad applies to --file imports only"),
        (["--file", "MISSING"], "MISSING: cannot read the file (No such file or directory)"),
        (["--file", "EMPTY"], "EMPTY: no proxy URLs (expected one URL per line, # for comments)"),
    ],
)
async def test_bad_invocations_are_one_clear_line(
    migrated_db_url: str, check_url: str, tmp_path: Path, args: list[str], error: str
) -> None:
    (tmp_path / "EMPTY").write_text("# nothing yet\n\n")
    (tmp_path / "FILE").write_text("socks5://h:1\n")
    names = {"FILE", "MISSING", "EMPTY"}
    resolved = [str(tmp_path / arg) if arg in names else arg for arg in args]
    run = await cli(migrated_db_url, check_url, "proxies", "add", *resolved)
    for name in names:
        error = error.replace(f"{name}:", f"{tmp_path / name}:")
    assert (run.code, run.err) == (2, f"error: {error}\n")
