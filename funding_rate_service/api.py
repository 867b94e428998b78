"""The funding-rate service's read-only HTTP API (FastAPI), under ``/api/v1``.

Why it looks like this:

* **Read-only, one contract.** Every route is a GET answering a model of
  :mod:`funding_rate_service.api_models` (declared as ``response_model``, so ``/openapi.json``
  is exact and fuzzed by schemathesis). Errors are the bots' control-API
  :class:`~bot_runtime.control_models.ErrorBody`: ``{"error": kind, "message": one line}``,
  with ``problems`` (one ``"location: reason"`` line each) on a 422.
* **Ranked as the strategy ranks.** Opportunities come from
  :mod:`funding_rate_service.opportunities`, i.e. the strategy's own ``scan``.
* **Token only where it matters.** On loopback the API is open (it shows public market data);
  bound elsewhere the runner refuses to start without a token (``__main__``), and with
  one every ``/api/v1`` route needs ``Authorization: Bearer <token>``. ``/health``
  (liveness) is always open.
* **Nothing leaks from a failure.** An unexpected exception is logged and answered with a
  generic 500; the database's error text never reaches a client (it may name hosts/users).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot_runtime.asgi_guard import InternalErrorGuard
from bot_runtime.control_api import ControlJSONResponse, describe_problem
from bot_runtime.control_auth import verify_token
from bot_runtime.control_models import ErrorBody, ErrorKind
from bot_runtime.strict_query import refuse_unknown_query
from core.clock import Clock, SystemClock
from core.redaction import scrub
from core.venues import VENUES, known_venue_names
from exchange_clients.types import HOURS_PER_YEAR
from funding_rate_service import chart
from funding_rate_service.api_models import (
    ChartDataView,
    CompareView,
    DatabaseHealth,
    HealthView,
    HistoryView,
    JobsView,
    JobView,
    Liveness,
    MetricsView,
    OpportunitiesView,
    OpportunityView,
    RateStatisticsView,
    RateView,
    SpreadPersistenceView,
    StatisticsView,
    VenueHealthView,
    VenueView,
)
from funding_rate_service.collector import VenueHealth
from funding_rate_service.history import Resolution, bucketize, pair_series
from funding_rate_service.opportunities import (
    DEFAULT_HOLD_HOURS,
    DEFAULT_LIMIT,
    DEFAULT_MAX_PRICE_DIVERGENCE_PCT,
    MAX_LIMIT,
    OpportunityBook,
    OpportunityQuery,
    QueryError,
    RankedOpportunity,
    SortKey,
)
from funding_rate_service.queries import DatabaseReader, LatestVersion, quote
from funding_rate_service.statistics import (
    SpreadPoint,
    apr_pct,
    rate_statistics,
    spread_persistence,
)
from funding_rate_service.status import StatusSource
from funding_rate_service.storage import FundingRecord

log = structlog.get_logger(__name__)

API_TITLE = "perpfleet funding-rate service"
API_VERSION = "1"
API_PREFIX = "/api/v1"
INTERNAL_ERROR_MESSAGE = "internal error; see the service's log"
DATABASE_UNAVAILABLE_MESSAGE = "the database is unavailable; see /api/v1/health"
HUNDRED = Decimal(100)

MAX_WINDOW = timedelta(days=3 * 366)
"""Longest time range one request may ask for (a 1 h series of three years: ~26k buckets)."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
STALE_AFTER_INTERVALS = 3
"""A venue whose last success is older than this many collection intervals is stale."""

