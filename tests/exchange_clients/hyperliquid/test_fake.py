"""The fake's own checks, so a client passing against it means something: signatures are
recovered (a tampered action or an unknown key is refused with the venue's error shape) and
nonces are unique per signer and inside the venue's time window."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import aiohttp

from exchange_clients.hyperliquid.signing import (
    order_action,
    order_wire,
    sign_l1_action,
)
from networking.json_codec import dumps, loads
from tests.exchange_clients.hyperliquid.helpers import (
    OWNER,
    OWNER_KEY,
    STRANGER,
    STRANGER_KEY,
    new_fake,
)

ACTION = order_action([order_wire(0, True, Decimal(50000), Decimal("0.001"), cloid=None)])


async def post(url: str, body: dict[str, Any]) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/exchange", data=dumps(body)) as response,
    ):
        assert response.status == 200
        return loads(await response.text())


def signed(key: str, action: dict[str, Any], nonce: int) -> dict[str, Any]:
    signature = sign_l1_action(key, action, nonce=nonce, mainnet=True)
    return {"action": action, "nonce": nonce, "signature": signature}


async def test_a_correctly_signed_order_is_accepted() -> None:
    async with new_fake() as fake:
        answer = await post(fake.base_url, signed(OWNER_KEY, ACTION, int(time.time() * 1000)))
    assert answer["status"] == "ok"
    assert "resting" in answer["response"]["data"]["statuses"][0]
    assert fake.user(OWNER).orders


async def test_a_tampered_action_is_refused_as_an_unknown_signer() -> None:
    async with new_fake() as fake:
        body = signed(OWNER_KEY, ACTION, int(time.time() * 1000))
        tampered = order_action([order_wire(0, True, Decimal(50000), Decimal("0.002"))])
        body["action"] = tampered  # bigger size under the owner's signature
        answer = await post(fake.base_url, body)
    assert answer["status"] == "err"
    assert answer["response"].startswith("User or API Wallet 0x")
    assert answer["response"].endswith(" does not exist.")
    assert OWNER not in answer["response"]  # some other (recovered) address
    assert not fake.user(OWNER).orders


async def test_an_unknown_key_is_refused_naming_the_recovered_address() -> None:
    async with new_fake() as fake:
        answer = await post(fake.base_url, signed(STRANGER_KEY, ACTION, int(time.time() * 1000)))
    assert answer == {
        "status": "err",
        "response": f"User or API Wallet {STRANGER} does not exist.",
    }


async def test_testnet_signatures_do_not_verify_on_mainnet() -> None:
    async with new_fake() as fake:
        nonce = int(time.time() * 1000)
        signature = sign_l1_action(OWNER_KEY, ACTION, nonce=nonce, mainnet=False)
        body = {"action": ACTION, "nonce": nonce, "signature": signature}
        answer = await post(fake.base_url, body)
    assert answer["status"] == "err"
    assert "does not exist" in answer["response"]


async def test_nonces_are_unique_per_signer_and_inside_the_window() -> None:
    async with new_fake() as fake:
        nonce = int(time.time() * 1000)
        assert (await post(fake.base_url, signed(OWNER_KEY, ACTION, nonce)))["status"] == "ok"
        again = await post(fake.base_url, signed(OWNER_KEY, ACTION, nonce))
        stale = await post(fake.base_url, signed(OWNER_KEY, ACTION, nonce - 3 * 86_400_000))
        future = await post(fake.base_url, signed(OWNER_KEY, ACTION, nonce + 2 * 86_400_000))
    assert again["status"] == "err"
    assert "duplicate nonce" in again["response"]
    assert stale["status"] == "err"
    assert "nonce" in stale["response"].lower()
    assert future["status"] == "err"
    assert "nonce" in future["response"].lower()
    assert len(fake.user(OWNER).orders) == 1
