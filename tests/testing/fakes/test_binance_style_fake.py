"""The Binance-style fake speaks the documented protocol: it accepts Binance's published
signature example, answers with the documented error shapes, and serves raw and combined
streams with chained depth sequence numbers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from core.redaction import Secret
from exchange_clients.binance_style.signing import HmacSigner
from networking.json_codec import loads
from testing.fakes.binance import FakeBinance
from testing.fakes.binance_style import now_ms

DOC_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
DOC_BODY = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
    "&recvWindow=5000&timestamp=1591702613943"
    "&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as venue:
        venue.add_account(api_key=DOC_KEY, api_secret=DOC_SECRET)
        yield venue


async def call(
    fake: FakeBinance, method: str, path: str, *, body: str = "", key: str = DOC_KEY
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, fake.base_url + path, data=body, headers={"X-MBX-APIKEY": key, **FORM}
        ) as response,
    ):
        return response.status, loads(await response.text())


async def test_the_published_signed_order_example_is_accepted(fake: FakeBinance) -> None:
    fake.clock_offset_ms = 1591702613943 + 100 - now_ms()  # the example's moment
    status, order = await call(fake, "POST", "/fapi/v1/order", body=DOC_BODY)
    assert status == 200
    assert (order["symbol"], order["side"], order["origQty"], order["price"]) == (
        "BTCUSDT",
        "BUY",
        "1",
        "9000",
    )
    assert order["status"] == "NEW"


async def test_error_shapes(fake: FakeBinance) -> None:
    fake.clock_offset_ms = 1591702613943 + 100 - now_ms()
    tampered = DOC_BODY.replace("price=9000", "price=9001")
    assert await call(fake, "POST", "/fapi/v1/order", body=tampered) == (
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
    )
    assert await call(fake, "POST", "/fapi/v1/order", body=DOC_BODY, key="nope") == (
        401,
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
    )
    fake.clock_offset_ms = 0  # the example is now six years old
    assert await call(fake, "POST", "/fapi/v1/order", body=DOC_BODY) == (
        400,
        {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."},
    )
    assert await call(fake, "POST", "/fapi/v1/listenKey", key="nope") == (
        401,
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
    )


async def receive(ws: aiohttp.ClientWebSocketResponse) -> Any:
    message = await asyncio.wait_for(ws.receive(), 10)
    return loads(message.data)


async def test_raw_combined_and_live_subscribed_depth_streams(fake: FakeBinance) -> None:
    stream = "btcusdt@depth@100ms"
    async with aiohttp.ClientSession() as session:
        raw = await session.ws_connect(f"{fake.ws_url}/ws/{stream}")
        combined = await session.ws_connect(f"{fake.ws_url}/stream?streams={stream}")
        live = await session.ws_connect(f"{fake.ws_url}/ws")
        await live.send_json({"method": "SUBSCRIBE", "params": [stream], "id": 7})
        assert await receive(live) == {"result": None, "id": 7}
        await live.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 8})
        assert await receive(live) == {"result": [stream], "id": 8}

        await fake.set_book("BTCUSDT", [("64000.00", "1")], [("64001.00", "1")])
        await fake.set_book("BTCUSDT", [("64000.00", "2")], [("64001.00", "1")])
        first, second = await receive(raw), await receive(raw)
        wrapped = await receive(combined)
        assert wrapped["stream"] == stream
        assert wrapped["data"] == first
        assert await receive(live) == first
        assert first["e"] == "depthUpdate"
        assert first["U"] <= first["u"]
        assert second["pu"] == first["u"]
        assert second["b"] == [["64000.00", "2"]]

        fake.sequence_gap("BTCUSDT")
        await fake.set_book("BTCUSDT", [("64000.00", "3")], [("64001.00", "1")])
        third = await receive(raw)
        assert third["pu"] != second["u"]
        for ws in (raw, combined, live):
            await ws.close()


async def test_account_endpoints_agree_with_balance(fake: FakeBinance) -> None:
    signer = HmacSigner(Secret(DOC_KEY), Secret(DOC_SECRET))
    query, headers = signer.sign([], now_ms())
    async with aiohttp.ClientSession() as session:
        answers = []
        for path in ("/fapi/v2/account", "/fapi/v2/balance", "/fapi/v3/positionRisk"):
            async with session.get(f"{fake.base_url}{path}?{query}", headers=headers) as reply:
                assert reply.status == 200
                answers.append(loads(await reply.text()))
    account, balance, positions = answers
    assert account["totalWalletBalance"] == balance[0]["balance"] == "10000"
    assert account["availableBalance"] == balance[0]["availableBalance"]
    assert positions == account["positions"] == []
