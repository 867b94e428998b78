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
from testing.fakes.edgex import FakeEdgex
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
EDGEX_API_PHRASE = "bench-passphrase-0123456789"
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

    edgex_order = edgex_signer()
    paradex_order, paradex_hash = paradex_signers()
    grvt_order, grvt_reference = grvt_signers()
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
        "edgex (EIP-712 order + HMAC headers over the body)": median_seconds(
            edgex_order, rounds=21, inner=100
        ),
        "grvt (EIP-712 order, precomputed type hashes + libsecp256k1)": median_seconds(
            grvt_order, rounds=21, inner=100
        ),
        "grvt, same order through eth-account's typed-data encoder": median_seconds(
            grvt_reference, rounds=21, inner=20
        ),
        "paradex (Stark typed-data Order: Pedersen hash + SDK-exact ECDSA)": median_seconds(
            paradex_order, rounds=21, inner=100
        ),
        "paradex, the Pedersen message hash alone": median_seconds(
            paradex_hash, rounds=21, inner=100
        ),
        "ccxt binanceusdm (its HMAC signer)": median_seconds(
            lambda: exchange.sign("order", "fapiPrivate", "POST", dict(ccxt_params)),
            rounds=21,
            inner=500,
        ),
    }
    asyncio.run(exchange.close())
    return costs


def edgex_signer() -> Callable[[], object]:
    """What EdgeX's client does per order: the signed integers, the EIP-712 signature (trading
    key) and the four HMAC headers over the JSON body (API secret)."""
    from exchange_clients.edgex.signing import (
        HmacSigner as EdgexHmac,
    )
    from exchange_clients.edgex.signing import (
        OrderDomain,
        OrderSigner,
        order_amounts,
        wire_text,
    )

    domain = OrderDomain(0x82A7, "0x1ae109ea449cfe0bed08bfe8911e968a49a919b1")
    order_key = OrderSigner(Secret(KEY))
    headers = EdgexHmac(Secret(API_KEY), Secret(API_SECRET), Secret(EDGEX_API_PHRASE))
    ids = iter(range(10**12))

    def sign() -> object:
        client_id = f"gridbot-m3x9k2a1-{next(ids)}"
        amounts = order_amounts(
            client_order_id=client_id,
            account_id=543429922991899150,
            size=D("0.012"),
            price=D("64123.5"),
            is_buy=True,
            fee_rate=D("0.00038"),
            synthetic_resolution=D(10**10),
            collateral_resolution=D(10**6),
            synthetic_asset=10000001,
            collateral_asset=1000,
            expire_time_ms=1_765_000_000_000,
        )
        body = {
            "accountId": "543429922991899150",
            "clientOrderId": client_id,
            "l2Signature": order_key.sign(domain, amounts),
            "l2Value": str(amounts.value),
            "price": "64123.5",
            "size": "0.012",
        }
        return headers.headers("POST", "/api/v2/private/order/createOrder", wire_text(body), 1)

    return sign


def grvt_signers() -> tuple[Callable[[], object], Callable[[], object]]:
    """What GRVT's client does per order (the leg scaled to the instrument's decimals, the
    ``Order`` struct hashed and signed, the JSON body), and the same signature through
    eth-account's full EIP-712 encoder for comparison."""
    from eth_account.messages import encode_typed_data

    from exchange_clients.grvt.signing import (
        ORDER_TYPES,
        GrvtSigner,
        OrderToSign,
        TimeInForceCode,
        domain,
        order_leg,
    )

    signer = GrvtSigner(KEY, "prod")
    account = Account.from_key(KEY)
    nonces = iter(range(1, 2**32))

    def order() -> OrderToSign:
        return OrderToSign(
            sub_account_id=2025120300001,
            is_market=False,
            time_in_force=TimeInForceCode.GOOD_TILL_TIME,
            post_only=True,
            reduce_only=False,
            legs=(order_leg("0x030501", 9, D("0.012"), D("64123.5"), is_buying=True),),
            nonce=next(nonces),
            expiration_ns=1_767_225_600_000_000_000,
        )

    def sign() -> object:
        return dumps({"order": {"signature": signer.sign(order()).wire()}})

    def reference() -> object:
        message = encode_typed_data(domain("prod"), ORDER_TYPES, order().message())
        return account.sign_message(message)

    return sign, reference


