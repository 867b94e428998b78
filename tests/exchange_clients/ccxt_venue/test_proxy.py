"""The ccxt client through an account's proxy pool (real loopback proxies, the fake Binance).

ccxt opens its own sessions; what is checked is that they go through the pool's *current*
proxy (counted at the proxies) and follow it after a failover.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from core.redaction import Secret
from exchange_clients.ccxt_venue.client import CcxtExchangeClient
from exchange_clients.factory import create_client
from networking.proxy_pool import PooledProxy, ProxyPool
from testing.fakes.binance import FakeBinance
from testing.proxies import LocalProxy, serve_ip_echo
from tests.exchange_clients.contract.ccxt_harness import API_KEY, API_SECRET, ccxt_settings

PASSWORD = "ccxt-proxy-pass-4471"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as venue:
        venue.add_account(api_key=API_KEY, api_secret=API_SECRET)
        yield venue


async def test_rest_and_streams_follow_the_pools_current_proxy(fake: FakeBinance) -> None:
    first = await LocalProxy("socks5", "carol", PASSWORD).start()
    second = await LocalProxy("http", "carol", PASSWORD).start()
    async with serve_ip_echo() as check_url:
        pool = ProxyPool(
            "carol",
            [
                PooledProxy(1, Secret(first.url), "first"),
                PooledProxy(2, Secret(second.url), "second"),
            ],
            check_url=check_url,
            check_interval=0,
        )
        await pool.ensure_checked()
        client = create_client(replace(ccxt_settings(fake), proxy_url=pool))
        assert isinstance(client, CcxtExchangeClient)
        await client.connect()
        try:
            await client.balance()
            through_first = first.connections
            assert through_first >= 2  # the check, then ccxt's REST (and stream) tunnels
            assert second.connections == 0
            await first.stop()
            await pool.check_now()  # the periodic check finds it dead and fails over
            assert pool.current.proxy_id == 2
            before = second.connections
            await client.balance()
            assert second.connections > before
        finally:
            await client.disconnect()
            await first.stop()
            await second.stop()
    assert pool._monitor is None  # released with the exchange
