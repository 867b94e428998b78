"""The generic ccxt client through ccxt's real ``binanceusdm`` class against the fake Binance.

Beyond the shared contract suite (run for ``ccxt_binanceusdm`` in tests/exchange_clients/
contract): market mapping, credentials refused cleanly, an order whose answer is lost,
reused client ids, fills missed while the stream was down.
"""

from __future__ import annotations

import asyncio
import decimal
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from core.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    RequestTimeout,
)
from core.redaction import Secret
from exchange_clients.ccxt_venue.client import CcxtExchangeClient
from exchange_clients.ccxt_venue.mapping import base_and_multiplier, to_decimal
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings, Fill, OrderStatus
from networking.backoff import Backoff
from testing.fakes.binance import FakeBinance
from tests.exchange_clients.contract.ccxt_harness import API_KEY, API_SECRET, ccxt_settings

D = Decimal
GUARD = 15.0  # guards against a hang; not a speed assertion


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as venue:
        venue.add_account(api_key=API_KEY, api_secret=API_SECRET)
        yield venue


@pytest.fixture
async def client(fake: FakeBinance) -> AsyncIterator[CcxtExchangeClient]:
    connected = create_client(ccxt_settings(fake))
    assert isinstance(connected, CcxtExchangeClient)
    await connected.connect()
    try:
        yield connected
    finally:
        await connected.disconnect()


async def eventually(condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110 - a condition other tasks make true
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), GUARD)


def test_numbers_are_exact_whatever_type_ccxt_hands_back() -> None:
    assert to_decimal("64123.50") == D("64123.50")
    assert to_decimal(0.1) == D("0.1")  # the float's shortest repr, not 0.1000000000000000055
    assert to_decimal(5) == D(5)
    assert to_decimal(None) is None
    assert base_and_multiplier("1000PEPE") == ("PEPE", D(1000))
    assert base_and_multiplier("1MBABYDOGE") == ("BABYDOGE", D(1_000_000))
    assert base_and_multiplier("BTC") == ("BTC", D(1))
    with pytest.raises(TypeError):
        to_decimal(True)


async def test_markets_are_usdt_perpetuals_in_internal_units(client: CcxtExchangeClient) -> None:
    markets = await client.markets()
    assert sorted(markets) == ["BTC", "ETH", "PEPE"]  # no quarterly, no USDC duplicate
    btc = markets["BTC"]
    assert (btc.contract_id, btc.tick_size, btc.step_size, btc.quote) == (
        "BTCUSDT",
        D("0.10"),
        D("0.001"),
        "USDT",
    )
    pepe = markets["PEPE"]
    assert (pepe.contract_id, pepe.quantity_multiplier) == ("1000PEPEUSDT", D(1000))
    assert pepe.step_size == D(1000)  # one 1000PEPE contract
    book = await client.order_book("PEPE", depth=1)
    ask = book.best_ask
    assert ask is not None
    assert ask < D("0.001")  # per PEPE, not per thousand


