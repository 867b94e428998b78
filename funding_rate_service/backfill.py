"""Backfill: the settled funding rates venues publish, written into the history as ``settled``.

Public endpoints only (no account), one per venue that publishes its history:

=============  ==========================================================================
hyperliquid    ``POST /info {"type": "fundingHistory", "coin", "startTime", "endTime"}``:
               hourly settlements, oldest first, at most 500 per answer (paged by time)
binance/aster  ``GET /fapi/v1/fundingRate?symbol&startTime&endTime&limit=1000``
               ("Get Funding Rate History"): settlements oldest first, 1000 per answer
backpack       ``GET /api/v1/fundingRates?symbol&limit&offset`` ("Get funding interval
               rates"): settlements newest first, paged by offset until past ``start``
grvt           ``POST /full/v1/funding {"instrument", "start_time", "end_time", "limit",
               "cursor"}`` (nanosecond times) on the market-data host: settlements newest
               first in percentage points, paged by the ``next`` cursor
edgex          ``GET /api/v2/public/funding/getFundingRatePage?contractId&size=100&
               filterSettlementFundingRate=true&filterBeginTimeInclusive&
               filterEndTimeExclusive&offsetData`` (ms): settlements, paged by
               ``nextPageOffsetData`` ("" on the last page)
=============  ==========================================================================

Lighter publishes no funding history we can read without an account here (and its fake
serves none), so it is not backfilled; its history grows from collection. Paradex funds
continuously (no settlement instant: its ``/v1/funding/data`` is a running index sampled
every few seconds, not settled rates), so there is nothing settled to backfill; its history
grows from collection too.

The venue's contract id of each symbol comes from ``client.markets()`` of the public client
(Binance, Aster, Backpack) or from Hyperliquid's ``meta`` (its client needs a key). A venue's
interval between settlements is taken from the settlements themselves (the gap to the
neighbouring one; Binance symbols fund every 1, 4 or 8 h), else the venue catalogue's.
Rows are upserted: re-running a backfill is harmless, and a settled rate replaces the live
estimate of the same funding time (``storage`` rules).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlencode

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import ExchangeError, VenueUnavailable
from core.redaction import scrub_exception_text
from core.venues import VENUES
from exchange_clients.backpack.funding_adapter import settled_rates
from exchange_clients.base import BaseExchangeClient
from exchange_clients.hyperliquid.wire import symbol_of
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from funding_rate_service import storage
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.storage import SETTLED, FundingRecord
from funding_rate_service.venue_access import public_client_factory, rest_only
from networking.http import HttpRequest, RestTransport
from networking.json_codec import dumps

log = structlog.get_logger(__name__)

Settlement = tuple[datetime, Decimal]

HYPERLIQUID_URL = "https://api.hyperliquid.xyz"
BINANCE_URL = "https://fapi.binance.com"
ASTER_URL = "https://fapi.asterdex.com"
BACKPACK_URL = "https://api.backpack.exchange"
HYPERLIQUID_PAGE = 500
BINANCE_PAGE = 1000
BACKPACK_PAGE = 1000
GRVT_PAGE = 1000
EDGEX_PAGE = 100
EDGEX_URL = "https://edgex-prod-v2.edgex.exchange"  # the EdgeX client's mainnet REST host
MAX_PAGES = 10_000  # a venue that keeps answering the same page cannot loop forever


class HistorySource(Protocol):
    venue: str

    async def contracts(self) -> dict[str, str]:
        """Internal symbol -> the venue's contract id."""

    async def settlements(self, contract: str, start: datetime, end: datetime) -> list[Settlement]:
        """Settled rates with ``start <= time < end``, oldest first."""

    async def close(self) -> None: ...


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _answer(venue: str, status: int, label: str, body: Any) -> Any:
    if status != 200:
        raise VenueUnavailable(f"{label} answered HTTP {status}", venue=venue)
    return body