def paradex_signers() -> tuple[Callable[[], object], Callable[[], object]]:
    """What Paradex's client does per order (the ``Order`` typed data hashed with Pedersen on
    fast-stark-crypto, signed with the SDK's RFC 6979 nonce on fastecdsa's compiled curve, the
    JSON body), and the hash alone."""
    from exchange_clients.paradex.signing import (
        TESTNET_STARKNET_CHAIN,
        OrderMessage,
        StarkSigner,
    )

    signer = StarkSigner(
        0x15AA66C3C7959AC3AB7FCA87C88742BB33A17FF151579A24D43E372EBD89A9D,
        0x495B1654D9CEA9BE1849D91A2985EDA5799308082C1507D6AB49E163C7416A7,
        TESTNET_STARKNET_CHAIN,
    )
    stamps = iter(range(1_765_000_000_000, 1_865_000_000_000))

    def order() -> OrderMessage:
        return OrderMessage(next(stamps), "BTC-USD-PERP", "buy", "LIMIT", D("0.012"), D("64123.5"))

    def sign() -> object:
        message = order()
        return dumps({"signature": signer.sign_order(message), "size": "0.012"})

    signer.sign_order(order())  # the comb table is built once per process (~15 ms)
    return sign, lambda: signer.order_hash(order())


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


async def edgex_ingest() -> tuple[float, float]:
    """EdgeX ``depth.<contract>.15`` changes recorded from its fake, applied by the client's
    public stream (``startVersion`` = previous ``endVersion`` + 1)."""
    contract, channel = "10000001", "depth.10000001.15"
    account = "543429922991899150"
    async with FakeEdgex() as fake:
        fake.add_account(
            account,
            api_key=API_KEY,
            api_secret=API_SECRET,
            passphrase=EDGEX_API_PHRASE,
            trading_private_key=KEY,
        )
        books = walk_books(7, D("64000.0"), D("0.1"))

        def as_text(levels: list[Any]) -> list[tuple[str, str]]:
            return [(str(price), str(size)) for price, size in levels]

        await fake.set_book(contract, *(as_text(side) for side in next(books)))
        start_bids, start_asks = fake.book(contract)
        start_version = fake.versions[contract]
        async with recorder(
            f"{fake.ws_url}/api/v1/public/ws?timestamp={int(time.time() * 1000)}",
            {"type": "subscribe", "channel": channel},
        ) as texts:
            for _ in range(MESSAGES):
                await fake.set_book(contract, *(as_text(side) for side in next(books)))
        texts = [t for t in texts if "CHANGED" in t][:MESSAGES]
        client = create_client(
            ClientSettings(
                venue="edgex",
                public={"account_id": account},
                secrets={
                    "api_key": Secret(API_KEY),
                    "api_secret": Secret(API_SECRET),
                    "api_passphrase": Secret(EDGEX_API_PHRASE),
                    "trading_private_key": Secret(KEY),
                },
                options={"base_url": fake.base_url, "ws_url": fake.ws_url},
            )
        )
        await client.connect()
        try:
            await client.order_book("BTC", depth=1)
            stream = client.public_stream  # type: ignore[attr-defined]

            async def live() -> bool:
                return contract in stream._live

            await until(live)
            book = stream.books[contract]
            last = fake.versions[contract]

            def reset() -> None:
                book.apply_wire_snapshot(as_text(start_bids), as_text(start_asks), start_version)

            handler_samples = []
            for _ in range(7):
                reset()
                started = time.perf_counter()
                for text in texts:
                    await stream._receive(loads(text))
                handler_samples.append(time.perf_counter() - started)
                assert book.sequence == last
            end_to_end = []
            for _ in range(3):
                reset()
                started = time.perf_counter()
                for connection in [c for c in fake._connections if channel in c.channels]:
                    for text in texts:
                        await connection.ws.send_str(text)

                async def arrived() -> bool:
                    return bool(book.sequence == last)

                await until(arrived)
                end_to_end.append(time.perf_counter() - started)
        finally:
            await client.disconnect()
    return rate(handler_samples), rate(end_to_end)