async def test_a_wrong_secret_is_an_authentication_error_that_never_shows_the_secret(
    fake: FakeBinance, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "ccxt-WRONG-secret-987654321"
    client = create_client(
        ClientSettings(
            venue="ccxt_binanceusdm",
            secrets={"api_key": Secret(API_KEY), "api_secret": Secret(wrong)},
            options={"base_url": fake.base_url, "ws_url": fake.ws_url},
        )
    )
    caplog.set_level(logging.DEBUG)
    await client.connect()  # markets are public
    try:
        with pytest.raises(AuthenticationFailed) as caught:
            await client.balance()
    finally:
        await client.disconnect()
    message = str(caught.value)
    assert message.startswith("ccxt_binanceusdm: credentials refused")
    assert "Signature for this request is not valid" in message
    assert "signature=" not in message  # no query strings in our messages
    out = capsys.readouterr()
    for text in (message, caplog.text, out.out, out.err):
        assert wrong not in text
        assert API_SECRET not in text


async def test_a_reused_client_id_is_refused_before_anything_is_sent(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    await client.place_limit_order("BTC", "buy", D("0.01"), D(50_000), client_order_id="ccxt-dup")
    orders_before = len(fake.accounts[0].orders)
    with pytest.raises(DuplicateClientOrderId):
        await client.place_limit_order(
            "BTC", "buy", D("0.01"), D(49_000), client_order_id="ccxt-dup"
        )
    assert len(fake.accounts[0].orders) == orders_before


async def test_an_order_whose_answer_is_lost_is_never_resent_and_resolves_by_client_id(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    fake.fail_next(1, 503, after_processing=True, path="/fapi/v1/order")
    with pytest.raises(RequestTimeout, match="outcome unknown"):
        await client.place_limit_order(
            "BTC", "buy", D("0.01"), D(50_000), client_order_id="ccxt-lost"
        )
    assert [o.client_id for o in fake.accounts[0].orders.values()] == ["ccxt-lost"]
    found = await client.order_status("BTC", client_order_id="ccxt-lost")
    assert (found.status, found.size, found.price) == (OrderStatus.OPEN, D("0.01"), D(50_000))


async def test_fills_missed_while_the_stream_was_down_arrive_exactly_once(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    fills = client.fills()
    await client.place_limit_order(
        "BTC", "buy", D("0.02"), D("63500.00"), client_order_id="ccxt-rest"
    )
    await eventually(lambda: fake.user_connections(fake.accounts[0]) > 0)
    failures = client.streams.failures
    await fake.drop_connections(refuse_for=0.5)
    await eventually(lambda: fake.user_connections(fake.accounts[0]) == 0)
    await fake.set_book("BTCUSDT", [("63400.00", "1")], [("63450.00", "1"), ("63500.00", "5")])
    await eventually(lambda: client.streams.failures > failures)

    first: Fill = await asyncio.wait_for(anext(fills), GUARD)
    assert (first.client_order_id, first.size, first.price, first.liquidity) == (
        "ccxt-rest",
        D("0.02"),
        D("63500.00"),
        "maker",
    )
    # The stream is live again; the recovered fill is not delivered a second time.
    await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="ccxt-later")
    later = await asyncio.wait_for(anext(fills), GUARD)
    assert later.client_order_id == "ccxt-later"
    await asyncio.sleep(0.2)
    assert fills.pending() == 0
    fills.close()


async def test_bulk_funding_has_every_market_with_its_interval(client: CcxtExchangeClient) -> None:
    rates = await client.funding_rates()
    assert set(rates) == {"BTC", "ETH", "PEPE"}
    for symbol, rate in rates.items():
        assert rate.symbol == symbol
        assert rate.interval_hours in (1, 4, 8)
        assert rate.next_funding_time is not None


async def test_ccxt_never_changes_our_decimal_context(client: CcxtExchangeClient) -> None:
    """ccxt's formatter sets ROUND_HALF_UP and traps Underflow on the current context; every
    Decimal the bot computes afterwards must still round half-even, untrapped."""
    before = decimal.getcontext().copy()
    fills = client.fills()
    await client.place_market_order("BTC", "buy", D("0.011"), client_order_id="ccxt-ctx")
    await asyncio.wait_for(anext(fills), GUARD)
    await client.order_book("BTC")
    context = decimal.getcontext()
    assert context.rounding == before.rounding == decimal.ROUND_HALF_EVEN
    assert not context.traps[decimal.Underflow]
    assert D("2.5").quantize(D("1")) == 2  # half-even, not ccxt's half-up
    fills.close()


async def test_a_stream_loop_that_dies_is_logged_and_started_again(
    client: CcxtExchangeClient, fake: FakeBinance
) -> None:
    """A loop survives its stream's failures; one that dies anyway (here: the reconnect notice
    it publishes after a failure raises, once) is logged by name by the streams' supervisor and
    started again - recovery poll and reconnect notice included - so fills keep coming."""
    reconnects = client.reconnects()
    fills = client.fills()
    publish = client._publish_reconnect
    broken = {"once": True}

    def publish_once_broken() -> None:
        if broken["once"]:
            broken["once"] = False
            raise RuntimeError("a reconnect listener bug")
        publish()

    client._publish_reconnect = publish_once_broken  # type: ignore[method-assign]
    streams = client.streams
    streams.backoff = Backoff(initial=0.05, maximum=0.1, floor=0.01)
    loops = streams._tasks.running
    assert loops == 2  # fills and orders
    await eventually(lambda: fake.user_connections(fake.accounts[0]) > 0)
    with capture_logs() as logs:
        await fake.drop_connections(refuse_for=0.2)
        await eventually(lambda: streams.restarts == 1)
        # Both loops' notices: the one of the loop that lived, and the restarted one's.
        for _ in range(2):
            await asyncio.wait_for(anext(reconnects), GUARD)
    failed = [e for e in logs if e["event"] == "background task failed"]
    assert [e["component"] for e in failed] == ["ccxt_binanceusdm-streams"]
    assert failed[0]["task"] in {"fills", "orders"}
    assert streams._tasks.running == loops
    await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="ccxt-after")
    fill = await asyncio.wait_for(anext(fills), GUARD)
    assert fill.client_order_id == "ccxt-after"
    fills.close()
    reconnects.close()
