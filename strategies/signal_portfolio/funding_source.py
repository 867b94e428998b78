"""Funding and open interest of the bot's assets: from the funding-rate service when it runs,
from Hyperliquid directly otherwise.

The funding-rate service (``python -m funding_rate_service`` at ``funding_service_url``,
default http://127.0.0.1:8710; its token, if it has one, from ``$PERPFLEET_FUNDING_TOKEN``)
already collects every venue's funding and open interest: a fleet of signal bots reading it
spares the venue one poll per bot. It sits above the strategies in the layers, so it is asked
over HTTP (``GET /api/v1/rates/hyperliquid``), never imported. ``funding_source``: ``auto``
asks the service and falls back to the venue's ``metaAndAssetCtxs`` when it does not answer
(or lacks an asset); ``service`` and ``venue`` use one source only. Open interest is kept in
USD either way (the venue's coins x mark), so its percentile history stays one scale
whichever source answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from core.errors import ExchangeError
from core.logging_setup import get_logger
from exchange_clients.base import BaseExchangeClient
from exchange_clients.hyperliquid.candles import HyperliquidMarketHistory
from strategies.funding_arbitrage.service_client import (
    FundingServiceClient,
    FundingServiceUnavailable,
    env_token,
)

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class FundingReading:
    """One asset's funding (per interval, a fraction), open interest (USD) and mark."""

    asset: str
    funding_rate: Decimal
    open_interest_usd: Decimal | None
    mark_price: Decimal | None
    source: str  # "service" | "venue" | "replay"


class ServiceRates(FundingServiceClient):
    """The service's latest rates of one venue, open interest and mark included."""

    async def latest(self, venue: str) -> list[FundingReading]:
        data = await self._json(f"/rates/{venue}")
        try:
            return [
                FundingReading(
                    str(item["symbol"]),
                    Decimal(item["rate"]),
                    _optional(item.get("open_interest_usd")),
                    _optional(item.get("mark_price")),
                    "service",
                )
                for item in data
            ]
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise self._garbage(f"/rates/{venue}", exc) from None


def _optional(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class FundingSource:
    """Reads funding and open interest per ``mode`` (auto | service | venue)."""

    def __init__(
        self,
        mode: str,
        assets: Sequence[str],
        history: HyperliquidMarketHistory,
        service_url: str,
    ) -> None:
        self.mode = mode
        self.assets = tuple(assets)
        self._history = history
        self._service = ServiceRates(service_url, token=env_token())
        self._service_down: str | None = None

    async def read(self) -> Mapping[str, FundingReading]:
        """The latest reading of each asset a source answered for (missing: none did)."""
        found: dict[str, FundingReading] = {}
        if self.mode in ("auto", "service"):
            found = await self._from_service()
        missing = [asset for asset in self.assets if asset not in found]
        if missing and self.mode in ("auto", "venue"):
            found.update(await self._from_venue(missing))
        return found

    async def _from_service(self) -> dict[str, FundingReading]:
        try:
            rows = await self._service.latest("hyperliquid")
        except FundingServiceUnavailable as exc:
            if self._service_down != str(exc):
                self._service_down = str(exc)
                fallback = "reading Hyperliquid directly" if self.mode == "auto" else "no funding"
                log.warning("funding_service_unavailable", error=str(exc), action=fallback)
            return {}
        if self._service_down is not None:
            log.info("funding_service_back", url=self._service.base_url)
            self._service_down = None
        return {row.asset: row for row in rows if row.asset in self.assets}

    async def _from_venue(self, assets: Sequence[str]) -> dict[str, FundingReading]:
        try:
            contexts = await self._history.asset_contexts()
        except ExchangeError as exc:
            log.warning("funding_poll_failed", error=str(exc))
            return {}
        found = {}
        for asset in assets:
            context = contexts.get(asset)
            if context is not None:
                found[asset] = FundingReading(
                    asset,
                    context.funding,
                    context.open_interest * context.mark_price,
                    context.mark_price,
                    "venue",
                )
        return found


class FundingReader(Protocol):
    """Where the market state reads funding (and open interest) when a poll is due."""

    async def read(self) -> Mapping[str, FundingReading]: ...


class TradingVenueFunding:
    """Funding read from the trading venue's own client: in a backtest, the history's rates
    as the simulated venue has them at the simulated time (source ``replay``). Open interest
    is not in backtest data, so it is None (the strategy refuses ``funding_oi`` there)."""

    def __init__(self, client: BaseExchangeClient, assets: Sequence[str]) -> None:
        self._client = client
        self.assets = tuple(assets)

    async def read(self) -> Mapping[str, FundingReading]:
        found = {}
        for asset in self.assets:
            try:
                funding = await self._client.funding_rate(asset)
            except ExchangeError as exc:
                log.warning("funding_poll_failed", asset=asset, error=str(exc))
                continue
            found[asset] = FundingReading(asset, funding.rate, None, funding.mark_price, "replay")
        return found


def minute_of(ts: datetime) -> datetime:
    """The minute a reading is stored under: one row per asset per minute (idempotent)."""
    return ts.replace(second=0, microsecond=0)
