"""Orders through the fake: what is signed and sent, and the fake refusing every order whose
signature, nonce, fee or expiry is not what the venue accepts (as EdgeX refuses them)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from core.errors import AuthenticationFailed, InvalidOrder
from core.redaction import Secret
from exchange_clients.edgex.client import EdgexClient
from exchange_clients.edgex.signing import L1_OFFSET_MS, OrderDomain, OrderSigner, order_amounts
from exchange_clients.types import OrderRequest, OrderStatus, OrderType
from testing.fakes.edgex import CHAIN_ID, VERIFYING_CONTRACT, FakeAccount, FakeContract, FakeEdgex
from tests.exchange_clients.contract.edgex_harness import ACCOUNT_ID, TRADING_KEY
from tests.exchange_clients.edgex.helpers import BTC, D, connected, raw_private, running, settings

CREATE = "/api/v2/private/order/createOrder"


async def test_a_limit_order_signs_the_sdk_fields_and_rests() -> None:
    async with running() as (fake, account), connected(fake, streams=False) as client:
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.002"), D("59000.5"), client_order_id="limit-1"
        )
        assert (placed.status, placed.price, placed.size) == (
            OrderStatus.OPEN,
            D("59000.5"),
            D("0.002"),
        )
        order = account.orders[placed.venue_order_id or ""]
        assert order.l2["l2Value"] == "118.0010"  # 59000.5 x 0.002, as the SDK writes it
        assert order.l2["l2LimitFee"] == "1"  # 0.0448.. rounded up to a whole unit
        assert int(order.l2["l2ExpireTime"]) - int(order.l2["expireTime"]) == L1_OFFSET_MS


async def test_a_market_buy_signs_ten_times_the_oracle_and_sends_price_zero() -> None:
    async with running() as (fake, account), connected(fake, streams=False) as client:
        filled = await client.place_market_order("BTC", "buy", D("0.003"), client_order_id="mkt-1")
        assert filled.status is OrderStatus.FILLED
        order = account.orders[filled.venue_order_id or ""]
        assert order.price == 0
        assert order.worst_price == D("600000.5")  # ceil(60000.05 x 10 / 0.1) x 0.1
        sold = await client.place_market_order(
            "BTC", "sell", D("0.003"), client_order_id="mkt-2", reduce_only=True
        )
        assert account.orders[sold.venue_order_id or ""].worst_price == D("0.1")  # one tick


async def test_the_fake_refuses_a_tampered_order_a_wrong_nonce_a_low_fee_and_an_expired_one() -> (
    None
):
    async with running() as (fake, account):
        base = await _valid_body(fake)
        tampered = {**base, "l2Value": "1180.01", "price": "590000"}  # 10x the signed value
        assert (await raw_private(fake, "POST", CREATE, tampered))["code"] == "INVALID_L2_SIGNATURE"
        forged = {**base, "l2Signature": "ab" * 65}
        assert (await raw_private(fake, "POST", CREATE, forged))["code"] == "INVALID_L2_SIGNATURE"
        renamed = {
            **base,
            "clientOrderId": "another-id",
        }  # signature fine, nonce belongs to the old id
        assert (await raw_private(fake, "POST", CREATE, renamed))["code"] == "INVALID_L2_NONCE"
        assert account.orders == {}
        assert (await raw_private(fake, "POST", CREATE, base))["code"] == "SUCCESS"
        replay = await raw_private(fake, "POST", CREATE, base)
        assert replay["code"] == "DUPLICATE_CLIENT_ORDER_ID"


async def _valid_body(fake: FakeEdgex) -> dict[str, object]:
    """A body the client signed, captured by the fake and then forgotten by it (so it can be
    replayed and tampered with)."""
    captured: dict[str, object] = {}
    original = fake.verify_order_signature

    def capture(account: FakeAccount, body: dict[str, Any], contract: FakeContract) -> None:
        captured.update(body)
        original(account, body, contract)

    fake.verify_order_signature = capture  # type: ignore[method-assign]
    async with connected(fake, streams=False) as client:
        await client.place_limit_order("BTC", "buy", D("0.002"), D(59000), client_order_id="probe")
        await client.cancel_by_client_id("BTC", "probe")
    fake.verify_order_signature = original  # type: ignore[method-assign]
    for order in list(fake.accounts[str(captured["accountId"])].orders):
        del fake.accounts[str(captured["accountId"])].orders[order]
    fake.accounts[str(captured["accountId"])].nonces.clear()
    return dict(captured)


def signed(*, fee_rate: Decimal, client_order_id: str = "fee-probe") -> dict[str, object]:
    """A LIMIT buy of 0.002 BTC at 59000, signed here with ``fee_rate`` (the client always signs
    the contract's rate; this signs what the client never would)."""
    amounts = order_amounts(
        client_order_id=client_order_id,
        account_id=int(ACCOUNT_ID),
        size=D("0.002"),
        price=D(59000),
        is_buy=True,
        fee_rate=fee_rate,
        synthetic_resolution=D(10**10),
        collateral_resolution=D(10**6),
        synthetic_asset=int(BTC),
        collateral_asset=1000,
        expire_time_ms=int(time.time() * 1000) + 22 * 24 * 3600 * 1000,
    )
    domain = OrderDomain(CHAIN_ID, VERIFYING_CONTRACT)
    return {
        "accountId": ACCOUNT_ID,
        "contractId": BTC,
        "price": "59000",
        "size": "0.002",
        "type": "LIMIT",
        "side": "BUY",
        "timeInForce": "GOOD_TIL_CANCEL",
        "clientOrderId": client_order_id,
        "expireTime": str(amounts.expire_time_ms),
        "l2Nonce": str(amounts.nonce),
        "l2Signature": OrderSigner(Secret(TRADING_KEY)).sign(domain, amounts),
        "l2ExpireTime": str(amounts.l2_expire_time_ms),
        "l2Value": str(amounts.value),
        "l2Size": "0.002",
        "l2LimitFee": str(amounts.limit_fee),
        "reduceOnly": False,
    }


async def test_a_fee_below_the_rate_and_an_expired_order_are_refused() -> None:
    async with running() as (fake, _):
        base = await _valid_body(fake)
        cheap = {**base, "l2LimitFee": "0"}  # the fee is signed: changing it breaks the signature
        assert (await raw_private(fake, "POST", CREATE, cheap))["code"] == "INVALID_L2_SIGNATURE"
        assert (await raw_private(fake, "POST", CREATE, signed(fee_rate=D(0))))[
            "code"
        ] == "INVALID_L2_LIMIT_FEE"  # validly signed, but no fee allowed at all
        assert (await raw_private(fake, "POST", CREATE, signed(fee_rate=D("0.0001"))))[
            "code"
        ] == "SUCCESS"  # 0.0118 rounds up to a whole 1, what the venue needs
        fake.clock_offset_ms = 40 * 24 * 3600 * 1000  # the venue's clock is past expireTime
        fake.window_ms = 10**12
        assert (await raw_private(fake, "POST", CREATE, base))["code"] == "ORDER_EXPIRED"


async def test_an_order_signed_by_another_trading_key_is_refused_as_invalid() -> None:
    async with (
        running() as (fake, account),
        connected(fake, streams=False, trading_private_key="0x" + "2e" * 32) as client,
    ):
        with pytest.raises(InvalidOrder, match="INVALID_L2_SIGNATURE"):
            await client.place_limit_order("BTC", "buy", D("0.002"), D(59000), client_order_id="x1")
        assert account.orders == {}


async def test_a_wrong_api_secret_fails_connect_in_one_line_without_secrets() -> None:
    async with running() as (fake, _):
        client_settings_secret = "not-the-secret-xyz"
        with pytest.raises(AuthenticationFailed) as caught:
            async with connected(fake, api_secret=client_settings_secret):
                pass
        message = str(caught.value)
        assert "\n" not in message
        assert client_settings_secret not in message
        assert "edgex-contract-key" not in message
        assert "INVALID_SIGNATURE" in message


async def test_a_request_expired_by_clock_drift_resyncs_the_clock_and_goes_through() -> None:
    async with running() as (fake, _), connected(fake, streams=False) as client:
        fake.clock_offset_ms = 5 * 60_000  # the venue's clock runs 5 minutes ahead
        assert (await client.balance()).wallet == D(10_000)
        assert fake.rejections == ["REQUEST_EXPIRED"]


async def test_stop_market_is_refused_without_a_position_to_reduce_when_it_fires() -> None:
    async with running() as (fake, _), connected(fake) as client:
        stop = await client.place_order(
            OrderRequest(
                symbol="BTC",
                side="sell",
                size=D("0.002"),
                order_type=OrderType.STOP_MARKET,
                client_order_id="lonely-stop",
                reduce_only=True,
                trigger_price=D(59000),
            )
        )
        assert stop.status is OrderStatus.OPEN
        await fake.set_oracle_price(BTC, D(58000))
        final = await client.order_status("BTC", client_order_id="lonely-stop")
        assert (final.status, final.filled_size, final.reject_reason) == (
            OrderStatus.REJECTED,
            0,
            "REDUCE_ONLY_REJECTED",
        )


async def test_incomplete_credentials_are_refused_when_the_client_is_built() -> None:
    async with running() as (fake, _):
        without_phrase = settings(fake)
        del without_phrase.secrets["api_passphrase"]
        with pytest.raises(AuthenticationFailed, match="api_passphrase"):
            EdgexClient(without_phrase)
        without_key = settings(fake)
        del without_key.secrets["trading_private_key"]
        with pytest.raises(AuthenticationFailed, match="trading_private_key"):
            EdgexClient(without_key)
        without_account = settings(fake)
        without_account.public.clear()
        with pytest.raises(AuthenticationFailed, match="account_id"):
            EdgexClient(without_account)
        public_only = settings(fake)
        public_only.secrets.clear()
        client = EdgexClient(public_only)  # market data needs no account
        await client.connect()
        try:
            assert (await client.funding_rate("BTC")).symbol == "BTC"
            with pytest.raises(AuthenticationFailed, match="needs"):
                await client.balance()
        finally:
            await client.disconnect()
