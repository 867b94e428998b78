"""Which funding spreads are worth a hedged pair, and how big the pair should be (pure, no I/O).

The strategy goes long a symbol where funding is cheap and short where it is expensive, so the
pair is market-neutral and earns ``short_hourly - long_hourly`` per hour on each unit of
notional. Venues pay funding every 1 h or every 8 h, so rates are compared per hour
(``FundingRate.hourly_rate``).

Fees are paid once per round trip (an entry and an exit on each leg), not every funding
interval, so they are amortised over ``expected_hold_hours``: a spread that would look
unprofitable if the whole round trip were charged against a single interval can still pay
handsomely over a three-day hold. With taker entries every leg is charged its taker fee; with
maker entries (``scan(..., maker=True)``) the pair's *lead* leg - the one whose venue saves
most by resting, :attr:`Opportunity.lead_venue` - is charged its maker fee, and the leg that
follows it its taker fee (it crosses when its maker attempts fail). Market-quality filters
(volume, open interest, bid/ask spread, price divergence between the venues, a mandatory venue)
keep the strategy away from books it could not enter and leave cheaply; a filter that is set
and a venue that does not report its figure refuse the pair - an unknown is not a pass. Every
pair that is not taken gets a :class:`Rejection` with the numbers behind it, so an operator can
see why nothing traded.

The scan is deterministic: the same quotes in any order give the same result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import FrozenInstanceError, dataclass
from decimal import Decimal
from functools import partial
from itertools import combinations, islice
from operator import attrgetter, eq, itemgetter
from typing import Any, Generic, TypeVar, overload

from exchange_clients.types import HOURS_PER_YEAR, FundingRate, Market
from execution.atomic.sizing import common_step, tradable_size
from strategies.funding_arbitrage.params import FundingArbitrageParams

ZERO = Decimal(0)
HUNDRED = Decimal(100)
TWO = Decimal(2)
# Per hour to percent a year in one multiplication: ``x * 876000`` is ``x * 8760 * 100`` digit
# for digit (both integers, exponent 0: the product's digits are the same whether the two
# trailing zeros come in one step or two, rounded or not).
_APR_PCT = HOURS_PER_YEAR * HUNDRED
_T = TypeVar("_T")


_V = TypeVar("_V")


def _frozen(cls: type[_T], fields: dict[str, Any]) -> _T:
    """An instance of the frozen dataclass ``cls`` holding ``fields`` (every field, as its
    constructor would set them), set in one go instead of one frozen ``__setattr__`` each;
    the caller runs ``__post_init__`` where the class has one."""
    instance = object.__new__(cls)
    object.__setattr__(instance, "__dict__", fields)
    return instance


class _once(Generic[_V]):
    """A property worked out on first use and kept in the instance (``functools.
    cached_property`` without the lock Python 3.11 takes on every first use: a scan reads
    four of these on each of hundreds of quotes every step)."""

    def __init__(self, func: Callable[[Any], _V]) -> None:
        self._func = func
        self._name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _once[_V]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _V: ...

    def __get__(self, instance: object, owner: type | None = None) -> _V | _once[_V]:
        if instance is None:
            return self
        value = self._func(instance)
        instance.__dict__[self._name] = value  # found before this descriptor from now on
        return value


@dataclass(frozen=True)
class VenueQuote:
    """What one venue shows for one symbol at scan time.

    ``taker_fee`` and ``maker_fee`` are fractions of notional (0.0005 = 0.05 %; a maker
    rebate is negative); ``maker_fee`` is ``None`` when unknown (maker legs are then charged
    the taker fee). ``volume_24h_usd`` and ``open_interest_usd`` are ``None`` when the venue
    does not report them; a pair on that venue is then refused when the matching filter is set.
    """

    venue: str
    symbol: str
    funding: FundingRate
    best_bid: Decimal
    best_ask: Decimal
    taker_fee: Decimal
    volume_24h_usd: Decimal | None = None
    open_interest_usd: Decimal | None = None
    maker_fee: Decimal | None = None

    def __post_init__(self) -> None:
        if self.funding.venue != self.venue or self.funding.symbol != self.symbol:
            raise ValueError(
                f"{self.venue} {self.symbol}: funding is for {self.funding.venue} "
                f"{self.funding.symbol}"
            )
        if self.best_bid <= 0 or self.best_ask < self.best_bid:
            raise ValueError(
                f"{self.venue} {self.symbol}: bad book, bid {self.best_bid} ask {self.best_ask}"
            )
        if self.taker_fee < 0:
            raise ValueError(
                f"{self.venue} {self.symbol}: taker fee cannot be negative, not {self.taker_fee}"
            )

    @classmethod
    def _read(
        cls,
        venue: str,
        symbol: str,
        funding: FundingRate,
        best_bid: Decimal,
        best_ask: Decimal,
        taker_fee: Decimal,
        volume_24h_usd: Decimal | None,
        open_interest_usd: Decimal | None,
        maker_fee: Decimal | None,
    ) -> VenueQuote:
        """The constructor's instance (every field given, checked the same way), with its
        fields set in one go instead of one frozen ``__setattr__`` each: a scan reads hundreds
        of quotes every step (1.2 -> 0.5 us each)."""
        quote = _frozen(
            cls,
            {
                "venue": venue,
                "symbol": symbol,
                "funding": funding,
                "best_bid": best_bid,
                "best_ask": best_ask,
                "taker_fee": taker_fee,
                "volume_24h_usd": volume_24h_usd,
                "open_interest_usd": open_interest_usd,
                "maker_fee": maker_fee,
            },
        )
        quote.__post_init__()
        return quote

    # The figures below are cached: a scan reads each quote's in every pair it is part of
    # (seven pairs a symbol on eight venues, every step).

    @_once
    def hourly_rate(self) -> Decimal:
        """The funding per hour (:attr:`FundingRate.hourly_rate`)."""
        return self.funding.hourly_rate

    @_once
    def mid(self) -> Decimal:
        return (self.best_bid + self.best_ask) / TWO

    @property
    def maker_or_taker_fee(self) -> Decimal:
        """The fee a resting order pays here (the taker fee when the venue does not say)."""
        return self.taker_fee if self.maker_fee is None else self.maker_fee

    @_once
    def maker_saving(self) -> Decimal:
        """What resting instead of crossing saves per unit notional."""
        return self.taker_fee - self.maker_or_taker_fee

    @_once
    def spread_pct(self) -> Decimal:
        """Bid/ask spread as a percent of the mid."""
        return (self.best_ask - self.best_bid) / self.mid * HUNDRED


@dataclass(frozen=True)
class Opportunity:
    """A profitable, tradable pair: long ``long_venue``, short ``short_venue``.

    All rates are fractions of one leg's notional. ``lead_venue`` is the leg a maker entry
    starts with (see the module doc); ``notes`` lists assumptions made for want of a figure
    (a maker fee not reported, charged at the taker fee).
    """

    symbol: str
    long_venue: str
    short_venue: str
    long_hourly_rate: Decimal
    short_hourly_rate: Decimal
    gross_hourly: Decimal  # short_hourly_rate - long_hourly_rate
    # entry + exit fees on both legs: 2 * (taker_long + taker_short) with taker entries,
    # 2 * (maker_lead + taker_other) with maker entries
    fees_fraction: Decimal
    net_hourly: Decimal  # gross_hourly - fees_fraction / expected_hold_hours
    net_apr_pct: Decimal  # net_hourly * 8760 * 100
    price_divergence_pct: Decimal  # |mid_long - mid_short| / average mid * 100
    notes: tuple[str, ...] = ()
    lead_venue: str = ""  # set by scan; "" only for hand-built opportunities (= long_venue)

    @property
    def lead(self) -> str:
        return self.lead_venue or self.long_venue

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.symbol, self.long_venue, self.short_venue)

    @classmethod
    def _priced(
        cls,
        symbol: str,
        long_venue: str,
        short_venue: str,
        long_hourly_rate: Decimal,
        short_hourly_rate: Decimal,
        gross_hourly: Decimal,
        fees_fraction: Decimal,
        net_hourly: Decimal,
        net_apr_pct: Decimal,
        price_divergence_pct: Decimal,
        notes: tuple[str, ...],
        lead_venue: str,
    ) -> Opportunity:
        """The same instance as the constructor's (every field given), with its fields set in
        one go instead of one frozen ``__setattr__`` each: a scan prices hundreds of pairs
        every step and most of them pay (1.9 -> 0.4 us each)."""
        return _frozen(
            cls,
            {
                "symbol": symbol,
                "long_venue": long_venue,
                "short_venue": short_venue,
                "long_hourly_rate": long_hourly_rate,
                "short_hourly_rate": short_hourly_rate,
                "gross_hourly": gross_hourly,
                "fees_fraction": fees_fraction,
                "net_hourly": net_hourly,
                "net_apr_pct": net_apr_pct,
                "price_divergence_pct": price_divergence_pct,
                "notes": notes,
                "lead_venue": lead_venue,
            },
        )


Reason = str | Callable[[], str]
"""A rejection reason, or what writes it when it is read."""


class Rejection:
    """A pair that was considered and not taken; ``reason`` carries the numbers.

    When several filters fail, their reasons are joined with ``"; "``. ``wide_spread_venues``
    names the venues refused for their bid/ask spread (the strategy cools them down).

    Immutable, compared and hashed by its fields like a frozen dataclass. A scan rejects most
    of the pairs it prices every step (hundreds) and almost nobody reads why, so the scan
    hands over what writes ``reason`` (:meth:`deferred`) and the text is written on first
    read - the same text.
    """

    __slots__ = (
        "_reasons",
        "_text",
        "long_venue",
        "notes",
        "short_venue",
        "symbol",
        "wide_spread_venues",
    )

    symbol: str
    long_venue: str
    short_venue: str
    notes: tuple[str, ...]
    wide_spread_venues: tuple[str, ...]
    _text: str | None
    _reasons: tuple[Reason, ...]

    def __init__(
        self,
        symbol: str,
        long_venue: str,
        short_venue: str,
        reason: str,
        notes: tuple[str, ...] = (),
        wide_spread_venues: tuple[str, ...] = (),
    ) -> None:
        self._set(symbol, long_venue, short_venue, notes, wide_spread_venues, reason, ())

    @classmethod
    def deferred(
        cls,
        symbol: str,
        long_venue: str,
        short_venue: str,
        reasons: tuple[Reason, ...],
        notes: tuple[str, ...] = (),
        wide_spread_venues: tuple[str, ...] = (),
    ) -> Rejection:
        """A rejection whose ``reason`` is ``reasons`` written and joined when first read."""
        rejection = cls.__new__(cls)
        rejection._set(symbol, long_venue, short_venue, notes, wide_spread_venues, None, reasons)
        return rejection

    def _set(
        self,
        symbol: str,
        long_venue: str,
        short_venue: str,
        notes: tuple[str, ...],
        wide_spread_venues: tuple[str, ...],
        text: str | None,
        reasons: tuple[Reason, ...],
    ) -> None:
        put = object.__setattr__
        put(self, "symbol", symbol)
        put(self, "long_venue", long_venue)
        put(self, "short_venue", short_venue)
        put(self, "notes", notes)
        put(self, "wide_spread_venues", wide_spread_venues)
        put(self, "_text", text)
        put(self, "_reasons", reasons)

    @property
    def reason(self) -> str:
        text: str | None = self._text
        if text is None:
            text = "; ".join(r if isinstance(r, str) else r() for r in self._reasons)
            object.__setattr__(self, "_text", text)
            object.__setattr__(self, "_reasons", ())
        return text

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _fields(self) -> tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]:
        return (
            self.symbol,
            self.long_venue,
            self.short_venue,
            self.reason,
            self.notes,
            self.wide_spread_venues,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Rejection)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Rejection(symbol={self.symbol!r}, long_venue={self.long_venue!r}, "
            f"short_venue={self.short_venue!r}, reason={self.reason!r}, notes={self.notes!r}, "
            f"wide_spread_venues={self.wide_spread_venues!r})"
        )


_Refused = tuple[str, str, str, tuple[Reason, ...], tuple[str, ...], tuple[str, ...]]
"""A refused pair as :meth:`Rejection.deferred` takes it: (symbol, long venue, short venue,
reasons, notes, wide-spread venues)."""


class ScanResult:
    """Opportunities ranked best first, and every rejected pair (sorted by key).

    Immutable, compared like a frozen dataclass of its two lists. The rejections are made (and
    sorted) when ``rejected`` is first read: a scan refuses hundreds of pairs every step, and
    what a strategy reads of them is mostly nothing (they are for an operator's "why not?"
    and the spread cooldowns) - the same list, when it is read.
    """

    __slots__ = ("_refused", "_rejected", "opportunities")

    opportunities: list[Opportunity]
    _rejected: list[Rejection] | None
    _refused: list[_Refused]

    def __init__(self, opportunities: list[Opportunity], rejected: list[Rejection]) -> None:
        self._set(opportunities, rejected, [])

    @classmethod
    def _deferred(cls, opportunities: list[Opportunity], refused: list[_Refused]) -> ScanResult:
        """A result whose rejections are ``refused`` (any order), made when first read."""
        result = cls.__new__(cls)
        result._set(opportunities, None, refused)
        return result

    def _set(
        self,
        opportunities: list[Opportunity],
        rejected: list[Rejection] | None,
        refused: list[_Refused],
    ) -> None:
        put = object.__setattr__
        put(self, "opportunities", opportunities)
        put(self, "_rejected", rejected)
        put(self, "_refused", refused)

    @property
    def rejected(self) -> list[Rejection]:
        rejected = self._rejected
        if rejected is None:
            refused = sorted(self._refused, key=_REFUSED_ORDER)
            rejected = [Rejection.deferred(*pair) for pair in refused]
            object.__setattr__(self, "_rejected", rejected)
            object.__setattr__(self, "_refused", [])
        return rejected

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, ScanResult)
        return (self.opportunities, self.rejected) == (other.opportunities, other.rejected)

    def __hash__(self) -> int:
        return hash((self.opportunities, self.rejected))  # unhashable lists, as a dataclass's

    def __repr__(self) -> str:
        return f"ScanResult(opportunities={self.opportunities!r}, rejected={self.rejected!r})"


@dataclass(frozen=True)
class Sizing:
    """The base-asset size to trade on each leg, and how it was reached.

    ``notional_per_leg`` is the target (``target_margin_usd * leverage``); the rounded
    ``size`` is never worth more than that at the higher of the two mids. ``size`` is 0 when the
    pair cannot be traded, and ``reason`` then says why.
    """

    size: Decimal
    leverage: Decimal
    notional_per_leg: Decimal
    reason: str | None = None


def scan(
    quotes: Iterable[VenueQuote], params: FundingArbitrageParams, *, maker: bool = False
) -> ScanResult:
    """Every pair of configured venues quoting the same symbol, priced and filtered.

    Only quotes from ``params.venues`` (and ``params.symbols`` when set) are considered;
    symbols quoted on fewer than two of those venues form no pair and are not reported.
    ``maker``: entries and exits rest as makers on the lead leg (fees as in the module doc).
    """
    venues = set(params.venues)
    symbols = set(params.symbols) if params.symbols is not None else None
    by_symbol: dict[str, dict[str, VenueQuote]] = defaultdict(dict)
    for quote in quotes:
        if quote.venue not in venues or (symbols is not None and quote.symbol not in symbols):
            continue
        if quote.venue in by_symbol[quote.symbol]:
            raise ValueError(f"two quotes for {quote.symbol} on {quote.venue}")
        by_symbol[quote.symbol][quote.venue] = quote

    opportunities: list[Opportunity] = []
    refused: list[_Refused] = []
    limits = _Limits(params, maker)
    for symbol in sorted(by_symbol):
        per_venue = by_symbol[symbol]
        # Each quote's own market-quality verdict, once, for the pairs it is part of.
        checked = [_quote_check(per_venue[venue], params) for venue in sorted(per_venue)]
        for first, second in combinations(checked, 2):
            outcome = _evaluate(first, second, limits)
            if isinstance(outcome, Opportunity):
                opportunities.append(outcome)
            else:
                refused.append(outcome)

    # Best net APR first, then the lower divergence, then the key: sorted by net APR (a C
    # key function), then only the runs of equal net APR by the rest - hundreds of
    # opportunities a scan, almost never two at the same APR.
    opportunities.sort(key=_NET_APR, reverse=True)
    _order_ties(opportunities)
    return ScanResult._deferred(opportunities, refused)


_TIE_ORDER = attrgetter("price_divergence_pct", "symbol", "long_venue", "short_venue")
_NET_APR = attrgetter("net_apr_pct")
_REFUSED_ORDER = itemgetter(0, 1, 2)  # a refused pair's symbol, long venue, short venue


def _order_ties(opportunities: list[Opportunity]) -> None:
    """Put each run of equal net APR (``opportunities`` sorted by it) in the tie order."""
    aprs = list(map(_NET_APR, opportunities))
    if not any(map(eq, aprs, islice(aprs, 1, None))):
        return
    start, count = 0, len(aprs)
    while start < count:
        end = start + 1
        while end < count and aprs[end] == aprs[start]:
            end += 1
        if end - start > 1:
            opportunities[start:end] = sorted(opportunities[start:end], key=_TIE_ORDER)
        start = end


class _Limits:
    """What a scan reads from its parameters for every pair, read once per scan (a
    parameter read is a pydantic attribute lookup; a scan prices hundreds of pairs)."""

    __slots__ = (
        "fees",
        "hold_hours",
        "maker",
        "mandatory",
        "max_divergence",
        "min_net_apr",
        "params",
    )

    def __init__(self, params: FundingArbitrageParams, maker: bool) -> None:
        self.params = params
        self.maker = maker
        self.mandatory = params.mandatory_venue
        self.max_divergence = params.max_price_divergence_pct
        self.min_net_apr = params.min_net_apr_pct
        self.hold_hours = params.expected_hold_hours
        # A pair's round-trip fees and their amortised share by the two fees they come from
        # (the same few on every symbol of a venue pair): (fee, fee) ids -> (fee, fee,
        # fees_fraction, per hour). The fees are the quotes', alive for the whole scan.
        self.fees: dict[tuple[int, int], tuple[Decimal, Decimal, Decimal, Decimal]] = {}


_Checked = tuple[VenueQuote, str, Decimal, Decimal, Decimal, list[Reason], bool]
"""A quote with what every pair it is part of reads of it, read once: (quote, venue, hourly
rate, mid, maker saving, its market-quality failures, whether its bid/ask spread is too
wide)."""


def _quote_check(quote: VenueQuote, params: FundingArbitrageParams) -> _Checked:
    reasons: list[Reason] = []
    _check_quote(quote, params, reasons)
    return (
        quote,
        quote.venue,
        quote.hourly_rate,
        quote.mid,
        quote.maker_saving,
        reasons,
        quote.spread_pct > params.max_spread_pct,
    )


def _evaluate(first: _Checked, second: _Checked, limits: _Limits) -> Opportunity | _Refused:
    """One pair of venues (``first``/``second`` in name order, as :func:`_quote_check` read
    them); the direction is chosen here. A refused pair is what its :class:`Rejection` is made
    of (:attr:`ScanResult.rejected`)."""
    first_hourly = first[2]
    second_hourly = second[2]
    if first_hourly == second_hourly:
        no_spread = f"no funding spread: both venues at {_rate(first_hourly)}/h"
        return (first[0].symbol, first[1], second[1], (no_spread,), (), ())
    if first_hourly < second_hourly:
        long, long_venue, long_hourly, long_mid, long_saving, long_failures, long_wide = first
        short, short_venue, short_hourly, short_mid, short_saving, short_failures, short_wide = (
            second
        )
    else:
        long, long_venue, long_hourly, long_mid, long_saving, long_failures, long_wide = second
        short, short_venue, short_hourly, short_mid, short_saving, short_failures, short_wide = (
            first
        )
    symbol = long.symbol

    reasons: list[Reason] = []
    mandatory = limits.mandatory
    if mandatory is not None and mandatory != long_venue and mandatory != short_venue:
        reasons.append(f"no leg on the mandatory venue {mandatory}")
    if long_failures:
        reasons += long_failures
    if short_failures:
        reasons += short_failures

    divergence = abs(long_mid - short_mid) / ((long_mid + short_mid) / TWO) * HUNDRED
    # The reasons are written when read (partial, not a closure: a closure would make cells
    # of these variables on every call, for the hundreds of pairs a scan prices).
    if divergence > limits.max_divergence:
        reasons.append(
            partial(
                _divergence_reason,
                divergence,
                long_mid,
                long_venue,
                short_mid,
                short_venue,
                limits.params,
            )
        )

    gross_hourly = short_hourly - long_hourly
    # The lead saves most by resting; a tie leads with the long leg.
    lead, other = (short, long) if short_saving > long_saving else (long, short)
    notes: tuple[str, ...] = ()
    if limits.maker:
        if lead.maker_fee is None:
            notes = (f"maker fee not reported by {lead.venue}: taker fee assumed",)
        fee, other_fee = lead.maker_or_taker_fee, other.taker_fee
    else:
        fee, other_fee = long.taker_fee, short.taker_fee
    known = limits.fees.get((id(fee), id(other_fee)))
    if known is None or known[0] is not fee or known[1] is not other_fee:
        fees_fraction = TWO * (fee + other_fee)
        known = (fee, other_fee, fees_fraction, fees_fraction / limits.hold_hours)
        limits.fees[(id(fee), id(other_fee))] = known
    fees_fraction = known[2]
    net_hourly = gross_hourly - known[3]
    net_apr_pct = net_hourly * _APR_PCT
    # A zero net never pays for the risk, even with min_net_apr_pct = 0.
    if net_apr_pct < limits.min_net_apr or net_apr_pct <= 0:
        reasons.append(
            partial(_apr_reason, net_apr_pct, gross_hourly, fees_fraction, limits.params)
        )

    if reasons:
        wide: tuple[str, ...] = ()
        if long_wide:
            wide = (long_venue, short_venue) if short_wide else (long_venue,)
        elif short_wide:
            wide = (short_venue,)
        return (symbol, long_venue, short_venue, tuple(reasons), notes, wide)
    return Opportunity._priced(
        symbol,
        long_venue,
        short_venue,
        long_hourly,
        short_hourly,
        gross_hourly,
        fees_fraction,
        net_hourly,
        net_apr_pct,
        divergence,
        notes,
        lead.venue,
    )


def _divergence_reason(
    divergence: Decimal,
    long_mid: Decimal,
    long_venue: str,
    short_mid: Decimal,
    short_venue: str,
    params: FundingArbitrageParams,
) -> str:
    return (
        f"price divergence {_pct(divergence)}% (mid {long_mid} on {long_venue} vs "
        f"{short_mid} on {short_venue}) > max {_pct(params.max_price_divergence_pct)}%"
    )


def _apr_reason(
    net_apr_pct: Decimal,
    gross_hourly: Decimal,
    fees_fraction: Decimal,
    params: FundingArbitrageParams,
) -> str:
    verdict = (
        f"< min {_pct(params.min_net_apr_pct)}%"
        if net_apr_pct < params.min_net_apr_pct
        else "is not positive"
    )
    return (
        f"net APR {_pct(net_apr_pct)}% {verdict} "
        f"(gross {_pct(gross_hourly * HOURS_PER_YEAR * HUNDRED)}% APR, round-trip fees "
        f"{_pct(fees_fraction * HUNDRED)}% amortised over {params.expected_hold_hours} h)"
    )


def _check_quote(quote: VenueQuote, params: FundingArbitrageParams, reasons: list[Reason]) -> None:
    """Add this venue's market-quality failures to ``reasons``."""
    venue = quote.venue
    if quote.volume_24h_usd is None:
        if params.min_volume_24h_usd > 0:
            reasons.append(
                f"24h volume not reported by {venue}: cannot check min "
                f"{_usd(params.min_volume_24h_usd)} USD (set min_volume_24h_usd: 0 to trade "
                f"without it)"
            )
    elif quote.volume_24h_usd < params.min_volume_24h_usd:
        reasons.append(
            f"24h volume on {venue} {_usd(quote.volume_24h_usd)} USD "
            f"< min {_usd(params.min_volume_24h_usd)} USD"
        )
    if quote.open_interest_usd is None:
        if params.min_open_interest_usd > 0:
            reasons.append(
                f"open interest not reported by {venue}: cannot check min "
                f"{_usd(params.min_open_interest_usd)} USD (set min_open_interest_usd: 0 to "
                f"trade without it)"
            )
    elif quote.open_interest_usd < params.min_open_interest_usd:
        reasons.append(
            f"open interest on {venue} {_usd(quote.open_interest_usd)} USD "
            f"< min {_usd(params.min_open_interest_usd)} USD"
        )
    if quote.spread_pct > params.max_spread_pct:
        reasons.append(
            f"bid/ask spread on {venue} {_pct(quote.spread_pct)}% "
            f"(bid {quote.best_bid} ask {quote.best_ask}) > max {_pct(params.max_spread_pct)}%"
        )