class _RestSource:
    def __init__(self, venue: str, base_url: str) -> None:
        self.venue = venue
        self._rest = RestTransport(venue, base_url)
        self._opened = False

    async def _get(self, path: str, params: dict[str, object]) -> Any:
        return await self._send(HttpRequest("GET", f"{path}?{urlencode(params)}"))

    async def _send(self, request: HttpRequest) -> Any:
        if not self._opened:
            await self._rest.open()
            self._opened = True
        response = await self._rest.send(request, idempotent=True)
        return _answer(self.venue, response.status, request.label, response.json())

    async def close(self) -> None:
        await self._rest.close()


class HyperliquidHistory(_RestSource):
    async def _info(self, body: dict[str, object]) -> Any:
        headers = {"Content-Type": "application/json"}
        return await self._send(HttpRequest("POST", "/info", dumps(body), headers))

    async def contracts(self) -> dict[str, str]:
        meta = await self._info({"type": "meta"})
        return {
            symbol_of(str(entry["name"]))[0]: str(entry["name"])
            for entry in meta["universe"]
            if not entry.get("isDelisted")
        }

    async def settlements(self, contract: str, start: datetime, end: datetime) -> list[Settlement]:
        result: list[Settlement] = []
        since = _ms(start)
        for _ in range(MAX_PAGES):
            rows = await self._info(
                {
                    "type": "fundingHistory",
                    "coin": contract,
                    "startTime": since,
                    "endTime": _ms(end),
                }
            )
            page = [(ms_to_datetime(int(r["time"])), to_decimal(r["fundingRate"])) for r in rows]
            result += [s for s in page if start <= s[0] < end]
            if len(rows) < HYPERLIQUID_PAGE:
                break
            since = int(rows[-1]["time"]) + 1
        return result


class BinanceStyleHistory(_RestSource):
    def __init__(self, venue: str, base_url: str, markets: Callable[[], Awaitable[Any]]) -> None:
        super().__init__(venue, base_url)
        self._markets = markets

    async def contracts(self) -> dict[str, str]:
        return {symbol: m.contract_id for symbol, m in (await self._markets()).items()}

    async def settlements(self, contract: str, start: datetime, end: datetime) -> list[Settlement]:
        result: list[Settlement] = []
        since = _ms(start)
        for _ in range(MAX_PAGES):
            rows = await self._get(
                "/fapi/v1/fundingRate",
                {
                    "symbol": contract,
                    "startTime": since,
                    "endTime": _ms(end) - 1,
                    "limit": BINANCE_PAGE,
                },
            )
            page = [
                (ms_to_datetime(int(r["fundingTime"])), to_decimal(r["fundingRate"])) for r in rows
            ]
            result += [s for s in page if start <= s[0] < end]
            if len(rows) < BINANCE_PAGE:
                break
            since = int(rows[-1]["fundingTime"]) + 1
        return result


class BackpackHistory(BinanceStyleHistory):
    async def settlements(self, contract: str, start: datetime, end: datetime) -> list[Settlement]:
        result: list[Settlement] = []
        for page_number in range(MAX_PAGES):
            rows = await self._get(
                "/api/v1/fundingRates",
                {"symbol": contract, "limit": BACKPACK_PAGE, "offset": page_number * BACKPACK_PAGE},
            )
            page = settled_rates(rows)  # oldest first
            result += [s for s in page if start <= s[0] < end]
            if len(rows) < BACKPACK_PAGE or (page and page[0][0] < start):
                break
        return sorted(set(result))


