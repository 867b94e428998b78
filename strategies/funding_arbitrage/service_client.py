"""The funding-rate service (``python -m funding_rate_service``) over HTTP, for its readers.

One client for every reader of the service: the strategy (``opportunities: service``) and the
Telegram commands (``/funding``, ``/opportunities``, ``/funding_chart``). It speaks the
service's /api/v1 and nothing else - the service sits above the strategies in the layers, so it
is never imported, only asked. Numbers cross the wire as JSON strings holding exact decimals and
are parsed straight into ``Decimal``; opportunities come back as the strategy's own
:class:`~.opportunities.Opportunity` (the service ranks with the strategy's scan).

Every failure - nothing listening, a timeout, an HTTP error, an answer that is not what the
API promises - is one :class:`FundingServiceUnavailable` whose message is one readable line
(the URL without credentials, and what went wrong), never a traceback and never a token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import aiohttp

from core.errors import TradingError
from networking.json_codec import loads
from strategies.funding_arbitrage.opportunities import Opportunity

DEFAULT_SERVICE_URL = "http://127.0.0.1:8710"
SERVICE_URL_ENV = "PERPFLEET_FUNDING_URL"
SERVICE_TOKEN_ENV = "PERPFLEET_FUNDING_TOKEN"  # noqa: S105 - a variable name, not a secret
DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_LIMIT = 200


class FundingServiceUnavailable(TradingError):
    """The service could not be asked, or its answer was not usable (one readable line)."""


@dataclass(frozen=True)
class ServiceOpportunities:
    """One ``GET /api/v1/opportunities`` answer."""

    as_of: datetime | None  # newest observation the service ranked (None: it has no data)
    venues: tuple[str, ...]
    matched: int
    opportunities: list[Opportunity]


@dataclass(frozen=True)
class ServiceRate:
    """One venue/symbol's latest rate as the service holds it."""

    venue: str
    symbol: str
    rate_per_interval: Decimal
    interval_hours: Decimal
    hourly_rate: Decimal
    observed_at: datetime


@dataclass(frozen=True)
class OpportunityFilters:
    """The filters of ``/opportunities`` this package uses (the service has more)."""

    venues: Sequence[str] | None = None
    symbols: Sequence[str] | None = None
    required_venue: str | None = None
    min_net_apr_pct: Decimal = Decimal(0)
    hold_hours: Decimal = Decimal(72)
    maker: bool = False
    min_volume_24h_usd: Decimal = Decimal(0)
    min_open_interest_usd: Decimal = Decimal(0)
    max_price_divergence_pct: Decimal | None = None
    limit: int = 20

    def query(self) -> dict[str, str]:
        params = {
            "min_net_apr_pct": str(self.min_net_apr_pct),
            "hold_hours": str(self.hold_hours),
            "maker": "true" if self.maker else "false",
            "min_volume_24h_usd": str(self.min_volume_24h_usd),
            "min_open_interest_usd": str(self.min_open_interest_usd),
            "limit": str(min(max(self.limit, 1), MAX_LIMIT)),
        }
        if self.venues:
            params["venues"] = ",".join(self.venues)
        if self.symbols:
            params["symbols"] = ",".join(self.symbols)
        if self.required_venue:
            params["required_venue"] = self.required_venue
        if self.max_price_divergence_pct is not None:
            params["max_price_divergence_pct"] = str(self.max_price_divergence_pct)
        return params


