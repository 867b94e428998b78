"""The exchange client contract (DESIGN.md §4) over Paradex perpetuals (Starknet appchain).

REST at ``https://api.prod.paradex.trade/v1`` (testnet ``api.testnet.paradex.trade``), WebSocket
at ``wss://ws.api.prod.paradex.trade/v1`` (testnet ``ws.api.testnet.paradex.trade``).

Credentials: ``l1_private_key``, the Ethereum key the account was (or will be) onboarded with.
On ``connect()`` the client reads ``/v1/system/config`` (the Starknet chain, the L1 chain id and
the account class hashes), derives the account's Stark key for that L1 chain and its address as
the official SDK does (:mod:`.signing`), onboards the account if the venue does not know it yet,
and takes a JWT (renewed before expiry, :mod:`.rest`). Nothing derived is logged or echoed.

Options (``ClientSettings.options``): ``base_url`` / ``ws_url`` (tests point them at the fake),
``timeout`` / ``retries`` / ``rate_limit_per_minute`` (the base's), ``streams`` (True: the
WebSocket for orders, fills, books and funding), ``jwt_renew_before`` (120 s),
``recv_window_ms`` (30000: the venue drops an order arriving later than this after it was
signed), ``order_ack_timeout`` (10 s: how long a ``NEW`` order is awaited before it is reported
pending), ``ws_ping_interval`` (30 s WebSocket heartbeat).

Guarantees beyond the contract:

* those of :class:`~exchange_clients.native.base.NativeVenueClient` (ids refused once sent,
  publish-once, resync after a reconnection: fills from ``/v1/fills``, every tracked order
  refreshed, books re-snapshotted);
* every order is signed with the Stark key (typed data ``Order``, size and price scaled by
  10**8 and truncated, market and stop-market orders signing price 0) at the venue's clock;
* Paradex accepts an order (``NEW``) and decides afterwards: the client waits for the decision,
  so a post-only that would cross raises ``PostOnlyWouldCross`` and a reduce-only that would
  increase the position ``ReduceOnlyRejected``, as the contract wants;
* stops rest on the venue (``supports_trigger_orders``): ``STOP_MARKET`` is Paradex's
  ``STOP_MARKET`` with ``trigger_price`` and the ``REDUCE_ONLY`` flag, ``UNTRIGGERED`` until the
  mark crosses it (reported ``OPEN``);
* :meth:`fees` is the account's own rates (``/v1/account/info`` ``fees``, source ``account``),
  :meth:`market_stats` the 24 h volume and open interest (valued at the mark) of one
  ``/v1/markets/summary`` call; funding is :mod:`.funding_adapter`'s.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Hashable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    OrderNotFound,
    OrderRejected,
    UnknownSymbol,
)
from core.logging_setup import get_logger
from exchange_clients.factory import register_client
from exchange_clients.native.streaming import StreamingVenueClient
from exchange_clients.native.wire import to_decimal, wire_decimal
from exchange_clients.order_book import OrderBook, OrderBookError
from exchange_clients.paradex import signing, starkcurve
from exchange_clients.paradex.funding_adapter import DEFAULT_PERIOD_HOURS, funding_from_summary
from exchange_clients.paradex.ids import to_wire
from exchange_clients.paradex.rest import ParadexRest, path_segment
from exchange_clients.paradex.websocket import ParadexStream
from exchange_clients.paradex.wire import (
    CANCEL_REASONS_AS_ERRORS,
    ORDER_TYPE_WIRE,
    VENUE,
    fees_from_account_info,
    fill_from_wire,
    market_from_wire,
    order_from_wire,
    position_from_wire,
    side_to_wire,
    stats_from_summary,
)
from exchange_clients.types import (
    Balance,
    BookSnapshot,
    ClientSettings,
    FeeSchedule,
    FundingRate,
    Market,
    MarketStats,
    Order,
    OrderRequest,
    OrderType,
    Position,
    TimeInForce,
)
from networking.http import RestTransport

log = get_logger(__name__)

MAINNET_REST_URL = "https://api.prod.paradex.trade"
TESTNET_REST_URL = "https://api.testnet.paradex.trade"
MAINNET_WS_URL = "wss://ws.api.prod.paradex.trade/v1"
TESTNET_WS_URL = "wss://ws.api.testnet.paradex.trade/v1"
_L1_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
FILLS_PAGE = 100
RECOVERY_LOOKBACK_MS = 60_000


def l1_address_of(private_key: str) -> str:
    """The checksummed Ethereum address of an L1 private key."""
    import coincurve
    from eth_utils.address import to_checksum_address
    from eth_utils.crypto import keccak

    key = coincurve.PrivateKey(bytes.fromhex(private_key.removeprefix("0x")))
    public = key.public_key.format(compressed=False)[1:]
    return str(to_checksum_address(keccak(public)[-20:]))


@register_client("paradex")
class ParadexClient(StreamingVenueClient[Market, str, ParadexStream]):
    """One Paradex account (its Ethereum key's Starknet account) on mainnet or testnet."""

    venue = "paradex"
    supports_trigger_orders = True

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        options = settings.options
        self._base_url = self._endpoint("base_url", MAINNET_REST_URL, TESTNET_REST_URL)
        self._ws_url = self._endpoint("ws_url", MAINNET_WS_URL, TESTNET_WS_URL)
        self._streams_on = bool(options.get("streams", True))
        self._recv_window = int(str(options.get("recv_window_ms", 30_000)))
        self._ack_timeout = float(str(options.get("order_ack_timeout", 10)))
        if self._recv_window < 10:
            raise ExchangeError("recv_window_ms must be at least 10", venue=VENUE)
        self._rest = ParadexRest(
            self._rest_transport(self._base_url, self._per_minute_limit(1200)),
            renew_before=float(str(options.get("jwt_renew_before", 120))),
        )
        key = settings.secrets.get("l1_private_key")
        if key is not None and _L1_KEY.fullmatch(key.reveal()) is None:
            raise AuthenticationFailed(
                "l1_private_key is not a valid Ethereum private key (64 hex digits, 0x optional)",
                venue=VENUE,
            )
        self._l1_key = key
        self._periods: dict[str, Decimal] = {}
        self._since_ms = 0
        self.streamed_funding: dict[str, dict[str, Any]] = {}
        """Latest ``funding_data`` notification per symbol (after :meth:`watch_funding`)."""

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def transport(self) -> RestTransport:
        return self._rest.transport

    @property
    def rest(self) -> ParadexRest:
        return self._rest

    def _market_view(self, record: Market) -> Market:
        return record

    def _market_key(self, record: Market) -> Hashable:
        return record.contract_id

    async def _start(self) -> None:
        await self._market_cache.reload()
        await self._rest.sync_time()
        if self._l1_key is not None:
            await self._load_signer(self._l1_key.reveal())
            await self._rest.token()  # onboards if needed; refuses a key the venue rejects
        self._since_ms = self._rest.now_ms()
        if not self._streams_on:
            return
        stream = ParadexStream(
            self._ws_url,
            token=self._rest.token if self._rest.signer is not None else None,
            on_notification=self._on_notification,
            on_resync=self._on_resync,
            on_disconnect=self._on_disconnect,
            on_token_refused=self._rest.invalidate,
            proxy_url=self.settings.proxy_url,
            heartbeat=self._ws_ping_interval(),
        )
        private = self._rest.signer is not None
        channels = {"orders.ALL": True, "fills.ALL": True} if private else {}
        self._stream = stream
        await stream.start(channels)

    async def _load_signer(self, l1_private_key: str) -> None:
        config = await self._rest.public("/v1/system/config")
        try:
            l1_chain = int(str(config["l1_chain_id"]))
            chain = str(config["starknet_chain_id"])
            account_hash = int(str(config["paraclear_account_hash"]), 16)
            proxy_hash = int(str(config["paraclear_account_proxy_hash"]), 16)
        except (KeyError, ValueError) as exc:
            raise ExchangeError(
                f"GET /v1/system/config: unreadable answer ({type(exc).__name__})", venue=VENUE
            ) from None
        try:
            stark_key = signing.derive_stark_private_key(l1_private_key, l1_chain)
            l1_address = l1_address_of(l1_private_key)
        except ValueError:
            raise AuthenticationFailed(
                "l1_private_key is not a valid Ethereum private key (64 hex digits)",
                venue=VENUE,
            ) from None
        public = starkcurve.public_key(stark_key)
        address = signing.account_address(public, account_hash, proxy_hash)
        self._rest.signer = signing.StarkSigner(stark_key, address, chain)
        self._rest.l1_address = l1_address

    async def _fetch_markets(self) -> list[Market]:
        answer = await self._rest.public("/v1/markets")
        markets: list[Market] = []
        for row in answer.get("results") or []:
            market = market_from_wire(row)
            if market is not None:
                markets.append(market)
                hours = row.get("funding_period_hours")
                self._periods[market.contract_id] = (
                    to_decimal(hours) if hours else DEFAULT_PERIOD_HOURS
                )
        return markets

    # --- market data -------------------------------------------------------------------------

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        market = await self.market(symbol)
        if self._stream is not None:
            await self._stream.subscribe(f"order_book.{market.contract_id}.deltas")
        book = self._live_book(market.contract_id)
        if book is not None:
            bids, asks = book.depth(depth)
            return BookSnapshot(symbol, tuple(bids), tuple(asks), datetime.now(UTC), book.sequence)
        data = await self._rest.public(
            f"/v1/orderbook/{market.contract_id}", {"depth": min(depth, 100)}
        )
        return self._book_snapshot(
            market,
            [(to_decimal(p), to_decimal(q)) for p, q in data["bids"][:depth]],
            [(to_decimal(p), to_decimal(q)) for p, q in data["asks"][:depth]],
            int(data["seq_no"]),
        )

    def book(self, symbol: str) -> OrderBook | None:
        """The streamed book of ``symbol`` (after :meth:`order_book` subscribed it)."""
        market = self._market_cache.cached(symbol)
        return self._books.get(market.contract_id) if market else None

    async def _summaries(self, contract: str = "ALL") -> list[Mapping[str, Any]]:
        answer = await self._rest.public("/v1/markets/summary", {"market": contract})
        return [r for r in answer.get("results") or [] if isinstance(r, Mapping)]

    async def funding_rate(self, symbol: str) -> FundingRate:
        market = await self.market(symbol)
        for row in await self._summaries(market.contract_id):
            if row.get("symbol") == market.contract_id:
                return self._funding(market, row)
        raise ExchangeError(f"{symbol}: no funding rate listed", venue=VENUE)

    async def funding_rates(self) -> dict[str, FundingRate]:
        """Every perp's funding from one ``markets/summary`` call."""
        await self.markets()
        rates: dict[str, FundingRate] = {}
        for row in await self._summaries():
            market = self._record_of(row.get("symbol"))
            if market is not None:
                rates[market.symbol] = self._funding(market, row)
        return rates

    def _funding(self, market: Market, row: Mapping[str, Any]) -> FundingRate:
        period = self._periods.get(market.contract_id, DEFAULT_PERIOD_HOURS)
        return funding_from_summary(VENUE, market, row, period, self._rest.now_ms())

    async def watch_funding(self, symbol: str) -> None:
        """Stream ``symbol``'s ``funding_data`` (latest in :attr:`streamed_funding`)."""
        market = await self.market(symbol)
        await self.stream.subscribe(f"funding_data.{market.contract_id}")

    async def fees(self, symbol: str) -> FeeSchedule:
        """The account's own maker/taker rates (``/v1/account/info`` ``fees``)."""
        await self.market(symbol)
        return fees_from_account_info(await self._rest.private("GET", "/v1/account/info"))

    async def market_stats(self) -> dict[str, MarketStats]:
        """24 h volume and open interest x mark of every perp, from one summary call."""
        markets = await self.markets()
        rows = {str(r.get("symbol")): r for r in await self._summaries()}
        return {
            m.symbol: stats_from_summary(rows.get(m.contract_id, {}), m) for m in markets.values()
        }

    # --- trading -----------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self.market(request.symbol)
        client_id = request.client_order_id
        self._refuse_sent_id(client_id)
        signer = self._rest.require_signer()
        wire_id = to_wire(client_id, venue=VENUE)
        size = market.to_venue_size(request.size)
        price = (
            market.to_venue_price(request.price)
            if request.order_type is OrderType.LIMIT and request.price is not None
            else None
        )
        order_type = ORDER_TYPE_WIRE[request.order_type]
        stamp = self._rest.now_ms()
        message = signing.OrderMessage(
            stamp, market.contract_id, request.side, order_type, size, price
        )
        body: dict[str, Any] = {
            "market": market.contract_id,
            "side": side_to_wire(request.side),
            "type": order_type,
            "size": wire_decimal(size),
            "client_id": wire_id,
            "instruction": self._instruction(request),
            "signature": signer.sign_order(message),
            "signature_timestamp": stamp,
            "recv_window": self._recv_window,
        }
        if price is not None:
            body["price"] = wire_decimal(price)
        if request.order_type is OrderType.STOP_MARKET:
            assert request.trigger_price is not None
            body["trigger_price"] = wire_decimal(market.to_venue_price(request.trigger_price))
        if request.reduce_only or request.order_type is OrderType.STOP_MARKET:
            body["flags"] = ["REDUCE_ONLY"]
        self._claim_id(client_id)
        try:
            row = await self._rest.private("POST", "/v1/orders", body=body, idempotent=False)
        except (OrderRejected, UnknownSymbol):
            self._release_id(client_id)  # refused outright: no order exists under the id
            raise
        row = await self._decided(row)
        order = self._order(row, market)
        self._track(order)
        reason = str(row.get("cancel_reason") or "")
        if reason in CANCEL_REASONS_AS_ERRORS and order.filled_size == 0:
            self._publish_order_once(order)
            raise CANCEL_REASONS_AS_ERRORS[reason](
                f"{request.symbol}: order {wire_id} closed by the venue ({reason})", venue=VENUE
            )
        return order

    @staticmethod
    def _instruction(request: OrderRequest) -> str:
        if request.post_only:
            return "POST_ONLY"
        if request.time_in_force is TimeInForce.IOC:
            return "IOC"
        return "GTC"

    async def _decided(self, row: Mapping[str, Any]) -> Mapping[str, Any]:
        """Wait until a ``NEW`` order is decided (open, untriggered or closed), polling its
        state; after ``order_ack_timeout`` the last state seen is returned (pending)."""
        delay = 0.02
        waited = 0.0
        while row.get("status") == "NEW" and waited < self._ack_timeout:
            try:
                fresh = await self._rest.private(
                    "GET", f"/v1/orders/{path_segment(str(row['id']))}"
                )
            except OrderNotFound:  # accepted but not readable yet: keep waiting
                fresh = row
            if fresh.get("status") != "NEW":
                return dict(fresh)
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.5)
        return row

    def _order(self, row: Mapping[str, Any], market: Market) -> Order:
        return order_from_wire(row, market, self._ledger.fees(str(row["id"])))

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        market = await self.market(symbol)
        path = f"/v1/orders/{path_segment(venue_order_id)}"
        await self._rest.private("DELETE", path)
        return await self._after_cancel(market, path)

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        market = await self.market(symbol)
        path = f"/v1/orders/by_client_id/{path_segment(to_wire(client_order_id, venue=VENUE))}"
        await self._rest.private("DELETE", path, params={"market": market.contract_id})
        return await self._after_cancel(market, path)

    async def _after_cancel(self, market: Market, path: str) -> Order:
        """Paradex answers a cancel with 204 and closes the order right after: read it back."""
        row = await self._rest.private("GET", path)
        delay, waited = 0.02, 0.0
        while row.get("status") != "CLOSED" and waited < self._ack_timeout:
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.5)
            row = await self._rest.private("GET", path)
        order = self._order(row, market)
        self._track(order)
        return order

    async def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """``DELETE /v1/orders`` (per market when given), then the closed orders read back."""
        before = await self.open_orders(symbol)
        params = {"market": (await self.market(symbol)).contract_id} if symbol else None
        await self._rest.private("DELETE", "/v1/orders", params=params)
        cancelled = []
        for order in before:
            if order.venue_order_id is not None:
                market = await self.market(order.symbol)
                cancelled.append(
                    await self._after_cancel(
                        market, f"/v1/orders/{path_segment(order.venue_order_id)}"
                    )
                )
        return cancelled

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        params: dict[str, object] = {}
        if symbol is not None:
            params["market"] = (await self.market(symbol)).contract_id
        else:
            await self.markets()
        answer = await self._rest.private("GET", "/v1/orders", params=params)
        orders = []
        for row in answer.get("results") or []:
            market = self._record_of(row.get("market"))
            if market is not None:
                orders.append(self._order(row, market))
        return orders

    async def _order_status(
        self, record: Market, venue_order_id: str | None, client_order_id: str | None
    ) -> Order:
        if venue_order_id is not None:
            path = f"/v1/orders/{path_segment(venue_order_id)}"
        elif client_order_id is not None:
            path = f"/v1/orders/by_client_id/{path_segment(to_wire(client_order_id, venue=VENUE))}"
        else:
            raise ValueError("order_status needs venue_order_id or client_order_id")
        row = await self._rest.private("GET", path)
        if row.get("market") != record.contract_id:
            raise OrderNotFound(f"{record.symbol}: no such order", venue=VENUE)
        return self._order(row, record)

    # --- account -----------------------------------------------------------------------------

    async def positions(self) -> list[Position]:
        await self.markets()
        answer = await self._rest.private("GET", "/v1/positions")
        rows = [r for r in answer.get("results") or [] if to_decimal(r.get("size") or "0") != 0]
        if not rows:
            return []
        marks = {
            str(r.get("symbol")): to_decimal(r["mark_price"])
            for r in await self._summaries()
            if r.get("mark_price")
        }
        positions = []
        for row in rows:
            market = self._record_of(row.get("market"))
            if market is None:
                continue
            mark = marks.get(market.contract_id, to_decimal(row["average_entry_price"]))
            position = position_from_wire(row, market, mark)
            if position is not None:
                positions.append(position)
        return positions

    async def balance(self) -> Balance:
        """Wallet = the USDC balance (``/v1/balance``: deposits, realised PnL, funding, fees);
        equity and free collateral from the account summary (``/v1/account``)."""
        balances = await self._rest.private("GET", "/v1/balance")
        wallet = Decimal(0)
        for row in balances.get("results") or []:
            if row.get("token") == "USDC":
                wallet = to_decimal(row["size"])
        summary = await self._rest.private("GET", "/v1/account")
        equity = to_decimal(summary["account_value"])
        available = to_decimal(summary["free_collateral"])
        return Balance.from_available(wallet, equity - wallet, available, asset="USDC")

    async def get_leverage(self, symbol: str) -> Decimal:
        market = await self.market(symbol)
        answer = await self._rest.private(
            "GET", "/v1/account/margin", params={"market": market.contract_id}
        )
        for config in answer.get("configs") or []:
            if config.get("market") == market.contract_id:
                return to_decimal(config["leverage"])
        raise ExchangeError(f"{symbol}: no margin configuration listed", venue=VENUE)

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        market = await self.market(symbol)
        self._check_leverage(market, leverage)
        answer = await self._rest.private(
            "POST",
            f"/v1/account/margin/{market.contract_id}",
            body={"leverage": int(leverage), "margin_type": "CROSS"},
            idempotent=True,
        )
        return to_decimal(answer["leverage"])

    # --- streams -----------------------------------------------------------------------------

    async def _on_notification(self, channel: str, data: dict[str, Any]) -> None:
        kind = channel.split(".", 1)[0]
        try:
            if kind == "orders":
                market = self._record_of(data.get("market"))
                if market is not None and data.get("status") != "NEW":
                    self._publish_order_once(self._order(data, market))
            elif kind == "fills":
                market = self._record_of(data.get("market"))
                if market is not None:
                    client_id = str(data.get("client_id") or "") or None
                    self._publish_fill_once(fill_from_wire(data, market, client_id))
            elif kind == "order_book":
                await self._on_book(channel, data)
            elif kind == "funding_data":
                market = self._record_of(data.get("market"))
                if market is not None:
                    self.streamed_funding[market.symbol] = data
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("paradex_ws_bad_message", channel=channel, error=str(exc))

    async def _on_book(self, channel: str, data: dict[str, Any]) -> None:
        """A snapshot (``update_type`` ``s``) then deltas whose ``seq_no`` follow one by one;
        a gap invalidates the book and resubscribes the channel for a new snapshot."""
        contract = str(data["market"])
        market = self._record_of(contract)
        if market is None:
            return
        book = self._books.setdefault(contract, OrderBook(market.symbol))
        sequence = int(data["seq_no"])
        levels = [*data.get("inserts", []), *data.get("updates", []), *data.get("deletes", [])]
        bids = [[lv["price"], lv["size"]] for lv in levels if lv.get("side") == "BUY"]
        asks = [[lv["price"], lv["size"]] for lv in levels if lv.get("side") == "SELL"]
        if data.get("update_type") == "s":
            book.apply_wire_snapshot(bids, asks, sequence=sequence)
            self._live_books.add(contract)
            return
        if contract not in self._live_books or book.sequence is None:
            return  # waiting for the snapshot of a resubscription
        if sequence != book.sequence + 1:
            book.invalidate(f"seq_no gap: expected {book.sequence + 1}, got {sequence}")
            self._live_books.discard(contract)
            log.warning("paradex_book_gap", market=contract, got=sequence)
            await self.stream.resubscribe(channel)
            return
        try:
            book.apply_wire_update(bids, asks, last_sequence=sequence)
        except OrderBookError as exc:
            self._live_books.discard(contract)
            log.warning("paradex_book_invalid", market=contract, error=str(exc))
            await self.stream.resubscribe(channel)

    async def _on_resync(self, first: bool) -> None:
        if first:
            return
        for contract in list(self._live_books):
            self._books[contract].invalidate("stream reconnected")
        self._live_books.clear()
        try:
            await self._resync()
        except ExchangeError as exc:  # the stream is up; the next reconnect tries again
            log.warning("paradex_resync_failed", error=str(exc))

    def _on_disconnect(self) -> None:
        for contract in list(self._live_books):
            self._books[contract].invalidate("stream disconnected")
        self._live_books.clear()

    async def _recover_fills(self) -> None:
        """The account's fills since a minute before connect/the last resync (newest first)."""
        if self._rest.signer is None:
            return
        start = self._since_ms - RECOVERY_LOOKBACK_MS
        answer = await self._rest.private(
            "GET", "/v1/fills", params={"start_at": start, "page_size": FILLS_PAGE}
        )
        for row in reversed(answer.get("results") or []):
            market = self._record_of(row.get("market"))
            if market is not None:
                client_id = str(row.get("client_id") or "") or None
                self._publish_fill_once(fill_from_wire(row, market, client_id))
