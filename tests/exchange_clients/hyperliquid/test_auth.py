"""Identity: a wrong key fails clearly (and never shows itself), an API wallet trades for its
owner, a vault address is signed and accepted, an agent revoked mid-session is reported."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.hyperliquid.client import HyperliquidClient
from exchange_clients.hyperliquid.wire import (
    MAINNET_URL,
    MAINNET_WS_URL,
    TESTNET_URL,
    TESTNET_WS_URL,
)
from exchange_clients.types import ClientSettings
from tests.exchange_clients.hyperliquid.helpers import (
    AGENT,
    AGENT_KEY,
    OWNER,
    OWNER_KEY,
    STRANGER,
    STRANGER_KEY,
    VAULT,
    connected,
    new_fake,
)


async def test_a_wrong_key_fails_at_connect_with_a_clear_message_and_no_key(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    async with new_fake() as fake:
        with pytest.raises(AuthenticationFailed) as failure:
            async with connected(fake, STRANGER_KEY):
                pass
    message = str(failure.value)
    assert "\n" not in message
    assert STRANGER in message  # the address, so the user can see which wallet it is
    assert "neither a Hyperliquid account nor an approved API wallet" in message
    captured = capsys.readouterr()
    for text in (message, repr(failure.value), captured.out, captured.err, caplog.text):
        assert STRANGER_KEY.removeprefix("0x") not in text


async def test_a_malformed_key_is_refused_without_echoing_it() -> None:
    async with new_fake() as fake:
        with pytest.raises(AuthenticationFailed) as failure:
            async with connected(fake, "0xnot-a-key-at-all"):
                pass
    assert "not-a-key" not in str(failure.value)


async def test_an_api_wallet_trades_for_its_owner() -> None:
    async with (
        new_fake(agents={AGENT: OWNER}) as fake,
        connected(fake, AGENT_KEY, account_address=OWNER) as client,
    ):
        assert client.user == OWNER
        _, _ask = await client.best_bid_ask("BTC")
        await client.place_market_order("BTC", "buy", Decimal("0.001"), client_order_id="agent-1")
        position = await client.position("BTC")
        assert position is not None
        assert position.size == Decimal("0.001")
        assert fake.user(OWNER).positions["BTC"].szi == Decimal("0.001")
        assert AGENT not in fake.users  # the agent holds nothing itself


async def test_an_api_wallet_finds_its_owner_when_no_account_is_configured() -> None:
    async with new_fake(agents={AGENT: OWNER}) as fake, connected(fake, AGENT_KEY) as client:
        assert client.user == OWNER


async def test_an_api_wallet_of_another_account_is_refused() -> None:
    async with new_fake(agents={AGENT: STRANGER}, accounts={OWNER: 1, STRANGER: 1}) as fake:
        with pytest.raises(AuthenticationFailed, match="trades for"):
            async with connected(fake, AGENT_KEY, account_address=OWNER):
                pass


async def test_a_revoked_api_wallet_is_reported_as_an_authentication_failure() -> None:
    async with (
        new_fake(agents={AGENT: OWNER}) as fake,
        connected(fake, AGENT_KEY, account_address=OWNER) as client,
    ):
        fake.revoke_agent(AGENT)
        with pytest.raises(AuthenticationFailed) as failure:
            await client.place_limit_order(
                "BTC", "buy", Decimal("0.001"), Decimal(50000), client_order_id="revoked-1"
            )
        assert AGENT in str(failure.value)
        assert AGENT_KEY.removeprefix("0x") not in str(failure.value)
        assert fake.exchange_errors == [f"User or API Wallet {AGENT} does not exist."]


async def test_a_vault_address_is_signed_and_trades_for_the_vault() -> None:
    async with (
        new_fake(vaults={VAULT: OWNER}) as fake,
        connected(fake, OWNER_KEY, vault_address=VAULT) as client,
    ):
        fake.user(VAULT).cash = Decimal(50_000)
        placed = await client.place_limit_order(
            "BTC", "buy", Decimal("0.001"), Decimal(50000), client_order_id="vault-1"
        )
        assert placed.venue_order_id is not None
        assert [o.oid for o in fake.user(VAULT).orders.values()] == [int(placed.venue_order_id)]
        assert not fake.user(OWNER).orders
        assert [o.client_order_id for o in await client.open_orders()] == ["vault-1"]


def test_mainnet_and_testnet_urls_are_chosen_by_settings() -> None:
    secrets = {"private_key": Secret(OWNER_KEY)}
    mainnet = HyperliquidClient(ClientSettings(venue="hyperliquid", secrets=secrets))
    testnet = HyperliquidClient(ClientSettings(venue="hyperliquid", testnet=True, secrets=secrets))
    assert (mainnet._base_url, mainnet._ws_url) == (MAINNET_URL, MAINNET_WS_URL)
    assert (testnet._base_url, testnet._ws_url) == (TESTNET_URL, TESTNET_WS_URL)
    assert MAINNET_URL == "https://api.hyperliquid.xyz"
    assert TESTNET_WS_URL == "wss://api.hyperliquid-testnet.xyz/ws"
    assert OWNER_KEY.removeprefix("0x") not in repr(mainnet.settings)


async def test_a_testnet_client_signs_for_testnet() -> None:
    async with new_fake(mainnet=False) as fake, connected(fake, testnet=True) as client:
        placed = await client.place_limit_order(
            "BTC", "buy", Decimal("0.001"), Decimal(50000), client_order_id="testnet-1"
        )
        assert placed.venue_order_id is not None
    async with new_fake(mainnet=True) as fake, connected(fake, testnet=True) as client:
        with pytest.raises(AuthenticationFailed):  # a testnet signature recovers someone else
            await client.place_limit_order(
                "BTC", "buy", Decimal("0.001"), Decimal(50000), client_order_id="testnet-2"
            )
