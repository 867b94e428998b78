"""Credentials and the API-key session: login at connect, renewal, clear one-line refusals that
never echo a key, and a public-only client."""

from __future__ import annotations

import dataclasses
import time

import pytest

from core.errors import AuthenticationFailed, ConfigError
from core.redaction import Secret
from exchange_clients.grvt.client import GrvtClient
from exchange_clients.grvt.rest import session_from_login
from exchange_clients.types import ClientSettings
from networking.http import HttpResponse
from tests.exchange_clients.grvt.helpers import (
    API_KEY,
    OTHER_PRIVATE_KEY,
    OTHER_SUB,
    PRIVATE_KEY,
    D,
    connected,
    running,
    settings,
)


async def test_connect_logs_in_and_trades_the_configured_sub_account() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        assert fake.logins == 1
        assert client.rest.session is not None
        assert client.sub_account_id == int(sub.sub_account_id)
        await client.place_limit_order("BTC", "buy", D("0.001"), D(59000), client_order_id="a-1")
        assert [o.client_order_id for o in sub.orders.values()] == [str(client._ids.reserve("a-1"))]


async def test_an_unknown_api_key_fails_connect_in_one_line_without_the_key() -> None:
    async with running() as (fake, _):
        client = GrvtClient(settings(fake, api_key="wrong-key-123"))
        with pytest.raises(AuthenticationFailed) as info:
            await client.connect()
        message = str(info.value)
        assert "login refused" in message
        assert "code 1000" in message
        assert "\n" not in message
        assert "wrong-key-123" not in message
        assert PRIVATE_KEY[2:] not in message


async def test_an_expired_session_is_renewed_once_and_the_call_goes_through() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fake.expire_sessions()
        assert (await client.balance()).wallet == D(10_000)
        assert fake.logins == 2


async def test_a_key_registered_for_another_address_cannot_place_orders() -> None:
    async with running() as (fake, sub), connected(fake, private_key=OTHER_PRIVATE_KEY) as client:
        with pytest.raises(AuthenticationFailed, match="unauthorized signer"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="a-2"
            )
        assert sub.orders == {}
        # refused outright: the id may be used again
        with pytest.raises(AuthenticationFailed):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="a-2"
            )


async def test_another_accounts_sub_account_is_refused() -> None:
    async with running() as (fake, _):
        with pytest.raises(AuthenticationFailed, match="not authorized"):
            async with connected(fake, sub=OTHER_SUB):
                pass


def test_partial_or_malformed_credentials_are_refused_clearly() -> None:
    base = {"base_url": "http://127.0.0.1:1", "ws_url": "ws://127.0.0.1:1/ws"}
    with pytest.raises(AuthenticationFailed, match="both api_key and private_key"):
        GrvtClient(ClientSettings(venue="grvt", secrets={"api_key": Secret(API_KEY)}, options=base))
    with pytest.raises(AuthenticationFailed, match="no sub_account_id"):
        GrvtClient(
            ClientSettings(
                venue="grvt",
                secrets={"api_key": Secret(API_KEY), "private_key": Secret(PRIVATE_KEY)},
                options=base,
            )
        )
    with pytest.raises(AuthenticationFailed, match="sub_account_id must be a whole number"):
        GrvtClient(
            ClientSettings(
                venue="grvt",
                public={"sub_account_id": "main"},
                secrets={"api_key": Secret(API_KEY), "private_key": Secret(PRIVATE_KEY)},
                options=base,
            )
        )
    with pytest.raises(AuthenticationFailed, match="private_key is not") as info:
        GrvtClient(
            ClientSettings(
                venue="grvt",
                public={"sub_account_id": "1"},
                secrets={"api_key": Secret(API_KEY), "private_key": Secret("0xsecretjunk")},
                options=base,
            )
        )
    assert "secretjunk" not in str(info.value)
    with pytest.raises(ConfigError, match="environment: expected one of prod, testnet"):
        GrvtClient(ClientSettings(venue="grvt", options={**base, "environment": "mainnet"}))


async def test_without_credentials_public_data_works_and_trading_says_what_is_missing() -> None:
    async with running() as (fake, _):
        client = GrvtClient(
            ClientSettings(
                venue="grvt",
                testnet=True,
                options={"base_url": fake.base_url, "ws_url": fake.ws_url},
            )
        )
        await client.connect()
        try:
            assert fake.logins == 0
            assert "BTC" in await client.markets()
            assert (await client.funding_rate("ETH")).rate < 0
            # what the funding-rate collector reads through a public client
            assert set(await client.funding_rates()) == {"BTC", "ETH", "SOL"}
            assert (await client.fees("BTC")).source == "published"
            assert (await client.market_stats())["SOL"].volume_24h_usd is not None
            with pytest.raises(AuthenticationFailed, match="needs api_key, private_key"):
                await client.balance()
        finally:
            await client.disconnect()


async def test_the_cookie_expiry_is_read_and_the_session_renewed_a_minute_before() -> None:
    async with running() as (fake, _), connected(fake) as client:
        session = client.rest.session
        assert session is not None
        served = max(s.expires for s in fake.sessions.values())
        assert abs(session.expires - served) <= 1
        assert session.account_id == fake.api_keys[API_KEY].account_id
        client.rest._session = dataclasses.replace(session, expires=time.time() + 30)
        await client.positions()
        assert fake.logins == 2


def test_a_login_answer_without_a_gravity_cookie_is_no_session() -> None:
    answer = HttpResponse(200, {"Set-Cookie": "other=1", "X-Grvt-Account-Id": "0xabc"}, "{}")
    assert session_from_login(answer, 0.0) is None
    no_expiry = HttpResponse(200, {"Set-Cookie": "gravity=tok; Path=/"}, "{}")
    parsed = session_from_login(no_expiry, 100.0)
    assert parsed is not None
    assert (parsed.cookie.reveal(), parsed.expires, parsed.account_id) == ("tok", 400.0, "")
    assert "tok" not in repr(parsed)
