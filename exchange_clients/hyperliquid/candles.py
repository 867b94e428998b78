"""Hyperliquid's public candle history and asset contexts (funding, open interest) over REST.

``POST /info {"type": "candleSnapshot", "req": {coin, interval, startTime, endTime}}`` answers
the candles of a time range (at most 5000, the newest one possibly still open) as
``{"t": open ms, "T": close ms, "s": coin, "i": interval, "o", "h", "l", "c", "v": strings,
"n": trades}``; ``metaAndAssetCtxs`` carries each perpetual's funding and open interest (in
coins). Public endpoints: no account, no key. Used to backfill a signal bot's candles at start
and to read funding/OI when no funding-rate service is running.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import ExchangeError
from exchange_clients.hyperliquid.wire import MAINNET_URL, TESTNET_URL, VENUE
from exchange_clients.market_data.candles import INTERVALS, Candle
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from networking.http import HttpRequest, RestTransport
from networking.json_codec import dumps
from networking.rate_limit import TokenBucket

JSON_HEADERS = {"Content-Type": "application/json"}
MAX_CANDLES = 5000  # Hyperliquid answers at most this many candles per request


@dataclass(frozen=True, slots=True)
class AssetContext:
    """One perpetual's funding (per hour, a fraction), open interest (coins) and mark."""

    asset: str
    funding: Decimal
    open_interest: Decimal
    mark_price: Decimal
    ts: datetime


def parse_candle(raw: Mapping[str, Any], *, asset: str, venue: str = VENUE) -> Candle:
    """One ``candleSnapshot`` entry as a :class:`Candle` (prices straight into Decimal)."""
    return Candle(
        venue=venue,
        asset=asset,
        interval=str(raw["i"]),
        open_time=ms_to_datetime(int(raw["t"])),
        open=to_decimal(raw["o"]),
        high=to_decimal(raw["h"]),
        low=to_decimal(raw["l"]),
        close=to_decimal(raw["c"]),
        volume=to_decimal(raw["v"]),
        trades=int(raw.get("n", 0)),
    )


class HyperliquidMarketHistory:
    """The public ``/info`` queries a signal bot needs: candles and asset contexts."""

    def __init__(self, *, testnet: bool = False, base_url: str | None = None) -> None:
        base = base_url or (TESTNET_URL if testnet else MAINNET_URL)
        self._rest = RestTransport(VENUE, base, limiter=TokenBucket.per_minute(1200))

    async def open(self) -> None:
        await self._rest.open()

    async def close(self) -> None:
        await self._rest.close()

    async def _info(self, body: Mapping[str, Any]) -> Any:
        response = await self._rest.send(
            HttpRequest("POST", "/info", dumps(body), JSON_HEADERS), weight=20, idempotent=True
        )
        if response.status != 200:
            raise ExchangeError(f"info {body['type']}: HTTP {response.status}", venue=VENUE)
        return response.json()

    async def candles(
        self, coin: str, interval: str, start: datetime, end: datetime
    ) -> list[Candle]:
        """The ``interval`` candles of ``coin`` opened in [start, end], oldest first."""
        if interval not in INTERVALS:
            raise ValueError(f"unknown candle interval {interval!r}: expected {list(INTERVALS)}")
        body = {
            "type": "candleSnapshot",
            "req": {
                "coin": coin,
                "interval": interval,
                "startTime": int(start.timestamp() * 1000),
                "endTime": int(end.timestamp() * 1000),
            },
        }
        raw = await self._info(body)
        if not isinstance(raw, list):
            raise ExchangeError(
                f"candleSnapshot {coin}: expected a list, got {raw!r:.80}", venue=VENUE
            )
        return sorted((parse_candle(item, asset=coin) for item in raw), key=lambda c: c.open_time)

    async def asset_contexts(self) -> dict[str, AssetContext]:
        """Funding, open interest and mark of every listed perpetual, by coin."""
        meta, ctxs = await self._info({"type": "metaAndAssetCtxs"})
        now = datetime.now(UTC)
        found: dict[str, AssetContext] = {}
        for entry, ctx in zip(meta["universe"], ctxs, strict=False):
            coin = str(entry["name"])
            found[coin] = AssetContext(
                coin,
                to_decimal(ctx["funding"]),
                to_decimal(ctx["openInterest"]),
                to_decimal(ctx["markPx"]),
                now,
            )
        return found