class FundingServiceClient:
    """Reads of one funding-rate service at ``base_url`` (``http://host:port``)."""

    def __init__(
        self,
        base_url: str = DEFAULT_SERVICE_URL,
        *,
        token: str | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout_seconds

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FundingServiceClient:
        """``$PERPFLEET_FUNDING_URL`` (default 127.0.0.1:8710) and its token, if any."""
        env = os.environ if environ is None else environ
        url = env.get(SERVICE_URL_ENV, "").strip() or DEFAULT_SERVICE_URL
        return cls(url, token=env_token(env))

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        url = f"{self.base_url}/api/v1{path}"
        if params:
            url += "?" + urlencode(params)
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        where = f"the funding-rate service at {self.base_url}"
        try:
            timeout = aiohttp.ClientTimeout(total=self._timeout)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(url, headers=headers) as response,
            ):
                body = await response.read()
                if response.status != 200:
                    raise FundingServiceUnavailable(
                        f"{where} answered HTTP {response.status} to {path}: {_detail(body)}"
                    )
                return body
        except TimeoutError:
            raise FundingServiceUnavailable(
                f"{where} did not answer within {self._timeout:g} s"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise FundingServiceUnavailable(f"{where} is not reachable ({_reason(exc)})") from None

    async def _json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        body = await self._get(path, params)
        try:
            return loads(body)
        except ValueError:
            raise FundingServiceUnavailable(
                f"the funding-rate service at {self.base_url} answered {path} with "
                "something that is not JSON"
            ) from None

    async def opportunities(self, filters: OpportunityFilters) -> ServiceOpportunities:
        data = await self._json("/opportunities", filters.query())
        try:
            return ServiceOpportunities(
                as_of=_time(data.get("as_of")),
                venues=tuple(str(v) for v in data["venues"]),
                matched=int(data["matched"]),
                opportunities=[_opportunity(item) for item in data["opportunities"]],
            )
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as exc:
            raise self._garbage("/opportunities", exc) from None

    async def venue_updates(self) -> dict[str, datetime | None]:
        """Each venue the service holds rates for, and its newest observation (UTC)."""
        data = await self._json("/venues")
        try:
            return {str(item["name"]): _time(item.get("last_update")) for item in data}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._garbage("/venues", exc) from None

    async def rates(self, symbols: Sequence[str] | None = None) -> list[ServiceRate]:
        params = {"symbols": ",".join(symbols)} if symbols else None
        data = await self._json("/rates", params)
        try:
            return [
                ServiceRate(
                    venue=str(item["venue"]),
                    symbol=str(item["symbol"]),
                    rate_per_interval=Decimal(item["rate"]),
                    interval_hours=Decimal(item["interval_hours"]),
                    hourly_rate=Decimal(item["hourly_rate"]),
                    observed_at=datetime.fromisoformat(str(item["observed_at"])),
                )
                for item in data
            ]
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise self._garbage("/rates", exc) from None

    async def spread_chart_png(
        self, symbol: str, long_venue: str, short_venue: str, *, days: int = 30
    ) -> bytes:
        """The pair's spread and cumulative carry over the last ``days`` days, as a PNG."""
        start = datetime.now(UTC) - timedelta(days=days)
        params = {
            "symbol": symbol,
            "long_venue": long_venue,
            "short_venue": short_venue,
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resolution": "1h" if days <= 14 else "8h",
        }
        body = await self._get("/charts/spread.png", params)
        if not body.startswith(b"\x89PNG"):
            raise FundingServiceUnavailable(
                f"the funding-rate service at {self.base_url} answered the chart with "
                "something that is not a PNG"
            )
        return body

    def _garbage(self, path: str, exc: BaseException) -> FundingServiceUnavailable:
        return FundingServiceUnavailable(
            f"the funding-rate service at {self.base_url} answered {path} with an unexpected "
            f"shape ({type(exc).__name__}: {str(exc)[:80]})"
        )


def env_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The service's token from ``$PERPFLEET_FUNDING_TOKEN`` (needed only when the service is
    bound off loopback)."""
    env = os.environ if environ is None else environ
    return env.get(SERVICE_TOKEN_ENV, "").strip() or None


def _opportunity(item: Mapping[str, Any]) -> Opportunity:
    return Opportunity(
        symbol=str(item["symbol"]),
        long_venue=str(item["long_venue"]),
        short_venue=str(item["short_venue"]),
        long_hourly_rate=Decimal(item["long_hourly_rate"]),
        short_hourly_rate=Decimal(item["short_hourly_rate"]),
        gross_hourly=Decimal(item["gross_hourly"]),
        fees_fraction=Decimal(item["fees_fraction"]),
        net_hourly=Decimal(item["net_hourly"]),
        net_apr_pct=Decimal(item["net_apr_pct"]),
        price_divergence_pct=Decimal(item["price_divergence_pct"]),
        notes=tuple(str(n) for n in item.get("notes") or ()),
        lead_venue=str(item.get("lead_venue") or ""),
    )


def _time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _detail(body: bytes) -> str:
    """The error's own words from the service's error body, else its status only."""
    try:
        data = loads(body)
    except ValueError:
        return "no detail"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        if data.get("message"):
            return str(data["message"])[:200]
    return "no detail"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused"
        return exc.os_error.strerror or type(exc.os_error).__name__
    return type(exc).__name__
