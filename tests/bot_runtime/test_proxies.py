"""``use_proxy`` end to end: the runtime's own set-up (build_clients, connect_all, the execution
stack) against the fake Hyperliquid, with the account's proxies stored in the database (SQLite
and PostgreSQL) and running as real SOCKS5 / HTTP CONNECT proxies on loopback.

What each test watches is observed where it happens: tunnels counted at the proxies, orders
counted on the fake venue, health and failures read back from the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

import strategies  # noqa: F401  (fills the params registry load_config reads, as runbot does)
from bot_runtime.setup import (
    StartupError,
    account_ids,
    build_clients,
    build_execution,
    connect_all,
    register_bot,
)
from core.clock import SystemClock
from core.errors import ConfigError
from core.proxy_check import CHECK_URL_VARIABLE
from core.redaction import Secret
from database.proxy_url import parse_proxy_url
from database.repositories.accounts import add_credentials
from database.repositories.proxies import add_proxy, assign_proxy, get_account_proxies
from testing.fakes.hyperliquid import FakeHyperliquid
from testing.proxies import LocalProxy, serve_ip_echo
from tests.exchange_clients.hyperliquid.helpers import OWNER, OWNER_KEY, new_fake
from trading_config import load_config
from trading_config.loader import CliOverrides

D = Decimal
PASSWORD = "bot-proxy-pass-8c1e"
GUARD = 20.0  # guards against a hang; not a speed assertion


def config_text(fake: FakeHyperliquid, *, use_proxy: bool = True) -> str:
    return f"""\
name: grid-proxied
strategy:
  type: grid
  params:
    exchange: hyperliquid
    ticker: BTC
    direction: buy
    order_notional_usd: 100
    take_profit: 1
    grid_step: 0.5
    max_orders: 3
    max_margin_usd: 500
    target_leverage: 2
exchanges:
  hyperliquid:
    account: main
    api_url: {fake.base_url}
    ws_url: {fake.ws_url}
    use_proxy: {str(use_proxy).lower()}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yml"
    path.write_text(text, encoding="utf-8")
    return path


async def eventually(condition: object) -> None:
    async def wait() -> None:
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 - polled condition
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), GUARD)