async def grvt_ingest() -> tuple[float, float]:
    """GRVT ``v1.book.s`` snapshots (the top 50 levels each time) recorded from its fake, read
    by the client's market-data stream into its book."""
    from testing.fakes.grvt import FakeGrvt

    instrument, selector = "BTC_USDT_Perp", "BTC_USDT_Perp@500-50"
    async with FakeGrvt() as fake:
        fake.add_api_key(API_KEY, KEY, ["2025120300001"])
        books = walk_books(7, D("64000.0"), D("0.1"))
        subscribe = {
            "jsonrpc": "2.0",
            "method": "subscribe",
            "params": {"stream": "v1.book.s", "selectors": [selector]},
            "id": 1,
        }
        async with recorder(fake.ws_url, subscribe) as texts:
            for _ in range(MESSAGES):
                await fake.set_book(instrument, *next(books))
        texts = [t for t in texts if '"feed"' in t][:MESSAGES]
        last = loads(texts[-1])["feed"]["bids"][0]
        last_bid = (D(last["price"]), D(last["size"]))
        client = create_client(
            ClientSettings(
                venue="grvt",
                testnet=True,
                public={"sub_account_id": "2025120300001"},
                secrets={"api_key": Secret(API_KEY), "private_key": Secret(KEY)},
                options={"base_url": fake.base_url, "ws_url": fake.ws_url},
            )
        )
        await client.connect()
        try:
            await client.order_book("BTC", depth=1)  # subscribes
            stream = client.market_stream  # type: ignore[attr-defined]
            books_of = client._books  # type: ignore[attr-defined]

            async def live() -> bool:
                return instrument in books_of

            await until(live)
            handler_samples = []
            for _ in range(7):
                stream._sequence.clear()
                started = time.perf_counter()
                for text in texts:
                    stream._receive(loads(text))
                handler_samples.append(time.perf_counter() - started)
                assert books_of[instrument].bids[0] == last_bid
            end_to_end = []
            for _ in range(3):
                stream._sequence.clear()  # the live connection numbers its messages anew
                await fake.set_book(instrument, [(D(1), D(1))], [(D(2), D(1))])

                async def moved() -> bool:
                    return bool(books_of[instrument].bids[0][0] == 1)

                await until(moved)
                stream._sequence.clear()
                started = time.perf_counter()
                for connection in list(fake._connections):
                    if ("v1.book.s", selector) in connection.subscriptions:
                        for text in texts:
                            await connection.ws.send_str(text)

                async def arrived() -> bool:
                    return bool(books_of[instrument].bids[0] == last_bid)

                await until(arrived)
                end_to_end.append(time.perf_counter() - started)
        finally:
            await client.disconnect()
    return rate(handler_samples), rate(end_to_end)


async def paradex_ingest() -> tuple[float, float]:
    """Paradex ``order_book.<market>.deltas`` notifications (JSON-RPC, ``seq_no`` + 1 each)
    recorded from its fake, applied by the client's stream handler."""
    from testing.fakes.paradex import FakeParadex

    market, channel = "BTC-USD-PERP", "order_book.BTC-USD-PERP.deltas"
    async with FakeParadex() as fake:
        books = walk_books(7, D("64000.0"), D("0.1"))

        def as_text(levels: list[Any]) -> list[tuple[str, str]]:
            return [(str(price), str(size)) for price, size in levels]

        await fake.set_book(market, *(as_text(side) for side in next(books)))
        start_bids = as_text(sorted(fake.books[market][0].items(), reverse=True))
        start_asks = as_text(sorted(fake.books[market][1].items()))
        start_seq = fake.book_seq[market]
        subscribe = {"jsonrpc": "2.0", "method": "subscribe", "params": {"channel": channel}}
        async with recorder(fake.ws_url, {**subscribe, "id": 1}) as texts:
            for _ in range(MESSAGES):
                await fake.set_book(market, *(as_text(side) for side in next(books)))
        texts = [t for t in texts if '"update_type":"d"' in t.replace(" ", "")][:MESSAGES]
        client = create_client(
            ClientSettings(
                venue="paradex", options={"base_url": fake.base_url, "ws_url": fake.ws_url}
            )
        )
        await client.connect()
        try:
            await client.order_book("BTC", depth=1)  # subscribes; the snapshot follows

            async def live() -> bool:
                return client._live_book(market) is not None  # type: ignore[attr-defined]

            await until(live)
            book = client._books[market]  # type: ignore[attr-defined]
            last = fake.book_seq[market]
            handle = client._on_notification  # type: ignore[attr-defined]

            def reset() -> None:
                book.apply_wire_snapshot(start_bids, start_asks, start_seq)

            handler_samples = []
            for _ in range(7):
                reset()
                started = time.perf_counter()
                for text in texts:
                    params = loads(text)["params"]
                    await handle(params["channel"], params["data"])
                handler_samples.append(time.perf_counter() - started)
                assert book.sequence == last
            end_to_end = []
            for _ in range(3):
                reset()
                started = time.perf_counter()
                for connection in [c for c in fake._connections if channel in c.channels]:
                    for text in texts:
                        await connection.ws.send_str(text)

                async def arrived() -> bool:
                    return bool(book.sequence == last)

                await until(arrived)
                end_to_end.append(time.perf_counter() - started)
        finally:
            await client.disconnect()
    return rate(handler_samples), rate(end_to_end)


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
        ("edgex depth (changes, versions chained)", edgex_ingest),
        ("grvt v1.book.s (50-level snapshots)", grvt_ingest),
        ("paradex order_book deltas (seq_no + 1)", paradex_ingest),
    ):
        handler, end_to_end = asyncio.run(measure())
        sys.stdout.write(
            f"    {venue:<44} {handler:10,.0f} /s in the client, "
            f"{end_to_end:10,.0f} /s end to end over the WebSocket\n"
        )


if __name__ == "__main__":
    main()
