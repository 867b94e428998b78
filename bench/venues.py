"""Venue clients: what signing one order costs, and how fast each client ingests its book stream.

Signing: one post-only limit order with our client id, signed the way each venue needs it
(Hyperliquid: msgpack + keccak + EIP-712 secp256k1 signature; Binance/Aster HMAC: SHA-256 over
the query string; Aster v3: EIP-712 over the query string; ccxt's own Binance signer for
comparison). Medians of many rounds.

Book ingest: book messages recorded from each venue's fake server (tests/fakes), fed to the
real client (1) straight into its message handler after JSON parsing - the client's own cost
per message - and (2) end to end, sent by the fake over the WebSocket as fast as it can,
until the client's book shows the last one. Messages per second, medians.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
from eth_account import Account

from bench.harness import machine, median_seconds, report
from core.redaction import Secret
from exchange_clients.aster.signing import ApiWalletSigner
from exchange_clients.backpack.signing import Ed25519Signer, WireValue
from exchange_clients.binance_style.signing import HmacSigner
from exchange_clients.factory import create_client
from exchange_clients.hyperliquid.client import HyperliquidClient
from exchange_clients.hyperliquid.ids import to_cloid
from exchange_clients.hyperliquid.signing import L1Signer, order_action, order_wire
from exchange_clients.lighter.signing import LighterSigner
from exchange_clients.types import ClientSettings
from networking.json_codec import dumps, loads
from testing.fakes.backpack import FakeBackpack, keypair
from testing.fakes.binance import FakeBinance
from testing.fakes.hyperliquid import FakeHyperliquid

D = Decimal
KEY = "0x" + "5a" * 32
API_KEY, API_SECRET = "bench-api-key-0123456789", "bench-api-secret-0123456789"
ORDER_PARAMS = [
    ("symbol", "BTCUSDT"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTX"),
    ("quantity", "0.012"),
    ("price", "64123.5"),
    ("newClientOrderId", "gridbot-m3x9k2a1-7f"),
    ("newOrderRespType", "RESULT"),
]
BACKPACK_KEY, BACKPACK_SECRET = keypair(bytes(range(32)))
MESSAGES = 2000
LEVELS = 20


# --- signing ----------------------------------------------------------------------------------


def signing_costs() -> dict[str, float]:
    nonce = iter(range(1_700_000_000_000, 1_800_000_000_000))
    cloid = to_cloid("gridbot-m3x9k2a1-7f")

    signer = L1Signer(KEY)

    def hyperliquid() -> object:
        action = order_action(
            [order_wire(0, True, D("64123"), D("0.01234"), tif="Alo", cloid=cloid)]
        )
        return signer.sign(action, nonce=next(nonce), mainnet=True)

    hmac_signer = HmacSigner(Secret(API_KEY), Secret(API_SECRET))
    wallet = ApiWalletSigner(
        "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e",
        "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0",
        Secret(KEY),
    )
    backpack = Ed25519Signer(Secret(BACKPACK_KEY), Secret(BACKPACK_SECRET))
    backpack_order: dict[str, WireValue] = {
        "symbol": "BTC_USDC_PERP",
        "side": "Bid",
        "orderType": "Limit",
        "quantity": D("0.012"),
        "price": D("64123.5"),
        "postOnly": True,
        "clientId": 3_141_592_653,
    }
    lighter = LighterSigner(
        Secret("0x" + "3c" * 40), account_index=77, api_key_index=250, chain_id=300
    )
    lighter_nonces = iter(range(1, 10**9))
    expiry = int(time.time() * 1000) + 86_400_000

    def lighter_order() -> object:
        return lighter.sign_create_order_sync(
            market_index=1,
            client_order_index=123_456_789,
            base_amount=1234,
            price=6_412_350,
            is_ask=False,
            order_type=0,
            time_in_force=2,
            reduce_only=False,
            order_expiry=expiry,
            nonce=next(lighter_nonces),
        )

    exchange = ccxt_async.binanceusdm({"apiKey": API_KEY, "secret": API_SECRET})
    ccxt_params = dict(ORDER_PARAMS)
    costs = {
        "hyperliquid (EIP-712 L1 action)": median_seconds(hyperliquid, rounds=21, inner=20),
        "binance / aster (HMAC-SHA256)": median_seconds(
            lambda: hmac_signer.sign(ORDER_PARAMS, next(nonce)), rounds=21, inner=2000
        ),
        "aster v3 (EIP-712 API wallet)": median_seconds(
            lambda: wallet.sign(ORDER_PARAMS, next(nonce)), rounds=21, inner=20
        ),
        "backpack (ed25519 over the instruction string)": median_seconds(
            lambda: backpack.headers("orderExecute", backpack_order, next(nonce)),
            rounds=21,
            inner=500,
        ),
        "lighter (lighter-sdk's native signer, via ctypes)": median_seconds(
            lighter_order, rounds=11, inner=20
        ),
        "ccxt binanceusdm (its HMAC signer)": median_seconds(
            lambda: exchange.sign("order", "fapiPrivate", "POST", dict(ccxt_params)),
            rounds=21,
            inner=500,
        ),
    }
    asyncio.run(exchange.close())
    return costs


# --- book ingest ------------------------------------------------------------------------------


def walk_books(seed: int, mid: Decimal, tick: Decimal) -> Iterator[tuple[list[Any], list[Any]]]:
    """Books of LEVELS levels a side whose sizes (and now and then the touch) move each step."""
    rng = random.Random(seed)  # noqa: S311 - book noise, not cryptography
    while True:
        if rng.random() < 0.1:
            mid += tick * rng.choice((-1, 1))
        bids = [(mid - tick * (i + 1), D(rng.randint(1, 400)) / 100) for i in range(LEVELS)]
        asks = [(mid + tick * (i + 1), D(rng.randint(1, 400)) / 100) for i in range(LEVELS)]
        yield bids, asks


@asynccontextmanager
async def recorder(url: str, subscribe: dict[str, Any]) -> Any:
    """A raw WebSocket subscriber collecting every text the fake sends."""
    texts: list[str] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(dumps(subscribe))

        async def read() -> None:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    texts.append(message.data)

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.1)
        texts.clear()  # subscription acks and initial snapshots
        try:
            yield texts
        finally:
            await asyncio.sleep(0.2)
            reader.cancel()


def rate(samples: list[float]) -> float:
    return MESSAGES / statistics.median(samples)


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    async def wait() -> None:
        while not await condition():  # noqa: ASYNC110 - the client's stream task moves it
            await asyncio.sleep(0)

    await asyncio.wait_for(wait(), 60)


async def hyperliquid_ingest() -> tuple[float, float]:
    async with FakeHyperliquid(accounts={Account.from_key(KEY).address: D(100_000)}) as fake:
        books = walk_books(7, D(64_000), D(1))
        async with recorder(
            fake.ws_url, {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}}
        ) as texts:
            for _ in range(MESSAGES):
                bids, asks = next(books)
                await fake.set_book("BTC", bids, asks)
        texts = [t for t in texts if '"l2Book"' in t][:MESSAGES]
        client = create_client(
            ClientSettings(
                venue="hyperliquid",
                secrets={"private_key": Secret(KEY)},
                options={"base_url": fake.base_url, "ws_url": fake.ws_url},
            )
        )
        assert isinstance(client, HyperliquidClient)
        await client.connect()
        try:
            await client.order_book("BTC", depth=1)  # subscribes
            handler_samples = []
            for _ in range(7):
                started = time.perf_counter()
                for text in texts:
                    client._on_message(loads(text))
                handler_samples.append(time.perf_counter() - started)
            last = loads(texts[-1])["data"]["levels"][0][0]
            last_bid = (D(last["px"]), D(last["sz"]))
            end_to_end = []
            for _ in range(3):
                await fake.set_book("BTC", [(D(1), D(1))], [(D(2), D(1))])

                async def moved() -> bool:
                    return (await client.order_book("BTC", depth=1)).bids[0][0] == 1

                await until(moved)
                started = time.perf_counter()
                for connection in list(fake._connections):
                    for text in texts:
                        await connection.ws.send_str(text)

                async def arrived() -> bool:
                    return (await client.order_book("BTC", depth=1)).bids[0] == last_bid

                await until(arrived)
                end_to_end.append(time.perf_counter() - started)
        finally:
            await client.disconnect()
    return rate(handler_samples), rate(end_to_end)


@dataclass(frozen=True)
class DeltaVenue:
    """A venue whose book stream is deltas after a REST snapshot (Binance, Backpack)."""

    name: str
    settings: Callable[[Any], ClientSettings]
    contract: str
    record_path: str
    subscribe: dict[str, Any]
    marker: str
    stream_of: Callable[[Any], Any]
    tick: Decimal


async def delta_ingest(venue: DeltaVenue, fake: Any) -> tuple[float, float]:
    """Record MESSAGES depth deltas from ``fake``, then time the client applying them: in its
    handler (after JSON parsing), and end to end over the WebSocket."""
    books = walk_books(7, D("64000.0"), venue.tick)

    def as_text(levels: list[Any]) -> list[tuple[str, str]]:
        return [(str(price), str(size)) for price, size in levels]

    bids, asks = next(books)
    await fake.set_book(venue.contract, as_text(bids), as_text(asks))
    start_bids, start_asks = fake.book(venue.contract)
    snapshot = (as_text(start_bids), as_text(start_asks))
    start_id = fake.update_ids[venue.contract]
    async with recorder(fake.ws_url + venue.record_path, venue.subscribe) as texts:
        for _ in range(MESSAGES):
            bids, asks = next(books)
            await fake.set_book(venue.contract, as_text(bids), as_text(asks))
    texts = [t for t in texts if venue.marker in t][:MESSAGES]
    client = create_client(venue.settings(fake))
    await client.connect()
    try:
        await client.order_book("BTC", depth=1)  # subscribes + snapshot
        stream = venue.stream_of(client)
        book = await stream.book(venue.contract)
        last = book.sequence
        assert last is not None

        def reset() -> None:
            book.apply_wire_snapshot(snapshot[0], snapshot[1], start_id)

        handler_samples = []
        for _ in range(7):
            reset()
            started = time.perf_counter()
            for text in texts:
                stream._on_message(loads(text))
            handler_samples.append(time.perf_counter() - started)
            assert book.sequence == last
        end_to_end = []
        for _ in range(3):
            reset()
            started = time.perf_counter()
            for connection in list(fake._connections):
                for text in texts:
                    await connection.ws.send_str(text)

            async def arrived() -> bool:
                return bool(book.sequence == last)

            await until(arrived)
            end_to_end.append(time.perf_counter() - started)
    finally:
        await client.disconnect()
    return rate(handler_samples), rate(end_to_end)


def _binance_settings(fake: Any) -> ClientSettings:
    return ClientSettings(
        venue="binance",
        secrets={"api_key": Secret(API_KEY), "api_secret": Secret(API_SECRET)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url},
    )


def _backpack_settings(fake: Any) -> ClientSettings:
    return ClientSettings(
        venue="backpack",
        secrets={"api_key": Secret(BACKPACK_KEY), "api_secret": Secret(BACKPACK_SECRET)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url},
    )


BINANCE = DeltaVenue(
    "binance",
    _binance_settings,
    "BTCUSDT",
    "/ws",
    {"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1},
    "depthUpdate",
    lambda client: client.depth_stream,
    D("0.1"),
)
BACKPACK = DeltaVenue(
    "backpack",
    _backpack_settings,
    "BTC_USDC_PERP",
    "",
    {"method": "SUBSCRIBE", "params": ["depth.BTC_USDC_PERP"]},
    '"depth.BTC_USDC_PERP"',
    lambda client: client._stream,
    D("0.1"),
)


async def binance_ingest() -> tuple[float, float]:
    async with FakeBinance() as fake:
        fake.add_account(api_key=API_KEY, api_secret=API_SECRET)
        return await delta_ingest(BINANCE, fake)


async def backpack_ingest() -> tuple[float, float]:
    async with FakeBackpack() as fake:
        fake.add_account(BACKPACK_KEY)
        return await delta_ingest(BACKPACK, fake)


def main() -> None:
    sys.stdout.write(f"\nVenue clients ({machine()})\n")
    sys.stdout.write("  signing one post-only limit order (median):\n")
    for venue, seconds in signing_costs().items():
        report(f"  {venue}", seconds)
    sys.stdout.write(
        f"  book ingest, {MESSAGES} messages recorded from each fake "
        f"({LEVELS} levels a side), messages/s (median):\n"
    )
    for venue, measure in (
        ("hyperliquid l2Book (whole books)", hyperliquid_ingest),
        ("binance depthUpdate (deltas, pu-chained)", binance_ingest),
        ("backpack depth (deltas, U = previous u + 1)", backpack_ingest),
    ):
        handler, end_to_end = asyncio.run(measure())
        sys.stdout.write(
            f"    {venue:<44} {handler:10,.0f} /s in the client, "
            f"{end_to_end:10,.0f} /s end to end over the WebSocket\n"
        )


if __name__ == "__main__":
    main()