@pytest.fixture
async def check_url(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    async with serve_ip_echo() as url:
        monkeypatch.setenv(CHECK_URL_VARIABLE, url)
        yield url


@pytest.fixture
async def proxies() -> AsyncIterator[list[LocalProxy]]:
    started = [
        await LocalProxy("socks5", "main-user", PASSWORD).start(),
        await LocalProxy("http", "main-user", PASSWORD).start(),
    ]
    yield started
    for proxy in started:
        await proxy.stop()


async def store_account(
    sessions: async_sessionmaker[AsyncSession], proxies: list[LocalProxy]
) -> None:
    async with sessions.begin() as session:
        await add_credentials(
            session,
            account_name="main",
            venue="hyperliquid",
            public={},
            secrets={"private_key": Secret(OWNER_KEY)},
        )
        for priority, proxy in enumerate(proxies):
            stored = await add_proxy(session, parse_proxy_url(proxy.url))
            await assign_proxy(session, "main", str(stored.id), priority=priority, status="active")


def fake_port(fake: FakeHyperliquid) -> int:
    return int(fake.base_url.rstrip("/").rsplit(":", 1)[1])


async def test_traffic_goes_through_the_proxy_and_a_dying_proxy_fails_over_without_a_duplicate(
    db_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    check_url: str,
    proxies: list[LocalProxy],
) -> None:
    first, second = proxies
    await store_account(db_sessions, proxies)
    async with new_fake() as fake:
        config = load_config(write(tmp_path, config_text(fake)))
        bot_id = await register_bot(db_sessions, config, "grid.yml")
        accounts = await account_ids(db_sessions, config)
        with capture_logs() as logs:
            clients = await build_clients(db_sessions, config)
            await connect_all(clients)
            stack = await build_execution(
                db_sessions, config, bot_id, accounts, clients, SystemClock()
            )
            try:
                venue = fake_port(fake)
                # REST and the WebSocket tunnel through the first proxy, none through the second
                assert first.targets.count(("127.0.0.1", venue)) >= 2
                assert second.connections == 0

                fake.delay = 1.0  # the venue processes the order, then answers slowly
                sending = asyncio.create_task(
                    stack.executors["hyperliquid"].submit("BTC", "buy", D("0.001"), price=D(59000))
                )
                await eventually(lambda: len(fake.user(OWNER).orders) == 1)
                await first.stop()  # the answer can no longer come back through it
                fake.delay = 0.0
                order = await asyncio.wait_for(sending, GUARD)

                assert order is not None  # resolved by its client order id, through the second
                assert fake.requests.count(("/exchange", "order")) == 1
                assert len(fake.user(OWNER).orders) == 1
                await eventually(lambda: second.targets.count(("127.0.0.1", venue)) >= 2)
                client = clients["hyperliquid"]
                assert (await client.balance()).wallet > 0
            finally:
                await stack.stop()
                for client in clients.values():
                    await client.disconnect()

    failover = [line for line in logs if line["event"] == "proxy failover"]
    assert len(failover) == 1
    assert failover[0]["account"] == "main"
    assert failover[0]["proxy"] == f"socks5://127.0.0.1:{first.port}"
    assert PASSWORD not in str(logs)

    async with db_sessions.begin() as session:
        dead, alive = await get_account_proxies(session, "main")
    assert (dead.failure_count, dead.status) == (1, "active")
    assert dead.last_check_error is not None
    assert "refused" in dead.last_check_error
    assert (alive.egress_ip, alive.last_check_error, alive.failure_count) == ("127.0.0.1", None, 0)
    assert alive.last_checked_at is not None


async def test_use_proxy_without_a_usable_proxy_is_one_line_naming_the_account(
    db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path, check_url: str
) -> None:
    await store_account(db_sessions, [])
    async with new_fake() as fake:
        config = load_config(write(tmp_path, config_text(fake)))
        with pytest.raises(StartupError) as raised:
            await build_clients(db_sessions, config)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("hyperliquid: account main has no usable proxy")
    assert "python -m database assign-proxy --account main" in message


async def test_a_proxy_down_at_start_is_one_line_naming_account_and_host_never_the_password(
    db_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    check_url: str,
    proxies: list[LocalProxy],
) -> None:
    first = proxies[0]
    await store_account(db_sessions, [first])
    await first.stop()
    async with new_fake() as fake:
        config = load_config(write(tmp_path, config_text(fake)))
        with capture_logs() as logs, pytest.raises(StartupError) as raised:
            await build_clients(db_sessions, config)
        assert fake.requests == []  # nothing left for the venue
    message = str(raised.value)
    assert "\n" not in message
    assert "account main" in message
    assert f"socks5://127.0.0.1:{first.port} down" in message
    assert "refused the connection" in message
    assert PASSWORD not in message + str(logs)
    async with db_sessions.begin() as session:
        [row] = await get_account_proxies(session, "main")
    assert row.failure_count == 1


async def test_enable_proxy_has_the_effect_of_use_proxy(
    db_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    check_url: str,
    proxies: list[LocalProxy],
) -> None:
    first = proxies[0]
    await store_account(db_sessions, [first])
    async with new_fake() as fake:
        path = write(tmp_path, config_text(fake, use_proxy=False))
        plain = await build_clients(db_sessions, load_config(path))
        assert plain["hyperliquid"].settings.proxy_url is None
        config = load_config(path, cli=CliOverrides(enable_proxy=True))
        assert config.exchanges["hyperliquid"].use_proxy
        clients = await build_clients(db_sessions, config)
        await connect_all(clients)
        try:
            assert first.targets.count(("127.0.0.1", fake_port(fake))) >= 2
        finally:
            await clients["hyperliquid"].disconnect()


def test_use_proxy_on_a_paper_venue_is_refused(tmp_path: Path) -> None:
    text = "name: grid-paper\nstrategy:\n  type: grid\n  params:\n    exchange: paper\n"
    text += "    ticker: BTC\n    direction: buy\n    order_notional_usd: 100\n"
    text += "    take_profit: 1\n    grid_step: 0.5\n    max_orders: 3\n    max_margin_usd: 500\n"
    text += "    target_leverage: 2\nexchanges:\n  paper:\n    use_proxy: true\n"
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    (problem,) = raised.value.problems
    assert "exchanges.paper.use_proxy" in problem
    assert "use_proxy applies to real venues only" in problem

    path = write(tmp_path, text.replace("    use_proxy: true\n", "    {}\n"))
    with pytest.raises(ConfigError) as flagged:
        load_config(path, cli=CliOverrides(enable_proxy=True))
    assert flagged.value.problems == [
        f"{path} (--enable-proxy): the config has no real venue; proxies carry real venues' "
        "traffic only"
    ]
