"""Credentials and auth tokens: renewal before expiry, expired/invalid tokens refused with
Lighter's error shape, and a wrong key failing clearly without ever showing the key."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import aiohttp
import pytest

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.lighter.auth import AuthTokens
from exchange_clients.lighter.client import LighterClient
from exchange_clients.lighter.signing import LighterSigner
from exchange_clients.types import ClientSettings, OrderStatus
from tests.exchange_clients.lighter.helpers import (
    ACCOUNT,
    API_KEY,
    KEY,
    connected,
    new_fake,
    next_event,
    settings,
    until,
)

D = Decimal


def _signer() -> LighterSigner:
    return LighterSigner(Secret(KEY), account_index=ACCOUNT, api_key_index=API_KEY, chain_id=304)


async def test_tokens_are_reused_then_renewed_before_expiry() -> None:
    now = [1_900_000_000.0]
    tokens = AuthTokens(_signer(), ttl=60, renew_before=10, clock=lambda: now[0])
    first = await tokens.token()
    assert first.startswith(f"1900000060:{ACCOUNT}:{API_KEY}:")
    now[0] += 49  # 11 s left: still good
    assert await tokens.token() == first
    now[0] += 1  # 10 s left: renewed before it can expire in flight
    second = await tokens.token()
    assert second != first
    assert second.startswith("1900000110:")
    assert tokens.created == 2


def test_token_lifetime_is_bounded_by_the_venue_maximum() -> None:
    with pytest.raises(ValueError, match="ttl"):
        AuthTokens(_signer(), ttl=9 * 3600)


async def test_the_client_renews_its_token_and_the_venue_accepts_each_one() -> None:
    async with (
        new_fake() as fake,
        connected(fake, auth_token_ttl=2, auth_token_renew_before=1) as client,
    ):
        await client.open_orders("BTC")
        await until(lambda: time.time() >= client.auth.deadline - 1)
        await client.open_orders("BTC")
        assert client.auth.created >= 2
        assert len(set(fake.tokens_seen)) >= 2
        assert fake.rejections == []


async def test_an_expired_token_is_refused_with_lighters_error_shape() -> None:
    async with new_fake() as fake:
        expired = _signer().create_auth_token_sync(int(time.time()) - 5)
        foreign = LighterSigner(
            Secret(KEY), account_index=ACCOUNT, api_key_index=99, chain_id=304
        ).create_auth_token_sync(int(time.time()) + 60)
        url = f"{fake.base_url}/api/v1/accountActiveOrders?account_index={ACCOUNT}&market_id=1"
        async with aiohttp.ClientSession() as session:
            for token, message in (
                (expired, "expired"),
                (foreign, "not registered"),
                ("x", "invalid"),
            ):
                async with session.get(url, headers={"Authorization": token}) as response:
                    body = await response.json()
                assert response.status == 400
                assert set(body) == {"code", "message"}
                assert message in body["message"]


async def test_a_replaced_key_fails_connect_clearly_and_never_shows_the_key(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with new_fake() as fake:
        fake.replace_key(ACCOUNT, API_KEY)
        client = LighterClient(settings(fake))
        with pytest.raises(AuthenticationFailed) as caught:
            await client.connect()
        message = str(caught.value)
        assert f"API key {API_KEY} of account {ACCOUNT}" in message
        assert "check api_key_private_key" in message
        assert "\n" not in message
        captured = capsys.readouterr()
        for text in (message, repr(caught.value), caplog.text, captured.out, captured.err):
            assert KEY not in text
            assert KEY[2:] not in text
            assert KEY[2:12] not in text
        await client.disconnect()


async def test_a_key_replaced_while_trading_refuses_orders_as_authentication_failed() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.replace_key(ACCOUNT, API_KEY)
        with pytest.raises(AuthenticationFailed, match="21108") as caught:
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(50_000), client_order_id="after-replace"
            )
        assert KEY[2:12] not in str(caught.value)


def _client(public: dict[str, str], key: str | None = KEY) -> LighterClient:
    secrets = {"api_key_private_key": Secret(key)} if key is not None else {}
    return LighterClient(
        ClientSettings(
            venue="lighter",
            public=public,
            secrets=secrets,
            options={"base_url": "http://127.0.0.1:1"},
        )
    )


def test_missing_or_malformed_credentials_are_clear_errors() -> None:
    with pytest.raises(AuthenticationFailed, match="no api_key_private_key"):
        _client({"account_index": "1", "api_key_index": "3"}, key=None)
    with pytest.raises(AuthenticationFailed, match="no account_index"):
        _client({"api_key_index": "3"})
    with pytest.raises(AuthenticationFailed, match="api_key_index must be an integer"):
        _client({"account_index": "1", "api_key_index": "three"})
    with pytest.raises(AuthenticationFailed, match=r"api_key_index must be 0\.\.254"):
        _client({"account_index": "1", "api_key_index": "255"})
    with pytest.raises(AuthenticationFailed, match="not a valid Lighter API private key") as caught:
        _client({"account_index": "1", "api_key_index": "3"}, key="0xnot-hex-" + "c4" * 30)
    assert "c4c4" not in str(caught.value)


async def test_private_ws_channels_carry_a_valid_token() -> None:
    async with new_fake() as fake, connected(fake) as client:
        updates = client.order_updates()
        await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(50_000), client_order_id="ws-auth"
        )
        update = await next_event(updates, lambda o: o.client_order_id == "ws-auth")
        assert update.status is OrderStatus.OPEN  # delivered on the authenticated channel
        private = [
            m for m in fake.subscribe_messages if m["channel"].startswith("account_all_orders")
        ]
        assert len(private) == 1
        assert str(private[0]["auth"]).startswith(
            f"{int(client.auth.deadline)}:{ACCOUNT}:{API_KEY}:"
        )