_SYMBOL = r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}"
SYMBOL_PATTERN = rf"^{_SYMBOL}$"
SYMBOL_LIST_PATTERN = rf"^{_SYMBOL}(,{_SYMBOL})*$"
SymbolPath = Annotated[
    str, Path(pattern=SYMBOL_PATTERN, description="base asset, e.g. BTC (case-insensitive)")
]
_VENUE_NAMES = "|".join(re.escape(name) for name in known_venue_names())
VENUE_PATTERN = rf"^({_VENUE_NAMES})$"
VENUE_LIST_PATTERN = rf"^({_VENUE_NAMES})(,({_VENUE_NAMES}))*$"
VenuePath = Annotated[str, Path(pattern=VENUE_PATTERN, description="venue, e.g. hyperliquid")]
SymbolList = Annotated[
    list[Annotated[str, Query(pattern=SYMBOL_LIST_PATTERN, max_length=4000)]] | None,
    Query(description="repeat or comma-separate: BTC,ETH"),
]
VenueList = Annotated[
    list[Annotated[str, Query(pattern=VENUE_LIST_PATTERN)]] | None,
    Query(description="repeat or comma-separate: binance,hyperliquid"),
]
LongVenue = Annotated[str, Query(pattern=VENUE_PATTERN, description="the venue held long")]
ShortVenue = Annotated[str, Query(pattern=VENUE_PATTERN, description="the venue held short")]
ChartSymbol = Annotated[str, Query(pattern=SYMBOL_PATTERN, description="base asset, e.g. BTC")]
Start = Annotated[datetime | None, Query(description="ISO 8601, UTC when no offset given")]
End = Annotated[datetime | None, Query(description="ISO 8601, exclusive; default now")]


# --------------------------------------------------------------------------------------------
# Errors


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


_INVALID = _error("A query parameter does not validate (each problem on one line)")
_NOT_FOUND = _error("No rate collected for this symbol on this venue")
_UNAUTHORIZED = _error("A token is configured and the request does not carry it")
_UNAVAILABLE = _error("The database did not answer")


