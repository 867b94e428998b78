"""The fake refuses what Paradex refuses, with Paradex's error shape ``{"error", "message"}``:
raw requests, no client in between."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import aiohttp

from exchange_clients.paradex import signing
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.paradex.helpers import signer_for


async def post(fake: FakeParadex, path: str, headers: dict[str, str], body: Any = None) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{path}", headers=headers, json=body) as response,
    ):
        return response.status, await response.json()


def auth_headers(signer: signing.StarkSigner, stamp: int, expiry: int) -> dict[str, str]:
    return {
        "PARADEX-STARKNET-ACCOUNT": hex(signer.address),
        "PARADEX-STARKNET-SIGNATURE": signer.sign_auth(stamp, expiry),
        "PARADEX-TIMESTAMP": str(stamp),
        "PARADEX-SIGNATURE-EXPIRATION": str(expiry),
    }


async def jwt(fake: FakeParadex, signer: signing.StarkSigner) -> str:
    now = int(time.time())
    status, answer = await post(fake, "/v1/auth", auth_headers(signer, now, now + 60))
    assert status == 200
    return str(answer["jwt_token"])


async def test_auth_refusals_have_paradex_codes() -> None:
    async with FakeParadex() as fake:
        signer = signer_for(fake)
        now = int(time.time())
        status, answer = await post(fake, "/v1/auth", auth_headers(signer, now, now + 60))
        assert (status, answer["error"]) == (400, "NOT_ONBOARDED")
        fake.add_account(signer)
        stale = auth_headers(signer, now - 600, now + 60)
        assert (await post(fake, "/v1/auth", stale))[1]["error"] == "INVALID_TIMESTAMP"
        expired = auth_headers(signer, now, now - 1)
        assert (await post(fake, "/v1/auth", expired))[1]["error"] == "INVALID_TIMESTAMP"
        tampered = auth_headers(signer, now, now + 60)
        tampered["PARADEX-TIMESTAMP"] = str(now + 1)  # signed over another timestamp
        status, answer = await post(fake, "/v1/auth", tampered)
        assert (status, answer["error"]) == (400, "STARKNET_SIGNATURE_VERIFICATION_FAILED")
        assert set(answer) == {"error", "message"}
        malformed = {**auth_headers(signer, now, now + 60), "PARADEX-STARKNET-SIGNATURE": "[1,2"}
        assert (await post(fake, "/v1/auth", malformed))[1]["error"] == "INVALID_STARKNET_SIGNATURE"


async def test_onboarding_checks_the_address_and_its_key() -> None:
    async with FakeParadex() as fake:
        signer, other = signer_for(fake), signer_for(fake, "0x" + "77" * 32)
        headers = {
            "PARADEX-ETHEREUM-ACCOUNT": "0x" + "ab" * 20,
            "PARADEX-STARKNET-ACCOUNT": hex(signer.address),
            "PARADEX-STARKNET-SIGNATURE": other.sign_onboarding(),
        }
        body = {"public_key": hex(signer.public_key)}
        status, answer = await post(fake, "/v1/onboarding", headers, body)
        assert (status, answer["error"]) == (400, "STARKNET_SIGNATURE_VERIFICATION_FAILED")
        wrong_address = {**headers, "PARADEX-STARKNET-ACCOUNT": hex(other.address)}
        assert (await post(fake, "/v1/onboarding", wrong_address, body))[1]["error"] == (
            "INVALID_STARKNET_ADDRESS"
        )
        good = {**headers, "PARADEX-STARKNET-SIGNATURE": signer.sign_onboarding()}
        assert (await post(fake, "/v1/onboarding", good, body))[0] == 200
        assert signer.address in fake.accounts


def order_body(signer: signing.StarkSigner, **changes: Any) -> dict[str, Any]:
    stamp = int(time.time() * 1000)
    message = signing.OrderMessage(
        stamp, "BTC-USD-PERP", "buy", "LIMIT", Decimal("0.001"), Decimal("59000")
    )
    body = {
        "market": "BTC-USD-PERP",
        "side": "BUY",
        "type": "LIMIT",
        "size": "0.001",
        "price": "59000",
        "client_id": "raw-1",
        "instruction": "GTC",
        "signature": signer.sign_order(message),
        "signature_timestamp": stamp,
    }
    return {**body, **changes}


async def test_orders_need_a_valid_token_and_a_valid_stark_signature() -> None:
    async with FakeParadex() as fake:
        signer = signer_for(fake)
        fake.add_account(signer)
        token = await jwt(fake, signer)
        bearer = {"Authorization": f"Bearer {token}"}
        status, answer = await post(fake, "/v1/orders", bearer, order_body(signer, size="0.002"))
        assert (status, answer["error"]) == (400, "INVALID_ORDER_SIGNATURE")  # signed 0.001
        status, _ = await post(fake, "/v1/orders", {}, order_body(signer))
        assert status == 401
        forged = {"Authorization": f"Bearer {token[:-2]}xx"}
        status, answer = await post(fake, "/v1/orders", forged, order_body(signer))
        assert (status, answer["error"]) == (401, "INVALID_TOKEN")
        late = order_body(signer, recv_window=10, signature_timestamp=0)
        status, answer = await post(fake, "/v1/orders", bearer, late)
        assert (status, answer["error"]) == (400, "VALIDATION_ERROR")
        assert "recv_window" in answer["message"]
        status, answer = await post(fake, "/v1/orders", bearer, order_body(signer))
        assert (status, answer["status"]) == (201, "NEW")
        assert fake.order_signatures_verified == 1


async def test_an_expired_token_is_refused() -> None:
    async with FakeParadex() as fake:
        signer = signer_for(fake)
        fake.add_account(signer)
        fake.jwt_ttl = -1
        token = await jwt(fake, signer)
        status, answer = await post(
            fake, "/v1/orders", {"Authorization": f"Bearer {token}"}, order_body(signer)
        )
        assert (status, answer["error"]) == (401, "INVALID_TOKEN")
        assert "expired" in answer["message"]
