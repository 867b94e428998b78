"""Credentials end to end: the fake verifies every signature; bad keys, tampered signatures and
stale timestamps are refused with Backpack's error shape and surface as one-line
``AuthenticationFailed``; our clock is kept within the window; secrets never leak."""

from __future__ import annotations

import base64
import logging
import time
from decimal import Decimal

import aiohttp
import pytest

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.backpack.client import BackpackClient
from exchange_clients.backpack.signing import Ed25519Signer
from exchange_clients.backpack.wire import RequestExpired
from exchange_clients.types import ClientSettings
from testing.fakes.backpack import FakeBackpack
from tests.exchange_clients.backpack.helpers import (
    API_KEY,
    API_SECRET,
    OTHER_KEY,
    OTHER_SECRET,
    connected,
    running,
    settings,
)


async def test_every_signed_request_is_verified_over_the_documented_string() -> None:
    async with running() as (fake, _), connected(fake) as client:
        await client.place_limit_order(
            "BTC", "buy", Decimal("0.001"), Decimal(50000), client_order_id="auth-1", post_only=True
        )
        executed = [s for s in fake.signing_strings if s.startswith("instruction=orderExecute")]
        assert len(executed) == 1
        message = executed[0]
        assert message.startswith(
            "instruction=orderExecute&clientId="
            + str(client._ids.lookup("auth-1"))
            + "&orderType=Limit&postOnly=true&price=50000&quantity=0.001&side=Bid"
            "&symbol=BTC_USDC_PERP&timeInForce=GTC&timestamp="
        )
        assert message.endswith("&window=5000")


async def test_an_unregistered_key_fails_connect_with_a_clear_error() -> None:
    async with running() as (fake, _):
        client = BackpackClient(settings(fake, key=OTHER_KEY, secret=OTHER_SECRET))
        with pytest.raises(AuthenticationFailed, match="check api_key/api_secret") as caught:
            await client.connect()
        message = str(caught.value)
        assert "\n" not in message
        assert OTHER_SECRET not in message
        assert OTHER_KEY not in message


def test_a_key_that_does_not_match_the_secret_fails_when_the_client_is_built() -> None:
    fake = FakeBackpack()
    with pytest.raises(AuthenticationFailed, match="not the public key"):
        BackpackClient(settings(fake, key=OTHER_KEY, secret=API_SECRET))


def test_half_a_credential_pair_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="both api_key and api_secret"):
        BackpackClient(ClientSettings(venue="backpack", secrets={"api_key": Secret(API_KEY)}))


async def _raw(fake: FakeBackpack, headers: dict[str, str]) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.base_url}/api/v1/capital/collateral", headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_the_fake_rejects_a_signature_made_with_another_key() -> None:
    async with running() as (fake, _):
        other = Ed25519Signer(Secret(OTHER_KEY), Secret(OTHER_SECRET))
        headers = other.headers("collateralQuery", {}, int(time.time() * 1000))
        headers["X-API-Key"] = API_KEY  # the registered key, but signed by another one
        status, body = await _raw(fake, headers)
        assert status == 400
        assert body == {
            "code": "INVALID_CLIENT_REQUEST",
            "message": "Invalid signature, could not verify signature",
        }


async def test_the_fake_rejects_a_signature_over_another_instruction() -> None:
    async with running() as (fake, _):
        signer = Ed25519Signer(Secret(API_KEY), Secret(API_SECRET))
        headers = signer.headers("balanceQuery", {}, int(time.time() * 1000))
        status, body = await _raw(fake, headers)
        assert status == 400
        assert isinstance(body, dict)
        assert body["code"] == "INVALID_CLIENT_REQUEST"
        signed = signer.headers("collateralQuery", {}, int(time.time() * 1000))
        assert (await _raw(fake, signed))[0] == 200


async def test_the_fake_rejects_stale_timestamps_outside_the_window() -> None:
    async with running() as (fake, _):
        signer = Ed25519Signer(Secret(API_KEY), Secret(API_SECRET), window_ms=2000)
        stale = signer.headers("collateralQuery", {}, int(time.time() * 1000) - 5000)
        status, body = await _raw(fake, stale)
        assert (status, body) == (
            400,
            {"code": "INVALID_CLIENT_REQUEST", "message": "Request has expired"},
        )
        fresh = signer.headers("collateralQuery", {}, int(time.time() * 1000) - 1000)
        assert (await _raw(fake, fresh))[0] == 200


async def test_our_clock_is_resynchronised_into_the_window() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fake.clock_offset_ms = 30_000  # the venue's clock runs 30 s ahead of ours
        balance = await client.balance()  # refused once as expired, then re-sent after a sync
        assert balance.wallet == Decimal(10_000)
        assert 29_000 < client.rest.clock_offset_ms < 31_000


async def test_a_clock_that_cannot_be_fixed_raises_request_expired() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fake.clock_offset_ms = 30_000
        client.rest.sync_time = _no_sync  # type: ignore[method-assign]
        with pytest.raises(RequestExpired, match="local clock differs"):
            await client.balance()


async def _no_sync() -> None:
    return None


async def test_secrets_never_reach_logs_or_reprs(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running() as (fake, _):
        async with connected(fake) as client:
            await client.balance()
            text = repr(client) + repr(client.rest.signer) + repr(client.settings)
        failing = BackpackClient(settings(fake, key=OTHER_KEY, secret=OTHER_SECRET))
        with pytest.raises(AuthenticationFailed):
            await failing.connect()
    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err  # structlog writes to the console
    for secret in (API_SECRET, OTHER_SECRET, base64.b64decode(API_SECRET).hex()):
        assert secret not in text
        assert secret not in logs


async def test_a_badly_signed_private_subscription_gets_no_account_events() -> None:
    async with (
        running() as (fake, account),
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.ws_url) as ws,
    ):
        other = Ed25519Signer(Secret(OTHER_KEY), Secret(OTHER_SECRET))
        forged = other.subscribe_signature(int(time.time() * 1000))
        forged[0] = API_KEY
        await ws.send_json(
            {"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "signature": forged}
        )
        reply = await ws.receive_json(timeout=5)
        assert reply["error"]["code"] == 4006
        assert fake.private_connections(account) == 0