def _error_response(
    status: int,
    kind: ErrorKind,
    message: str,
    problems: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ControlJSONResponse:
    body: dict[str, Any] = {"error": kind.value, "message": scrub(message)}
    if problems is not None:
        body["problems"] = [scrub(p) for p in problems]
    extra = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = "Bearer"
    return ControlJSONResponse(body, status_code=status, headers=extra or None)


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def _on_query_error(_request: Request, exc: Exception) -> Response:
    message = str(exc)
    return _error_response(422, ErrorKind.INVALID_REQUEST, message, [message])


async def _on_not_found(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    return _error_response(404, ErrorKind.NOT_FOUND, exc.message)


async def _on_database_error(request: Request, exc: Exception) -> Response:
    """The database did not answer: 503, the kind of failure logged, its text never sent (it
    may name hosts and users)."""
    log.warning(
        "funding API: database unavailable", path=request.url.path, error=type(exc).__name__
    )
    return _error_response(503, ErrorKind.HTTP_ERROR, DATABASE_UNAVAILABLE_MESSAGE)


def _problem(error: Mapping[str, Any]) -> str:
    """One line per problem; a venue outside the catalogue names the venues there are (the
    pattern that refused it is the whole catalogue, unreadable as a message)."""
    pattern = (error.get("ctx") or {}).get("pattern")
    if error.get("type") == "string_pattern_mismatch" and pattern in (
        VENUE_PATTERN,
        VENUE_LIST_PATTERN,
    ):
        where = ".".join(str(part) for part in error.get("loc") or ())
        return (
            f"{where}: unknown venue in {str(error.get('input'))[:64]!r} "
            f"(known: {', '.join(known_venue_names())})"
        )
    return describe_problem(error)


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(error) for error in exc.errors()]
    count = len(problems)
    message = f"the request does not validate ({count} problem{'s' if count != 1 else ''})"
    return _error_response(422, ErrorKind.INVALID_REQUEST, message, problems)


_KINDS = {401: ErrorKind.UNAUTHORIZED, 404: ErrorKind.NOT_FOUND, 405: ErrorKind.METHOD_NOT_ALLOWED}


async def _on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = _KINDS.get(exc.status_code, ErrorKind.HTTP_ERROR)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = "no such endpoint (see /openapi.json)"
    else:
        message = exc.detail if isinstance(exc.detail, str) else kind.value.replace("_", " ")
    # exc.headers carries what the status requires (Allow on a 405)
    return _error_response(exc.status_code, kind, message, headers=exc.headers)


def _internal_error() -> ControlJSONResponse:
    return _error_response(500, ErrorKind.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE)


# --------------------------------------------------------------------------------------------
# Inputs


def split_list(values: list[str] | None, *, upper: bool = False) -> tuple[str, ...] | None:
    """``?x=a,b&x=c`` -> ``("a", "b", "c")``; ``None`` when the parameter is absent."""
    if values is None:
        return None
    items = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return tuple(item.upper() if upper else item for item in items)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def window(
    start: datetime | None, end: datetime | None, now: datetime, default: timedelta
) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC, checked: ordered, within years 2000-2200, at most
    :data:`MAX_WINDOW` long."""
    try:
        end_at = _utc(end) if end is not None else now
        start_at = _utc(start) if start is not None else end_at - default
    except (OverflowError, ValueError):
        raise QueryError("start/end: out of range") from None
    for name, value in (("start", start_at), ("end", end_at)):
        if not EARLIEST <= value <= LATEST:
            raise QueryError(f"{name}: {value.isoformat()} is outside 2000-01-01..2200-01-01")
    if start_at >= end_at:
        raise QueryError(f"start: {start_at.isoformat()} is not before end {end_at.isoformat()}")
    if end_at - start_at > MAX_WINDOW:
        raise QueryError(f"start/end: the range is longer than {MAX_WINDOW.days} days")
    return start_at, end_at


# --------------------------------------------------------------------------------------------
# Views


def rate_view(row: FundingRecord) -> RateView:
    hourly = row.hourly_rate
    return RateView(
        venue=row.venue,
        symbol=row.symbol,
        rate=row.rate_per_interval,
        interval_hours=row.interval_hours,
        hourly_rate=hourly,
        apr_pct=hourly * HOURS_PER_YEAR * HUNDRED,
        predicted_rate=row.predicted_rate,
        mark_price=row.mark_price,
        index_price=row.index_price,
        open_interest_usd=row.open_interest_usd,
        volume_24h_usd=row.volume_24h_usd,
        taker_fee=row.taker_fee,
        maker_fee=row.maker_fee,
        funding_time=row.funding_time,
        next_funding_time=row.next_funding_time,
        observed_at=row.observed_at,
    )


def opportunity_view(item: RankedOpportunity) -> OpportunityView:
    o = item.opportunity
    return OpportunityView(
        symbol=o.symbol,
        long_venue=o.long_venue,
        short_venue=o.short_venue,
        lead_venue=o.lead,
        long_hourly_rate=o.long_hourly_rate,
        short_hourly_rate=o.short_hourly_rate,
        gross_hourly=o.gross_hourly,
        gross_apr_pct=item.gross_apr_pct,
        fees_fraction=o.fees_fraction,
        net_hourly=o.net_hourly,
        net_apr_pct=o.net_apr_pct,
        price_divergence_pct=o.price_divergence_pct,
        long_volume_24h_usd=item.long.volume_24h_usd,
        short_volume_24h_usd=item.short.volume_24h_usd,
        long_open_interest_usd=item.long.open_interest_usd,
        short_open_interest_usd=item.short.open_interest_usd,
        oi_ratio=item.oi_ratio,
        notes=list(o.notes),
    )


def venue_health(state: VenueHealth, now: datetime, interval_seconds: float) -> VenueHealthView:
    """ok, pending (not tried yet), failing (never succeeded, or failing for longer than
    :data:`STALE_AFTER_INTERVALS` intervals) or stale (no success for that long)."""
    lag = state.lag_seconds(now)
    stale = lag is not None and lag > STALE_AFTER_INTERVALS * interval_seconds
    status: Literal["ok", "stale", "failing", "pending"]
    if state.last_attempt_at is None and state.last_success_at is None:
        status = "pending"
    elif state.last_success_at is None or (state.consecutive_failures > 0 and stale):
        status = "failing"
    elif stale:
        status = "stale"
    else:
        status = "ok"
    return VenueHealthView(
        venue=state.venue,
        status=status,
        last_success=state.last_success_at,
        last_attempt=state.last_attempt_at,
        lag_seconds=lag,
        consecutive_failures=state.consecutive_failures,
        last_error=scrub(state.last_error) if state.last_error else None,
        rows=state.rows,
        rejected=state.rejected,
        notes=[scrub(n) for n in state.notes],
    )


# --------------------------------------------------------------------------------------------
# The app


@dataclass
class ServiceContext:
    """What the routes read: the database, the collector's state, the clock - and the
    opportunity book of the latest set, rebuilt only when the set has changed."""

    reader: DatabaseReader
    status: StatusSource | None = None
    clock: Clock = field(default_factory=SystemClock)
    started: float = field(default_factory=time.monotonic)
    requests_served: int = 0
    _book: tuple[LatestVersion, OpportunityBook, datetime | None] | None = None
    _book_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def opportunity_book(self) -> tuple[OpportunityBook, datetime | None]:
        """The book of the current latest set and its newest observation. One aggregate query
        tells whether the set moved since the book was built; only then is it read again (and
        the scans redone, lazily, per hold and maker)."""
        version = await self.reader.latest_version()
        if self._book is None or self._book[0] != version:
            async with self._book_lock:
                if self._book is None or self._book[0] != version:
                    rows = await self.reader.latest()
                    book = OpportunityBook(q for r in rows if (q := quote(r)) is not None)
                    as_of = max((r.observed_at for r in rows), default=None)
                    self._book = (version, book, as_of)
        return self._book[1], self._book[2]

    async def warm(self) -> None:
        """Build the book of the latest set now, with the scans of the default hold (taker and
        maker entries) and of every hold the previous book was asked for: called after each
        collection, so the first request after it is answered from memory like the rest. The
        scan runs in a worker thread, so requests keep being served meanwhile."""
        previous = self._book[1].scanned() if self._book is not None else set()
        book, _ = await self.opportunity_book()
        keys = {(DEFAULT_HOLD_HOURS, False), (DEFAULT_HOLD_HOURS, True)} | previous
        async with self._book_lock:
            for hold, maker in sorted(keys):
                await asyncio.to_thread(book.ranked, hold, maker)
            await asyncio.to_thread(book.find, OpportunityQuery())  # the default question


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="opaque token",
    description="Required only when the service was started with a token.",
)


def _authenticator(token_hash: str) -> Callable[..., Awaitable[None]]:
    async def require_token(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            raise StarletteHTTPException(
                401, "missing bearer token (Authorization: Bearer <token>)"
            )
        if not verify_token(credentials, token_hash):
            raise StarletteHTTPException(401, "invalid bearer token")

    return require_token


def create_app(context: ServiceContext, *, token_hash: str | None = None) -> FastAPI:
    """The API over ``context``; with ``token_hash`` every /api/v1 route needs the token."""
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "Funding rates collected from every venue: latest, history, statistics and "
            "arbitrage opportunities ranked as the funding-arbitrage strategy ranks them. "
            "Rates, prices and USD amounts are JSON strings holding exact decimals; "
            "times are ISO 8601 (UTC)."
        ),
        default_response_class=ControlJSONResponse,
        generate_unique_id_function=lambda route: route.name,
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(InternalErrorGuard, service="funding API", answer=_internal_error)
    app.add_exception_handler(QueryError, _on_query_error)
    app.add_exception_handler(NotFound, _on_not_found)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(SQLAlchemyError, _on_database_error)
    app.add_exception_handler(OSError, _on_database_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        context.requests_served += 1
        return await call_next(request)

    @app.get("/health", response_model=Liveness, tags=["health"], summary="Liveness (no auth)")
    async def liveness() -> Liveness:
        return Liveness(status="ok")

    responses: dict[int | str, dict[str, Any]] = {422: _INVALID, 503: _UNAVAILABLE}
    if token_hash is not None:
        responses[401] = _UNAUTHORIZED
    api = APIRouter(
        prefix=API_PREFIX,
        # the bearer scheme is declared (and checked) only when a token is configured
        # the token first: a stranger learns nothing about the parameters (strict_query)
        dependencies=[
            *([Depends(_authenticator(token_hash))] if token_hash is not None else []),
            Depends(refuse_unknown_query),
        ],
        responses=responses,
    )
    reader = context.reader

    # -- venues and latest rates ---------------------------------------------------------------

    @api.get("/venues", response_model=list[VenueView], tags=["rates"])
    async def venues() -> list[VenueView]:
        """Every venue with a latest rate, and its symbols."""
        rows = await reader.latest()
        by_venue: dict[str, list[FundingRecord]] = {}
        for row in rows:
            by_venue.setdefault(row.venue, []).append(row)
        return [_venue_view(name, items) for name, items in sorted(by_venue.items())]

    @api.get("/venues/{venue}", response_model=VenueView, tags=["rates"])
    async def venue(venue: VenuePath) -> VenueView:
        """One venue of the catalogue and the symbols it has a latest rate for."""
        return _venue_view(venue, await reader.latest(venue=venue))

    @api.get("/rates", response_model=list[RateView], tags=["rates"])
    async def latest_rates(symbols: SymbolList = None) -> list[RateView]:
        """The latest rate of every venue and symbol (optionally only ``symbols``)."""
        wanted = split_list(symbols, upper=True)
        rows = await reader.latest()
        return [rate_view(r) for r in rows if wanted is None or r.symbol in wanted]

    @api.get(
        "/rates/{venue}",
        response_model=list[RateView],
        tags=["rates"],
    )
    async def venue_rates(venue: VenuePath) -> list[RateView]:
        """The latest rate of every symbol on ``venue``."""
        return [rate_view(r) for r in await reader.latest(venue=venue)]

    @api.get(
        "/rates/{venue}/{symbol}",
        response_model=RateView,
        tags=["rates"],
        responses={404: _NOT_FOUND},
    )
    async def venue_symbol_rate(venue: VenuePath, symbol: SymbolPath) -> RateView:
        """The latest rate of ``symbol`` on ``venue`` (404 when none was collected)."""
        rows = await reader.latest(venue=venue, symbol=symbol.upper())
        if not rows:
            raise NotFound(f"no rate collected for {symbol.upper()} on {venue}")
        return rate_view(rows[0])

    @api.get("/compare/{symbol}", response_model=CompareView, tags=["rates"])
    async def compare(symbol: SymbolPath) -> CompareView:
        """``symbol`` on every venue, cheapest to be long first, and the widest spread."""
        rows = sorted(
            await reader.latest(symbol=symbol.upper()), key=lambda r: (r.hourly_rate, r.venue)
        )
        if len(rows) < 2:
            return CompareView(symbol=symbol.upper(), rates=[rate_view(r) for r in rows])
        spread = rows[-1].hourly_rate - rows[0].hourly_rate
        return CompareView(
            symbol=symbol.upper(),
            rates=[rate_view(r) for r in rows],
            long_venue=rows[0].venue,
            short_venue=rows[-1].venue,
            spread_hourly=spread,
            spread_apr_pct=spread * HOURS_PER_YEAR * HUNDRED,
        )

    # -- history and statistics ----------------------------------------------------------------

    @api.get(
        "/history/{venue}/{symbol}",
        response_model=HistoryView,
        tags=["history"],
    )
    async def history(
        venue: VenuePath,
        symbol: SymbolPath,
        start: Start = None,
        end: End = None,
        resolution: Resolution = Resolution.HOUR,
    ) -> Response:
        """Mean hourly rate per bucket over ``[start, end)`` (default: the last 7 days)."""
        start_at, end_at = window(start, end, context.clock.now(), timedelta(days=7))
        buckets = await reader.buckets_json(venue, symbol.upper(), start_at, end_at, resolution)
        # The buckets arrive as the JSON text of HistoryBucketView[] (a year of hourly buckets
        # through pydantic was most of the request: see queries.history_buckets_json); the
        # envelope is the model's own serialization, so the answer is what the model says.
        head = HistoryView(
            venue=venue,
            symbol=symbol.upper(),
            resolution=resolution.value,
            start=start_at,
            end=end_at,
            buckets=[],
        ).model_dump_json()
        body = head.removesuffix('"buckets":[]}') + '"buckets":' + buckets + "}"
        return Response(body, media_type="application/json")

    @api.get("/statistics/{symbol}", response_model=StatisticsView, tags=["history"])
    async def statistics(
        symbol: SymbolPath,
        venues: VenueList = None,
        start: Start = None,
        end: End = None,
        resolution: Resolution = Resolution.HOUR,
    ) -> StatisticsView:
        """Per venue: mean, stdev, percentiles and share of time positive of the hourly rate;
        per pair of venues: how the spread persisted (default window: the last 30 days)."""
        wanted = split_list(venues)
        start_at, end_at = window(start, end, context.clock.now(), timedelta(days=30))
        rows = await reader.history(symbol.upper(), wanted, start_at, end_at)
        per_venue = []
        buckets = {}
        for name, items in sorted(rows.items()):
            summary = rate_statistics([float(r.hourly_rate) for r in items])
            if summary is None:
                continue
            per_venue.append(
                RateStatisticsView(
                    venue=name,
                    samples=summary.samples,
                    mean_hourly=summary.mean,
                    mean_apr_pct=apr_pct(summary.mean),
                    stdev_hourly=summary.stdev,
                    min_hourly=summary.minimum,
                    max_hourly=summary.maximum,
                    percentiles_hourly={f"p{p}": v for p, v in summary.percentiles.items()},
                    positive_share=summary.positive_share,
                )
            )
            buckets[name] = bucketize(items, resolution)
        pairs = [
            view
            for a, b in combinations(sorted(buckets), 2)
            if (view := _pair_persistence(a, b, buckets, resolution)) is not None
        ]
        pairs.sort(key=lambda p: (-p.positive_share, -p.mean_spread_hourly, p.long_venue))
        return StatisticsView(
            symbol=symbol.upper(),
            start=start_at,
            end=end_at,
            resolution=resolution.value,
            venues=per_venue,
            pairs=pairs,
        )

    # -- opportunities -------------------------------------------------------------------------

    async def _opportunities(
        query: OpportunityQuery,
    ) -> tuple[OpportunitiesView, list[RankedOpportunity]]:
        book, as_of = await context.opportunity_book()
        result = book.find(query)
        view = OpportunitiesView(
            as_of=as_of,
            venues=list(result.venues),
            matched=result.matched,
            opportunities=[opportunity_view(o) for o in result.opportunities],
        )
        return view, result.opportunities

    @api.get("/opportunities", response_model=OpportunitiesView, tags=["opportunities"])
    async def opportunities(
        query: Annotated[OpportunityQuery, Depends(_opportunity_query)],
    ) -> OpportunitiesView:
        """Pairs worth a hedged position now, best first (the strategy's own ranking)."""
        view, _ = await _opportunities(query)
        return view

    @api.get(
        "/opportunities/best",
        response_model=OpportunityView,
        tags=["opportunities"],
        responses={404: _error("No pair passes the filters")},
    )
    async def best_opportunity(
        query: Annotated[OpportunityQuery, Depends(_opportunity_query)],
    ) -> OpportunityView:
        """The single best pair under the same filters (404 when none passes)."""
        view, _ = await _opportunities(query)
        if not view.opportunities:
            raise NotFound("no pair passes the filters")
        return view.opportunities[0]

    @api.get(
        "/opportunities/symbol/{symbol}",
        response_model=OpportunitiesView,
        tags=["opportunities"],
    )
    async def symbol_opportunities(
        symbol: SymbolPath,
        query: Annotated[OpportunityQuery, Depends(_opportunity_query)],
    ) -> OpportunitiesView:
        """Every pair for one symbol under the same filters (``symbols`` is ignored)."""
        narrowed = dataclasses.replace(query, symbols=(symbol.upper(),))
        view, _ = await _opportunities(narrowed)
        return view

    # -- charts ----------------------------------------------------------------------------------

    async def _chart(
        symbol: str,
        long_venue: str,
        short_venue: str,
        start: datetime | None,
        end: datetime | None,
        resolution: Resolution,
    ) -> chart.PairChart:
        if long_venue == short_venue:
            raise QueryError("short_venue: must differ from long_venue")
        start_at, end_at = window(start, end, context.clock.now(), timedelta(days=30))
        rows = await reader.history(symbol.upper(), [long_venue, short_venue], start_at, end_at)
        return chart.pair_chart(
            symbol.upper(), long_venue, short_venue, rows, resolution, start_at, end_at
        )

    @api.get("/charts/spread", response_model=ChartDataView, tags=["charts"])
    async def chart_data(
        symbol: ChartSymbol,
        long_venue: LongVenue,
        short_venue: ShortVenue,
        start: Start = None,
        end: End = None,
        resolution: Resolution = Resolution.HOUR,
    ) -> ChartDataView:
        """A pair's spread per bucket and the carry it accumulated, as data for a dashboard."""
        pair = await _chart(symbol, long_venue, short_venue, start, end, resolution)
        return chart.chart_data(pair)

    @api.get(
        "/charts/spread.png",
        tags=["charts"],
        response_class=Response,
        responses={200: {"content": {"image/png": {}}, "description": "the chart as PNG"}},
    )
    async def chart_png(
        symbol: ChartSymbol,
        long_venue: LongVenue,
        short_venue: ShortVenue,
        start: Start = None,
        end: End = None,
        resolution: Resolution = Resolution.HOUR,
    ) -> Response:
        """The same chart as a PNG (for Telegram): spread APR and cumulative carry."""
        pair = await _chart(symbol, long_venue, short_venue, start, end, resolution)
        png = await asyncio.to_thread(chart.render_png, pair)
        return Response(png, media_type="image/png")

    # -- service status --------------------------------------------------------------------------

    @api.get(
        "/health",
        response_model=HealthView,
        tags=["status"],
        responses={503: {"model": HealthView, "description": "down: no database, or no venue"}},
    )
    async def health() -> Response:
        """ok, degraded (a venue stale or failing) or down (the database, or every venue)."""
        database = await _database_health(reader)
        now = context.clock.now()
        states = context.status.venue_health() if context.status else []
        interval = context.status.interval_seconds if context.status else 60.0
        venue_views = [venue_health(s, now, interval) for s in states]
        failing = [v for v in venue_views if v.status in ("failing", "stale")]
        if not database.ok or (venue_views and len(failing) == len(venue_views)):
            status = "down"
        elif failing:
            status = "degraded"
        else:
            status = "ok"
        view = HealthView(status=status, database=database, venues=venue_views)
        return ControlJSONResponse(
            view.model_dump(mode="json"), status_code=503 if status == "down" else 200
        )

    @api.get("/jobs", response_model=JobsView, tags=["status"])
    async def jobs() -> JobsView:
        """The collector's jobs: runs, failures, last run and its duration."""
        states = context.status.job_states() if context.status else []
        return JobsView(
            jobs=[
                JobView(
                    name=s.name,
                    interval_seconds=s.interval_seconds,
                    runs=s.runs,
                    last_run_at=s.last_run_at,
                    last_duration_seconds=s.last_duration_seconds,
                    last_error=scrub(s.last_error) if s.last_error else None,
                    details=s.details,
                )
                for s in states
            ]
        )

    @api.get("/metrics", response_model=MetricsView, tags=["status"])
    async def metrics() -> MetricsView:
        """Table sizes, coverage, and requests served."""
        counts = await reader.counts()
        latest = await reader.latest()
        return MetricsView(
            latest_rows=len(latest),
            history_rows=counts.history_rows,
            oldest=counts.oldest,
            newest=counts.newest,
            venues=len({r.venue for r in latest}),
            symbols=len({r.symbol for r in latest}),
            requests_served=context.requests_served,
            uptime_seconds=time.monotonic() - context.started,
        )

    app.include_router(api)
    return app


def _venue_view(name: str, rows: list[FundingRecord]) -> VenueView:
    catalogue = VENUES[name]
    return VenueView(
        name=name,
        display_name=catalogue.display_name,
        kind=catalogue.kind,
        symbols=sorted({r.symbol for r in rows}),
        last_update=max((r.observed_at for r in rows), default=None),
    )


def _pair_persistence(
    a: str, b: str, buckets: dict[str, Any], resolution: Resolution
) -> SpreadPersistenceView | None:
    """The pair oriented so its mean spread earns (long the venue that is cheaper on average)."""
    series = pair_series(buckets[a], buckets[b], resolution)
    if not series:
        return None
    mean = sum((p.spread for p in series), Decimal(0)) / len(series)
    long, short = (a, b) if mean >= 0 else (b, a)
    points = [
        SpreadPoint(p.start, float(p.long_rate), float(p.short_rate))
        if long == a
        else SpreadPoint(p.start, float(p.short_rate), float(p.long_rate))
        for p in series
    ]
    hours = float(resolution.hours)
    result = spread_persistence(points, hours)
    assert result is not None
    return SpreadPersistenceView(
        long_venue=long,
        short_venue=short,
        samples=result.samples,
        bucket_hours=hours,
        mean_spread_hourly=result.mean_spread,
        mean_spread_apr_pct=apr_pct(result.mean_spread),
        stdev_spread_hourly=result.stdev_spread,
        positive_share=result.positive_share,
        current_sign=result.current_sign,
        current_run_hours=result.current_run_hours,
        longest_positive_run_hours=result.longest_positive_run_buckets * hours,
        sign_flips=result.sign_flips,
        lag1_autocorrelation=result.lag1_autocorrelation,
    )


async def _database_health(reader: DatabaseReader) -> DatabaseHealth:
    started = time.perf_counter()
    try:
        await reader.ping()
    except Exception as exc:  # any failure is "down"; its text may name hosts: type only
        log.warning("database health check failed", error=type(exc).__name__)
        return DatabaseHealth(ok=False, backend=reader.backend, error=type(exc).__name__)
    return DatabaseHealth(
        ok=True, backend=reader.backend, latency_ms=(time.perf_counter() - started) * 1e3
    )


def _opportunity_query(
    symbols: SymbolList = None,
    venues: VenueList = None,
    required_venue: Annotated[str | None, Query(pattern=VENUE_PATTERN)] = None,
    exclude_venues: VenueList = None,
    exclude_symbols: SymbolList = None,
    min_net_apr_pct: Annotated[Decimal, Query(ge=0, le=1_000_000)] = Decimal(0),
    hold_hours: Annotated[
        Decimal, Query(gt=0, le=100_000, description="fees amortised over this hold")
    ] = DEFAULT_HOLD_HOURS,
    maker: Annotated[bool, Query(description="maker entries on the lead leg")] = False,
    min_volume_24h_usd: Annotated[Decimal, Query(ge=0)] = Decimal(0),
    max_volume_24h_usd: Annotated[Decimal | None, Query(ge=0)] = None,
    min_open_interest_usd: Annotated[Decimal, Query(ge=0)] = Decimal(0),
    max_open_interest_usd: Annotated[Decimal | None, Query(ge=0)] = None,
    min_oi_ratio: Annotated[Decimal | None, Query(ge=0, le=1)] = None,
    min_spread_apr_pct: Annotated[
        Decimal | None, Query(description="minimum gross funding spread, APR %")
    ] = None,
    max_price_divergence_pct: Annotated[
        Decimal, Query(gt=0, le=100)
    ] = DEFAULT_MAX_PRICE_DIVERGENCE_PCT,
    sort: SortKey = SortKey.NET_APR,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> OpportunityQuery:
    """The opportunity filters as query parameters (bad combinations: 422 naming the field)."""
    return OpportunityQuery(
        symbols=split_list(symbols, upper=True),
        venues=split_list(venues),
        required_venue=required_venue,
        exclude_venues=split_list(exclude_venues) or (),
        exclude_symbols=split_list(exclude_symbols, upper=True) or (),
        min_net_apr_pct=min_net_apr_pct,
        hold_hours=hold_hours,
        maker=maker,
        min_volume_24h_usd=min_volume_24h_usd,
        max_volume_24h_usd=max_volume_24h_usd,
        min_open_interest_usd=min_open_interest_usd,
        max_open_interest_usd=max_open_interest_usd,
        min_oi_ratio=min_oi_ratio,
        min_spread_apr_pct=min_spread_apr_pct,
        max_price_divergence_pct=max_price_divergence_pct,
        sort=sort,
        limit=limit,
    )
