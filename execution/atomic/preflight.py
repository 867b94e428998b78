"""Checks before an atomic operation sends anything; when one fails, nothing is sent.

Per leg, gathered from all venues at once: the market (size grid, minimums, max leverage),
the book, the account's balance, leverage and current position. Checks:

* the size, rounded down to the common step of every venue, is still the same on all legs
  and meets each venue's minimum size and notional (at the price it would trade at);
* each book offers the whole size within ``max_slippage`` of its touch;
* the requested leverage is allowed, then set, and the venue applied exactly it;
* each venue has the margin the leg needs, plus ``margin_buffer``.

Every failed check is reported (not just the first), each naming the venue and the numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from core.errors import ExchangeError
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import Balance, BookSnapshot, Market, Position
from execution.atomic.legs import Leg
from execution.atomic.policy import AtomicTolerances
from execution.atomic.sizing import common_step, tradable_size

ZERO = Decimal(0)


@dataclass(frozen=True)
class VenueSnapshot:
    """What preflight read from one venue for its leg."""

    market: Market
    book: BookSnapshot
    balance: Balance
    leverage: Decimal
    position: Position | None

    def touch(self, leg: Leg) -> Decimal | None:
        """The price the leg would start trading at (best ask for a buy, best bid for a sell)."""
        return self.book.best_ask if leg.side == "buy" else self.book.best_bid

    def depth_within(self, leg: Leg, max_slippage: Decimal) -> Decimal:
        """Size the book offers the leg at prices within ``max_slippage`` of the touch."""
        touch = self.touch(leg)
        if touch is None:
            return ZERO
        if leg.side == "buy":
            limit = touch * (1 + max_slippage)
            return sum((size for price, size in self.book.asks if price <= limit), ZERO)
        limit = touch * (1 - max_slippage)
        return sum((size for price, size in self.book.bids if price >= limit), ZERO)


@dataclass
class PreflightReport:
    """The legs as they would be sent (rounded), what each venue looked like, what failed."""

    legs: list[Leg]
    step: Decimal | None = None
    venues: dict[str, VenueSnapshot] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def preflight(
    legs: Sequence[Leg],
    clients: Mapping[str, BaseExchangeClient],
    tolerances: AtomicTolerances,
) -> PreflightReport:
    report = PreflightReport(legs=list(legs))
    missing = [leg.venue for leg in legs if leg.venue not in clients]
    if missing:
        report.problems.append(f"no client for venue(s) {', '.join(missing)}")
        return report
    try:
        markets = await asyncio.gather(*(clients[leg.venue].market(leg.symbol) for leg in legs))
    except ExchangeError as exc:
        report.problems.append(f"{exc.venue or 'venue'}: cannot read the market: {exc}")
        return report

    _check_leverage_allowed(legs, markets, tolerances, report)
    report.step = common_step(markets)
    report.legs = [leg.resized(tradable_size(leg.size, markets)) for leg in legs]
    net = sum((leg.direction * leg.size for leg in report.legs), ZERO)
    if net != 0:
        report.problems.append(
            f"rounded to the common step {report.step}, the legs no longer hedge each other "
            f"(net {net})"
        )
    if report.problems:
        return report
    try:
        snapshots = await asyncio.gather(
            *(
                _read_venue(clients[leg.venue], leg, market, tolerances)
                for leg, market in zip(report.legs, markets, strict=True)
            )
        )
    except ExchangeError as exc:
        report.problems.append(f"{exc.venue or 'venue'}: preflight read failed: {exc}")
        return report
    report.venues = {leg.venue: snap for leg, snap in zip(report.legs, snapshots, strict=True)}
    for original, leg in zip(legs, report.legs, strict=True):
        _check_leg(original, leg, report.venues[leg.venue], report.step, tolerances, report)
    return report


def _check_leverage_allowed(
    legs: Sequence[Leg],
    markets: Sequence[Market],
    tolerances: AtomicTolerances,
    report: PreflightReport,
) -> None:
    if tolerances.leverage is None:
        return
    for leg, market in zip(legs, markets, strict=True):
        if tolerances.leverage > market.max_leverage:
            report.problems.append(
                f"{leg.venue}: leverage {tolerances.leverage}x exceeds the {leg.symbol} "
                f"maximum of {market.max_leverage}x"
            )


async def _read_venue(
    client: BaseExchangeClient, leg: Leg, market: Market, tolerances: AtomicTolerances
) -> VenueSnapshot:
    """One round trip per venue (two when leverage must be set first: margin depends on it)."""
    if tolerances.leverage is not None:
        leverage = await client.set_leverage(leg.symbol, tolerances.leverage)
        book, balance, position = await asyncio.gather(
            client.order_book(leg.symbol), client.balance(), client.position(leg.symbol)
        )
    else:
        book, balance, position, leverage = await asyncio.gather(
            client.order_book(leg.symbol),
            client.balance(),
            client.position(leg.symbol),
            client.get_leverage(leg.symbol),
        )
    return VenueSnapshot(market, book, balance, leverage, position)


def _check_leg(
    original: Leg,
    leg: Leg,
    venue: VenueSnapshot,
    step: Decimal,
    tolerances: AtomicTolerances,
    report: PreflightReport,
) -> None:
    name, market = leg.venue, venue.market
    if leg.size <= 0:
        report.problems.append(
            f"{name}: size {original.size} rounds to nothing on the common step {step} "
            "of the legs' venues"
        )
        return
    if leg.size < market.min_size:
        report.problems.append(
            f"{name}: size {leg.size} (after rounding to {step}) is below the minimum "
            f"{market.min_size} {leg.symbol}"
        )
    touch = venue.touch(leg)
    if touch is None:
        report.problems.append(f"{name}: the {leg.symbol} book has no {_far_side(leg)} to trade")
        return
    notional = leg.size * touch
    if notional < market.min_notional:
        report.problems.append(
            f"{name}: notional {notional:.2f} USD (size {leg.size} at {touch}) is below the "
            f"minimum {market.min_notional} USD"
        )
    depth = venue.depth_within(leg, tolerances.max_slippage)
    if depth < leg.size:
        report.problems.append(
            f"{name}: the book offers {depth} {leg.symbol} within "
            f"{_pct(tolerances.max_slippage)} of {touch}, the leg needs {leg.size}"
        )
    if tolerances.leverage is not None and venue.leverage != tolerances.leverage:
        report.problems.append(
            f"{name}: asked for leverage {tolerances.leverage}x, the venue applied "
            f"{venue.leverage}x"
        )
    if leg.reduce_only:
        return  # a closing leg frees margin rather than using it
    worst = touch * (1 + tolerances.max_slippage if leg.side == "buy" else 1)
    required = leg.size * worst / venue.leverage * (1 + tolerances.margin_buffer)
    available = venue.balance.available
    if required > available:
        report.problems.append(
            f"{name}: needs {required:.2f} USD margin ({leg.size} x {worst:.2f} at "
            f"{venue.leverage}x + {_pct(tolerances.margin_buffer)} buffer), "
            f"{available:.2f} USD available"
        )


def _pct(fraction: Decimal) -> str:
    """0.005 -> "0.5%" (no exponent, no trailing zeros)."""
    return f"{(fraction * 100).normalize():f}%"


def _far_side(leg: Leg) -> str:
    return "asks" if leg.side == "buy" else "bids"
