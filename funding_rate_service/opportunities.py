"""Opportunities from the latest collected rates, ranked exactly as the strategy ranks them.

The pricing and the market-quality filters are the strategy's own
(:func:`strategies.funding_arbitrage.opportunities.scan` over :class:`VenueQuote`), so a pair
the service shows is a pair a funding-arbitrage bot with the same parameters would consider,
with the same net APR to the last digit. What the service adds is only what a reader of a
table needs and a bot's config does not hold: excluding venues or symbols, upper bounds on
volume and open interest, a minimum ratio between the two legs' open interest, a minimum gross
spread, another sort order and a limit. Those are applied *after* the scan and never change
the numbers of a pair, only which pairs are shown and in what order.

An :class:`OpportunityQuery` that cannot be answered (an unknown venue, a required venue that
is excluded, bounds that cross) raises :class:`QueryError` with one line saying which field
and why; the API turns it into a 422.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from core.venues import known_venue_names
from exchange_clients.types import HOURS_PER_YEAR
from strategies.funding_arbitrage.opportunities import Opportunity, VenueQuote, scan
from strategies.funding_arbitrage.params import FundingArbitrageParams

HUNDRED = Decimal(100)
DEFAULT_HOLD_HOURS = Decimal(72)
DEFAULT_MAX_PRICE_DIVERGENCE_PCT = Decimal("0.5")
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
# The scan needs a margin to size nothing; the service never sizes, so any positive value does.
_UNUSED_MARGIN = Decimal(1)


class QueryError(ValueError):
    """A query that cannot be answered as asked; ``str()`` is one line naming the field."""


class SortKey(StrEnum):
    """How opportunities are ordered (``net_apr`` is the strategy's own ranking)."""

    NET_APR = "net_apr"
    GROSS_APR = "gross_apr"
    VOLUME = "volume"  # the smaller leg's 24 h volume, highest first
    OPEN_INTEREST = "open_interest"  # the smaller leg's open interest, highest first
    DIVERGENCE = "divergence"  # price divergence between the venues, lowest first


@dataclass(frozen=True)
class OpportunityQuery:
    """Which pairs to show. ``None`` bounds are not applied; percentages are written as percent.

    ``venues`` defaults to every venue with a latest rate; ``required_venue`` must be one leg
    of every pair; ``min_net_apr_pct`` is net of round-trip fees amortised over
    ``hold_hours``; ``min_oi_ratio`` is the smaller leg's open interest over the larger's
    (0..1); ``min_spread_apr_pct`` bounds the gross funding spread (before fees).
    """

    symbols: tuple[str, ...] | None = None
    venues: tuple[str, ...] | None = None
    required_venue: str | None = None
    exclude_venues: tuple[str, ...] = ()
    exclude_symbols: tuple[str, ...] = ()
    min_net_apr_pct: Decimal = Decimal(0)
    hold_hours: Decimal = DEFAULT_HOLD_HOURS
    maker: bool = False
    min_volume_24h_usd: Decimal = Decimal(0)
    max_volume_24h_usd: Decimal | None = None
    min_open_interest_usd: Decimal = Decimal(0)
    max_open_interest_usd: Decimal | None = None
    min_oi_ratio: Decimal | None = None
    min_spread_apr_pct: Decimal | None = None
    max_price_divergence_pct: Decimal = DEFAULT_MAX_PRICE_DIVERGENCE_PCT
    sort: SortKey = SortKey.NET_APR
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        known = set(known_venue_names())
        named = [("venues", v) for v in self.venues or ()] + [
            ("exclude_venues", v) for v in self.exclude_venues
        ]
        if self.required_venue is not None:
            named.append(("required_venue", self.required_venue))
        for where, venue in named:
            if venue not in known:
                raise QueryError(
                    f"{where}: unknown venue {venue!r} (known: {', '.join(sorted(known))})"
                )
        if self.required_venue in self.exclude_venues:
            raise QueryError(f"required_venue: {self.required_venue} is also in exclude_venues")
        if self.venues is not None and self.required_venue not in (None, *self.venues):
            raise QueryError(f"required_venue: {self.required_venue} is not one of venues")
        for name, low, high in (
            ("volume_24h_usd", self.min_volume_24h_usd, self.max_volume_24h_usd),
            ("open_interest_usd", self.min_open_interest_usd, self.max_open_interest_usd),
        ):
            if low < 0:
                raise QueryError(f"min_{name}: must be >= 0, not {low}")
            if high is not None and high < low:
                raise QueryError(f"max_{name}: {high} is below min_{name} {low}")
        if self.min_oi_ratio is not None and not 0 <= self.min_oi_ratio <= 1:
            raise QueryError(f"min_oi_ratio: must be within 0..1, not {self.min_oi_ratio}")
        if self.hold_hours <= 0:
            raise QueryError(f"hold_hours: must be > 0, not {self.hold_hours}")
        if self.min_net_apr_pct < 0:
            raise QueryError(f"min_net_apr_pct: must be >= 0, not {self.min_net_apr_pct}")
        if not 0 < self.max_price_divergence_pct <= 100:
            raise QueryError(
                f"max_price_divergence_pct: must be within (0, 100], "
                f"not {self.max_price_divergence_pct}"
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit: must be within 1..{MAX_LIMIT}, not {self.limit}")

    def params(self, venues: Sequence[str]) -> FundingArbitrageParams:
        """The strategy parameters that make :func:`scan` apply this query's filters."""
        return FundingArbitrageParams(
            venues=list(venues),
            symbols=list(self.symbols) if self.symbols is not None else None,
            target_margin_usd=_UNUSED_MARGIN,
            min_net_apr_pct=self.min_net_apr_pct,
            expected_hold_hours=self.hold_hours,
            min_volume_24h_usd=self.min_volume_24h_usd,
            min_open_interest_usd=self.min_open_interest_usd,
            max_price_divergence_pct=self.max_price_divergence_pct,
            # The latest set holds mark prices, not books: no bid/ask spread to bound.
            max_spread_pct=HUNDRED,
            mandatory_venue=self.required_venue,
        )


@dataclass(frozen=True)
class RankedOpportunity:
    """A pair the strategy would consider, with both legs' liquidity for the reader.

    Derived figures are computed once (a book answers many queries from the same items)."""

    opportunity: Opportunity
    long: VenueQuote
    short: VenueQuote

    @cached_property
    def gross_apr_pct(self) -> Decimal:
        return self.opportunity.gross_hourly * HOURS_PER_YEAR * HUNDRED

    @cached_property
    def min_volume_24h_usd(self) -> Decimal | None:
        return _smaller(self.long.volume_24h_usd, self.short.volume_24h_usd)

    @cached_property
    def min_open_interest_usd(self) -> Decimal | None:
        return _smaller(self.long.open_interest_usd, self.short.open_interest_usd)

    @cached_property
    def oi_ratio(self) -> Decimal | None:
        """Smaller leg's open interest over the larger's: 1 = balanced, near 0 = one thin leg."""
        low = self.min_open_interest_usd
        high = _larger(self.long.open_interest_usd, self.short.open_interest_usd)
        if low is None or high is None or high <= 0:
            return None
        return low / high


@dataclass(frozen=True)
class OpportunityResult:
    """The pairs shown (best first, at most ``limit``) and how many matched before the limit."""

    opportunities: list[RankedOpportunity]
    matched: int
    venues: tuple[str, ...]


SymbolIndex = dict[str, list[tuple[int, RankedOpportunity]]]
"""The ranked pairs of each symbol, with their rank in the whole scan."""

MAX_CACHED_SCANS = 8
"""Distinct (hold, maker) scans one book keeps; every other filter reuses them."""
MAX_CACHED_ANSWERS = 256
"""Distinct queries one book remembers the answer of."""


class OpportunityBook:
    """One latest set's quotes and the strategy's scans of them, each computed once.

    The strategy prices a pair from its two quotes alone, so a narrower query (fewer symbols or
    venues, a required venue, a higher APR floor, volume/OI minimums, a tighter price
    divergence) selects a subsequence of the widest scan - the same pairs with the same numbers
    in the same order as a scan with those parameters would give (the scan's ranking is a
    total order; a subsequence of a sorted list is sorted). Only the hold and maker entries
    change the numbers, so one scan per (hold, maker) serves every query: a request costs a
    pass over the ranked pairs, not a scan of every pair of every symbol.
    """

    def __init__(self, quotes: Iterable[VenueQuote]) -> None:
        self.quotes = tuple(quotes)
        self._by_key = {(q.symbol, q.venue): q for q in self.quotes}
        self._venues = sorted({q.venue for q in self.quotes})
        self._scans: dict[tuple[Decimal, bool], list[RankedOpportunity]] = {}
        self._indexes: dict[tuple[Decimal, bool], SymbolIndex] = {}
        self._answers: dict[OpportunityQuery, OpportunityResult] = {}

    def scanned(self) -> set[tuple[Decimal, bool]]:
        """The (hold, maker) pairs scanned so far (what readers asked for)."""
        return set(self._scans)

    def ranked(self, hold_hours: Decimal, maker: bool) -> list[RankedOpportunity]:
        """Every pair with a positive net APR, best first (the scan's own order)."""
        key = (hold_hours, maker)
        cached = self._scans.get(key)
        if cached is not None:
            return cached
        ranked: list[RankedOpportunity] = []
        if len(self._venues) >= 2:
            widest = OpportunityQuery(hold_hours=hold_hours, max_price_divergence_pct=HUNDRED)
            result = scan(self.quotes, widest.params(self._venues), maker=maker)
            ranked = [
                RankedOpportunity(
                    o,
                    self._by_key[(o.symbol, o.long_venue)],
                    self._by_key[(o.symbol, o.short_venue)],
                )
                for o in result.opportunities
            ]
        if len(self._scans) >= MAX_CACHED_SCANS:
            oldest = next(iter(self._scans))
            self._scans.pop(oldest)
            self._indexes.pop(oldest, None)
        self._scans[key] = ranked
        return ranked

    def find(self, query: OpportunityQuery) -> OpportunityResult:
        """The pairs ``query`` selects, in its order, at most ``query.limit`` of them.

        Answers are kept (:data:`MAX_CACHED_ANSWERS`): the same question - a bot or a chat
        polling its filters - is answered from memory until the latest set moves."""
        answer = self._answers.get(query)
        if answer is None:
            answer = self._find(query)
            if len(self._answers) >= MAX_CACHED_ANSWERS:
                self._answers.pop(next(iter(self._answers)))
            self._answers[query] = answer
        return answer

    def _find(self, query: OpportunityQuery) -> OpportunityResult:
        excluded_symbols = {s.upper() for s in query.exclude_symbols}
        present = sorted(
            {
                q.venue
                for q in self.quotes
                if q.venue not in query.exclude_venues and q.symbol not in excluded_symbols
            }
        )
        venues = tuple(
            v for v in (query.venues if query.venues is not None else present) if v in present
        )
        if len(venues) < 2 or (
            query.required_venue is not None and query.required_venue not in venues
        ):
            return OpportunityResult([], 0, venues)
        symbols = {s.upper() for s in query.symbols} if query.symbols is not None else None
        checks = _checks(query, set(venues) if len(venues) < len(self._venues) else None)
        candidates = self.ranked(query.hold_hours, query.maker)
        if symbols is not None:
            by_symbol = self._by_symbol(query.hold_hours, query.maker)
            ordered = sorted(
                (entry for s in symbols for entry in by_symbol.get(s, ())), key=lambda e: e[0]
            )
            candidates = [item for _, item in ordered]
        shown = (
            [r for r in candidates if all(check(r) for check in checks)]
            if checks
            else list(candidates)
        )
        _order(shown, query.sort)
        return OpportunityResult(shown[: query.limit], matched=len(shown), venues=venues)

    def _by_symbol(self, hold_hours: Decimal, maker: bool) -> SymbolIndex:
        """The ranked pairs per symbol, with their rank (to merge several symbols in order)."""
        key = (hold_hours, maker)
        index = self._indexes.get(key)
        if index is None:
            index = {}
            for rank, item in enumerate(self.ranked(hold_hours, maker)):
                index.setdefault(item.opportunity.symbol, []).append((rank, item))
            self._indexes[key] = index
        return index


def find_opportunities(quotes: Iterable[VenueQuote], query: OpportunityQuery) -> OpportunityResult:
    """Scan ``quotes`` with the strategy's pricing, then apply the query's extra filters."""
    return OpportunityBook(quotes).find(query)


Check = Callable[[RankedOpportunity], bool]


def _checks(query: OpportunityQuery, venues: set[str] | None) -> list[Check]:
    """The query's filters that are active, as checks on a pair of the widest scan (a default
    query runs one: the price divergence).

    First the strategy's own - what :func:`scan` with ``query.params(venues)`` refuses
    (``_evaluate`` / ``_check_quote``): venues, excluded symbols, the required venue, the APR
    floor, the price divergence, volume and open-interest minimums (a figure the venue does not
    report fails any minimum above 0: unknown is not a pass). Then the reader's: upper bounds
    (an unknown figure cannot be checked against one: refused), the OI ratio, the gross spread.
    """
    checks: list[Check] = []
    if venues is not None:
        checks.append(
            lambda r: r.opportunity.long_venue in venues and r.opportunity.short_venue in venues
        )
    excluded = {s.upper() for s in query.exclude_symbols}
    if excluded:
        checks.append(lambda r: r.opportunity.symbol not in excluded)
    required = query.required_venue
    if required is not None:
        checks.append(lambda r: required in (r.opportunity.long_venue, r.opportunity.short_venue))
    floor = query.min_net_apr_pct
    if floor > 0:
        checks.append(lambda r: r.opportunity.net_apr_pct >= floor)
    divergence = query.max_price_divergence_pct
    if divergence < HUNDRED:
        checks.append(lambda r: r.opportunity.price_divergence_pct <= divergence)
    volume, interest = query.min_volume_24h_usd, query.min_open_interest_usd
    if volume > 0:
        checks.append(lambda r: _at_least(r.min_volume_24h_usd, volume))
    if interest > 0:
        checks.append(lambda r: _at_least(r.min_open_interest_usd, interest))
    max_volume, max_interest = query.max_volume_24h_usd, query.max_open_interest_usd
    if max_volume is not None:
        checks.append(
            lambda r: _at_most(_larger(r.long.volume_24h_usd, r.short.volume_24h_usd), max_volume)
        )
    if max_interest is not None:
        checks.append(
            lambda r: _at_most(
                _larger(r.long.open_interest_usd, r.short.open_interest_usd), max_interest
            )
        )
    ratio = query.min_oi_ratio
    if ratio is not None:
        checks.append(lambda r: _at_least(r.oi_ratio, ratio))
    spread = query.min_spread_apr_pct
    if spread is not None:
        checks.append(lambda r: r.gross_apr_pct >= spread)
    return checks


def _at_least(value: Decimal | None, bound: Decimal) -> bool:
    return value is not None and value >= bound


def _at_most(value: Decimal | None, bound: Decimal) -> bool:
    return value is not None and value <= bound


def _order(items: list[RankedOpportunity], sort: SortKey) -> None:
    """Re-order in place; :attr:`SortKey.NET_APR` keeps the scan's order untouched. Ties keep
    the scan's order (the sort is stable), so every order is deterministic."""
    if sort is SortKey.GROSS_APR:
        items.sort(key=lambda r: -r.gross_apr_pct)
    elif sort is SortKey.VOLUME:
        items.sort(key=lambda r: _descending(r.min_volume_24h_usd))
    elif sort is SortKey.OPEN_INTEREST:
        items.sort(key=lambda r: _descending(r.min_open_interest_usd))
    elif sort is SortKey.DIVERGENCE:
        items.sort(key=lambda r: r.opportunity.price_divergence_pct)


def _descending(value: Decimal | None) -> tuple[bool, Decimal]:
    """Highest first, unknown figures last."""
    return (value is None, -value if value is not None else Decimal(0))


def _smaller(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else min(a, b)


def _larger(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else max(a, b)