class EdgexHistory(BinanceStyleHistory):
    """EdgeX V2's public funding history; answers are ``{"code": "SUCCESS", "data"}``."""

    async def settlements(self, contract: str, start: datetime, end: datetime) -> list[Settlement]:
        result: list[Settlement] = []
        offset = ""
        for _ in range(MAX_PAGES):
            params: dict[str, object] = {
                "contractId": contract,
                "size": EDGEX_PAGE,
                "filterSettlementFundingRate": "true",
                "filterBeginTimeInclusive": _ms(start),
                "filterEndTimeExclusive": _ms(end),
            }
            if offset:
                params["offsetData"] = offset
            answer = await self._get("/api/v2/public/funding/getFundingRatePage", params)
            if not isinstance(answer, dict) or answer.get("code") != "SUCCESS":
                code = answer.get("code") if isinstance(answer, dict) else None
                raise VenueUnavailable(f"getFundingRatePage refused: {code!r}", venue=self.venue)
            page = answer["data"]
            rows = page["dataList"]
            result += [
                (ms_to_datetime(int(r["fundingTimestamp"])), to_decimal(r["fundingRate"]))
                for r in rows
                if r.get("isSettlement", True)
            ]
            offset = str(page.get("nextPageOffsetData") or "")
            if not offset or not rows:
                break
        return sorted({s for s in result if start <= s[0] < end})


class GrvtHistory:
    """GRVT's funding history through the account-less client's own REST (its market-data
    host, its error mapping); the contracts are the client's instruments."""

    def __init__(self, venue: str, client: BaseExchangeClient) -> None:
        self.venue = venue
        self._client = client
        self._connected = False

    async def _ready(self) -> Any:
        from exchange_clients.grvt.client import GrvtClient

        if not isinstance(self._client, GrvtClient):
            raise ExchangeError("the GRVT history needs the GRVT client", venue=self.venue)
        if not self._connected:
            await self._client.connect()
            self._connected = True
        return self._client

    async def contracts(self) -> dict[str, str]:
        client = await self._ready()
        return {symbol: m.contract_id for symbol, m in (await client.markets()).items()}

    async def settlements(self, contract: str, start: datetime, end: datetime) -> list[Settlement]:
        from exchange_clients.grvt.funding_adapter import settled_rates as grvt_settled

        client = await self._ready()
        result: list[Settlement] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            body: dict[str, object] = {
                "instrument": contract,
                "start_time": str(_ns(start)),
                "end_time": str(_ns(end) - 1),
                "limit": GRVT_PAGE,
            }
            if cursor:
                body["cursor"] = cursor
            answer = await client.rest.public("/full/v1/funding", body)
            rows = answer["result"]
            result += [s for s in grvt_settled(rows) if start <= s[0] < end]
            cursor = str(answer.get("next") or "")
            if not cursor or not rows:
                break
        return sorted(set(result))

    async def close(self) -> None:
        if self._connected:
            await self._client.disconnect()


def _ns(moment: datetime) -> int:
    return _ms(moment) * 1_000_000


PublicClients = Callable[[str], BaseExchangeClient]
"""Venue name -> an unconnected public client (``collector.public_client_factory``)."""


def default_history_source(
    venue: str, factory: PublicClients, base_url: str | None
) -> HistorySource:
    """The history reader of ``venue`` (``base_url`` overrides the venue's host); a
    :class:`ExchangeError` for a venue that publishes none we can read."""
    if venue == "hyperliquid":
        return HyperliquidHistory(venue, base_url or HYPERLIQUID_URL)
    if venue == "grvt":  # its client's hosts (venue_options' base_url reaches it there)
        return GrvtHistory(venue, factory(venue))
    defaults = {
        "binance": BINANCE_URL,
        "aster": ASTER_URL,
        "backpack": BACKPACK_URL,
        "edgex": EDGEX_URL,
    }
    if venue in defaults:
        client = factory(venue)

        async def markets() -> Any:
            await client.connect()
            try:
                return await client.markets()
            finally:
                await client.disconnect()

        classes = {"backpack": BackpackHistory, "edgex": EdgexHistory}
        cls = classes.get(venue, BinanceStyleHistory)
        return cls(venue, base_url or defaults[venue], markets)
    raise ExchangeError("publishes no funding history this service can read", venue=venue)


