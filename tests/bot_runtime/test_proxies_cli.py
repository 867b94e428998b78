"""``runbot.py`` with proxies, as the operator runs it (subprocesses, the real database CLI):
``--check`` names the proxy the bot will use (checked live), and a bot whose only proxy is down
does not start - one line naming the account and the proxy, never its password, exit 1."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import strategies  # noqa: F401  (fills the params registry load_config reads, as runbot does)
from core.proxy_check import CHECK_URL_VARIABLE
from testing.fakes.hyperliquid import FakeHyperliquid
from testing.proxies import LocalProxy, serve_ip_echo
from tests.bot_runtime.test_check import fresh_key
from tests.bot_runtime.test_proxies import PASSWORD, config_text, write
from tests.exchange_clients.hyperliquid.helpers import OWNER_KEY, new_fake
from tests.helpers import PROJECT_ROOT, cli_env


async def run(args: list[str], var: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``python <args>`` awaited: the proxies and the fake answer from this test's loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=PROJECT_ROOT,
        env=cli_env(var, env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def setting_up(
    migrated_db_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Path, dict[str, str], LocalProxy, FakeHyperliquid]]:
    """An account ``main`` on the fake Hyperliquid with one SOCKS5 proxy, all stored by the CLI."""
    proxy = await LocalProxy("socks5", "main-user", PASSWORD).start()
    async with serve_ip_echo() as check_url, new_fake() as fake:
        var = tmp_path / "var"
        env = {
            "DATABASE_URL": migrated_db_url,
            "PERPFLEET_MASTER_KEY": fresh_key(),
            CHECK_URL_VARIABLE: check_url,
        }
        steps = [
            [
                "accounts",
                "add",
                "--name",
                "main",
                "--venue",
                "hyperliquid",
                "--from-env",
            ],
            ["proxies", "add", "--url", proxy.url, "--label", "eu"],
            ["assign-proxy", "--account", "main", "--proxy", "eu"],
        ]
        for step in steps:
            code, _, err = await run(
                ["-m", "database", *step],
                var,
                {**env, "PERPFLEET_HYPERLIQUID_PRIVATE_KEY": OWNER_KEY},
            )
            assert code == 0, err
        yield var, env, proxy, fake
    await proxy.stop()


async def test_check_names_the_proxy_the_bot_will_use(
    setting_up: tuple[Path, dict[str, str], LocalProxy, FakeHyperliquid], tmp_path: Path
) -> None:
    var, env, proxy, fake = setting_up
    path = write(tmp_path, config_text(fake, use_proxy=False))
    code, out, err = await run(
        ["runbot.py", "--config", str(path), "--check", "--enable-proxy"], var, env
    )
    assert code == 0, err
    assert (
        "  exchanges:   hyperliquid (account main, credentials found, "
        f"proxy socks5://127.0.0.1:{proxy.port}, egress IP 127.0.0.1)"
    ) in out.splitlines()
    assert proxy.connections == 1  # checked through itself

    await proxy.stop()
    code, out, err = await run(
        ["runbot.py", "--config", str(path), "--check", "--enable-proxy"], var, env
    )
    assert code == 2
    assert (
        "exchanges.hyperliquid.use_proxy: account main: no usable proxy: "
        f"socks5://127.0.0.1:{proxy.port} down" in err
    )
    assert PASSWORD not in out + err


async def test_a_bot_whose_proxy_is_down_does_not_start(
    setting_up: tuple[Path, dict[str, str], LocalProxy, FakeHyperliquid], tmp_path: Path
) -> None:
    var, env, proxy, fake = setting_up
    await proxy.stop()
    path = write(tmp_path, config_text(fake))
    code, out, err = await run(["runbot.py", "--config", str(path)], var, env)
    assert code == 1
    line = err.splitlines()[-1]  # the user's line, after the log lines
    assert line.startswith("grid-proxied: hyperliquid: account main: no usable proxy")
    assert f"socks5://127.0.0.1:{proxy.port} down" in line
    assert PASSWORD not in out + err
    assert fake.requests == []