def size_position(
    opportunity: Opportunity,
    quotes_by_venue: Mapping[str, VenueQuote],
    markets: Mapping[str, Market],
    params: FundingArbitrageParams,
) -> Sizing:
    """The same base-asset size for both legs, for ``target_margin_usd`` per leg.

    Leverage is ``params.max_leverage`` capped by both markets' maximum (the parameter is a cap
    chosen by the operator; the venue maximum is never used blindly). The size is the notional
    divided by the higher mid, so neither leg exceeds the target, rounded down to a size both
    venues can trade (the LCM of the steps). It is 0 when that falls below either venue's
    minimum size or minimum notional.
    """
    long_quote = _venue_item(quotes_by_venue, opportunity.long_venue, "quote")
    short_quote = _venue_item(quotes_by_venue, opportunity.short_venue, "quote")
    long_market = _venue_item(markets, opportunity.long_venue, "market")
    short_market = _venue_item(markets, opportunity.short_venue, "market")

    leverage = min(params.max_leverage, long_market.max_leverage, short_market.max_leverage)
    notional = params.target_margin_usd * leverage
    price = max(long_quote.mid, short_quote.mid)
    legs = (long_market, short_market)
    wanted = notional / price
    size = tradable_size(wanted, legs)
    if size <= 0:
        return Sizing(
            ZERO,
            leverage,
            notional,
            f"size rounds to 0: {_pct(wanted)} {opportunity.symbol} "
            f"is less than the common step {common_step(legs):f}",
        )

    for venue, quote, market in (
        (opportunity.long_venue, long_quote, long_market),
        (opportunity.short_venue, short_quote, short_market),
    ):
        reason: str | None = None
        if size < market.min_size:
            reason = f"size {size:f} {opportunity.symbol} < min {market.min_size:f} on {venue}"
        elif size * quote.mid < market.min_notional:
            reason = (
                f"notional {_usd(size * quote.mid)} USD < min {market.min_notional:f} USD "
                f"on {venue}"
            )
        if reason is not None:
            return Sizing(ZERO, leverage, notional, reason)
    return Sizing(size, leverage, notional)


def _venue_item(items: Mapping[str, _T], venue: str, what: str) -> _T:
    try:
        return items[venue]
    except KeyError:
        raise ValueError(f"no {what} for {venue}") from None


def _pct(value: Decimal) -> str:
    """A percentage for a message: at most 4 decimal places, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _usd(value: Decimal) -> str:
    return f"{value:,.2f}".removesuffix(".00")


def _rate(value: Decimal) -> str:
    return f"{value.normalize():f}"
