"""Onboarding and JWT auth against the fake: the venue verifies each Stark signature."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import AuthenticationFailed
from exchange_clients.paradex.client import ParadexClient, l1_address_of
from exchange_clients.paradex.rest import jwt_expiry
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.paradex.helpers import (
    L1_KEY,
    connected,
    settings,
    signer_for,
    until,
)


async def test_a_new_account_is_onboarded_then_authenticated() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        signer = signer_for(fake)
        account = fake.accounts[signer.address]
        assert account.public_key == signer.public_key
        assert account.l1_address == l1_address_of(L1_KEY)
        assert ("POST", "/v1/onboarding") in fake.requests
        assert fake.auth_count == 1
        assert (await client.balance()).wallet == Decimal(100_000)


async def test_an_onboarded_account_is_not_onboarded_again() -> None:
    async with FakeParadex() as fake:
        fake.add_account(signer_for(fake))
        async with connected(fake):
            assert ("POST", "/v1/onboarding") not in fake.requests


async def test_the_l1_chain_from_the_system_config_picks_the_stark_key() -> None:
    mainnet = FakeParadex(l1_chain_id=1, starknet_chain="PRIVATE_SN_PARACLEAR_MAINNET")
    async with mainnet as fake, connected(fake):
        assert signer_for(fake).address in fake.accounts
        assert signer_for(fake).address != signer_for(FakeParadex()).address


async def test_the_jwt_is_renewed_before_it_expires() -> None:
    async with FakeParadex() as fake, connected(fake) as client:  # renew 120 s before expiry
        fake.auth_window = 3600  # our clock is moved below; the venue's is not
        expiry = jwt_expiry(await client.rest.token())
        assert expiry is not None
        assert fake.auth_count == 1
        client.rest._clock = lambda: expiry - 121
        await client.balance()
        assert fake.auth_count == 1  # 121 s of life left: kept
        client.rest._clock = lambda: expiry - 119
        fake.jwt_ttl = 600  # the new token outlives the moved clock
        await client.balance()
        assert fake.auth_count == 2  # under 120 s left: renewed before use, once


async def test_a_token_the_venue_refuses_is_replaced_and_the_call_sent_again() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        await until(lambda: fake.private_subscriptions() == {"orders.ALL", "fills.ALL"})
        fake._secret = b"rotated"  # every token issued so far no longer verifies
        assert (await client.balance()).wallet == Decimal(100_000)
        assert fake.auth_count == 2


async def test_an_auth_signed_off_the_venue_clock_is_refused_then_synced() -> None:
    async with FakeParadex() as fake:
        fake.clock_offset_ms = 3_600_000  # the venue is an hour ahead of us
        async with connected(fake) as client:  # the offset is measured on connect
            assert abs(client.rest.clock_offset_ms - 3_600_000) < 5_000
            assert fake.auth_count == 1


async def test_a_wrong_signature_is_one_clear_line_without_the_key() -> None:
    async with FakeParadex() as fake:
        fake.add_account(signer_for(fake))
        fake.accounts[signer_for(fake).address].public_key = signer_for(
            fake, "0x" + "42" * 32
        ).public_key
        with pytest.raises(AuthenticationFailed) as caught:
            async with connected(fake):
                pass
        message = str(caught.value)
        assert "STARKNET_SIGNATURE_VERIFICATION_FAILED" in message
        assert "\n" not in message
        assert L1_KEY[2:] not in message
        assert "3c3c3c" not in message


async def test_an_invalid_l1_key_is_refused_clearly() -> None:
    async with FakeParadex() as fake:
        with pytest.raises(
            AuthenticationFailed, match="not a valid Ethereum private key"
        ) as caught:
            ParadexClient(settings(fake, "0x12345"))
        assert "12345" not in str(caught.value)


async def test_without_a_key_public_data_works_and_trading_says_what_is_missing() -> None:
    async with FakeParadex() as fake, connected(fake, key=None) as client:
        assert (await client.funding_rate("BTC")).interval_hours == Decimal(8)
        with pytest.raises(AuthenticationFailed, match="l1_private_key"):
            await client.balance()


async def test_a_stream_whose_token_is_refused_reconnects_with_a_fresh_one() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        await until(lambda: fake.private_subscriptions() == {"orders.ALL", "fills.ALL"})
        fake._secret = b"rotated"
        await fake.drop_connections()  # the stream's token now fails on the new connection
        await until(lambda: fake.private_subscriptions() == {"orders.ALL", "fills.ALL"})
        assert client.stream.errors  # the refusal was seen, then a fresh token worked
        assert fake.auth_count >= 2
