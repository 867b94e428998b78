"""The fake's own checks, so a client passing against it means something: signatures are
recovered (a tampered action or an unknown key is refused with the venue's error shape),
nonces are unique per signer and inside the venue's time window, trigger orders are checked
and shaped like the venue's, and userFees answers in the venue's shape."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import aiohttp

from exchange_clients.hyperliquid.signing import (
    order_action,
    order_wire,
    sign_l1_action,
    trigger_type,
)
from networking.json_codec import dumps, loads
from tests.exchange_clients.hyperliquid.helpers import (
    OWNER,
    OWNER_KEY,
    STRANGER,
    STRANGER_KEY,
    new_fake,
)

D = Decimal
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


async def info(url: str, body: dict[str, Any]) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/info", data=dumps(body)) as response,
    ):
        assert response.status == 200
        return loads(await response.text())


def stop_action(limit: Decimal, trigger: Decimal, *, is_buy: bool = False) -> dict[str, Any]:
    return order_action(
        [
            order_wire(
                0, is_buy, limit, Decimal("0.01"), reduce_only=True, trigger=trigger_type(trigger)
            )
        ]
    )


async def long_position(fake: Any) -> None:
    buy = order_action([order_wire(0, True, Decimal(61000), Decimal("0.01"), tif="Ioc")])
    answer = await post(fake.base_url, signed(OWNER_KEY, buy, int(time.time() * 1000)))
    assert "filled" in answer["response"]["data"]["statuses"][0]


async def test_a_stop_loss_with_its_limit_beyond_the_trigger_is_refused() -> None:
    async with new_fake() as fake:
        await long_position(fake)
        nonce = int(time.time() * 1000) + 1
        # A sell stop-loss must bound its market order at or below the trigger.
        wrong = await post(fake.base_url, signed(OWNER_KEY, stop_action(D(59000), D(58000)), nonce))
        right = await post(
            fake.base_url, signed(OWNER_KEY, stop_action(D(52200), D(58000)), nonce + 1)
        )
    assert wrong["response"]["data"]["statuses"] == [{"error": "Invalid TP/SL price."}]
    assert "resting" in right["response"]["data"]["statuses"][0]


async def test_trigger_orders_are_listed_with_their_trigger_and_streamed_without_it() -> None:
    async with new_fake() as fake, aiohttp.ClientSession() as session:
        await long_position(fake)
        async with session.ws_connect(fake.ws_url) as ws:
            subscription = {"type": "orderUpdates", "user": OWNER}
            await ws.send_str(dumps({"method": "subscribe", "subscription": subscription}))
            assert loads((await ws.receive()).data)["channel"] == "subscriptionResponse"
            nonce = int(time.time() * 1000) + 1
            await post(fake.base_url, signed(OWNER_KEY, stop_action(D(52200), D(58000)), nonce))
            update = loads((await ws.receive()).data)
        [listed] = await info(fake.base_url, {"type": "frontendOpenOrders", "user": OWNER})
    assert update["channel"] == "orderUpdates"
    [streamed] = update["data"]
    assert streamed["status"] == "open"
    assert set(streamed["order"]) == {
        "coin", "side", "limitPx", "sz", "oid", "timestamp", "origSz", "reduceOnly"
    }  # fmt: skip
    assert (listed["isTrigger"], listed["triggerPx"], listed["orderType"]) == (
        True,
        "58000",
        "Stop Market",
    )
    assert (listed["triggerCondition"], listed["tif"], listed["limitPx"]) == (
        "Price below 58000",
        None,
        "52200",
    )


async def test_user_fees_answer_the_accounts_tier_in_the_venues_shape() -> None:
    async with new_fake() as fake:
        fake.set_fee_tier(OWNER, maker=D("-0.00002"), taker=D("0.0003"))
        answer = await info(fake.base_url, {"type": "userFees", "user": OWNER})
    assert (answer["userAddRate"], answer["userCrossRate"]) == ("-0.00002", "0.0003")
    assert (answer["feeSchedule"]["add"], answer["feeSchedule"]["cross"]) == ("0.00015", "0.00045")
    assert {"dailyUserVlm", "activeReferralDiscount", "userSpotCrossRate"} <= set(answer)