def records_from(
    venue: str, symbol: str, settlements: Sequence[Settlement], observed_at: datetime
) -> list[FundingRecord]:
    """Settlements as rows; each one's interval is the gap to its neighbour (else the
    catalogue's)."""
    ordered = sorted(set(settlements))
    catalogue = VENUES.get(venue)
    default = Decimal(catalogue.default_funding_interval_hours) if catalogue else Decimal(8)
    records = []
    for i, (moment, rate) in enumerate(ordered):
        neighbour = ordered[i - 1][0] if i > 0 else ordered[i + 1][0] if len(ordered) > 1 else None
        gap = abs((moment - neighbour).total_seconds()) / 3600 if neighbour else None
        interval = _interval(gap) or default
        records.append(
            FundingRecord(
                venue=venue,
                symbol=symbol,
                funding_time=moment,
                rate_per_interval=rate,
                interval_hours=interval,
                hourly_rate=rate / interval,
                observed_at=observed_at,
                source=SETTLED,
            )
        )
    return records


KNOWN_INTERVALS = (1, 2, 4, 8)
"""Funding intervals venues use, in hours; a gap that is none of them (a missed settlement,
or settlements stamped moments apart) says nothing about the interval."""


def _interval(gap_hours: float | None) -> Decimal | None:
    if gap_hours is None:
        return None
    nearest = round(gap_hours)
    if nearest in KNOWN_INTERVALS and abs(gap_hours - nearest) < 0.01:
        return Decimal(nearest)
    return None


@dataclass
class BackfillResult:
    venue: str
    rows: int = 0
    symbols: int = 0
    errors: list[str] = field(default_factory=list)


async def backfill_venue(
    sessions: async_sessionmaker[AsyncSession],
    source: HistorySource,
    start: datetime,
    end: datetime,
    symbols: Sequence[str] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackfillResult:
    """Backfill one venue; one symbol's failure is recorded and the others go on."""
    result = BackfillResult(source.venue)
    try:
        contracts = await source.contracts()
        for symbol in sorted(contracts):
            if symbols is not None and symbol not in symbols:
                continue
            try:
                settled = await source.settlements(contracts[symbol], start, end)
            except (ExchangeError, ValueError, KeyError, TypeError) as exc:
                result.errors.append(f"{symbol}: {type(exc).__name__}: {scrub_exception_text(exc)}")
                continue
            rows = records_from(source.venue, symbol, settled, clock())
            async with sessions.begin() as session:
                result.rows += await storage.upsert(session, rows)
            result.symbols += 1
    except (ExchangeError, ValueError, KeyError, TypeError) as exc:
        result.errors.append(f"{type(exc).__name__}: {scrub_exception_text(exc)}")
    finally:
        await source.close()
    if result.errors:
        log.warning("funding backfill incomplete", venue=source.venue, errors=result.errors[:5])
    return result


async def backfill(
    sessions: async_sessionmaker[AsyncSession],
    venues: Sequence[str],
    days: int,
    factory: PublicClients,
    *,
    symbols: Sequence[str] | None = None,
    base_urls: dict[str, str] | None = None,
    now: datetime | None = None,
) -> list[BackfillResult]:
    """The last ``days`` of every venue that publishes history, one venue after the other."""
    end = now or datetime.now(UTC)
    start = end - timedelta(days=days)
    results = []
    for venue in venues:
        try:
            source = default_history_source(venue, factory, (base_urls or {}).get(venue))
        except ExchangeError as exc:
            results.append(BackfillResult(venue, errors=[str(exc)]))
            continue
        results.append(await backfill_venue(sessions, source, start, end, symbols))
    return results


async def backfill_configured(
    sessions: async_sessionmaker[AsyncSession],
    settings: CollectionSettings,
    factory: PublicClients | None = None,
    now: datetime | None = None,
) -> list[BackfillResult]:
    """The service's start-up backfill: the last ``backfill_days`` (0 = none) of the
    configured venues and symbols, hosts from ``venue_options``' ``base_url``."""
    if settings.backfill_days == 0:
        return []
    base_urls = {
        venue: str(options["base_url"])
        for venue, options in settings.venue_options.items()
        if options.get("base_url")
    }
    return await backfill(
        sessions,
        settings.venues,
        settings.backfill_days,
        factory or public_client_factory(rest_only(settings.venue_options)),
        symbols=settings.symbols,
        base_urls=base_urls,
        now=now,
    )
